/* tl-face-landmarks.c
 *
 * The network (tl-faceapi-nets.c) sees the face crop padded to a square
 * and resized to 112; its 136 outputs are mapped back to the image here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-face-landmarks.h"
#include "tl-face-net-private.h"
#include "tl-model.h"
#include "tl-image-ops.h"

#define IN TL_FACE_LANDMARKER_INPUT

static const float mean_rgb[3] = { 122.782f, 117.001f, 104.298f };

struct _TlFaceLandmarker
{
  TlNet *net;
  float *input;
  float  out[136];
};

TlFaceLandmarker *
tl_face_landmarker_new (const char  *model_path,
                        GError     **error)
{
  g_autoptr (TlFaceLandmarker) l = g_new0 (TlFaceLandmarker, 1);
  TlNnError err = { 0 };

  l->net = tl_face_net_load (model_path, "face-landmarks68", error);
  if (l->net == NULL)
    return NULL;
  if (!tl_net_prepare (l->net, 1, false, &err))
    {
      tl_model_set_error (error, &err, _("Cannot prepare the landmark network"));
      return NULL;
    }
  l->input = g_new (float, IN * IN * 3);
  return g_steal_pointer (&l);
}

void
tl_face_landmarker_free (TlFaceLandmarker *l)
{
  if (l == NULL)
    return;
  g_clear_pointer (&l->net, tl_net_free);
  g_free (l->input);
  g_free (l);
}

void
tl_face_landmarker_forward (TlFaceLandmarker *l,
                            const float      *input,
                            float            *out)
{
  typedef float v4sf __attribute__ ((vector_size (16)));
  float pattern[12];
  v4sf mean[3];

  /* (x − mean) / 255 four floats at a time, against the mean repeated
   * over four pixels (IN² · 3 is a multiple of 12): vector divisions,
   * the same values as one at a time. */
  G_STATIC_ASSERT (IN * IN * 3 % 12 == 0);
  for (int k = 0; k < 12; k++)
    pattern[k] = mean_rgb[k % 3];
  memcpy (mean, pattern, sizeof mean);
  for (gsize i = 0; i < IN * IN * 3; i += 12)
    for (int v = 0; v < 3; v++)
      {
        v4sf x;

        memcpy (&x, input + i + 4 * v, sizeof x);
        x = (x - mean[v]) / 255.0f;
        memcpy (l->input + i + 4 * v, &x, sizeof x);
      }
  memcpy (out, tl_net_forward (l->net, l->input, 1, false), sizeof (float) * 136);
}

double
tl_face_landmarker_flops (TlFaceLandmarker *l)
{
  return (double) tl_net_flops (l->net);
}

gboolean
tl_face_landmarker_crop (const TlImage   *image,
                         const TlFaceBox *box,
                         int             *x,
                         int             *y,
                         int             *w,
                         int             *h)
{
  /* Clip, then floor each of x, y, width, height, as the original does. */
  double cx = MAX (box->x, 0.0), cy = MAX (box->y, 0.0);
  double cw = MIN ((double) box->x + box->width - cx, image->width - cx);
  double ch = MIN ((double) box->y + box->height - cy, image->height - cy);

  *x = (int) floor (cx);
  *y = (int) floor (cy);
  *w = (int) floor (cw);
  *h = (int) floor (ch);
  return *w > 0 && *h > 0;
}

gboolean
tl_face_landmarker_run (TlFaceLandmarker *l,
                        const TlImage    *image,
                        const TlFaceBox  *box,
                        TlFaceLandmarks  *out)
{
  float *in = l->input;
  int x, y, w, h;
  double scale, sw, sh, pad_x, pad_y;

  if (!tl_face_landmarker_crop (image, box, &x, &y, &w, &h))
    return FALSE;

  /* forward() normalises in place element by element. */
  tl_image_to_input (image, x, y, w, h, TRUE, IN, in);
  tl_face_landmarker_forward (l, in, l->out);

  scale = (double) IN / MAX (w, h);
  sw = w * scale;
  sh = h * scale;
  pad_x = sw < sh ? fabs (sw - sh) / 2 : 0;
  pad_y = sh < sw ? fabs (sw - sh) / 2 : 0;
  for (int i = 0; i < TL_FACE_N_LANDMARKS; i++)
    {
      out->x[i] = (float) (x + (l->out[2 * i] * IN - pad_x) / sw * w);
      out->y[i] = (float) (y + (l->out[2 * i + 1] * IN - pad_y) / sh * h);
    }
  return TRUE;
}
