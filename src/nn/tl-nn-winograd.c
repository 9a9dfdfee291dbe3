/* tl-nn-winograd.c — F(2×2, 3×3) and F(4×4, 3×3) convolutions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The transforms are the standard ones of the interpolation points
 * {0, 1, −1} (m = 2) and {0, 1, −1, 2, −2} (m = 4), each with the point at
 * infinity.  They run on eight channels at a time (NHWC keeps a pixel's
 * channels together), the α² GEMMs on BLIS, one GEMM per task.  Three
 * passes, each split over the engine's threads: input transform by
 * tiles, GEMMs by position ξ, output transform (with bias and activation)
 * by tiles.
 */
#include "tl-nn-private.h"
#include "tl-nn-simd.h"
#include "tl-nn-winograd.h"

#define INLINE static inline __attribute__ ((always_inline))

/* The first n (1..8) floats at p, zeros after. */
INLINE v8sf
load_n (const float *p,
        int          n)
{
  v8sf v = { 0 };

  if (n == 8)
    memcpy (&v, p, sizeof v);
  else
    memcpy (&v, p, n * sizeof (float));
  return v;
}

INLINE void
store_n (float *p,
         v8sf   v,
         int    n)
{
  if (n == 8)
    memcpy (p, &v, sizeof v);
  else
    memcpy (p, &v, n * sizeof (float));
}

/* ---- 1-D transforms on α values x[0], x[xs], … --------------------------- */

/* Bᵀ: input, α = 4 and 6 */
INLINE void
input_1d (v8sf       *y,
          int         ys,
          const v8sf *x,
          int         xs,
          int         m)
{
  if (m == 2)
    {
      v8sf d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs];

      y[0] = d0 - d2;
      y[ys] = d1 + d2;
      y[2 * ys] = d2 - d1;
      y[3 * ys] = d1 - d3;
      return;
    }
  {
    v8sf d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs], d4 = x[4 * xs],
         d5 = x[5 * xs];
    v8sf a = d4 - 4.0f * d2, b = d3 - 4.0f * d1, c = d4 - d2, e = 2.0f * (d3 - d1);

    y[0] = 4.0f * d0 - 5.0f * d2 + d4;
    y[ys] = a + b;
    y[2 * ys] = a - b;
    y[3 * ys] = c + e;
    y[4 * ys] = c - e;
    y[5 * ys] = 4.0f * d1 - 5.0f * d3 + d5;
  }
}

/* Aᵀ: output, α values in, m out */
INLINE void
output_1d (v8sf       *y,
           int         ys,
           const v8sf *x,
           int         xs,
           int         m)
{
  if (m == 2)
    {
      y[0] = x[0] + x[xs] + x[2 * xs];
      y[ys] = x[xs] - x[2 * xs] - x[3 * xs];
      return;
    }
  {
    v8sf s12 = x[xs] + x[2 * xs], d12 = x[xs] - x[2 * xs];
    v8sf s34 = x[3 * xs] + x[4 * xs], d34 = x[3 * xs] - x[4 * xs];

    y[0] = x[0] + s12 + s34;
    y[ys] = d12 + 2.0f * d34;
    y[2 * ys] = s12 + 4.0f * s34;
    y[3 * ys] = d12 + 8.0f * d34 + x[5 * xs];
  }
}

/* G: filter, 3 values in, α out (in float: rounding at load time only) */
static const float g2[4][3] = {
  { 1.0f, 0.0f, 0.0f }, { 0.5f, 0.5f, 0.5f }, { 0.5f, -0.5f, 0.5f }, { 0.0f, 0.0f, 1.0f },
};
static const float g4[6][3] = {
  { 1.0f / 4, 0.0f, 0.0f },
  { -1.0f / 6, -1.0f / 6, -1.0f / 6 },
  { -1.0f / 6, 1.0f / 6, -1.0f / 6 },
  { 1.0f / 24, 1.0f / 12, 1.0f / 6 },
  { 1.0f / 24, -1.0f / 12, 1.0f / 6 },
  { 0.0f, 0.0f, 1.0f },
};

/* ---- shapes ---------------------------------------------------------------- */

bool
tl_winograd_applies (const TlConv2dShape *s)
{
  return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->groups == 1;
}

int
tl_winograd_choose (const TlConv2dShape *s)
{
  if (!tl_winograd_applies (s) || s->c < 16 || s->oc < 16)
    return 0;
  /* Measured on the face encoder's layers within whole passes (where the
   * weights come from memory, not cache): m = 4 pays on large maps; m = 2
   * on middling ones, where 4×4 tiles waste more pixels at the edges and
   * 36/9 the weights cost more to read than 16/9; below 8×8 the direct
   * convolution, reading the fewest weights, is fastest. */
  if (s->oh >= 24 && s->ow >= 24)
    return 4;
  if (s->oh >= 8 && s->ow >= 8)
    return 2;
  return 0;
}

typedef struct
{
  int m, alpha, th, tw, tiles;
} Tiling;

