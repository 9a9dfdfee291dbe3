/* tl-face-layers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <blis.h>
#include <math.h>
#include <string.h>

#include "tl-face-layers.h"

void
tl_fl_shape_same (TlFlShape *s, int h, int w, int cin, int cout, int k, int stride)
{
  int pad_h, pad_w;

  s->h = h; s->w = w; s->cin = cin; s->cout = cout; s->k = k; s->stride = stride;
  s->ho = (h + stride - 1) / stride;
  s->wo = (w + stride - 1) / stride;
  pad_h = MAX ((s->ho - 1) * stride + k - h, 0);
  pad_w = MAX ((s->wo - 1) * stride + k - w, 0);
  s->pad_top = pad_h / 2;
  s->pad_left = pad_w / 2;
}

void
tl_fl_shape_valid (TlFlShape *s, int h, int w, int cin, int cout, int k, int stride)
{
  s->h = h; s->w = w; s->cin = cin; s->cout = cout; s->k = k; s->stride = stride;
  s->ho = (h - k + stride) / stride;
  s->wo = (w - k + stride) / stride;
  s->pad_top = s->pad_left = 0;
}

void
tl_fl_shape_pad (TlFlShape *s, int h, int w, int cin, int cout, int k, int stride, int pad)
{
  s->h = h; s->w = w; s->cin = cin; s->cout = cout; s->k = k; s->stride = stride;
  s->ho = (h + 2 * pad - k) / stride + 1;
  s->wo = (w + 2 * pad - k) / stride + 1;
  s->pad_top = s->pad_left = pad;
}

static int threads = 1;

void
tl_fl_set_threads (int n)
{
  threads = CLAMP (n, 1, 64);
}

void
tl_fl_gemm (int M, int N, int K,
            const float *A, int lda,
            const float *B, int ldb,
            float *C, int ldc,
            gboolean accumulate)
{
  float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  rntm_t rntm;

  bli_rntm_init (&rntm);
  bli_rntm_set_num_threads (threads, &rntm);
  bli_sgemm_ex (BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, M, N, K,
                &one, (float *) A, lda, 1, (float *) B, ldb, 1,
                &beta, C, ldc, 1, NULL, &rntm);
}

void
tl_fl_gemm_ref (int M, int N, int K,
                const float *A, int lda,
                const float *B, int ldb,
                float *C, int ldc,
                gboolean accumulate)
{
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      {
        double acc = accumulate ? C[(gsize) i * ldc + j] : 0.0;
        for (int k = 0; k < K; k++)
          acc += (double) A[(gsize) i * lda + k] * B[(gsize) k * ldb + j];
        C[(gsize) i * ldc + j] = (float) acc;
      }
}

static inline float
act_apply (float v, TlFlAct act)
{
  switch (act)
    {
    case TL_FL_ACT_RELU:  return v > 0 ? v : 0;
    case TL_FL_ACT_LEAKY: return v > 0 ? v : 0.1f * v;
    case TL_FL_ACT_NONE:
    default:              return v;
    }
}

void
tl_fl_bias_act (float *x, const float *b, int n, int c, TlFlAct act)
{
  for (int i = 0; i < n; i++, x += c)
    {
      if (b && act == TL_FL_ACT_NONE)
        for (int j = 0; j < c; j++) x[j] += b[j];
      else if (b && act == TL_FL_ACT_RELU)
        for (int j = 0; j < c; j++) { float v = x[j] + b[j]; x[j] = v > 0 ? v : 0; }
      else if (b && act == TL_FL_ACT_LEAKY)
        for (int j = 0; j < c; j++) { float v = x[j] + b[j]; x[j] = v > 0 ? v : 0.1f * v; }
      else
        for (int j = 0; j < c; j++) x[j] = act_apply (x[j], act);
    }
}

gsize
tl_fl_conv2d_scratch (const TlFlShape *s)
{
  if (s->k == 1 && s->stride == 1 && s->pad_top == 0 && s->pad_left == 0)
    return 0;
  return sizeof (float) * (gsize) s->ho * s->wo * s->k * s->k * s->cin;
}

/* im2col in HWC: each output pixel's row is its k×k×cin window, in the
 * same order as the kernel's rows. */
static void
im2col (float *cols, const float *in, const TlFlShape *s)
{
  const int kc = s->k * s->cin;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *row = cols + ((gsize) oy * s->wo + ox) * s->k * kc;
        int iy0 = oy * s->stride - s->pad_top;
        int ix0 = ox * s->stride - s->pad_left;

        for (int ky = 0; ky < s->k; ky++, row += kc)
          {
            int iy = iy0 + ky;
            int x_lo = MAX (0, -ix0), x_hi = MIN (s->k, s->w - ix0);

            if (iy < 0 || iy >= s->h || x_lo >= x_hi)
              {
                memset (row, 0, sizeof (float) * kc);
                continue;
              }
            if (x_lo > 0)
              memset (row, 0, sizeof (float) * x_lo * s->cin);
            memcpy (row + x_lo * s->cin,
                    in + ((gsize) iy * s->w + ix0 + x_lo) * s->cin,
                    sizeof (float) * (x_hi - x_lo) * s->cin);
            if (x_hi < s->k)
              memset (row + x_hi * s->cin, 0, sizeof (float) * (s->k - x_hi) * s->cin);
          }
      }
}

