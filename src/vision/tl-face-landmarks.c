/* tl-face-landmarks.c
 *
 * Four dense blocks (112 → 56 → 28 → 14 → 7, 32/64/128/256 channels),
 * each: c1 = relu (down-sampling conv), c2 = sep (c1), c3 = sep (relu
 * (c1 + c2)), c4 = sep (relu (c1 + c2 + c3)), out = relu (c1 + c2 + c3 + c4),
 * where sep is a depthwise 3×3 + pointwise + bias ("same" padding); then a
 * 7×7 average pool and a dense layer to 136 outputs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "tl-face-landmarks.h"
#include "tl-face-net-private.h"
#include "tl-image-ops.h"

#define N_BLOCKS 4
#define IN TL_FACE_LANDMARKER_INPUT

static const float mean_rgb[3] = { 122.782f, 117.001f, 104.298f };
static const int channels[N_BLOCKS + 1] = { 3, 32, 64, 128, 256 };

typedef struct
{
  const float *dw, *pw, *b;
} Sep;

struct _TlFaceLandmarker
{
  TlFaceWeights *weights;
  const float *conv0_w, *conv0_b;
  Sep sep[N_BLOCKS][4];          /* [block][conv]; sep[0][0] unused */
  const float *fc_w, *fc_b;

  float *input;
  float *x, *c1, *c2, *c3, *sum, *tmp;
  float *scratch;
  float  pooled[256];
  float  out[136];
};

TlFaceLandmarker *
tl_face_landmarker_new (const char  *model_path,
                        GError     **error)
{
  g_autoptr (TlFaceWeights) w = tl_face_net_load (model_path, "face-landmarks68", error);
  GError *local = NULL;
  TlFaceLandmarker *l;
  gsize largest = (gsize) (IN / 2) * (IN / 2) * channels[1];
  TlFlShape conv0;

  if (w == NULL)
    return NULL;

  l = g_new0 (TlFaceLandmarker, 1);
  l->conv0_w = TL_TENSOR (w, "dense0/conv0/filters", &local, 3, 3, 3, 32);
  l->conv0_b = TL_TENSOR (w, "dense0/conv0/bias", &local, 32);
  for (int b = 0; b < N_BLOCKS; b++)
    for (int c = b == 0 ? 1 : 0; c < 4; c++)
      {
        int cin = c == 0 ? channels[b] : channels[b + 1], cout = channels[b + 1];
        g_autofree char *dw = g_strdup_printf ("dense%d/conv%d/depthwise_filter", b, c);
        g_autofree char *pw = g_strdup_printf ("dense%d/conv%d/pointwise_filter", b, c);
        g_autofree char *bias = g_strdup_printf ("dense%d/conv%d/bias", b, c);
        l->sep[b][c].dw = TL_TENSOR (w, dw, &local, 3, 3, cin, 1);
        l->sep[b][c].pw = TL_TENSOR (w, pw, &local, 1, 1, cin, cout);
        l->sep[b][c].b = TL_TENSOR (w, bias, &local, cout);
      }
  l->fc_w = TL_TENSOR (w, "fc/weights", &local, 256, 136);
  l->fc_b = TL_TENSOR (w, "fc/bias", &local, 136);
  if (local)
    {
      g_propagate_error (error, local);
      g_free (l);
      return NULL;
    }
  l->weights = g_steal_pointer (&w);
  tl_fl_shape_same (&conv0, IN, IN, 3, 32, 3, 2);
  l->input = g_new (float, IN * IN * 3);
  l->x = g_new (float, largest);
  l->c1 = g_new (float, largest);
  l->c2 = g_new (float, largest);
  l->c3 = g_new (float, largest);
  l->sum = g_new (float, largest);
  l->tmp = g_new (float, largest);
  l->scratch = g_malloc (tl_fl_conv2d_scratch (&conv0));
  return l;
}

void
tl_face_landmarker_free (TlFaceLandmarker *l)
{
  if (l == NULL)
    return;
  g_free (l->input);
  g_free (l->x);
  g_free (l->c1);
  g_free (l->c2);
  g_free (l->c3);
  g_free (l->sum);
  g_free (l->tmp);
  g_free (l->scratch);
  tl_face_weights_free (l->weights);
  g_free (l);
}

/* out = pointwise (depthwise (in)) + b, "same" padding. */
static void
sep_conv (TlFaceLandmarker *l,
          float            *out,
          const float      *in,
          const Sep        *sep,
          int               h,
          int               cin,
          int               cout,
          int               stride)
{
  TlFlShape dw, pw;

  tl_fl_shape_same (&dw, h, h, cin, cin, 3, stride);
  tl_fl_depthwise (l->tmp, in, sep->dw, NULL, &dw);
  tl_fl_shape_valid (&pw, dw.ho, dw.wo, cin, cout, 1, 1);
  tl_fl_conv2d (out, l->tmp, sep->pw, sep->b, &pw, TL_FL_ACT_NONE, NULL);
}

void
tl_face_landmarker_forward (TlFaceLandmarker *l,
                            const float      *input,
                            float            *out)
{
  int h = IN;

  for (gsize i = 0; i < IN * IN; i++)
    for (int c = 0; c < 3; c++)
      l->input[i * 3 + c] = (input[i * 3 + c] - mean_rgb[c]) / 255.0f;

  for (int b = 0; b < N_BLOCKS; b++)
    {
      int cin = channels[b], cout = channels[b + 1];
      gsize n;

      if (b == 0)
        {
          TlFlShape sh;
          tl_fl_shape_same (&sh, h, h, 3, cout, 3, 2);
          tl_fl_conv2d (l->c1, l->input, l->conv0_w, l->conv0_b, &sh, TL_FL_ACT_RELU, l->scratch);
        }
      else
        {
          sep_conv (l, l->c1, l->x, &l->sep[b][0], h, cin, cout, 2);
          tl_fl_bias_act (l->c1, NULL, (h / 2) * (h / 2), cout, TL_FL_ACT_RELU);
        }
      h /= 2;
      n = (gsize) h * h * cout;

      sep_conv (l, l->c2, l->c1, &l->sep[b][1], h, cout, cout, 1);
      tl_fl_add_relu (l->sum, l->c1, l->c2, n);
      sep_conv (l, l->c3, l->sum, &l->sep[b][2], h, cout, cout, 1);
      tl_fl_add3_relu (l->sum, l->c1, l->c2, l->c3, n);
      sep_conv (l, l->x, l->sum, &l->sep[b][3], h, cout, cout, 1);
      tl_fl_add4_relu (l->x, l->c1, l->c2, l->c3, l->x, n);
    }

  /* 7×7 average pool to one pixel, then the dense layer. */
  {
    TlFlShape sh;
    tl_fl_shape_valid (&sh, h, h, 256, 256, 7, 2);
    tl_fl_avgpool (l->pooled, l->x, &sh);
  }
  tl_fl_gemm (1, 136, 256, l->pooled, 256, l->fc_w, 136, out, 136, FALSE);
  for (int i = 0; i < 136; i++)
    out[i] += l->fc_b[i];
}

double
tl_face_landmarker_flops (TlFaceLandmarker *l)
{
  double f = 2.0 * 56 * 56 * 27 * 32;
  int h = 56;

  for (int b = 0; b < N_BLOCKS; b++)
    {
      int cin = channels[b], cout = channels[b + 1];
      if (b > 0)
        {
          h /= 2;
          f += 2.0 * h * h * (9 * cin + cin * cout);
        }
      f += 3 * 2.0 * h * h * (9 * cout + cout * cout);
    }
  return f + 2.0 * 256 * 136;
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
