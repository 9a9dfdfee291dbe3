/* tl-face-landmarks.h — the 68-point landmark network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-types.h"
#include "tl-image.h"

G_BEGIN_DECLS

#define TL_FACE_LANDMARKER_INPUT 112

typedef struct _TlFaceLandmarker TlFaceLandmarker;

TlFaceLandmarker *tl_face_landmarker_new     (const char        *model_path,
                                              GError           **error);
void              tl_face_landmarker_free    (TlFaceLandmarker  *landmarker);

/* The crop the network sees for a box: the box clipped to the image and
 * floored to whole pixels.  FALSE when nothing of it is inside. */
gboolean          tl_face_landmarker_crop    (const TlImage     *image,
                                              const TlFaceBox   *box,
                                              int               *x,
                                              int               *y,
                                              int               *w,
                                              int               *h);

/* Landmarks of the face in `box`, in image coordinates. */
gboolean          tl_face_landmarker_run     (TlFaceLandmarker  *landmarker,
                                              const TlImage     *image,
                                              const TlFaceBox   *box,
                                              TlFaceLandmarks   *out);

/* The raw network: 112×112×3 float RGB 0–255 → 136 values (x, y
 * interleaved, relative to the padded square input). */
void              tl_face_landmarker_forward (TlFaceLandmarker  *landmarker,
                                              const float       *input,
                                              float             *out);
double            tl_face_landmarker_flops   (TlFaceLandmarker  *landmarker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlFaceLandmarker, tl_face_landmarker_free)

G_END_DECLS
