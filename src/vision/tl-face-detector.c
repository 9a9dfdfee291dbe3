/* tl-face-detector.c
 *
 * The network (tl-faceapi-nets.c) gives 5 anchors × (x, y, w, h, score)
 * per cell of a (size/32)² grid; this file feeds it and decodes boxes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-face-detector.h"
#include "tl-face-net-private.h"
#include "tl-faceapi-nets.h"
#include "tl-model.h"
#include "tl-image-ops.h"

#define N_ANCHORS 5

/* The anchors (in grid cells), input mean and NMS overlap the detector
 * was trained with (face-api's tiny face detector configuration). */
static const float anchors[N_ANCHORS][2] = {
  { 1.603231f, 2.094468f },
  { 6.041143f, 7.080126f },
  { 2.882459f, 3.518061f },
  { 4.266906f, 5.178857f },
  { 9.041765f, 10.66308f },
};
static const float mean_rgb[3] = { 117.001f, 114.697f, 97.404f };
#define IOU_THRESHOLD 0.4f

struct _TlFaceDetector
{
  TlNet *weights;        /* as loaded; the source of every size's parameters */
  TlNet *net;            /* built for `size`, prepared */
  int    size;
  float  score_threshold;
  float *input;
  float *output;
};

static gboolean
build_for_size (TlFaceDetector *d,
                int             size,
                GError        **error)
{
  g_autoptr (TlNet) net = tl_faceapi_detector_net (size);
  TlNnError err = { 0 };

  if (!tl_faceapi_copy_params (net, d->weights, error))
    return FALSE;
  /* the first convolution is unpadded: the input's normalisation folds
   * into it exactly */
  tl_face_net_fold_input (net, "conv0", mean_rgb);
  if (!tl_net_prepare (net, 1, false, &err))
    {
      tl_model_set_error (error, &err, _("Cannot prepare the face detector"));
      return FALSE;
    }
  g_clear_pointer (&d->net, tl_net_free);
  d->net = g_steal_pointer (&net);
  d->size = size;
  g_free (d->input);
  g_free (d->output);
  d->input = g_new (float, (gsize) size * size * 3);
  d->output = g_new (float, (gsize) (size / 32) * (size / 32) * N_ANCHORS * 5);
  return TRUE;
}

TlFaceDetector *
tl_face_detector_new (const char  *model_path,
                      GError     **error)
{
  g_autoptr (TlFaceDetector) d = g_new0 (TlFaceDetector, 1);

  d->weights = tl_face_net_load (model_path, "face-detector", error);
  if (d->weights == NULL || !build_for_size (d, TL_FACE_DETECTOR_DEFAULT_SIZE, error))
    return NULL;
  d->score_threshold = 0.5f;
  return g_steal_pointer (&d);
}

void
tl_face_detector_free (TlFaceDetector *detector)
{
  if (detector == NULL)
    return;
  g_clear_pointer (&detector->net, tl_net_free);
  g_clear_pointer (&detector->weights, tl_net_free);
  g_free (detector->input);
  g_free (detector->output);
  g_free (detector);
}

gboolean
tl_face_detector_set_input_size (TlFaceDetector *detector,
                                 int             size)
{
  if (size < TL_FACE_DETECTOR_MIN_SIZE || size > TL_FACE_DETECTOR_MAX_SIZE || size % 32 != 0)
    return FALSE;
  if (size != detector->size)
    return build_for_size (detector, size, NULL);
  return TRUE;
}

int
tl_face_detector_get_input_size (TlFaceDetector *detector)
{
  return detector->size;
}

void
tl_face_detector_set_score_threshold (TlFaceDetector *detector,
                                      float           threshold)
{
  detector->score_threshold = CLAMP (threshold, 0.0f, 1.0f);
}

int
tl_face_detector_size_for (int width,
                           int height)
{
  int side = (MAX (width, height) + 31) / 32 * 32;

  return CLAMP (side, TL_FACE_DETECTOR_MIN_SIZE, TL_FACE_DETECTOR_MAX_SIZE);
}

double
tl_face_detector_flops (TlFaceDetector *d)
{
  return (double) tl_net_flops (d->net);
}

void
tl_face_detector_forward (TlFaceDetector *d,
                          const float    *input,
                          float          *out)
{
  /* the normalisation is in the first layer (tl_face_net_fold_input ()) */
  const float *o = tl_net_forward (d->net, input, 1, false);

  memcpy (out, o, sizeof (float) * (d->size / 32) * (d->size / 32) * N_ANCHORS * 5);
}

static inline float
sigmoidf (float v)
{
  return 1.0f / (1.0f + expf (-v));
}

static int
by_score_desc (gconstpointer a,
               gconstpointer b)
{
  const TlFaceBox *x = a, *y = b;
  return (x->score < y->score) - (x->score > y->score);
}

GArray *
tl_face_detector_detect (TlFaceDetector *d,
                         const TlImage  *image)
{
  g_autoptr (GArray) cand = g_array_new (FALSE, FALSE, sizeof (TlFaceBox));
  GArray *result = g_array_new (FALSE, FALSE, sizeof (TlFaceBox));
  const int s = d->size, cells = s / 32;
  int side = MAX (image->width, image->height);
  double scale = (double) s / side;
  /* The image is padded to a square at the right/bottom; the boxes come
   * out relative to the resized image's own extent. */
  double rw = round (image->width * scale), rh = round (image->height * scale);
  double corr_x = s / rw, corr_y = s / rh;
  g_autofree gboolean *dropped = NULL;

  tl_image_to_input (image, 0, 0, image->width, image->height, FALSE, s, d->input);
  tl_face_detector_forward (d, d->input, d->output);

  for (int row = 0; row < cells; row++)
    for (int col = 0; col < cells; col++)
      for (int a = 0; a < N_ANCHORS; a++)
        {
          const float *o = d->output + (((gsize) row * cells + col) * N_ANCHORS + a) * 5;
          float score = sigmoidf (o[4]);
          double cx, cy, bw, bh;
          TlFaceBox box;

          if (!(score > d->score_threshold))
            continue;
          cx = (col + sigmoidf (o[0])) / cells * corr_x;
          cy = (row + sigmoidf (o[1])) / cells * corr_y;
          bw = exp (o[2]) * anchors[a][0] / cells * corr_x;
          bh = exp (o[3]) * anchors[a][1] / cells * corr_y;
          box.x = (float) ((cx - bw / 2) * image->width);
          box.y = (float) ((cy - bh / 2) * image->height);
          box.width = (float) (bw * image->width);
          box.height = (float) (bh * image->height);
          box.score = score;
          g_array_append_val (cand, box);
        }

  g_array_sort (cand, by_score_desc);
  dropped = g_new0 (gboolean, cand->len + 1);
  for (guint i = 0; i < cand->len; i++)
    {
      const TlFaceBox *b = &g_array_index (cand, TlFaceBox, i);
      if (dropped[i])
        continue;
      g_array_append_val (result, *b);
      for (guint j = i + 1; j < cand->len; j++)
        if (!dropped[j] && tl_face_box_iou (b, &g_array_index (cand, TlFaceBox, j)) > IOU_THRESHOLD)
          dropped[j] = TRUE;
    }
  return result;
}
