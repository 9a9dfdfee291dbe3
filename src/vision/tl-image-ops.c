/* tl-image-ops.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "tl-image-ops.h"

TlImage *
tl_image_to_rgb (TlImage *image)
{
  TlImage *out;

  g_return_val_if_fail (image != NULL, NULL);

  if (image->channels == 3)
    return tl_image_ref (image);

  out = tl_image_new (image->width, image->height, 3);
  out->timestamp_us = image->timestamp_us;
  for (int y = 0; y < image->height; y++)
    {
      const guint8 *p = image->data + (gsize) y * image->stride;
      guint8 *q = out->data + (gsize) y * out->stride;
      for (int x = 0; x < image->width; x++, p += image->channels, q += 3)
        {
          if (image->channels == 1)
            q[0] = q[1] = q[2] = p[0];
          else
            memcpy (q, p, 3);
        }
    }
  return out;
}

TlImage *
tl_image_to_grey (TlImage *image)
{
  TlImage *out;

  g_return_val_if_fail (image != NULL, NULL);

  if (image->channels == 1)
    return tl_image_ref (image);

  out = tl_image_new (image->width, image->height, 1);
  out->timestamp_us = image->timestamp_us;
  for (int y = 0; y < image->height; y++)
    {
      const guint8 *p = image->data + (gsize) y * image->stride;
      guint8 *q = out->data + (gsize) y * out->stride;
      /* ITU-R BT.601 luma in 8.8 fixed point. */
      for (int x = 0; x < image->width; x++, p += image->channels)
        q[x] = (guint8) ((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
    }
  return out;
}

static inline float
sample (const TlImage *image,
        int            x,
        int            y,
        int            c)
{
  return image->data[(gsize) y * image->stride + (gsize) x * image->channels + c];
}

TlImage *
tl_image_resize (const TlImage *image,
                 int            width,
                 int            height)
{
  TlImage *out;
  double sx, sy;

  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  out = tl_image_new (width, height, image->channels);
  out->timestamp_us = image->timestamp_us;
  sx = (double) image->width / width;
  sy = (double) image->height / height;
  for (int v = 0; v < height; v++)
    {
      double fy = CLAMP ((v + 0.5) * sy - 0.5, 0, image->height - 1);
      int y0 = (int) fy, y1 = MIN (y0 + 1, image->height - 1);
      float wy = (float) (fy - y0);
      guint8 *q = out->data + (gsize) v * out->stride;

      for (int u = 0; u < width; u++)
        {
          double fx = CLAMP ((u + 0.5) * sx - 0.5, 0, image->width - 1);
          int x0 = (int) fx, x1 = MIN (x0 + 1, image->width - 1);
          float wx = (float) (fx - x0);
          for (int c = 0; c < image->channels; c++)
            {
              float top = sample (image, x0, y0, c) * (1 - wx) + sample (image, x1, y0, c) * wx;
              float bot = sample (image, x0, y1, c) * (1 - wx) + sample (image, x1, y1, c) * wx;
              *q++ = (guint8) lrintf (top * (1 - wy) + bot * wy);
            }
        }
    }
  return out;
}

void
tl_image_warp_affine (const TlImage *image,
                      const double   m[6],
                      TlImage       *out)
{
  int ch;

  g_return_if_fail (image != NULL && out != NULL);
  g_return_if_fail (out->channels == image->channels || out->channels == 3);

  ch = out->channels;
  for (int v = 0; v < out->height; v++)
    {
      guint8 *q = out->data + (gsize) v * out->stride;
      for (int u = 0; u < out->width; u++, q += ch)
        {
          double fx = m[0] * u + m[1] * v + m[2];
          double fy = m[3] * u + m[4] * v + m[5];
          int x0 = (int) floor (fx), y0 = (int) floor (fy);
          float wx = (float) (fx - x0), wy = (float) (fy - y0);

          for (int c = 0; c < ch; c++)
            {
              int sc = image->channels == 1 ? 0 : c;
              float p[4] = { 0, 0, 0, 0 };
              for (int k = 0; k < 4; k++)
                {
                  int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                  if (xx >= 0 && yy >= 0 && xx < image->width && yy < image->height)
                    p[k] = sample (image, xx, yy, sc);
                }
              q[c] = (guint8) CLAMP (lrintf ((p[0] * (1 - wx) + p[1] * wx) * (1 - wy)
                                             + (p[2] * (1 - wx) + p[3] * wx) * wy), 0, 255);
            }
        }
    }
}

void
tl_image_to_input (const TlImage *image,
                   int            x,
                   int            y,
                   int            w,
                   int            h,
                   gboolean       centre,
                   int            size,
                   float         *out)
{
  int side, ox = 0, oy = 0;
  double scale;

  g_return_if_fail (image != NULL && out != NULL && size > 0);

  /* Clip the region to the image. */
  if (x < 0) { w += x; x = 0; }
  if (y < 0) { h += y; y = 0; }
  w = MIN (w, image->width - x);
  h = MIN (h, image->height - y);
  if (w <= 0 || h <= 0)
    {
      memset (out, 0, sizeof (float) * size * size * 3);
      return;
    }

  side = MAX (w, h);
  if (centre)
    {
      /* The original appends round(diff / 2) and prepends the rest. */
      int diff = side - MIN (w, h);
      int before = diff - (int) floor (diff * 0.5 + 0.5);
      if (w < h)
        ox = before;
      else
        oy = before;
    }

  scale = (double) side / size;
  for (int v = 0; v < size; v++)
    {
      double fy = v * scale;
      int y0 = (int) fy, y1 = MIN (y0 + 1, side - 1);
      double wy = fy - y0;

      for (int u = 0; u < size; u++)
        {
          double fx = u * scale;
          int x0 = (int) fx, x1 = MIN (x0 + 1, side - 1);
          double wx = fx - x0;
          float *o = out + ((gsize) v * size + u) * 3;

          for (int c = 0; c < 3; c++)
            {
              int sc = image->channels == 1 ? 0 : c;
              int xs[2] = { x0 - ox, x1 - ox }, ys[2] = { y0 - oy, y1 - oy };
              double p[4];
              for (int k = 0; k < 4; k++)
                {
                  int xx = xs[k & 1], yy = ys[k >> 1];
                  p[k] = (xx >= 0 && yy >= 0 && xx < w && yy < h)
                         ? sample (image, x + xx, y + yy, sc) : 0.0;
                }
              {
                double top = p[0] + (p[1] - p[0]) * wx;
                double bot = p[2] + (p[3] - p[2]) * wx;
                o[c] = (float) (top + (bot - top) * wy);
              }
            }
        }
    }
}
