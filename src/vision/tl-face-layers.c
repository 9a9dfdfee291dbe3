/* tl-face-layers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "tl-face-layers.h"
#include "tl-nn.h"

/* The element-wise and depthwise loops below are memory-bound and only
 * fast when vectorised: build them with -O3 and an AVX2/FMA clone chosen
 * at run time (the default clone runs anywhere). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("O3")
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIMD __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define SIMD
#endif

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

void
tl_fl_set_threads (int n)
{
  tl_nn_set_threads (n);
}

void
tl_fl_gemm (int M, int N, int K,
            const float *A, int lda,
            const float *B, int ldb,
            float *C, int ldc,
            gboolean accumulate)
{
  tl_gemm (false, false, M, N, K, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C, ldc);
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

SIMD void
tl_fl_bias_act (float *restrict x, const float *restrict b, int n, int c, TlFlAct act)
{
  static const float zero[1] = { 0 };
  gsize total = (gsize) n * c;

  if (b == NULL)
    {
      /* No bias: one flat loop. */
      if (act == TL_FL_ACT_RELU)
        for (gsize i = 0; i < total; i++) x[i] = x[i] > 0 ? x[i] : 0;
      else if (act == TL_FL_ACT_LEAKY)
        for (gsize i = 0; i < total; i++) { float t = 0.1f * x[i]; x[i] = x[i] > t ? x[i] : t; }
      (void) zero;
      return;
    }
  for (int i = 0; i < n; i++, x += c)
    {
      if (act == TL_FL_ACT_NONE)
        for (int j = 0; j < c; j++) x[j] += b[j];
      else if (act == TL_FL_ACT_RELU)
        for (int j = 0; j < c; j++) { float v = x[j] + b[j]; x[j] = v > 0 ? v : 0; }
      else
        /* max (v, 0.1 v) is the leaky ReLU and vectorises as a max. */
        for (int j = 0; j < c; j++) { float v = x[j] + b[j], t = 0.1f * v; x[j] = v > t ? v : t; }
    }
}

SIMD void
tl_fl_add_relu (float *restrict out, const float *restrict a, const float *restrict b, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      float v = a[i] + b[i];
      out[i] = v > 0 ? v : 0;
    }
}

SIMD void
tl_fl_add3_relu (float *restrict out, const float *restrict a, const float *restrict b,
                 const float *restrict c, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      float v = a[i] + (b[i] + c[i]);
      out[i] = v > 0 ? v : 0;
    }
}

SIMD void
tl_fl_add4_relu (float *out, const float *restrict a, const float *restrict b,
                 const float *restrict c, const float *d, gsize n)
{
  /* out may be d: each element is read before it is written. */
  for (gsize i = 0; i < n; i++)
    {
      float v = a[i] + (b[i] + (c[i] + d[i]));
      out[i] = v > 0 ? v : 0;
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
SIMD static void
im2col (float *restrict cols, const float *restrict in, const TlFlShape *s)
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
            {
              /* Runs are short (k·cin floats): a plain loop beats memcpy calls. */
              const float *restrict src = in + ((gsize) iy * s->w + ix0) * s->cin;
              const int lo = x_lo * s->cin, hi = x_hi * s->cin;
              for (int j = 0; j < lo; j++)
                row[j] = 0;
              for (int j = lo; j < hi; j++)
                row[j] = src[j];
              for (int j = hi; j < kc; j++)
                row[j] = 0;
            }
          }
      }
}

/* Eight floats in a vector register (two SSE registers in the portable
 * clone): the compiler does not keep sixteen scalar accumulators in
 * vectors by itself. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float v8sf __attribute__ ((vector_size (32)));

static inline __attribute__ ((always_inline)) v8sf
load8 (const float *p)
{
  v8sf v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline __attribute__ ((always_inline)) void
store8 (float *p, v8sf v)
{
  memcpy (p, &v, sizeof v);
}

/* Few input channels (the first layer on RGB): K is too short for a GEMM
 * to pay off, so accumulate each output pixel directly, vectorised over
 * the output channels. */
SIMD static void
conv2d_direct (float *restrict out, const float *restrict in, const float *restrict w,
               const float *restrict b, const TlFlShape *s)
{
  const int co = s->cout;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *restrict o = out + ((gsize) oy * s->wo + ox) * co;
        int iy0 = oy * s->stride - s->pad_top, ix0 = ox * s->stride - s->pad_left;

        if (s->k == 3 && s->cin == 3 && iy0 >= 0 && ix0 >= 0 && iy0 + 3 <= s->h && ix0 + 3 <= s->w)
          {
            /* Interior pixel of a 3×3 RGB conv: 27 taps, three runs of 9. */
            const float *restrict rows[3];
            rows[0] = in + ((gsize) iy0 * s->w + ix0) * 3;
            rows[1] = rows[0] + (gsize) s->w * 3;
            rows[2] = rows[1] + (gsize) s->w * 3;
            for (int c0 = 0; c0 < co; c0 += 16)
              {
                v8sf acc0 = { 0 }, acc1 = { 0 };
                if (b)
                  {
                    acc0 = load8 (b + c0);
                    acc1 = load8 (b + c0 + 8);
                  }
                for (int r = 0; r < 3; r++)
                  for (int t = 0; t < 9; t++)
                    {
                      const float *restrict q = w + (gsize) (r * 9 + t) * co + c0;
                      acc0 += rows[r][t] * load8 (q);
                      acc1 += rows[r][t] * load8 (q + 8);
                    }
                store8 (o + c0, acc0);
                store8 (o + c0 + 8, acc1);
              }
            continue;
          }

        /* Sixteen output channels at a time, held in registers. */
        for (int c0 = 0; c0 < co; c0 += 16)
          {
            float acc[16];

            for (int j = 0; j < 16; j++)
              acc[j] = b ? b[c0 + j] : 0.0f;
            for (int ky = 0; ky < s->k; ky++)
              {
                int iy = iy0 + ky;
                if (iy < 0 || iy >= s->h)
                  continue;
                for (int kx = 0; kx < s->k; kx++)
                  {
                    int ix = ix0 + kx;
                    const float *restrict p, *restrict q;
                    if (ix < 0 || ix >= s->w)
                      continue;
                    p = in + ((gsize) iy * s->w + ix) * s->cin;
                    q = w + ((gsize) ky * s->k + kx) * s->cin * co + c0;
                    for (int ci = 0; ci < s->cin; ci++, q += co)
                      {
                        float v = p[ci];
                        for (int j = 0; j < 16; j++)
                          acc[j] += v * q[j];
                      }
                  }
              }
            for (int j = 0; j < 16; j++)
              o[c0 + j] = acc[j];
          }
      }
}

