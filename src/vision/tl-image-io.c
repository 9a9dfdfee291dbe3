/* tl-image-io.c — image files in, PNG out
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "tl-image-io.h"

G_DEFINE_QUARK (tl-image-error-quark, tl_image_error)

/* PGM: "P5" or "P2", whitespace and #-comments, width, height, maxval,
 * then the samples.  Written by hand because it is tiny and gdk-pixbuf
 * only reads the binary variant through an optional loader. */
static gboolean
pgm_next_int (const guint8 *data,
              gsize         len,
              gsize        *pos,
              int          *value)
{
  gint64 v = 0;
  gboolean any = FALSE;

  while (*pos < len)
    {
      guint8 c = data[*pos];
      if (c == '#')
        {
          while (*pos < len && data[*pos] != '\n')
            (*pos)++;
        }
      else if (g_ascii_isspace (c))
        (*pos)++;
      else
        break;
    }
  while (*pos < len && g_ascii_isdigit (data[*pos]))
    {
      v = v * 10 + (data[*pos] - '0');
      if (v > G_MAXINT)
        return FALSE;
      any = TRUE;
      (*pos)++;
    }
  *value = (int) v;
  return any;
}

static TlImage *
load_pgm (const guint8 *data,
          gsize         len,
          const char   *name,
          GError      **error)
{
  gboolean binary = data[1] == '5';
  gsize pos = 2;
  int width, height, maxval;
  TlImage *image;

  if (!pgm_next_int (data, len, &pos, &width) ||
      !pgm_next_int (data, len, &pos, &height) ||
      !pgm_next_int (data, len, &pos, &maxval) ||
      width <= 0 || height <= 0 || maxval <= 0 || maxval > 65535)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                   _("“%s” has a malformed PGM header"), name);
      return NULL;
    }
  if (width > TL_IMAGE_MAX_SIDE || height > TL_IMAGE_MAX_SIDE)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_TOO_LARGE,
                   _("“%s” is %d×%d pixels; at most %d a side is supported"),
                   name, width, height, TL_IMAGE_MAX_SIDE);
      return NULL;
    }

  if (binary)
    {
      gsize bps = maxval > 255 ? 2 : 1;
      gsize need = (gsize) width * height * bps;

      pos++;  /* exactly one whitespace byte ends the header */
      if (pos > len || len - pos < need)
        {
          g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                       _("“%s” is truncated: %zu of %zu pixel bytes"),
                       name, pos > len ? 0 : len - pos, need);
          return NULL;
        }
      image = tl_image_new (width, height, 1);
      for (int y = 0; y < height; y++)
        {
          guint8 *row = image->data + (gsize) y * image->stride;
          for (int x = 0; x < width; x++)
            {
              const guint8 *p = data + pos + ((gsize) y * width + x) * bps;
              unsigned v = bps == 2 ? (p[0] << 8 | p[1]) : p[0];
              row[x] = (guint8) MIN (255u, (v * 255u + maxval / 2) / maxval);
            }
        }
      return image;
    }

  image = tl_image_new (width, height, 1);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        int v;
        if (!pgm_next_int (data, len, &pos, &v) || v > maxval)
          {
            tl_image_unref (image);
            g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                         _("“%s” is truncated or has a sample out of range"), name);
            return NULL;
          }
        image->data[(gsize) y * image->stride + x] = (guint8) ((v * 255 + maxval / 2) / maxval);
      }
  return image;
}

/* gdk-pixbuf hands back a half-grey picture for a cut-off PNG or JPEG
 * without an error, so look for the format's end marker ourselves (a
 * little trailing junk after it is tolerated, as other readers do). */
