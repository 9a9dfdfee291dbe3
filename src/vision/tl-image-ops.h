/* tl-image-ops.h — colour conversion, crop, resize, warp, network input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-image.h"

G_BEGIN_DECLS

/* Both return a new reference (the same image when it already fits). */
TlImage *tl_image_to_rgb      (TlImage       *image);
TlImage *tl_image_to_grey     (TlImage       *image);

/* Bilinear resize with pixel-centre alignment (for display and thumbnails). */
TlImage *tl_image_resize      (const TlImage *image,
                               int            width,
                               int            height);

/* Fills `out` (size × size × channels) with the image sampled through the
 * 2×3 affine map `m` from output to input pixel coordinates:
 *   x_in = m[0]·u + m[1]·v + m[2],  y_in = m[3]·u + m[4]·v + m[5].
 * Bilinear, pixels outside the image are black. */
void     tl_image_warp_affine (const TlImage *image,
                               const double   m[6],
                               TlImage       *out);

/* Network input the way the ported networks were fed in their original
 * implementation: the integer region (x, y, w, h) of `image` (clipped to
 * the image) is padded with zeros to a square — at the right/bottom, or,
 * when `centre` is set, split (the larger half after) — then resized to
 * size × size with the sample grid src = dst · (in / out) (no half-pixel
 * offset, no corner alignment) and written as float RGB 0–255, HWC.
 * Grey images are replicated to three channels. */
void     tl_image_to_input    (const TlImage *image,
                               int            x,
                               int            y,
                               int            w,
                               int            h,
                               gboolean       centre,
                               int            size,
                               float         *out);

G_END_DECLS
