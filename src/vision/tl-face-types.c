/* tl-face-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "tl-face-net-private.h"
#include "tl-face-types.h"
#include "tl-nn.h"

float
tl_face_box_iou (const TlFaceBox *a,
                 const TlFaceBox *b)
{
  float iw = MIN (a->x + a->width, b->x + b->width) - MAX (a->x, b->x);
  float ih = MIN (a->y + a->height, b->y + b->height) - MAX (a->y, b->y);
  float inter = MAX (iw, 0) * MAX (ih, 0);
  float uni = a->width * a->height + b->width * b->height - inter;

  return uni > 0 ? inter / uni : 0;
}

float
tl_face_distance (const float *a,
                  const float *b)
{
  double s = 0;

  for (int i = 0; i < TL_FACE_EMBEDDING_DIM; i++)
    s += (double) (a[i] - b[i]) * (a[i] - b[i]);
  return (float) sqrt (s);
}

TlFaceWeights *
tl_face_net_load (const char  *path,
                  const char  *kind,
                  GError     **error)
{
  g_autoptr (TlFaceWeights) w = NULL;

  /* The engine picks the BLIS kernels before anything calls BLIS. */
  tl_nn_init ();
  w = tl_face_weights_load (path, error);

  if (w == NULL)
    return NULL;
  if (!g_str_equal (tl_face_weights_kind (w), kind))
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
                   _("“%s” holds a %s model, not a %s model"),
                   name, tl_face_weights_kind (w), kind);
      return NULL;
    }
  return g_steal_pointer (&w);
}
