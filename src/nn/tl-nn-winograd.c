/* tl-nn-winograd.c — F(2×2, 3×3), F(4×4, 3×3) and F(6×6, 3×3) convolutions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The transforms are the standard ones of the interpolation points
 * {0, 1, −1} (m = 2), {0, 1, −1, 2, −2} (m = 4) and {0, 1, −1, 2, −2,
 * 1/2, −1/2} (m = 6), each with the point at infinity.  They run on eight channels at a time (NHWC keeps a pixel's
 * channels together), the α² GEMMs on the engine's panel kernel (or
 * BLIS).  With enough tiles for every thread, each thread takes its
 * share of the tiles from input to output transform (with bias and
 * activation) in one parallel call, so that their V and M stay in its
 * core's cache; with few tiles (small maps), three passes: input
 * transform by tiles, GEMMs by position ξ, output transform by tiles.
 * F(6×6) from the taps on several threads runs in two: input transform,
 * filters' transform and GEMMs by rows of positions, then the output
 * transform by tiles, so that no two threads transform the same filters.
 */
#include <stdlib.h>

#include "tl-nn-fast.h"
#include "tl-nn-private.h"
#include "tl-nn-quant.h"
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

/* Bᵀ: input, α = 4, 6 and 8 */
INLINE void
input_1d (v8sf       *y,
          int         ys,
          const v8sf *x,
          int         xs,
          int         m)
{
  if (m == 6)
    {
      /* points 0, ±1, ±2, ±1/2, ∞: rows in pairs y = b ± a */
      v8sf d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs], d4 = x[4 * xs],
           d5 = x[5 * xs], d6 = x[6 * xs], d7 = x[7 * xs];
      v8sf a1 = d1 + d5 - 4.25f * d3, b1 = d2 + d6 - 4.25f * d4;
      v8sf a3 = 0.5f * d1 - 2.5f * d3 + 2.0f * d5, b3 = 0.25f * d2 - 1.25f * d4 + d6;
      v8sf a5 = 2.0f * d1 - 2.5f * d3 + 0.5f * d5, b5 = 4.0f * d2 - 5.0f * d4 + d6;

      y[0] = (d0 - d6) + 5.25f * (d4 - d2);
      y[ys] = b1 + a1;
      y[2 * ys] = b1 - a1;
      y[3 * ys] = b3 + a3;
      y[4 * ys] = b3 - a3;
      y[5 * ys] = b5 + a5;
      y[6 * ys] = b5 - a5;
      y[7 * ys] = (d7 - d1) + 5.25f * (d3 - d5);
      return;
    }
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

/* Aᵀ: output, α values in, m out.  For m = 6, Aᵀ·D: the scales D of
 * G's rows (g6 below) are folded in here, once per output value, rather
 * than into the filters' transform, which runs per weight. */
