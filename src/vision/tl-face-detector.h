/* tl-face-detector.h — the tiny face detector (TinyYOLOv2, separable convs)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-types.h"
#include "tl-image.h"

G_BEGIN_DECLS

#define TL_FACE_DETECTOR_MIN_SIZE     160
#define TL_FACE_DETECTOR_MAX_SIZE     608
#define TL_FACE_DETECTOR_DEFAULT_SIZE 416

typedef struct _TlFaceDetector TlFaceDetector;

/* Not thread-safe: one detector per thread (they can share nothing but
 * the file). */
TlFaceDetector *tl_face_detector_new          (const char           *model_path,
                                               GError              **error);
void            tl_face_detector_free         (TlFaceDetector       *detector);

/* Input side: a multiple of 32 in [160, 608]; returns FALSE otherwise. */
gboolean        tl_face_detector_set_input_size      (TlFaceDetector *detector,
                                                      int             size);
int             tl_face_detector_get_input_size      (TlFaceDetector *detector);
void            tl_face_detector_set_score_threshold (TlFaceDetector *detector,
                                                      float           threshold);

/* An input side that does not enlarge a width × height image much (the
 * detector misses faces it has to blow up: on LFW's 250-pixel photos it
 * does best at 256, not 416): the longer side rounded up to a multiple of
 * 32, within [160, 608]. */
int             tl_face_detector_size_for     (int                   width,
                                               int                   height);

/* Faces after non-maximum suppression, best first (GArray of TlFaceBox). */
GArray         *tl_face_detector_detect       (TlFaceDetector       *detector,
                                               const TlImage        *image);

/* The raw network: `input` is size × size × 3 float RGB 0–255; `out` gets
 * (size/32)² × 25 values.  For tests and benchmarks. */
void            tl_face_detector_forward      (TlFaceDetector       *detector,
                                               const float          *input,
                                               float                *out);
/* Multiply-adds ×2 of one forward pass at the current input size. */
double          tl_face_detector_flops        (TlFaceDetector       *detector);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlFaceDetector, tl_face_detector_free)

G_END_DECLS