static gboolean
looks_complete (const guint8 *data,
                gsize         len)
{
  gsize from = len > 64 ? len - 64 : 0;

  if (len >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    {
      for (gsize i = from; i + 4 <= len; i++)
        if (memcmp (data + i, "IEND", 4) == 0)
          return TRUE;
      return FALSE;
    }
  if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    {
      for (gsize i = from; i + 2 <= len; i++)
        if (data[i] == 0xff && data[i + 1] == 0xd9)
          return TRUE;
      return FALSE;
    }
  return TRUE;
}

static TlImage *
load_pixbuf (GBytes     *bytes,
             const char *name,
             GError    **error)
{
  g_autoptr (GdkPixbufLoader) loader = NULL;
  g_autoptr (GError) local = NULL;
  GdkPixbuf *pixbuf;
  const guint8 *pixels;
  int width, height, n, rowstride;
  gboolean grey = TRUE;
  TlImage *image;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (!looks_complete (data, len))
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                   _("“%s” is truncated (its end marker is missing)"), name);
      return NULL;
    }
  loader = gdk_pixbuf_loader_new ();
  if (!gdk_pixbuf_loader_write (loader, data, len, &local))
    {
      /* The stream must be ended even when it failed. */
      gdk_pixbuf_loader_close (loader, NULL);
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                   _("Could not read “%s” as an image: %s"), name, local->message);
      return NULL;
    }
  if (!gdk_pixbuf_loader_close (loader, &local))
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                   _("Could not read “%s” as an image: %s"), name,
                   local ? local->message : _("unknown format"));
      return NULL;
    }
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL ||
      gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                   _("“%s” is not an 8-bit RGB image"), name);
      return NULL;
    }
  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  n = gdk_pixbuf_get_n_channels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  if (width <= 0 || height <= 0 || n < 3 ||
      width > TL_IMAGE_MAX_SIDE || height > TL_IMAGE_MAX_SIDE)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_TOO_LARGE,
                   _("“%s” is %d×%d pixels; at most %d a side is supported"),
                   name, width, height, TL_IMAGE_MAX_SIDE);
      return NULL;
    }

  for (int y = 0; y < height && grey; y++)
    {
      const guint8 *p = pixels + (gsize) y * rowstride;
      for (int x = 0; x < width; x++, p += n)
        if (p[0] != p[1] || p[1] != p[2])
          {
            grey = FALSE;
            break;
          }
    }

  image = tl_image_new (width, height, grey ? 1 : 3);
  for (int y = 0; y < height; y++)
    {
      const guint8 *p = pixels + (gsize) y * rowstride;
      guint8 *q = image->data + (gsize) y * image->stride;
      for (int x = 0; x < width; x++, p += n)
        {
          if (grey)
            *q++ = p[0];
          else
            {
              *q++ = p[0];
              *q++ = p[1];
              *q++ = p[2];
            }
        }
    }
  return image;
}

TlImage *
tl_image_load_bytes (GBytes     *bytes,
                     const char *name,
                     GError    **error)
{
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (bytes, &len);
  if (name == NULL)
    name = _("image");
  if (len < 8)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_FORMAT,
                   _("“%s” is too short to be an image"), name);
      return NULL;
    }
  if (len > TL_IMAGE_MAX_FILE_SIZE)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_TOO_LARGE,
                   _("“%s” is larger than %d MiB"), name, TL_IMAGE_MAX_FILE_SIZE >> 20);
      return NULL;
    }
  if (data[0] == 'P' && (data[1] == '5' || data[1] == '2'))
    return load_pgm (data, len, name, error);
  return load_pixbuf (bytes, name, error);
}

TlImage *
tl_image_load (const char *path,
               GError    **error)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *name = NULL;
  GError *local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  name = g_filename_display_name (path);
  file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_IO,
                   _("Could not open image: %s"), local->message);
      g_error_free (local);
      return NULL;
    }
  if (g_mapped_file_get_length (file) > TL_IMAGE_MAX_FILE_SIZE)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_TOO_LARGE,
                   _("“%s” is larger than %d MiB"), name, TL_IMAGE_MAX_FILE_SIZE >> 20);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (file);
  return tl_image_load_bytes (bytes, name, error);
}

gboolean
tl_image_save_png (const TlImage *image,
                   const char    *path,
                   GError       **error)
{
  g_autoptr (GdkPixbuf) pixbuf = NULL;
  guint8 *pixels;
  int rowstride;

  g_return_val_if_fail (image != NULL, FALSE);

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, image->width, image->height);
  if (pixbuf == NULL)
    {
      g_set_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_TOO_LARGE,
                   _("Out of memory for a %d×%d image"), image->width, image->height);
      return FALSE;
    }
  pixels = gdk_pixbuf_get_pixels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < image->height; y++)
    {
      const guint8 *p = image->data + (gsize) y * image->stride;
      guint8 *q = pixels + (gsize) y * rowstride;
      for (int x = 0; x < image->width; x++, p += image->channels, q += 3)
        {
          if (image->channels == 1)
            q[0] = q[1] = q[2] = p[0];
          else
            memcpy (q, p, 3);
        }
    }
  return gdk_pixbuf_save (pixbuf, path, "png", error, NULL);
}
