/* tl-image.h — reference-counted 8-bit image buffers (RGB or grey)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Pixels are row-major, `stride` bytes a row, `channels` bytes a pixel
 * (1 = grey, 3 = RGB, 4 = RGBx/RGBA).  `timestamp_us` is the capture time
 * on the g_get_monotonic_time() clock, or 0 when unknown (files). */
typedef struct
{
  int     width;
  int     height;
  int     channels;
  int     stride;
  gint64  timestamp_us;
  guint8 *data;
} TlImage;

TlImage *tl_image_new   (int      width,
                         int      height,
                         int      channels);
TlImage *tl_image_ref   (TlImage *image);
void     tl_image_unref (TlImage *image);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlImage, tl_image_unref)

G_END_DECLS
