/* tl-nn-fast.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tl-nn-fast.h"
#include "tl-nn-fused.h"
#include "tl-nn-private.h"
#include "tl-nn-simd.h"

SIMD static void
depthwise (float *restrict out, const float *restrict in, const float *restrict w,
           const float *restrict b, const TlConv2dShape *s, int row0, int row1)
{
  const int c = s->c, k = s->kh;

  /* Rows are counted over the batch: row r is image r / oh, line r % oh. */
  for (int r = row0; r < row1; r++)
    {
      const int n = r / s->oh, oy = r % s->oh;
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *restrict img = in + (size_t) n * s->h * s->w * c;
          float *restrict o = out + ((size_t) (r - row0) * s->ow + ox) * c;
          int iy0 = oy * s->stride - s->pad_t, ix0 = ox * s->stride - s->pad_l;

          if (b)
            for (int j = 0; j < c; j++) o[j] = b[j];
          else
            for (int j = 0; j < c; j++) o[j] = 0.0f;

          if (k == 3 && iy0 >= 0 && ix0 >= 0 && iy0 + 3 <= s->h && ix0 + 3 <= s->w)
            {
              /* Interior: all nine taps in one pass over the channels. */
              const size_t row = (size_t) s->w * c;
              const float *restrict p0 = img + ((size_t) iy0 * s->w + ix0) * c;
              const float *restrict p1 = p0 + row, *restrict p2 = p1 + row;
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
          for (int ky = 0; ky < k; ky++)
            {
              int iy = iy0 + ky;
              if (iy < 0 || iy >= s->h)
                continue;
              for (int kx = 0; kx < s->kw; kx++)
                {
                  int ix = ix0 + kx;
                  const float *restrict p, *restrict q;
                  if (ix < 0 || ix >= s->w)
                    continue;
                  p = img + ((size_t) iy * s->w + ix) * c;
                  q = w + ((size_t) ky * s->kw + kx) * c;
                  for (int j = 0; j < c; j++)
                    o[j] += p[j] * q[j];
                }
            }
        }
    }
}

static inline __attribute__ ((always_inline)) v8sf
max8 (v8sf a, v8sf b)
{
  v8si m = a > b;

  return (v8sf) ((m & (v8si) a) | (~m & (v8si) b));
}

/* pairs: write the larger of each two horizontally neighbouring outputs
 * only, rows ow / 2 pixels long (the caller sees that every pixel goes
 * through the six-pixel blocks, whose starts are even). */
