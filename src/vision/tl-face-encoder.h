/* tl-face-encoder.h — the 128-D face encoder (dlib's metric-learning
 * ResNet, 150×150 RGB chips)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-types.h"
#include "tl-image.h"

G_BEGIN_DECLS

#define TL_FACE_ENCODER_INPUT 150

/* Distance below which two embeddings are taken to show one person
 * (dlib's published operating point for this network). */
#define TL_FACE_ENCODER_DEFAULT_THRESHOLD 0.6f

typedef struct _TlFaceEncoder TlFaceEncoder;

TlFaceEncoder *tl_face_encoder_new     (const char     *model_path,
                                        GError        **error);
void           tl_face_encoder_free    (TlFaceEncoder  *encoder);

/* `chip` is a 150×150 aligned face (grey or RGB). */
void           tl_face_encoder_encode  (TlFaceEncoder  *encoder,
                                        const TlImage  *chip,
                                        float          *embedding);

/* Two chips in one pass (a batch of two: the weights are read once for
 * both, as for a face and its mirror image). */
void           tl_face_encoder_encode_pair (TlFaceEncoder *encoder,
                                            const TlImage *a,
                                            const TlImage *b,
                                            float         *embedding_a,
                                            float         *embedding_b);

/* The raw network: 150×150×3 float RGB 0–255 → 128 values. */
void           tl_face_encoder_forward (TlFaceEncoder  *encoder,
                                        const float    *input,
                                        float          *embedding);
double         tl_face_encoder_flops   (TlFaceEncoder  *encoder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlFaceEncoder, tl_face_encoder_free)

G_END_DECLS