void
tl_fl_conv2d (float *out, const float *in, const float *w, const float *b,
              const TlFlShape *s, TlFlAct act, float *scratch)
{
  const int M = s->ho * s->wo, K = s->k * s->k * s->cin;

  if (tl_fl_conv2d_scratch (s) == 0)
    tl_fl_gemm (M, s->cout, K, in, K, w, s->cout, out, s->cout, FALSE);
  else
    {
      im2col (scratch, in, s);
      tl_fl_gemm (M, s->cout, K, scratch, K, w, s->cout, out, s->cout, FALSE);
    }
  if (b || act != TL_FL_ACT_NONE)
    tl_fl_bias_act (out, b, M, s->cout, act);
}

void
tl_fl_conv2d_ref (float *out, const float *in, const float *w, const float *b,
                  const TlFlShape *s, TlFlAct act)
{
  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      for (int co = 0; co < s->cout; co++)
        {
          double acc = b ? b[co] : 0.0;
          for (int ky = 0; ky < s->k; ky++)
            for (int kx = 0; kx < s->k; kx++)
              {
                int iy = oy * s->stride - s->pad_top + ky;
                int ix = ox * s->stride - s->pad_left + kx;
                if (iy < 0 || ix < 0 || iy >= s->h || ix >= s->w)
                  continue;
                for (int ci = 0; ci < s->cin; ci++)
                  acc += (double) in[((gsize) iy * s->w + ix) * s->cin + ci]
                         * w[(((gsize) ky * s->k + kx) * s->cin + ci) * s->cout + co];
              }
          out[((gsize) oy * s->wo + ox) * s->cout + co] = act_apply ((float) acc, act);
        }
}

void
tl_fl_depthwise (float *out, const float *in, const float *w, const float *b,
                 const TlFlShape *s)
{
  const int c = s->cin;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *o = out + ((gsize) oy * s->wo + ox) * c;
        int iy0 = oy * s->stride - s->pad_top;
        int ix0 = ox * s->stride - s->pad_left;

        if (b)
          memcpy (o, b, sizeof (float) * c);
        else
          memset (o, 0, sizeof (float) * c);
        for (int ky = 0; ky < s->k; ky++)
          {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= s->h)
              continue;
            for (int kx = 0; kx < s->k; kx++)
              {
                int ix = ix0 + kx;
                const float *p, *q;
                if (ix < 0 || ix >= s->w)
                  continue;
                p = in + ((gsize) iy * s->w + ix) * c;
                q = w + ((gsize) ky * s->k + kx) * c;
                for (int j = 0; j < c; j++)
                  o[j] += p[j] * q[j];
              }
          }
      }
}

void
tl_fl_depthwise_ref (float *out, const float *in, const float *w, const float *b,
                     const TlFlShape *s)
{
  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      for (int j = 0; j < s->cin; j++)
        {
          double acc = b ? b[j] : 0.0;
          for (int ky = 0; ky < s->k; ky++)
            for (int kx = 0; kx < s->k; kx++)
              {
                int iy = oy * s->stride - s->pad_top + ky;
                int ix = ox * s->stride - s->pad_left + kx;
                if (iy < 0 || ix < 0 || iy >= s->h || ix >= s->w)
                  continue;
                acc += (double) in[((gsize) iy * s->w + ix) * s->cin + j]
                       * w[((gsize) ky * s->k + kx) * s->cin + j];
              }
          out[((gsize) oy * s->wo + ox) * s->cin + j] = (float) acc;
        }
}

void
tl_fl_maxpool (float *out, const float *in, const TlFlShape *s)
{
  const int c = s->cin;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *o = out + ((gsize) oy * s->wo + ox) * c;
        gboolean first = TRUE;

        for (int ky = 0; ky < s->k; ky++)
          for (int kx = 0; kx < s->k; kx++)
            {
              int iy = oy * s->stride - s->pad_top + ky;
              int ix = ox * s->stride - s->pad_left + kx;
              const float *p;
              if (iy < 0 || ix < 0 || iy >= s->h || ix >= s->w)
                continue;
              p = in + ((gsize) iy * s->w + ix) * c;
              if (first)
                memcpy (o, p, sizeof (float) * c);
              else
                for (int j = 0; j < c; j++)
                  o[j] = MAX (o[j], p[j]);
              first = FALSE;
            }
      }
}

void
tl_fl_avgpool (float *out, const float *in, const TlFlShape *s)
{
  const int c = s->cin;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *o = out + ((gsize) oy * s->wo + ox) * c;
        int n = 0;

        memset (o, 0, sizeof (float) * c);
        for (int ky = 0; ky < s->k; ky++)
          for (int kx = 0; kx < s->k; kx++)
            {
              int iy = oy * s->stride - s->pad_top + ky;
              int ix = ox * s->stride - s->pad_left + kx;
              const float *p;
              if (iy < 0 || ix < 0 || iy >= s->h || ix >= s->w)
                continue;
              p = in + ((gsize) iy * s->w + ix) * c;
              for (int j = 0; j < c; j++)
                o[j] += p[j];
              n++;
            }
        if (n > 0)
          for (int j = 0; j < c; j++)
            o[j] /= n;
      }
}