static Tiling
tiling (const TlConv2dShape *s,
        int                  m)
{
  Tiling t = { m, m + 2, (s->oh + m - 1) / m, (s->ow + m - 1) / m, 0 };

  t.tiles = s->n * t.th * t.tw;
  return t;
}

size_t
tl_winograd_filter_floats (const TlConv2dShape *s,
                           int                  m)
{
  return (size_t) (m + 2) * (m + 2) * s->c * s->oc;
}

size_t
tl_winograd_workspace (const TlConv2dShape *s,
                       int                  m)
{
  Tiling t = tiling (s, m);
  size_t xi = (size_t) t.alpha * t.alpha;

  return tl_nn_round16 (xi * t.tiles * s->c) + tl_nn_round16 (xi * t.tiles * s->oc);
}

/* ---- filter transform ------------------------------------------------------ */

#define FILTER_BLOCK 64

SIMD void
tl_winograd_filter (float               *u,
                    const float         *w,
                    const TlConv2dShape *s,
                    int                  m)
{
  const int alpha = m + 2, c = s->c, oc = s->oc;
  const float (*g)[3] = m == 2 ? g2 : g4;

  for (int ci = 0; ci < c; ci++)
    for (int o0 = 0; o0 < oc; o0 += FILTER_BLOCK)
      {
        const int n = oc - o0 < FILTER_BLOCK ? oc - o0 : FILTER_BLOCK;
        float t[6][3][FILTER_BLOCK];

        /* t = G · w over the kernel's rows, then u = t · Gᵀ over its columns */
        for (int i = 0; i < alpha; i++)
          for (int kx = 0; kx < 3; kx++)
            {
              const float *w0 = w + ((size_t) (0 * 3 + kx) * c + ci) * oc + o0;
              const float *w1 = w + ((size_t) (1 * 3 + kx) * c + ci) * oc + o0;
              const float *w2 = w + ((size_t) (2 * 3 + kx) * c + ci) * oc + o0;

              for (int q = 0; q < n; q++)
                t[i][kx][q] = g[i][0] * w0[q] + g[i][1] * w1[q] + g[i][2] * w2[q];
            }
        for (int i = 0; i < alpha; i++)
          for (int j = 0; j < alpha; j++)
            {
              float *dst = u + ((size_t) (i * alpha + j) * c + ci) * oc + o0;

              for (int q = 0; q < n; q++)
                dst[q] = g[j][0] * t[i][0][q] + g[j][1] * t[i][1][q] + g[j][2] * t[i][2][q];
            }
      }
}

/* ---- input and output transforms --------------------------------------------- */

typedef struct
{
  float               *out, *v, *mm;
  const float         *in, *u, *b;
  const TlConv2dShape *s;
  Tiling               t;
  int                  step;     /* tiles per task of the transforms */
  int                  pass;     /* 0: input transform, 1: output */
} Job;

/* Tiles [t0, t1): V[ξ][tile][c] = (Bᵀ d B)[ξ].  Columns of the block are
 * loaded and transformed at once, the rows transformed and stored at
 * once: the block passes through the stack once. */
INLINE void
input_tiles (const Job *j,
             int        t0,
             int        t1,
             const int  m)
{
  const TlConv2dShape *s = j->s;
  const int alpha = m + 2, c = s->c, per_image = j->t.th * j->t.tw;
  const size_t plane = (size_t) j->t.tiles * c;

  for (int t = t0; t < t1; t++)
    {
      const int r = t % per_image, ty = r / j->t.tw, tx = r % j->t.tw;
      const int iy0 = ty * m - s->pad_t, ix0 = tx * m - s->pad_l;
      /* the block's rows and columns inside the image */
      const int i0 = iy0 < 0 ? -iy0 : 0, i1 = s->h - iy0 < alpha ? s->h - iy0 : alpha;
      const int k0 = ix0 < 0 ? -ix0 : 0, k1 = s->w - ix0 < alpha ? s->w - ix0 : alpha;
      const float *img = j->in + (size_t) (t / per_image) * s->h * s->w * c;
      float *dst = j->v + (size_t) t * c;

      for (int c0 = 0; c0 < c; c0 += 8)
        {
          const int n = c - c0 < 8 ? c - c0 : 8;
          v8sf x[6][6];

#pragma GCC unroll 6
          for (int k = 0; k < alpha; k++)
            {
              v8sf d[6];

#pragma GCC unroll 6
              for (int i = 0; i < alpha; i++)
                d[i] = i >= i0 && i < i1 && k >= k0 && k < k1 ?
                       load_n (img + ((size_t) (iy0 + i) * s->w + ix0 + k) * c + c0, n) :
                       (v8sf) { 0 };
              input_1d (&x[0][k], 6, d, 1, m);
            }
#pragma GCC unroll 6
          for (int i = 0; i < alpha; i++)
            {
              v8sf v[6];

              input_1d (v, 1, &x[i][0], 1, m);
#pragma GCC unroll 6
              for (int k = 0; k < alpha; k++)
                store_n (dst + (size_t) (i * alpha + k) * plane + c0, v[k], n);
            }
        }
    }
}

