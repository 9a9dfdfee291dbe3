/* tl-image-io.h — reading and writing image files (JPEG, PNG, PGM)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tl-image.h"

G_BEGIN_DECLS

#define TL_IMAGE_ERROR (tl_image_error_quark ())

typedef enum
{
  TL_IMAGE_ERROR_FORMAT,    /* not an image we can read, or corrupt */
  TL_IMAGE_ERROR_TOO_LARGE, /* larger than TL_IMAGE_MAX_SIDE or the file limit */
  TL_IMAGE_ERROR_IO,
} TlImageError;

/* Files larger than this are refused before they are read. */
#define TL_IMAGE_MAX_FILE_SIZE (64 * 1024 * 1024)
#define TL_IMAGE_MAX_SIDE      8192

GQuark   tl_image_error_quark (void);

/* Reads a JPEG, PNG or binary/ASCII PGM (P5/P2).  Grey files give a
 * 1-channel image, everything else a 3-channel RGB image (alpha dropped). */
TlImage *tl_image_load        (const char    *path,
                               GError       **error);
TlImage *tl_image_load_bytes  (GBytes        *bytes,
                               const char    *name,
                               GError       **error);

/* Writes a PNG (grey or RGB). */
gboolean tl_image_save_png    (const TlImage *image,
                               const char    *path,
                               GError       **error);

G_END_DECLS
