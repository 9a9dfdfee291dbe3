/* tl-face-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "tl-face-detector.h"
#include "tl-face-net-private.h"
#include "tl-faceapi-nets.h"
#include "tl-model.h"
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

void
tl_face_net_fold_input (TlNet       *net,
                        const char  *conv,
                        const float  mean[3])
{
  g_autofree char *wname = g_strconcat (conv, ".weight", NULL);
  g_autofree char *bname = g_strconcat (conv, ".bias", NULL);
  TlNnTensor *w = tl_net_find_tensor (net, wname);
  TlNnTensor *b = tl_net_find_tensor (net, bname);
  int oc;

  g_assert (w != NULL && b != NULL && w->ndim == 4 && w->dims[2] == 3);
  oc = b->dims[0];
  g_assert (w->dims[3] == oc);
  for (int q = 0; q < oc; q++)
    {
      double sum = 0;

      for (gsize t = 0; t < w->count / oc; t++)
        sum += (double) w->data[t * oc + q] * mean[t % 3];
      b->data[q] = (float) (b->data[q] - sum / 255.0);
    }
  for (gsize i = 0; i < w->count; i++)
    w->data[i] /= 255.0f;
}

TlNet *
tl_face_net_load (const char  *path,
                  const char  *kind,
                  GError     **error)
{
  g_autoptr (TlNet) file = NULL;
  g_autoptr (TlNet) net = NULL;
  g_autoptr (GError) local = NULL;

  /* The engine picks the BLIS kernels before anything calls BLIS. */
  tl_nn_init ();
  file = tl_model_load (path, error);
  if (file == NULL)
    return NULL;
  if (g_str_equal (kind, "face-detector"))
    net = tl_faceapi_detector_net (TL_FACE_DETECTOR_DEFAULT_SIZE);
  else if (g_str_equal (kind, "face-landmarks68"))
    net = tl_faceapi_landmarks_net ();
  else
    net = tl_faceapi_encoder_net ();
  if (!tl_faceapi_copy_params (net, file, &local))
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, TL_MODEL_ERROR, TL_MODEL_ERROR_MISSING,
                   _("“%s” is not a %s model: %s"), name, kind, local->message);
      return NULL;
    }
  return g_steal_pointer (&net);
}
