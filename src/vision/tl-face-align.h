/* tl-face-align.h — landmarks → the aligned face chip the encoder expects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-types.h"
#include "tl-image.h"

G_BEGIN_DECLS

#define TL_FACE_CHIP_SIZE    150
#define TL_FACE_CHIP_PADDING 0.25

/* The similarity transform (as a 2×3 matrix from chip to image pixel
 * coordinates) that best maps the mean face — dlib's chip layout with
 * `padding` around it — onto the landmarks, least squares over the
 * nose, eyes and outer/upper lip points. */
void     tl_face_align_transform (const TlFaceLandmarks *landmarks,
                                  int                    size,
                                  double                 padding,
                                  double                 m[6]);

/* size × size chip, bilinear; the image's channels (grey stays grey). */
TlImage *tl_face_align          (const TlImage          *image,
                                 const TlFaceLandmarks  *landmarks,
                                 int                     size,
                                 double                  padding);

G_END_DECLS