SIMD static void
direct_small_c (float *restrict out, const float *restrict in, const float *restrict w,
                const float *restrict b, const TlConv2dShape *s, int row0, int row1,
                bool pairs)
{
  const int c = s->c, oc = s->oc;

  for (int r = row0; r < row1; r++)
    {
      const int n = r / s->oh, oy = r % s->oh;
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *restrict img = in + (size_t) n * s->h * s->w * c;
          float *restrict o = out + ((size_t) (r - row0) * s->ow + ox) * oc;
          int iy0 = oy * s->stride - s->pad_t, ix0 = ox * s->stride - s->pad_l;
          int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = s->h - iy0 < s->kh ? s->h - iy0 : s->kh;
          int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = s->w - ix0 < s->kw ? s->w - ix0 : s->kw;

          /* Six whole-window pixels at once share each weight load and
           * give twelve independent FMA chains instead of two. */
          if (kx0 == 0 && kx1 == s->kw && ox + 6 <= s->ow &&
              ix0 + 5 * s->stride + s->kw <= s->w)
            {
              const int px = s->stride * c;
              for (int c0 = 0; c0 < oc; c0 += 16)
                {
                  v8sf a[6][2];

                  for (int p = 0; p < 6; p++)
                    {
                      a[p][0] = b ? load8 (b + c0) : (v8sf) { 0 };
                      a[p][1] = b ? load8 (b + c0 + 8) : (v8sf) { 0 };
                    }
                  for (int ky = ky0; ky < ky1; ky++)
                    {
                      const float *restrict p = img + ((size_t) (iy0 + ky) * s->w + ix0) * c;
                      const float *restrict q = w + (size_t) ky * s->kw * c * oc + c0;
                      for (int t = 0; t < s->kw * c; t++, q += oc)
                        {
                          v8sf w0 = load8 (q), w1 = load8 (q + 8);
                          for (int u = 0; u < 6; u++)
                            {
                              a[u][0] += p[u * px + t] * w0;
                              a[u][1] += p[u * px + t] * w1;
                            }
                        }
                    }
                  if (pairs)
                    {
                      float *restrict h = out + ((size_t) (r - row0) * (s->ow / 2) + ox / 2) * oc;

                      for (int u = 0; u < 3; u++)
                        {
                          store8 (h + (size_t) u * oc + c0, max8 (a[2 * u][0], a[2 * u + 1][0]));
                          store8 (h + (size_t) u * oc + c0 + 8, max8 (a[2 * u][1], a[2 * u + 1][1]));
                        }
                      continue;
                    }
                  for (int u = 0; u < 6; u++)
                    {
                      store8 (o + (size_t) u * oc + c0, a[u][0]);
                      store8 (o + (size_t) u * oc + c0 + 8, a[u][1]);
                    }
                }
              ox += 5;
              continue;
            }

          /* Sixteen output channels at a time, in two vector registers. */
          for (int c0 = 0; c0 < oc; c0 += 16)
            {
              v8sf acc0 = { 0 }, acc1 = { 0 };

              if (b)
                {
                  acc0 = load8 (b + c0);
                  acc1 = load8 (b + c0 + 8);
                }
              for (int ky = ky0; ky < ky1; ky++)
                for (int kx = kx0; kx < kx1; kx++)
                  {
                    const float *restrict p = img + ((size_t) (iy0 + ky) * s->w + ix0 + kx) * c;
                    const float *restrict q = w + ((size_t) ky * s->kw + kx) * c * oc + c0;
                    for (int ci = 0; ci < c; ci++, q += oc)
                      {
                        acc0 += p[ci] * load8 (q);
                        acc1 += p[ci] * load8 (q + 8);
                      }
                  }
              store8 (o + c0, acc0);
              store8 (o + c0 + 8, acc1);
            }
        }
    }
}

bool
tl_nn_fast_direct_pairs_ok (const TlConv2dShape *s)
{
  /* every pixel in a six-pixel block with its whole window in the row */
  return s->groups == 1 && s->c <= 4 && s->oc % 16 == 0 && s->kh <= 3 && s->kw <= 3 &&
         s->pad_l == 0 && s->ow % 6 == 0 && (s->ow - 1) * s->stride + s->kw <= s->w;
}

void
tl_nn_fast_direct_rows (float               *dst,
                        const float         *in,
                        const float         *w,
                        const float         *b,
                        const TlConv2dShape *s,
                        int                  row0,
                        int                  row1,
                        bool                 pairs)
{
  direct_small_c (dst, in, w, b, s, row0, row1, pairs);
}

SIMD static void
bias_act (float *restrict out, const float *restrict b, int rows, int oc, int act,
          float slope)
{
  for (int r = 0; r < rows; r++)
    {
      float *restrict o = out + (size_t) r * oc;
      if (b)
        for (int q = 0; q < oc; q++)
          o[q] += b[q];
      if (act == TL_CONV_ACT_RELU)
        for (int q = 0; q < oc; q++)
          o[q] = o[q] > 0.0f ? o[q] : 0.0f;
      else if (act == TL_CONV_ACT_LEAKY)
        for (int q = 0; q < oc; q++)
          {
            float t = slope * o[q];
            o[q] = o[q] > t ? o[q] : t;
          }
    }
}

void
tl_nn_fast_bias_act (float               *out,
                     const float         *b,
                     int                  rows,
                     int                  oc,
                     const TlConv2dShape *s)
{
  if (b == NULL && s->act == TL_CONV_ACT_NONE)
    return;
  bias_act (out, b, rows, oc, s->act, s->slope);
}

/* Bands of output rows, one per task, spread over the engine's threads. */
typedef struct
{
  float               *out;
  const float         *in, *w, *b;
  const TlConv2dShape *s;
  int                  step;
  bool                 depthwise;
} ConvJob;