void
tl_fl_conv2d (float *out, const float *in, const float *w, const float *b,
              const TlFlShape *s, TlFlAct act, float *scratch)
{
  const int M = s->ho * s->wo, K = s->k * s->k * s->cin;

  if (s->cin <= 4 && s->cout % 16 == 0 && s->k <= 3)
    {
      conv2d_direct (out, in, w, b, s);
      if (act != TL_FL_ACT_NONE)
        tl_fl_bias_act (out, NULL, M, s->cout, act);
      return;
    }
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

SIMD void
tl_fl_depthwise (float *restrict out, const float *restrict in, const float *restrict w,
                 const float *restrict b, const TlFlShape *s)
{
  const int c = s->cin;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *restrict o = out + ((gsize) oy * s->wo + ox) * c;
        int iy0 = oy * s->stride - s->pad_top;
        int ix0 = ox * s->stride - s->pad_left;

        if (s->k == 3 && iy0 >= 0 && ix0 >= 0 && iy0 + 3 <= s->h && ix0 + 3 <= s->w)
          {
            /* Interior pixel: all nine taps in one pass over the channels. */
            const gsize row = (gsize) s->w * c;
            const float *restrict p0 = in + ((gsize) iy0 * s->w + ix0) * c;
            const float *restrict p1 = p0 + row, *restrict p2 = p1 + row;
            if (b)
              for (int j = 0; j < c; j++)
                o[j] = b[j];
            else
              for (int j = 0; j < c; j++)
                o[j] = 0.0f;
            for (int j = 0; j < c; j++)
              {
                float acc = o[j];
                acc += p0[j] * w[j] + p0[c + j] * w[c + j] + p0[2 * c + j] * w[2 * c + j];
                acc += p1[j] * w[3 * c + j] + p1[c + j] * w[4 * c + j] + p1[2 * c + j] * w[5 * c + j];
                acc += p2[j] * w[6 * c + j] + p2[c + j] * w[7 * c + j] + p2[2 * c + j] * w[8 * c + j];
                o[j] = acc;
              }
            continue;
          }
        if (b)
          for (int j = 0; j < c; j++)
            o[j] = b[j];
        else
          for (int j = 0; j < c; j++)
            o[j] = 0.0f;
        for (int ky = 0; ky < s->k; ky++)
          {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= s->h)
              continue;
            for (int kx = 0; kx < s->k; kx++)
              {
                int ix = ix0 + kx;
                const float *restrict p, *restrict q;
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

SIMD void
tl_fl_maxpool (float *restrict out, const float *restrict in, const TlFlShape *s)
{
  const int c = s->cin;

  for (int oy = 0; oy < s->ho; oy++)
    for (int ox = 0; ox < s->wo; ox++)
      {
        float *restrict o = out + ((gsize) oy * s->wo + ox) * c;
        int iy0 = oy * s->stride - s->pad_top, ix0 = ox * s->stride - s->pad_left;
        gboolean first = TRUE;

        if (s->k == 2 && iy0 >= 0 && ix0 >= 0 && iy0 + 2 <= s->h && ix0 + 2 <= s->w)
          {
            const float *restrict p0 = in + ((gsize) iy0 * s->w + ix0) * c;
            const float *restrict p1 = p0 + (gsize) s->w * c;
            for (int j = 0; j < c; j++)
              {
                float m0 = p0[j] > p0[c + j] ? p0[j] : p0[c + j];
                float m1 = p1[j] > p1[c + j] ? p1[j] : p1[c + j];
                o[j] = m0 > m1 ? m0 : m1;
              }
            continue;
          }

        for (int ky = 0; ky < s->k; ky++)
          for (int kx = 0; kx < s->k; kx++)
            {
              int iy = oy * s->stride - s->pad_top + ky;
              int ix = ox * s->stride - s->pad_left + kx;
              const float *restrict p;
              if (iy < 0 || ix < 0 || iy >= s->h || ix >= s->w)
                continue;
              p = in + ((gsize) iy * s->w + ix) * c;
              if (first)
                for (int j = 0; j < c; j++) o[j] = p[j];
              else
                for (int j = 0; j < c; j++) o[j] = o[j] > p[j] ? o[j] : p[j];
              first = FALSE;
            }
      }
}

SIMD void
tl_fl_avgpool (float *restrict out, const float *restrict in, const TlFlShape *s)
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
              const float *restrict p;
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
