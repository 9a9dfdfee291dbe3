/* tl-face-detector.c
 *
 * Layers: conv 3×3 (valid) → leaky → maxpool 2/2, then five blocks of
 * [pad 1, depthwise 3×3, pointwise, bias, leaky, maxpool 2 (stride 2, the
 * last stride 1)], then a 1×1 conv to 5 anchors × (x, y, w, h, score) per
 * cell of a (size/32)² grid.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-face-detector.h"
#include "tl-face-net-private.h"
#include "tl-image-ops.h"

#define N_ANCHORS 5
#define N_BLOCKS  5

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

static const int channels[N_BLOCKS + 1] = { 16, 32, 64, 128, 256, 512 };

struct _TlFaceDetector
{
  TlFaceWeights *weights;
  const float *conv0_w, *conv0_b;
  const float *dw[N_BLOCKS], *pw[N_BLOCKS], *bias[N_BLOCKS];
  const float *conv8_w, *conv8_b;

  int    size;
  float  score_threshold;
  float *input;
  float *buf_a, *buf_b;
  float *scratch;
  float *output;
};

static void
free_buffers (TlFaceDetector *d)
{
  g_clear_pointer (&d->input, g_free);
  g_clear_pointer (&d->buf_a, g_free);
  g_clear_pointer (&d->buf_b, g_free);
  g_clear_pointer (&d->scratch, g_free);
  g_clear_pointer (&d->output, g_free);
}

static void
alloc_buffers (TlFaceDetector *d)
{
  int s = d->size;
  gsize largest = (gsize) (s - 2) * (s - 2) * channels[0];
  TlFlShape conv0;

  free_buffers (d);
  tl_fl_shape_valid (&conv0, s, s, 3, channels[0], 3, 1);
  d->input = g_new (float, (gsize) s * s * 3);
  d->buf_a = g_new (float, largest);
  d->buf_b = g_new (float, largest);
  d->scratch = g_malloc (tl_fl_conv2d_scratch (&conv0));
  d->output = g_new (float, (gsize) (s / 32) * (s / 32) * N_ANCHORS * 5);
}

TlFaceDetector *
tl_face_detector_new (const char  *model_path,
                      GError     **error)
{
  g_autoptr (TlFaceWeights) w = tl_face_net_load (model_path, "face-detector", error);
  GError *local = NULL;
  TlFaceDetector *d;

  if (w == NULL)
    return NULL;

  d = g_new0 (TlFaceDetector, 1);
  d->conv0_w = TL_TENSOR (w, "conv0/filters", &local, 3, 3, 3, channels[0]);
  d->conv0_b = TL_TENSOR (w, "conv0/bias", &local, channels[0]);
  for (int i = 0; i < N_BLOCKS; i++)
    {
      int cin = channels[i], cout = channels[i + 1];
      g_autofree char *dw = g_strdup_printf ("conv%d/depthwise_filter", i + 1);
      g_autofree char *pw = g_strdup_printf ("conv%d/pointwise_filter", i + 1);
      g_autofree char *b = g_strdup_printf ("conv%d/bias", i + 1);
      d->dw[i] = TL_TENSOR (w, dw, &local, 3, 3, cin, 1);
      d->pw[i] = TL_TENSOR (w, pw, &local, 1, 1, cin, cout);
      d->bias[i] = TL_TENSOR (w, b, &local, cout);
    }
  d->conv8_w = TL_TENSOR (w, "conv8/filters", &local, 1, 1, channels[N_BLOCKS], N_ANCHORS * 5);
  d->conv8_b = TL_TENSOR (w, "conv8/bias", &local, N_ANCHORS * 5);
  if (local)
    {
      g_propagate_error (error, local);
      g_free (d);
      return NULL;
    }
  d->weights = g_steal_pointer (&w);
  d->size = TL_FACE_DETECTOR_DEFAULT_SIZE;
  d->score_threshold = 0.5f;
  alloc_buffers (d);
  return d;
}

void
tl_face_detector_free (TlFaceDetector *detector)
{
  if (detector == NULL)
    return;
  free_buffers (detector);
  tl_face_weights_free (detector->weights);
  g_free (detector);
}

gboolean
tl_face_detector_set_input_size (TlFaceDetector *detector,
                                 int             size)
{
  if (size < TL_FACE_DETECTOR_MIN_SIZE || size > TL_FACE_DETECTOR_MAX_SIZE || size % 32 != 0)
    return FALSE;
  if (size != detector->size)
    {
      detector->size = size;
      alloc_buffers (detector);
    }
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

double
tl_face_detector_flops (TlFaceDetector *d)
{
  int s = d->size - 2;
  double f = 2.0 * s * s * 27 * channels[0];

  s = (s + 1) / 2;
  for (int i = 0; i < N_BLOCKS; i++)
    {
      f += 2.0 * s * s * (9 * channels[i] + channels[i] * channels[i + 1]);
      if (i < N_BLOCKS - 1)
        s = (s + 1) / 2;
    }
  return f + 2.0 * s * s * channels[N_BLOCKS] * N_ANCHORS * 5;
}

void
tl_face_detector_forward (TlFaceDetector *d,
                          const float    *input,
                          float          *out)
{
  const int s = d->size;
  float *x = d->buf_a, *y = d->buf_b, *t;
  TlFlShape sh;
  int h;

  /* The original subtracts the mean, then divides by 255. */
  for (gsize i = 0; i < (gsize) s * s; i++)
    for (int c = 0; c < 3; c++)
      d->input[i * 3 + c] = (input[i * 3 + c] - mean_rgb[c]) / 255.0f;

  tl_fl_shape_valid (&sh, s, s, 3, channels[0], 3, 1);
  tl_fl_conv2d (y, d->input, d->conv0_w, d->conv0_b, &sh, TL_FL_ACT_LEAKY, d->scratch);
  h = sh.ho;
  tl_fl_shape_same (&sh, h, h, channels[0], channels[0], 2, 2);
  tl_fl_maxpool (x, y, &sh);
  h = sh.ho;

  for (int i = 0; i < N_BLOCKS; i++)
    {
      int cin = channels[i], cout = channels[i + 1];
      TlFlShape pw;

      tl_fl_shape_pad (&sh, h, h, cin, cin, 3, 1, 1);
      tl_fl_depthwise (y, x, d->dw[i], NULL, &sh);
      tl_fl_shape_valid (&pw, h, h, cin, cout, 1, 1);
      tl_fl_conv2d (x, y, d->pw[i], d->bias[i], &pw, TL_FL_ACT_LEAKY, NULL);
      tl_fl_shape_same (&sh, h, h, cout, cout, 2, i < N_BLOCKS - 1 ? 2 : 1);
      tl_fl_maxpool (y, x, &sh);
      h = sh.ho;
      t = x; x = y; y = t;
    }

  tl_fl_shape_valid (&sh, h, h, channels[N_BLOCKS], N_ANCHORS * 5, 1, 1);
  tl_fl_conv2d (out, x, d->conv8_w, d->conv8_b, &sh, TL_FL_ACT_NONE, NULL);
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

  /* forward() normalises element by element, so it may work in place. */
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