INLINE void
output_1d (v8sf       *y,
           int         ys,
           const v8sf *x,
           int         xs,
           int         m)
{
  if (m == 6)
    {
      v8sf s1 = (x[xs] + x[2 * xs]) * (-2.0f / 9), d1 = (x[xs] - x[2 * xs]) * (-2.0f / 9);
      v8sf s2 = x[3 * xs] + x[4 * xs], d2 = x[3 * xs] - x[4 * xs];
      v8sf s3 = x[5 * xs] + x[6 * xs], d3 = x[5 * xs] - x[6 * xs];

      y[0] = x[0] + s1 + s2 * (1.0f / 90) + s3 * (8.0f / 45);
      y[ys] = d1 + d2 * (2.0f / 90) + d3 * (4.0f / 45);
      y[2 * ys] = s1 + s2 * (4.0f / 90) + s3 * (2.0f / 45);
      y[3 * ys] = d1 + d2 * (8.0f / 90) + d3 * (1.0f / 45);
      y[4 * ys] = s1 + s2 * (16.0f / 90) + s3 * (1.0f / 90);
      y[5 * ys] = d1 + d2 * (32.0f / 90) + d3 * (1.0f / 180) + x[7 * xs];
      return;
    }
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
/* m = 6: G = D·g6 with D = diag (1, −2/9, −2/9, 1/90, 1/90, 8/45, 8/45,
 * 1), D in the output transform (Aᵀ·D, output_1d ()): G's rows for the
 * points 0, 1, −1, 2, −2, 1/2, −1/2, ∞ are [1, p, p²] divided by
 * Π (p − q) over the other finite points q, that is, up to D (and row
 * 0's sign, which Bᵀ takes), these small integers: a filter transform
 * of adds and doublings. */
static const float g6[8][3] = {
  { 1.0f, 0.0f, 0.0f },
  { 1.0f, 1.0f, 1.0f },
  { 1.0f, -1.0f, 1.0f },
  { 1.0f, 2.0f, 4.0f },
  { 1.0f, -2.0f, 4.0f },
  { 4.0f, 2.0f, 1.0f },
  { 4.0f, -2.0f, 1.0f },
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
  const float (*g)[3] = m == 2 ? g2 : m == 4 ? g4 : g6;

  for (int ci = 0; ci < c; ci++)
    for (int o0 = 0; o0 < oc; o0 += FILTER_BLOCK)
      {
        const int n = oc - o0 < FILTER_BLOCK ? oc - o0 : FILTER_BLOCK;
        float t[8][3][FILTER_BLOCK];

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

/* ---- filters as codes ------------------------------------------------------ */

/* 2·G for m = 2: integers, so that 4·G g Gᵀ of integer codes is one */
static const int g2x2[4][3] = { { 2, 0, 0 }, { 1, 1, 1 }, { 1, -1, 1 }, { 0, 0, 2 } };

static size_t
codes_block_bytes (const TlConv2dShape *s)
{
  return 2 * (size_t) s->oc * sizeof (float) + 2 * (size_t) s->c * s->oc;
}

size_t
tl_winograd_codes_bytes (const TlConv2dShape *s)
{
  return 16 * codes_block_bytes (s);
}

bool
tl_winograd_filter_codes (uint8_t             *u,
                          const float         *w,
                          const TlConv2dShape *s,
                          double               max_err_rel)
{
  const int c = s->c, oc = s->oc, k = 9 * c;
  uint8_t *qw;
  const float *a, *b;
  const uint8_t *q;

  if (!tl_winograd_applies (s) || oc % 16 != 0)
    return false;
  qw = malloc (tl_quant_weights_bytes (k, oc));
  if (qw == NULL || !tl_quant_weights_find (qw, w, k, oc, max_err_rel, NULL))
    {
      free (qw);
      return false;
    }
  a = (const float *) qw;
  b = a + oc;
  q = qw + 2 * (size_t) oc * sizeof (float);
  /* U[ξ] = G (a·q + b) Gᵀ = (a / 4)·Q + (b / 4)·S, Q = (2G) q (2G)ᵀ and
   * S = (2G) 1 (2G)ᵀ: |Q| <= 9 · 255 fits in 16 bits */
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      {
        uint8_t *block = u + (size_t) (i * 4 + j) * codes_block_bytes (s);
        float *ua = (float *) block, *ub = ua + oc;
        int16_t *uq = (int16_t *) (block + 2 * (size_t) oc * sizeof (float));
        int sum = 0;

        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++)
            sum += g2x2[i][ky] * g2x2[j][kx];
        for (int o = 0; o < oc; o++)
          {
            ua[o] = a[o] * 0.25f;
            ub[o] = (float) (b[o] * (sum / 4.0));
          }
        for (int o0 = 0; o0 < oc; o0 += 16)
          for (int ci = 0; ci < c; ci++)
            for (int o = 0; o < 16; o++)
              {
                int v = 0;

                for (int ky = 0; ky < 3; ky++)
                  for (int kx = 0; kx < 3; kx++)
                    v += g2x2[i][ky] * g2x2[j][kx] *
                         q[((size_t) o0 * k + (size_t) ((ky * 3 + kx) * c + ci) * 16) + o];
                uq[((size_t) o0 * c + (size_t) ci * 16) + o] = (int16_t) v;
              }
      }
  free (qw);
  return true;
}

/* ---- input and output transforms --------------------------------------------- */

enum { PASS_TILES, PASS_TAPS, PASS_POSITIONS, PASS_INPUT, PASS_OUTPUT };

/* input_block (): every row of positions */
#define ALL_ROWS 0xff

typedef struct
{
  float               *out, *ws, *v, *mm;
  const float         *in, *u, *b;
  const float         *res;      /* added to the output before act, or NULL */
  const uint8_t       *codes;    /* instead of u: tl_winograd_filter_codes () */
  const float         *taps;     /* or tl_winograd_taps () */
  const TlConv2dShape *s;
  Tiling               t;
  int                  step;     /* tiles per task */
  int                  pass;     /* PASS_*: what a task does */
} Job;

/* One tile's channels c0 .. c0 + n − 1 (n <= 8): V[ξ] to dst[ξ · plane].
 * Columns of the block are loaded and transformed at once, the rows
 * transformed and stored at once: the block passes through the stack
 * once.  Rows [i0, i1) and columns [k0, k1) of the block lie in the
 * image; `inside` (all of them, and n = 8) lets the compiler drop every
 * test from the tiles away from the edges, most of them.  Only the rows
 * i of positions (i, k) in the mask `rows` (bit i; ALL_ROWS) are
 * transformed and stored. */
INLINE void
input_block (float               *dst,
             size_t               plane,
             const float         *img,
             const TlConv2dShape *s,
             int                  iy0,
             int                  ix0,
             int                  c0,
             int                  n,
             int                  i0,
             int                  i1,
             int                  k0,
             int                  k1,
             const int            m,
             const bool           inside,
             const int            rows)
{
  const int alpha = m + 2, c = s->c;
  v8sf x[8][8];

#pragma GCC unroll 8
  for (int k = 0; k < alpha; k++)
    {
      v8sf d[8];

#pragma GCC unroll 8
      for (int i = 0; i < alpha; i++)
        if (inside)
          d[i] = load8 (img + ((size_t) (iy0 + i) * s->w + ix0 + k) * c + c0);
        else
          d[i] = i >= i0 && i < i1 && k >= k0 && k < k1 ?
                 load_n (img + ((size_t) (iy0 + i) * s->w + ix0 + k) * c + c0, n) :
                 (v8sf) { 0 };
      input_1d (&x[0][k], 8, d, 1, m);
    }
#pragma GCC unroll 8
  for (int i = 0; i < alpha; i++)
    {
      v8sf v[8];

      if (!(rows >> i & 1))
        continue;
      input_1d (v, 1, &x[i][0], 1, m);
#pragma GCC unroll 8
      for (int k = 0; k < alpha; k++)
        if (inside)
          store8 (dst + (size_t) (i * alpha + k) * plane, v[k]);
        else
          store_n (dst + (size_t) (i * alpha + k) * plane, v[k], n);
    }
}

/* Tiles [t0, t1): V[ξ][t − t0][c] = (Bᵀ d B)[ξ] in v, ξ's plane `plane`
 * floats from the one before, for the positions in the rows `rows`
 * (input_block ()). */
INLINE void
input_tiles (const Job *j,
             float     *v,
             size_t     plane,
             int        t0,
             int        t1,
             const int  m,
             const int  rows)
{
  const TlConv2dShape *s = j->s;
  const int alpha = m + 2, c = s->c, per_image = j->t.th * j->t.tw;

  for (int t = t0; t < t1; t++)
    {
      const int r = t % per_image, ty = r / j->t.tw, tx = r % j->t.tw;
      const int iy0 = ty * m - s->pad_t, ix0 = tx * m - s->pad_l;
      /* the block's rows and columns inside the image */
      const int i0 = iy0 < 0 ? -iy0 : 0, i1 = s->h - iy0 < alpha ? s->h - iy0 : alpha;
      const int k0 = ix0 < 0 ? -ix0 : 0, k1 = s->w - ix0 < alpha ? s->w - ix0 : alpha;
      const bool inside = i0 == 0 && i1 == alpha && k0 == 0 && k1 == alpha;
      const float *img = j->in + (size_t) (t / per_image) * s->h * s->w * c;
      float *dst = v + (size_t) (t - t0) * c;

      for (int c0 = 0; c0 < c; c0 += 8)
        {
          const int n = c - c0 < 8 ? c - c0 : 8;

          if (inside && n == 8)
            input_block (dst + c0, plane, img, s, iy0, ix0, c0, 8, 0, alpha, 0, alpha, m, true,
                         rows);
          else
            input_block (dst + c0, plane, img, s, iy0, ix0, c0, n, i0, i1, k0, k1, m, false,
                         rows);
        }
    }
}

/* One tile's channels c0 .. c0 + n − 1 (n <= 8) from M[ξ] at
 * src[ξ · plane]: its my × mx pixels inside the output to o (the tile's
 * top-left pixel), plus those of r (laid out as o) when r is not NULL,
 * before the activation: act ((z + b) + r), the additions in the order
 * of a convolution followed by a sum; `full` (m × m pixels, n = 8)
 * drops the tests. */
INLINE void
output_block (float               *o,
              const float         *r,
              const float         *src,
              size_t               plane,
              const float         *b,
              const TlConv2dShape *s,
              int                  n,
              int                  my,
              int                  mx,
              const int            m,
              const bool           full)
{
  const int alpha = m + 2, oc = s->oc;
  const v8sf bias = b == NULL ? (v8sf) { 0 } : full ? load8 (b) : load_n (b, n);
  v8sf y[6][8];

#pragma GCC unroll 8
  for (int k = 0; k < alpha; k++)
    {
      v8sf x[8];

#pragma GCC unroll 8
      for (int i = 0; i < alpha; i++)
        x[i] = full ? load8 (src + (size_t) (i * alpha + k) * plane) :
                      load_n (src + (size_t) (i * alpha + k) * plane, n);
      output_1d (&y[0][k], 8, x, 1, m);
    }
#pragma GCC unroll 6
  for (int i = 0; i < m; i++)
    {
      v8sf z[6];

      if (!full && i >= my)
        break;
      output_1d (z, 1, &y[i][0], 1, m);
#pragma GCC unroll 6
      for (int k = 0; k < m; k++)
        {
          const size_t at = ((size_t) i * s->ow + k) * oc;
          v8sf y1 = z[k] + bias;

          if (full)
            store8 (o + at, tl_nn_act8 (r != NULL ? y1 + load8 (r + at) : y1, s));
          else if (k < mx)
            store_n (o + at, tl_nn_act8 (r != NULL ? y1 + load_n (r + at, n) : y1, s), n);
        }
    }
}

/* Tiles [t0, t1): out = act (Aᵀ M A + b [+ res]), pixels inside the output only,
 * with M[ξ][t − t0][oc] in mm, ξ's plane `plane` floats from the one
 * before. */
INLINE void
output_tiles (const Job   *j,
              const float *mm,
              size_t       plane,
              int          t0,
              int          t1,
              const int    m)
{
  const TlConv2dShape *s = j->s;
  const int oc = s->oc, per_image = j->t.th * j->t.tw;

  for (int t = t0; t < t1; t++)
    {
      const int r = t % per_image, ty = r / j->t.tw, tx = r % j->t.tw;
      const int oy0 = ty * m, ox0 = tx * m;
      const int my = s->oh - oy0 < m ? s->oh - oy0 : m, mx = s->ow - ox0 < m ? s->ow - ox0 : m;
      const size_t at = ((size_t) (t / per_image) * s->oh * s->ow +
                         (size_t) oy0 * s->ow + ox0) * oc;
      float *o = j->out + at;
      const float *sum = j->res != NULL ? j->res + at : NULL;
      const float *src = mm + (size_t) (t - t0) * oc;

      for (int c0 = 0; c0 < oc; c0 += 8)
        {
          const int n = oc - c0 < 8 ? oc - c0 : 8;
          const float *b = j->b ? j->b + c0 : NULL;

          const float *rc = sum != NULL ? sum + c0 : NULL;

          if (n == 8 && my == m && mx == m)
            output_block (o + c0, rc, src + c0, plane, b, s, 8, m, m, m, true);
          else
            output_block (o + c0, rc, src + c0, plane, b, s, n, my, mx, m, false);
        }
    }
}

/* Position ξ: mm [n][oc] = v [n][c] × U[ξ] for n tiles, on the engine's
 * panel kernel (tl-nn-quant.h), which at these sizes (16 to 162 rows at
 * batch 1 or 2) beats BLIS: BLIS packs both operands first.  Within a
 * pass, it made the encoder's 32-channel layers 27 % faster (median 0.25
 * → 0.18 ms, interleaved passes, one thread), the 64-channel ones 2 %.
 * Each position's filters are a block of their own (64 KiB for 128
 * channels) that comes from memory: the next one is prefetched before
 * each product (9 % on the 128-channel layers while they ran on BLIS). */
static void
product (const Job   *j,
         float       *mm,
         const float *v,
         int          n,
         int          xi)
{
  const TlConv2dShape *s = j->s;

  if (j->codes != NULL)
    {
      /* the kernel prefetches along the codes, which run on into the
       * next position's */
      tl_quant_gemm16 (mm, s->oc, v, s->c, n, s->c, s->oc,
                       j->codes + (size_t) xi * codes_block_bytes (s));
      return;
    }
  if (xi + 1 < j->t.alpha * j->t.alpha)
    {
      const char *next = (const char *) (j->u + (size_t) (xi + 1) * s->c * s->oc);

      for (size_t at = 0; at < (size_t) s->c * s->oc * sizeof (float); at += 64)
        __builtin_prefetch (next + at, 0, 3);
    }
  if (s->oc % 16 == 0)
    tl_quant_gemm_f32 (mm, s->oc, v, s->c, n, s->c, s->oc,
                       j->u + (size_t) xi * s->c * s->oc, s->oc, false);
  else
    tl_gemm_1 (false, false, n, s->oc, s->c, 1.0f, v, s->c,
               j->u + (size_t) xi * s->c * s->oc, s->oc, 0.0f, mm, s->oc);
}

/* Where tiles [t0, t1) keep their V and M when a task takes them from
 * input to output: the workspace from α²·t0·(c + oc) floats on. */
INLINE void
tiles_ws (const Job  *j,
          int         t0,
          int         t1,
          const int   m,
          float     **v,
          float     **mm)
{
  const TlConv2dShape *s = j->s;
  const int xi = (m + 2) * (m + 2);

  *v = j->ws + (size_t) xi * t0 * (s->c + s->oc);
  *mm = *v + (size_t) xi * (t1 - t0) * s->c;
}

/* Tiles [t0, t1) from input to output on one thread (tiles_ws ()). */
INLINE void
block_tiles (const Job *j,
             int        t0,
             int        t1,
             const int  m)
{
  const TlConv2dShape *s = j->s;
  const int xi = (m + 2) * (m + 2), n = t1 - t0;
  float *v, *mm;

  tiles_ws (j, t0, t1, m, &v, &mm);
  input_tiles (j, v, (size_t) n * s->c, t0, t1, m, ALL_ROWS);
  for (int x = 0; x < xi; x++)
    product (j, mm + (size_t) x * n * s->oc, v + (size_t) x * n * s->c, n, x);
  output_tiles (j, mm, (size_t) n * s->oc, t0, t1, m);
}

/* ---- F(4×4, 3×3) and F(6×6, 3×3) from the taps ---------------------------- */

/* G on eight lanes of three taps: the rows of g4 with its zeros left
 * out (the entries are 1/4, 1/6, 1/12, 1/24 and 1), or g6's (adds and
 * doublings, G's scales in the output transform). */
INLINE void
filter_1d (v8sf      *y,
           int        ys,
           v8sf       w0,
           v8sf       w1,
           v8sf       w2,
           const int  m)
{
  if (m == 6)
    {
      const v8sf a = w0 + w2, q = w1 + w1, p = w0 + 4.0f * w2, r = 4.0f * w0 + w2;

      y[0] = w0;
      y[ys] = a + w1;
      y[2 * ys] = a - w1;
      y[3 * ys] = p + q;
      y[4 * ys] = p - q;
      y[5 * ys] = r + q;
      y[6 * ys] = r - q;
      y[7 * ys] = w2;
      return;
    }
  {
    const v8sf a = w0 + w2, p = w0 * (1.0f / 24) + w2 * (1.0f / 6), q = w1 * (1.0f / 12);

    y[0] = w0 * 0.25f;
    y[ys] = (a + w1) * (-1.0f / 6);
    y[2 * ys] = (a - w1) * (-1.0f / 6);
    y[3 * ys] = p + q;
    y[4 * ys] = p - q;
    y[5 * ys] = w2;
  }
}

/* Channels transformed at a time: one row i of the α×α positions for 64
 * channels of a panel of 16 outputs, 24 or 32.5 KiB on the stack, most
 * of it in L1 beside the products that read it (the whole α² positions of 32
 * channels at a time, 72 KiB for F(4×4) and 132 KiB for F(6×6), came
 * from L2: F(6×6) on the 17×17 maps 7 % slower on one thread, the same on
 * two).  Floats from one position's filters to the next: not a
 * multiple of 4 KiB, whose stores would all fall into the same sets of
 * L1. */
#define ROW_KC 64
#define ROW_XI (ROW_KC * 16 + 16)

/* buf [α][kc][16] (position (i, k) at k·ROW_XI floats) = (G g Gᵀ)[i][k]
 * for channels [c0, c0 + kc) of one panel of 16 outputs. */
INLINE void
filter_row (float       *buf,
            const float *w,
            int          c0,
            int          kc,
            int          i,
            const int    m)
{
  const int alpha = m + 2;
  const float (*g)[3] = m == 4 ? g4 : g6;

  for (int ci = 0; ci < kc; ci++)
    for (int h = 0; h < 16; h += 8)
      {
        const float *t = w + (size_t) (c0 + ci) * 9 * 16 + h;
        v8sf r[3], y[8];

#pragma GCC unroll 3
        for (int kx = 0; kx < 3; kx++)
          r[kx] = g[i][0] * load8 (t + kx * 16) + g[i][1] * load8 (t + (3 + kx) * 16) +
                  g[i][2] * load8 (t + (6 + kx) * 16);
        filter_1d (y, 1, r[0], r[1], r[2], m);
#pragma GCC unroll 8
        for (int k = 0; k < alpha; k++)
          store8 (buf + (size_t) k * ROW_XI + ci * 16 + h, y[k]);
      }
}

/* Tiles [t0, t1), the positions in the rows `rows` (input_block ()):
 * V to v and M to mm (ξ's planes (t1 − t0)·c and (t1 − t0)·oc floats
 * apart), with the filters transformed a panel of 16 outputs, ROW_KC
 * channels and one row of positions at a time (their products add up
 * over the channels in order, each tile's on its own: the same bits
 * whatever the tiles; for the rows, see PASS_POSITIONS in task_chunk ()). */
INLINE void
taps_products (const Job *j,
               float     *v,
               float     *mm,
               int        t0,
               int        t1,
               const int  m,
               const int  rows)
{
  const TlConv2dShape *s = j->s;
  const int alpha = m + 2, c = s->c, oc = s->oc, n = t1 - t0;
  float buf[8 * ROW_XI] __attribute__ ((aligned (64)));

  input_tiles (j, v, (size_t) n * c, t0, t1, m, rows);
  for (int p = 0; p < oc / 16; p++)
    for (int c0 = 0; c0 < c; c0 += ROW_KC)
      {
        const int kc = c - c0 < ROW_KC ? c - c0 : ROW_KC;

#pragma GCC unroll 8
        for (int i = 0; i < alpha; i++)
          {
            if (!(rows >> i & 1))
              continue;
            filter_row (buf, j->taps + (size_t) p * 9 * c * 16, c0, kc, i, m);
            for (int k = 0; k < alpha; k++)
              tl_quant_gemm_f32 (mm + (size_t) (i * alpha + k) * n * oc + p * 16, oc,
                                 v + (size_t) (i * alpha + k) * n * c + c0, c, n, kc, 16,
                                 buf + (size_t) k * ROW_XI, 16, c0 > 0);
          }
      }
}

/* Tiles [t0, t1) from input to output (tiles_ws ()). */
INLINE void
taps_tiles (const Job *j,
            int        t0,
            int        t1,
            const int  m)
{
  float *v, *mm;

  tiles_ws (j, t0, t1, m, &v, &mm);
  taps_products (j, v, mm, t0, t1, m, ALL_ROWS);
  output_tiles (j, mm, (size_t) (t1 - t0) * j->s->oc, t0, t1, m);
}

/* Task i of a pass (Job.pass), specialised for m at compile time:
 * tiles from input to output, or the input or output transform of all
 * the tiles' V and M in one plane each. */
SIMD static void
run_task (const Job *j,
          int        t0,
          int        t1)
{
  const size_t tiles = j->t.tiles;

  if (j->pass == PASS_POSITIONS)
    {
      /* F(6×6) only; task t0 takes the rows of positions {0, 1, 2, 7} or
       * {3, 4, 5, 6} (POSITION_TASKS), of every tile.  The rows a task
       * leaves out are dropped from its input transform's code, which
       * can change how the compiler fuses the multiply-adds of the rest
       * (likely where rows share a product, as 2.5·d3 in rows 3 to 6 of
       * input_1d ()): these two groups give the bits of all rows at
       * once, four ({0, 7}, {1, 2}, {3, 4}, {5, 6}) did not, and were
       * slower; `meson test nn-winograd` compares 1 and 2 threads. */
      if (t0 == 0)
        taps_products (j, j->v, j->mm, 0, j->t.tiles, 6, 0x87);
      else
        taps_products (j, j->v, j->mm, 0, j->t.tiles, 6, 0x78);
    }
  else if (j->pass == PASS_TAPS && j->t.m == 6)
    taps_tiles (j, t0, t1, 6);
  else if (j->pass == PASS_TAPS)
    taps_tiles (j, t0, t1, 4);
  else if (j->pass == PASS_TILES)
    {
      if (j->t.m == 2)
        block_tiles (j, t0, t1, 2);
      else if (j->t.m == 4)
        block_tiles (j, t0, t1, 4);
      else
        block_tiles (j, t0, t1, 6);
    }
  else if (j->pass == PASS_INPUT && j->t.m == 2)
    input_tiles (j, j->v + (size_t) t0 * j->s->c, tiles * j->s->c, t0, t1, 2, ALL_ROWS);
  else if (j->pass == PASS_INPUT && j->t.m == 4)
    input_tiles (j, j->v + (size_t) t0 * j->s->c, tiles * j->s->c, t0, t1, 4, ALL_ROWS);
  else if (j->pass == PASS_INPUT)
    input_tiles (j, j->v + (size_t) t0 * j->s->c, tiles * j->s->c, t0, t1, 6, ALL_ROWS);
  else if (j->t.m == 2)
    output_tiles (j, j->mm + (size_t) t0 * j->s->oc, tiles * j->s->oc, t0, t1, 2);
  else if (j->t.m == 4)
    output_tiles (j, j->mm + (size_t) t0 * j->s->oc, tiles * j->s->oc, t0, t1, 4);
  else
    output_tiles (j, j->mm + (size_t) t0 * j->s->oc, tiles * j->s->oc, t0, t1, 6);
}

static void
task_chunk (void *ctx,
            int   i)
{
  const Job *j = ctx;
  int t0 = i * j->step, t1 = t0 + j->step < j->t.tiles ? t0 + j->step : j->t.tiles;

  run_task (j, t0, t1);
}

/* tasks of the split by positions (PASS_POSITIONS) */
#define POSITION_TASKS 2

static void
positions_chunk (void *ctx,
                 int   i)
{
  run_task (ctx, i, i + 1);
}

static void
gemm_chunk (void *ctx,
            int   xi)
{
  const Job *j = ctx;
  const int tiles = j->t.tiles;

  product (j, j->mm + (size_t) xi * tiles * j->s->oc, j->v + (size_t) xi * tiles * j->s->c,
           tiles, xi);
}

/* Tiles a thread must get to run whole: with fewer, the products split
 * by positions instead, which share out the filters.  An 8×8 tile has
 * 64 positions' products, not 36: half as many do (35×35 maps at
 * F(6×6), 36 tiles: 61–81 µs on two threads whole, 124–134 µs split
 * by positions, `bench`-like loops of the layer alone).  Stored F(6×6)
 * filters are the engine's for any caller; tl_winograd_choose () picks
 * 2 or 4 for every shape measured so far, so only the tests and
 * benchmarks run them today. */
#define TILES_PER_THREAD 24
#define TILES_PER_THREAD_6 12

static void
forward (float               *out,
         const float         *in,
         const float         *u,
         const uint8_t       *codes,
         const float         *taps,
         const float         *b,
         const float         *res,
         const TlConv2dShape *s,
         int                  m,
         float               *ws)
{
  Job j = { out, ws, NULL, NULL, in, u, b, res, codes, taps, s, tiling (s, m), 0, PASS_TILES };
  int threads = tl_nn_get_threads (), xi = j.t.alpha * j.t.alpha, chunks;

  /* F(6×6) from the taps on two threads: split by tiles, each thread
   * would transform all the filters for its 5 or 4 of the 17×17 map's 9
   * tiles (1.4× over one thread).  Instead the positions split in two,
   * each task taking the input transform, the filters' transform and the
   * products of half the rows of positions for every tile; then the
   * output transforms, split by tiles, in a second call
   * (docs/engine-rounds.md, "Two threads on the 17×17 layers").  Only
   * two threads were measured: with more, the two tasks would leave the
   * other threads idle, so they keep the split by tiles. */
  if (taps != NULL && m == 6 && threads == 2)
    {
      double flops = (double) tl_conv2d_flops (s);

      j.v = ws;
      j.mm = ws + tl_nn_round16 ((size_t) xi * j.t.tiles * s->c);
      j.pass = PASS_POSITIONS;
      tl_nn_parallel_work (POSITION_TASKS, positions_chunk, &j, flops);
      j.step = (j.t.tiles + threads - 1) / threads;
      j.pass = PASS_OUTPUT;
      /* a small layer runs both calls on the caller alone */
      tl_nn_parallel_work ((j.t.tiles + j.step - 1) / j.step, task_chunk, &j, flops);
      return;
    }
  /* from the taps: each thread transforms the filters its tiles need */
  if (taps != NULL)
    {
      j.pass = PASS_TAPS;
      j.step = (j.t.tiles + threads - 1) / threads;
      tl_nn_parallel_work ((j.t.tiles + j.step - 1) / j.step, task_chunk, &j,
                           (double) tl_conv2d_flops (s));
      return;
    }

  /* Many tiles (the 35×35 and 17×17 maps): one task a thread, each from
   * input to output, so that its V and M never leave its core's cache
   * and the layer is one parallel call.  Each tile's arithmetic is the
   * same whatever the tasks: 1 and 2 threads give the same bits. */
  if (j.t.tiles >= (m == 6 ? TILES_PER_THREAD_6 : TILES_PER_THREAD) * threads)
    {
      j.step = (j.t.tiles + threads - 1) / threads;
      tl_nn_parallel_work ((j.t.tiles + j.step - 1) / j.step, task_chunk, &j,
                           (double) tl_conv2d_flops (s));
      return;
    }
  j.v = ws;
  j.mm = ws + tl_nn_round16 ((size_t) xi * j.t.tiles * s->c);
  /* two tasks a thread, for balance */
  j.step = (j.t.tiles + 2 * threads - 1) / (2 * threads);
  chunks = (j.t.tiles + j.step - 1) / j.step;
  j.pass = PASS_INPUT;
  tl_nn_parallel (chunks, task_chunk, &j);
  tl_nn_parallel (xi, gemm_chunk, &j);
  j.pass = PASS_OUTPUT;
  tl_nn_parallel (chunks, task_chunk, &j);
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
  forward (out, in, u, NULL, NULL, b, NULL, s, m, ws);
}

void
tl_winograd_forward_sum (float               *out,
                         const float         *in,
                         const float         *u,
                         const float         *b,
                         const float         *res,
                         const TlConv2dShape *s,
                         int                  m,
                         float               *ws)
{
  forward (out, in, u, NULL, NULL, b, res, s, m, ws);
}

void
tl_winograd_forward_codes (float               *out,
                           const float         *in,
                           const uint8_t       *u,
                           const float         *b,
                           const TlConv2dShape *s,
                           float               *ws)
{
  forward (out, in, NULL, u, NULL, b, NULL, s, 2, ws);
}

int
tl_winograd_taps_choose (const TlConv2dShape *s)
{
  /* the maps F(2×2) gets from tl_winograd_choose () that are large
   * enough for 4×4 tiles (17×17: 25 tiles of 36 products each instead of
   * 81 of 16, 31 % fewer multiply-adds), 8×8 tiles from 14 pixels a
   * side (17×17: 9 tiles of 64 products, 36 % fewer than 4×4 tiles) */
  if (tl_winograd_choose (s) != 2 || s->oh < 12 || s->ow < 12 || s->oc % 16 != 0)
    return 0;
  return s->oh >= 14 && s->ow >= 14 ? 6 : 4;
}

size_t
tl_winograd_taps_floats (const TlConv2dShape *s)
{
  return (size_t) 9 * s->c * s->oc;
}

void
tl_winograd_taps (float               *u,
                  const float         *w,
                  const TlConv2dShape *s)
{
  const int c = s->c, oc = s->oc;

  for (int p = 0; p < oc / 16; p++)
    for (int ci = 0; ci < c; ci++)
      for (int tap = 0; tap < 9; tap++)
        memcpy (u + (((size_t) p * c + ci) * 9 + tap) * 16, w + ((size_t) tap * c + ci) * oc + p * 16,
                16 * sizeof (float));
}

void
tl_winograd_forward_taps (float               *out,
                          const float         *in,
                          const float         *u,
                          const float         *b,
                          const TlConv2dShape *s,
                          int                  m,
                          float               *ws)
{
  /* the taps' tasks know 4×4 and 6×6 tiles only */
  forward (out, in, NULL, NULL, u, b, NULL, s, m == 6 ? 6 : 4, ws);
}

void
tl_winograd_forward_taps_sum (float               *out,
                              const float         *in,
                              const float         *u,
                              const float         *b,
                              const float         *res,
                              const TlConv2dShape *s,
                              int                  m,
                              float               *ws)
{
  forward (out, in, NULL, NULL, u, b, res, s, m == 6 ? 6 : 4, ws);
}
