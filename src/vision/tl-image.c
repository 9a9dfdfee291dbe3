/* tl-image.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-image.h"

/* The pixels follow the header in the same allocation, rows 64-byte aligned
 * in stride so that SIMD loops over a row never straddle two rows' lines. */
#define TL_IMAGE_ALIGN 64

TlImage *
tl_image_new (int width,
              int height,
              int channels)
{
  TlImage *image;
  gsize stride;
  gsize header;

  g_return_val_if_fail (width > 0 && width <= 16384, NULL);
  g_return_val_if_fail (height > 0 && height <= 16384, NULL);
  g_return_val_if_fail (channels == 1 || channels == 3 || channels == 4, NULL);

  stride = ((gsize) width * channels + TL_IMAGE_ALIGN - 1) & ~(gsize) (TL_IMAGE_ALIGN - 1);
  header = (sizeof (TlImage) + TL_IMAGE_ALIGN - 1) & ~(gsize) (TL_IMAGE_ALIGN - 1);

  image = g_atomic_rc_box_alloc0 (header + stride * height + TL_IMAGE_ALIGN);
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->stride = (int) stride;
  image->data = (guint8 *) (((guintptr) image + header + TL_IMAGE_ALIGN - 1)
                            & ~(guintptr) (TL_IMAGE_ALIGN - 1));
  return image;
}

TlImage *
tl_image_ref (TlImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return g_atomic_rc_box_acquire (image);
}

void
tl_image_unref (TlImage *image)
{
  g_return_if_fail (image != NULL);
  g_atomic_rc_box_release (image);
}