static void
conv_band (void *ctx,
           int   i)
{
  const ConvJob *j = ctx;
  int rows = j->s->n * j->s->oh;
  int r0 = i * j->step, r1 = r0 + j->step < rows ? r0 + j->step : rows;

  const int len = j->s->ow * j->s->oc;

  /* Row by row, so that the activation finds the row in L1. */
  for (int r = r0; r < r1; r++)
    {
      if (j->depthwise)
        depthwise (j->out + (size_t) r * len, j->in, j->w, j->b, j->s, r, r + 1);
      else
        direct_small_c (j->out + (size_t) r * len, j->in, j->w, j->b, j->s, r, r + 1, false);
      if (j->s->act != TL_CONV_ACT_NONE)
        tl_nn_fast_bias_act (j->out + (size_t) r * len, NULL, 1, len, j->s);
    }
}

void
tl_nn_parallel_work (int    n,
                     void (*fn) (void *ctx, int i),
                     void  *ctx,
                     double flops)
{
  if (flops < TL_NN_SPLIT_MIN_FLOPS)
    {
      for (int i = 0; i < n; i++)
        fn (ctx, i);
      return;
    }
  tl_nn_parallel (n, fn, ctx);
}

static void
run_bands (float               *out,
           const float         *in,
           const float         *w,
           const float         *b,
           const TlConv2dShape *s,
           bool                 dw)
{
  int rows = s->n * s->oh;
  /* About 8 bands a thread, each at least 4 rows, for balance. */
  int step = rows / (8 * tl_nn_get_threads ()) + 1;
  ConvJob j = { out, in, w, b, s, step < 4 ? 4 : step, dw };

  tl_nn_parallel_work ((rows + j.step - 1) / j.step, conv_band, &j, (double) tl_conv2d_flops (s));
}

bool
tl_nn_fast_conv2d_forward (float               *out,
                           const float         *in,
                           const float         *w,
                           const float         *b,
                           const TlConv2dShape *s)
{
  if (tl_nn_depthwise3_forward (out, in, w, b, s))
    return true;
  if (s->groups == s->c && s->oc == s->c && s->groups > 1)
    {
      run_bands (out, in, w, b, s, true);
      return true;
    }
  if (s->groups == 1 && s->c <= 4 && s->oc % 16 == 0 && s->kh <= 7 && s->kw <= 7)
    {
      run_bands (out, in, w, b, s, false);
      return true;
    }
  return false;
}

/* Output rows [row0, row1) counted over the batch. */
SIMD static void
maxpool2 (float *restrict out, const float *restrict in, const TlPoolShape *s, int row0,
          int row1)
{
  const int c = s->c;

  for (int r = row0; r < row1; r++)
    {
      const int n = r / s->oh, oy = r % s->oh;
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *restrict img = in + (size_t) n * s->h * s->w * c;
          float *restrict o = out + (((size_t) n * s->oh + oy) * s->ow + ox) * c;
          int iy = oy * s->stride - s->pad_t, ix = ox * s->stride - s->pad_l;
          /* Clip the window; padding never takes part. */
          int y0 = iy < 0 ? 0 : iy, y1 = iy + 2 > s->h ? s->h : iy + 2;
          int x0 = ix < 0 ? 0 : ix, x1 = ix + 2 > s->w ? s->w : ix + 2;

          if (y1 - y0 == 2 && x1 - x0 == 2)
            {
              const float *restrict p0 = img + ((size_t) y0 * s->w + x0) * c;
              const float *restrict p1 = p0 + (size_t) s->w * c;
              for (int j = 0; j < c; j++)
                {
                  float m0 = p0[j] > p0[c + j] ? p0[j] : p0[c + j];
                  float m1 = p1[j] > p1[c + j] ? p1[j] : p1[c + j];
                  o[j] = m0 > m1 ? m0 : m1;
                }
              continue;
            }
          {
            const float *restrict p = img + ((size_t) y0 * s->w + x0) * c;
            for (int j = 0; j < c; j++)
              o[j] = p[j];
          }
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              {
                const float *restrict p = img + ((size_t) y * s->w + x) * c;
                for (int j = 0; j < c; j++)
                  o[j] = o[j] > p[j] ? o[j] : p[j];
              }
        }
    }
}