/* Tiles [t0, t1): out = act (Aᵀ M A + b), pixels inside the output only. */
INLINE void
output_tiles (const Job *j,
              int        t0,
              int        t1,
              const int  m)
{
  const TlConv2dShape *s = j->s;
  const int alpha = m + 2, oc = s->oc, per_image = j->t.th * j->t.tw;
  const size_t plane = (size_t) j->t.tiles * oc;

  for (int t = t0; t < t1; t++)
    {
      const int r = t % per_image, ty = r / j->t.tw, tx = r % j->t.tw;
      const int oy0 = ty * m, ox0 = tx * m;
      const int my = s->oh - oy0 < m ? s->oh - oy0 : m, mx = s->ow - ox0 < m ? s->ow - ox0 : m;
      float *o = j->out + ((size_t) (t / per_image) * s->oh * s->ow +
                           (size_t) oy0 * s->ow + ox0) * oc;
      const float *src = j->mm + (size_t) t * oc;

      for (int c0 = 0; c0 < oc; c0 += 8)
        {
          const int n = oc - c0 < 8 ? oc - c0 : 8;
          const v8sf bias = j->b ? load_n (j->b + c0, n) : (v8sf) { 0 };
          v8sf y[4][6];

#pragma GCC unroll 6
          for (int k = 0; k < alpha; k++)
            {
              v8sf x[6];

#pragma GCC unroll 6
              for (int i = 0; i < alpha; i++)
                x[i] = load_n (src + (size_t) (i * alpha + k) * plane + c0, n);
              output_1d (&y[0][k], 6, x, 1, m);
            }
#pragma GCC unroll 4
          for (int i = 0; i < m; i++)
            {
              v8sf z[4];

              if (i >= my)
                break;
              output_1d (z, 1, &y[i][0], 1, m);
#pragma GCC unroll 4
              for (int k = 0; k < m; k++)
                if (k < mx)
                  store_n (o + ((size_t) i * s->ow + k) * oc + c0, tl_nn_act8 (z[k] + bias, s), n);
            }
        }
    }
}

/* The transforms of tiles [t0, t1), input (pass 0) or output (pass 1),
 * specialised for m at compile time. */
SIMD static void
transform_tiles (const Job *j,
                 int        t0,
                 int        t1)
{
  if (j->pass == 0 && j->t.m == 2)
    input_tiles (j, t0, t1, 2);
  else if (j->pass == 0)
    input_tiles (j, t0, t1, 4);
  else if (j->t.m == 2)
    output_tiles (j, t0, t1, 2);
  else
    output_tiles (j, t0, t1, 4);
}

static void
transform_chunk (void *ctx,
                 int   i)
{
  const Job *j = ctx;
  int t0 = i * j->step, t1 = t0 + j->step < j->t.tiles ? t0 + j->step : j->t.tiles;

  transform_tiles (j, t0, t1);
}

/* Position ξ: M[ξ] = V[ξ] × U[ξ].  Each position's filters are a block
 * of their own (64 KiB for 128 channels) that BLIS reads from memory as
 * it packs them; prefetching the next position's block before each GEMM
 * made the encoder's 128-channel layers 9 % faster within a pass
 * (median 0.38 → 0.35 ms, interleaved passes, one thread). */
static void
gemm_chunk (void *ctx,
            int   xi)
{
  const Job *j = ctx;
  const TlConv2dShape *s = j->s;
  const int tiles = j->t.tiles;

  if (xi + 1 < j->t.alpha * j->t.alpha)
    {
      const char *next = (const char *) (j->u + (size_t) (xi + 1) * s->c * s->oc);

      for (size_t at = 0; at < (size_t) s->c * s->oc * sizeof (float); at += 64)
        __builtin_prefetch (next + at, 0, 3);
    }
  tl_gemm_1 (false, false, tiles, s->oc, s->c, 1.0f,
             j->v + (size_t) xi * tiles * s->c, s->c,
             j->u + (size_t) xi * s->c * s->oc, s->oc,
             0.0f, j->mm + (size_t) xi * tiles * s->oc, s->oc);
}

void
tl_winograd_forward (float               *out,
                     const float         *in,
                     const float         *u,
                     const float         *b,
                     const TlConv2dShape *s,
                     int                  m,
                     float               *ws)
{
  Job j = { out, ws, NULL, in, u, b, s, tiling (s, m), 0, 0 };
  int threads = tl_nn_get_threads (), xi = j.t.alpha * j.t.alpha, chunks;

  j.mm = ws + tl_nn_round16 ((size_t) xi * j.t.tiles * s->c);
  /* two tasks a thread, for balance */
  j.step = (j.t.tiles + 2 * threads - 1) / (2 * threads);
  chunks = (j.t.tiles + j.step - 1) / j.step;
  tl_nn_parallel (chunks, transform_chunk, &j);
  tl_nn_parallel (xi, gemm_chunk, &j);
  j.pass = 1;
  tl_nn_parallel (chunks, transform_chunk, &j);
}