typedef struct
{
  float             *out;
  const float       *in;
  const TlPoolShape *s;
  int                step;
} PoolJob;

static void
pool_band (void *ctx,
           int   i)
{
  const PoolJob *j = ctx;
  int rows = j->s->n * j->s->oh;
  int r0 = i * j->step, r1 = r0 + j->step < rows ? r0 + j->step : rows;

  maxpool2 (j->out, j->in, j->s, r0, r1);
}

bool
tl_nn_fast_maxpool_forward (float             *out,
                            const float       *in,
                            const TlPoolShape *s)
{
  int rows = s->n * s->oh, threads = tl_nn_get_threads ();
  PoolJob j = { out, in, s, rows };

  if (s->k != 2)
    return false;
  /* Memory-bound: worth the threads' hand-over only on large maps (the
   * detector's first pools, megabytes each). */
  if (threads > 1 && (size_t) rows * s->ow * s->c >= (1 << 16))
    j.step = (rows + 2 * threads - 1) / (2 * threads);
  tl_nn_parallel ((rows + j.step - 1) / j.step, pool_band, &j);
  return true;
}

SIMD void
tl_nn_fast_relu (float *out, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

SIMD void
tl_nn_fast_leaky (float *out, const float *in, float slope, size_t n)
{
  /* For 0 <= slope <= 1 the leaky ReLU is max (x, slope·x): a vector max. */
  for (size_t i = 0; i < n; i++)
    {
      float x = in[i], t = slope * x;
      out[i] = x > t ? x : t;
    }
}

SIMD void
tl_nn_fast_add (float *out, const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] + b[i];
}

SIMD void
tl_nn_fast_add_relu (float *out, const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float x = a[i] + b[i];
      out[i] = x > 0.0f ? x : 0.0f;
    }
}

SIMD void
tl_nn_fast_down_join (float       *out,
                      const float *x,
                      const float *y,
                      int          n,
                      int          h,
                      int          w,
                      int          cin,
                      int          hy,
                      int          wy,
                      int          hp,
                      int          wp,
                      int          cout,
                      bool         relu)
{
  /* last pixel first: out may be y, whose pixels lie at or before their
   * place in out */
  for (int b = n - 1; b >= 0; b--)
    for (int oy = hp - 1; oy >= 0; oy--)
      for (int ox = wp - 1; ox >= 0; ox--)
        {
          float *o = out + (((size_t) b * hp + oy) * wp + ox) * cout;
          const float *p0 = x + (((size_t) b * h + 2 * oy) * w + 2 * ox) * cin, *p1 = p0 + (size_t) w * cin;
          const float *yr = oy < hy && ox < wy ? y + (((size_t) b * hy + oy) * wy + ox) * cout : NULL;

          /* the pool's sum from zero, in its order, times 1 / 4; the
           * padding's zeros added as the sum adds them */
          if (yr != NULL)
            for (int q = 0; q < cin; q++)
              o[q] = ((((0.0f + p0[q]) + p0[cin + q]) + p1[q]) + p1[cin + q]) * 0.25f + yr[q];
          else
            for (int q = 0; q < cin; q++)
              o[q] = ((((0.0f + p0[q]) + p0[cin + q]) + p1[q]) + p1[cin + q]) * 0.25f + 0.0f;
          for (int q = cin; q < cout; q++)
            o[q] = 0.0f + (yr != NULL ? yr[q] : 0.0f);
          if (relu)
            for (int q = 0; q < cout; q++)
              o[q] = o[q] > 0.0f ? o[q] : 0.0f;
        }
}

SIMD void
tl_nn_fast_scale_bias (float *out, const float *in, const float *restrict scale,
                       const float *restrict bias, int m, int c)
{
  for (int r = 0; r < m; r++)
    {
      float *o = out + (size_t) r * c;
      const float *x = in + (size_t) r * c;
      for (int q = 0; q < c; q++)
        o[q] = x[q] * scale[q] + bias[q];
    }
}
