/* tl-nn-quant.c — convolutions on weight codes, and their panel kernel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The forward pass is an im2col GEMM, out[m][oc] = cols[m][k] × w[k][oc],
 * taken a panel of 16 output channels at a time: a block of KC rows of
 * the panel's codes becomes floats in an L1 buffer (one multiply-add per
 * weight), then tiles of up to 6 output rows × 16 channels accumulate
 * over the block in twelve vector registers.  The codes are read once,
 * in the order they lie, with a software prefetch ahead of the hardware's
 * (which stops at page boundaries).  The same panel kernel runs
 * Winograd's products, on 16-bit codes or on floats (tl-nn-winograd.c):
 * with no packing of its operands it beats BLIS on such small products.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "tl-nn-fast.h"
#include "tl-nn-private.h"
#include "tl-nn-quant.h"
#include "tl-nn-simd.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TL_QUANT_X86 1
#include <immintrin.h>
#endif

#define INLINE static inline __attribute__ ((always_inline))

#define PANEL 16
/* rows of a panel turned into floats at a time: 8 KiB of floats, beside
 * up to 6 × KC floats of patches, in a 32 KiB L1 */
#define KC    128
#define MR    6
/* bytes of codes the prefetch runs ahead of the kernel */
#define AHEAD 2048
/* output pixels up to which few_panels_avx2 () runs */
#define FEW_ROWS 6

bool
tl_quant_conv2d_applies (const TlConv2dShape *s)
{
  /* Up to 64 output pixels: the encoder's 128-channel stride-2
   * convolution (8×8 out) took 0.15 ms on codes against 0.23 on BLIS with
   * floats, within a pass; larger maps (17×17) are BLIS's. */
  size_t from;

  return (tl_conv2d_patches_apply (s) ||
          (s->groups == 1 && s->kh * s->kw > 1 && tl_quant_conv2d_rows (s, &from) == s->c)) &&
         s->oh * s->ow <= 64 && s->oc % PANEL == 0;
}

int
tl_quant_conv2d_rows (const TlConv2dShape *s,
                      size_t              *from)
{
  size_t count;

  /* the encoder's 3×3 convolution of the 1×1 map: its centre tap's
   * 64 KiB of codes instead of 256 KiB of floats */
  tl_conv2d_weights_read (s, from, &count);
  return (int) (count / s->oc);
}

size_t
tl_quant_weights_bytes (int k,
                        int oc)
{
  return 2 * (size_t) oc * sizeof (float) + (size_t) k * oc;
}

/* Adds v to the sorted distinct values set[0..*n) unless it is there;
 * false when that would make more than 256. */
static bool
add_distinct (float *set,
              int   *n,
              float  v)
{
  int lo = 0, hi = *n;

  while (lo < hi)
    {
      int mid = (lo + hi) / 2;

      if (set[mid] < v)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo < *n && set[lo] == v)
    return true;
  if (*n == 256)
    return false;
  memmove (set + lo + 1, set + lo, (*n - lo) * sizeof *set);
  set[lo] = v;
  (*n)++;
  return true;
}

INLINE uint8_t *
codes_of (uint8_t *qw,
          int      oc)
{
  return qw + 2 * (size_t) oc * sizeof (float);
}

bool
tl_quant_weights_find (uint8_t     *qw,
                       const float *w,
                       int          k,
                       int          oc,
                       double       max_err_rel,
                       double      *max_err)
{
  float *a = (float *) qw, *b = a + oc;
  uint8_t *codes = codes_of (qw, oc);
  float set[256];
  double worst = 0.0;
  bool ok = true;

  if (k <= 0 || oc <= 0 || oc % PANEL != 0)
    return false;
  for (int o = 0; o < oc && ok; o++)
    {
      double lo, hi, mag, step = 0.0, n = 0.0;
      int n_set = 0;

      /* a grid of 256 levels has at most 256 distinct values (equal
       * codes give equal floats) */
      for (int i = 0; i < k && ok; i++)
        ok = isfinite (w[(size_t) i * oc + o]) && add_distinct (set, &n_set, w[(size_t) i * oc + o]);
      if (!ok)
        break;
      lo = set[0];
      hi = set[n_set - 1];
      mag = fmax (fabs (lo), fabs (hi));
      /* its step is the smallest gap between them, refined over the span */
      for (int i = 1; i < n_set; i++)
        if (step == 0.0 || set[i] - (double) set[i - 1] < step)
          step = set[i] - (double) set[i - 1];
      if (step > 0.0)
        {
          n = rint ((hi - lo) / step);
          if (n > 255.0)
            {
              ok = false;
              break;
            }
        }
      a[o] = n > 0.0 ? (float) ((hi - lo) / n) : 0.0f;
      b[o] = (float) lo;
      for (int i = 0; i < k; i++)
        {
          double v = w[(size_t) i * oc + o];
          double q = a[o] > 0.0f ? rint ((v - b[o]) / a[o]) : 0.0;
          double err = fabs ((double) a[o] * q + b[o] - v) / (mag > 0.0 ? mag : 1.0);

          if (!(q >= 0.0 && q <= 255.0 && err <= max_err_rel))
            {
              ok = false;
              break;
            }
          worst = fmax (worst, err);
          codes[((size_t) (o / PANEL) * k + i) * PANEL + o % PANEL] = (uint8_t) q;
        }
    }
  if (ok && max_err != NULL)
    *max_err = worst;
  return ok;
}

void
tl_quant_weights_dequantise (float         *w,
                             const uint8_t *qw,
                             int            k,
                             int            oc)
{
  const float *a = (const float *) qw, *b = a + oc;
  const uint8_t *codes = codes_of ((uint8_t *) qw, oc);

  for (int i = 0; i < k; i++)
    for (int o = 0; o < oc; o++)
      w[(size_t) i * oc + o] =
        fmaf (a[o], codes[((size_t) (o / PANEL) * k + i) * PANEL + o % PANEL], b[o]);
}

/* ---- the kernel ------------------------------------------------------------ */

/* buf [kc][16] = a·q + b for kc rows of a panel's codes, 1 or 2 bytes
 * each (uint8 or int16). */
typedef void (*DequantiseFunc) (float *restrict buf, const uint8_t *restrict q,
                                const float *a, const float *b, int kc, int bytes);

static void
dequantise_block (float         *restrict buf,
                  const uint8_t *restrict q,
                  const float   *a,
                  const float   *b,
                  int            kc,
                  int            bytes)
{
  for (int i = 0; i < kc; i++, q += PANEL * bytes)
    {
      __builtin_prefetch (q + AHEAD, 0, 0);
      for (int o = 0; o < PANEL; o++)
        {
          int16_t v;

          if (bytes == 2)
            memcpy (&v, q + 2 * o, sizeof v);
          else
            v = q[o];
          buf[(size_t) i * PANEL + o] = a[o] * v + b[o];
        }
    }
}

#ifdef TL_QUANT_X86
/* The same with AVX2: GCC turns a vector conversion of bytes into one byte
 * at a time, so this widens them with vpmovzxbd / vpmovsxwd itself. */
__attribute__ ((target ("arch=x86-64-v3"))) static void
dequantise_block_avx2 (float         *restrict buf,
                       const uint8_t *restrict q,
                       const float   *a,
                       const float   *b,
                       int            kc,
                       int            bytes)
{
  const __m256 a0 = _mm256_loadu_ps (a), a1 = _mm256_loadu_ps (a + 8);
  const __m256 b0 = _mm256_loadu_ps (b), b1 = _mm256_loadu_ps (b + 8);

  for (int i = 0; i < kc; i++, q += PANEL * bytes)
    {
      __m256i lo, hi;

      if (bytes == 2)
        {
          lo = _mm256_cvtepi16_epi32 (_mm_loadu_si128 ((const __m128i *) q));
          hi = _mm256_cvtepi16_epi32 (_mm_loadu_si128 ((const __m128i *) (q + 16)));
          _mm_prefetch ((const char *) q + AHEAD, _MM_HINT_NTA);
        }
      else
        {
          __m128i v = _mm_loadu_si128 ((const __m128i *) q);

          lo = _mm256_cvtepu8_epi32 (v);
          hi = _mm256_cvtepu8_epi32 (_mm_srli_si128 (v, 8));
          /* one line of codes holds four rows */
          if (i % 4 == 0)
            _mm_prefetch ((const char *) q + AHEAD, _MM_HINT_NTA);
        }
      _mm256_store_ps (buf + (size_t) i * PANEL, _mm256_fmadd_ps (_mm256_cvtepi32_ps (lo), a0, b0));
      _mm256_store_ps (buf + (size_t) i * PANEL + 8, _mm256_fmadd_ps (_mm256_cvtepi32_ps (hi), a1, b1));
    }
}
#endif

/* c [mr][16] (row stride ldc) = or += x [mr][kc] × w [kc][16] (row stride
 * ldw), row r of x at xr [r] */
INLINE void
tile (float             *restrict c,
      int                         ldc,
      const float *const *restrict xr,
      const float       *restrict w,
      int                         ldw,
      int                         kc,
      bool                        add,
      const int                   mr)
{
  v8sf acc[MR][2];
  const float *x[MR];

#pragma GCC unroll 6
  for (int r = 0; r < mr; r++)
    {
      acc[r][0] = acc[r][1] = (v8sf) { 0 };
      x[r] = xr[r];
    }
  for (int i = 0; i < kc; i++)
    {
      const v8sf w0 = load8 (w + (size_t) i * ldw), w1 = load8 (w + (size_t) i * ldw + 8);

#pragma GCC unroll 6
      for (int r = 0; r < mr; r++)
        {
          const float v = x[r][i];

          acc[r][0] += v * w0;
          acc[r][1] += v * w1;
        }
    }
#pragma GCC unroll 6
  for (int r = 0; r < mr; r++)
    {
      float *o = c + (size_t) r * ldc;

      if (add)
        {
          acc[r][0] += load8 (o);
          acc[r][1] += load8 (o + 8);
        }
      store8 (o, acc[r][0]);
      store8 (o + 8, acc[r][1]);
    }
}

/* tile () for 1 to MR rows */
INLINE void
tile_rows (float             *restrict c,
           int                         ldc,
           const float *const *restrict xr,
           const float       *restrict w,
           int                         ldw,
           int                         kc,
           bool                        add,
           int                         rows)
{
  switch (rows)
    {
    case 6: tile (c, ldc, xr, w, ldw, kc, add, 6); break;
    case 5: tile (c, ldc, xr, w, ldw, kc, add, 5); break;
    case 4: tile (c, ldc, xr, w, ldw, kc, add, 4); break;
    case 3: tile (c, ldc, xr, w, ldw, kc, add, 3); break;
    case 2: tile (c, ldc, xr, w, ldw, kc, add, 2); break;
    default: tile (c, ldc, xr, w, ldw, kc, add, 1); break;
    }
}

/* xr [r] = x + r·ldx for rows r < rows */
INLINE void
rows_at (const float **xr,
         const float  *x,
         size_t        ldx,
         int           rows)
{
  for (int r = 0; r < rows; r++)
    xr[r] = x + r * ldx;
}

/* Rows of tile t of m rows: tiles of MR rows and the rest, or, balanced,
 * as even as they go (9 rows as 5 + 4: a tile of 3 has six accumulators,
 * too few to cover the multiply-add latency) */
INLINE int
rows_of (int  m,
         int  t,
         bool balanced)
{
  const int tiles = (m + MR - 1) / MR;

  if (!balanced)
    return m - t * MR < MR ? m - t * MR : MR;
  return m / tiles + (t < m % tiles);
}

/* c [m][n] = x [m][k] × w [k][n], w = a·q + b by columns with the codes q
 * in panels [n / 16][k][16], or w as floats (row stride ldw); then, when
 * s is given, bias and activation. */
typedef struct
{
  float               *c;
  const float         *x;
  int                  ldc, ldx, m, k;
  const float         *a, *b;
  const uint8_t       *codes;
  int                  bytes;      /* of a code: 1 (uint8) or 2 (int16); 4: floats w */
  const float         *w;
  int                  ldw;
  const float         *bias;
  const TlConv2dShape *s;
  int                  step;       /* panels per task */
  bool                 add;        /* c += x × w */
  const float         *sx;         /* few_panels (): Σ_k x[r][k] of each row, or NULL */
  const float         *in;         /* or NULL: x is s's patches of in, read where they lie */
} Product;

/* KC floats of the zero padding, for patches read where they lie */
static const float zeros[KC] __attribute__ ((aligned (64)));

/* xr [r] = row r0 + r of s's patches of in, columns [k0, k0 + KC): each
 * such block lies in one tap (s->c a multiple of KC), so each row is a
 * run of one pixel's channels, or of the padding's zeros. */
static void
patch_rows_at (const float         **xr,
               const float          *in,
               const TlConv2dShape  *s,
               int                   r0,
               int                   rows,
               int                   k0)
{
  const int tap = k0 / s->c, ky = tap / s->kw, kx = tap % s->kw, c0 = k0 % s->c;
  const int per_image = s->oh * s->ow;

  for (int r = 0; r < rows; r++)
    {
      const int p = (r0 + r) % per_image, b = (r0 + r) / per_image;
      const int iy = (p / s->ow) * s->stride - s->pad_t + ky;
      const int ix = (p % s->ow) * s->stride - s->pad_l + kx;

      xr[r] = iy < 0 || iy >= s->h || ix < 0 || ix >= s->w ? zeros :
              in + (((size_t) b * s->h + iy) * s->w + ix) * s->c + c0;
    }
}

/* Whether tl_quant_conv2d_forward () reads s's patches where they lie
 * (product_panels (), Product.in) rather than as an im2col: the blocks of
 * KC rows each within one tap.  For the encoder's 3×3 map (256 channels)
 * and its 8×8 → 3×3 stride-2 layer (128): no im2col pass over the
 * threads before the products, and patches read from the 9 and 32 KiB
 * input instead of 81 and 40.5 KiB of copies. */
static bool
patches_in_place (const TlConv2dShape *s)
{
  return s->groups == 1 && s->c % KC == 0;
}

/* Panels [p0, p1) of the columns, every row. */
INLINE void
product_panels (const Product  *g,
                int             p0,
                int             p1,
                DequantiseFunc  dequantise)
{
  float buf[KC * PANEL] __attribute__ ((aligned (64)));
  const int m = g->m, k = g->k, ldc = g->ldc;
  /* the direct convolutions on 8-bit codes (the encoder's 3×3 maps, 9
   * rows: one thread, best of 3000, five alternating runs, 168–172 →
   * 160–161 µs at 256 → 256 channels, 84–87 → 79–81 µs from 8×8×128);
   * Winograd's products as they were */
  const bool balanced = g->bytes == 1;

  for (int p = p0; p < p1; p++)
    {
      const uint8_t *q = g->codes + (size_t) p * k * PANEL * g->bytes;
      float *c = g->c + (size_t) p * PANEL;

      for (int k0 = 0; k0 < k; k0 += KC)
        {
          const int kc = k - k0 < KC ? k - k0 : KC;
          const float *w = buf;
          int ldw = PANEL;

          if (g->bytes == 4)
            {
              w = g->w + (size_t) k0 * g->ldw + p * PANEL;
              ldw = g->ldw;
            }
          else
            dequantise (buf, q + (size_t) k0 * PANEL * g->bytes, g->a + p * PANEL,
                        g->b + p * PANEL, kc, g->bytes);
          for (int r0 = 0, t = 0; r0 < m; r0 += rows_of (m, t++, balanced))
            {
              float *cr = c + (size_t) r0 * ldc;
              const float *xr[MR] = { NULL };
              const bool add = k0 > 0 || g->add;
              const int rows = rows_of (m, t, balanced);

              if (g->in != NULL)
                patch_rows_at (xr, g->in, g->s, r0, rows, k0);
              else
                rows_at (xr, g->x + (size_t) r0 * g->ldx + k0, g->ldx, rows);
              tile_rows (cr, ldc, xr, w, ldw, kc, add, rows);
            }
        }
      /* bias and activation while the panel is in cache */
      if (g->s != NULL)
        {
          const v8sf b0 = g->bias ? load8 (g->bias + p * PANEL) : (v8sf) { 0 };
          const v8sf b1 = g->bias ? load8 (g->bias + p * PANEL + 8) : (v8sf) { 0 };

          for (int r = 0; r < m; r++)
            {
              float *o = c + (size_t) r * ldc;

              store8 (o, tl_nn_act8 (load8 (o) + b0, g->s));
              store8 (o + 8, tl_nn_act8 (load8 (o + 8) + b1, g->s));
            }
        }
    }
}

#ifdef TL_QUANT_X86
__attribute__ ((target ("arch=x86-64-v3"))) static void
product_panels_avx2 (const Product *g,
                     int            p0,
                     int            p1)
{
  product_panels (g, p0, p1, dequantise_block_avx2);
}
#endif

#ifdef TL_QUANT_X86
/* ---- few rows: the codes turned into floats in registers --------------------
 *
 * With at most FEW_ROWS output pixels (the encoder's 1×1 map at batch 1
 * or 2) a 6-row tile has one or two rows, whose two or four accumulators
 * wait on the multiply-add latency, and the block of floats in L1 is
 * written and read again for one or two multiply-adds a weight.  Here
 * each row of codes becomes floats in registers and meets every row of x
 * at once, one to three rows in two or four running sums over k (four
 * to six rows in one), the
 * per-channel affine taken out of the sum:
 *
 *   Σ_k (a·q + b)·x = a·Σ_k (q − z)·x + (b + a·z)·Σ_k x,
 *
 * z the code nearest the column's zero (−b / a), so that the second term
 * is small beside the first: the same cancellation as summing w·x.  Σ_k x
 * is summed once a row (Product.sx).  Each block of FEW_KB rows of codes
 * is summed on its own and added to the blocks before it, so the chains
 * of roundings stay as short as the panel kernel's.  (The 3×3 maps, 9
 * rows, ran slower this way, half a panel at a time: see README.md.) */
#define FEW_KB   256

/* acc [rows][16] += x [rows][kb] (row stride ldx) × (q − z) [kb][16], in
 * ku running sums over k */
__attribute__ ((target ("arch=x86-64-v3"))) INLINE void
few_tile (float         *restrict acc,
          const float   *restrict x,
          int                     ldx,
          const uint8_t *restrict q,
          const __m256i          *z,
          int                     kb,
          const int               rows,
          const int               ku)
{
  __m256 s[4][FEW_ROWS][2];
  int i = 0;

#pragma GCC unroll 4
  for (int u = 0; u < ku; u++)
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 2
      for (int v = 0; v < 2; v++)
        s[u][r][v] = _mm256_setzero_ps ();
  for (; i + ku <= kb; i += ku)
    {
      if (i % 4 < ku)
        _mm_prefetch ((const char *) q + (size_t) i * PANEL + AHEAD, _MM_HINT_NTA);
#pragma GCC unroll 4
      for (int u = 0; u < ku; u++)
        {
          __m256 w[2];

#pragma GCC unroll 2
          for (int v = 0; v < 2; v++)
            {
              const __m128i c = _mm_loadl_epi64 ((const __m128i *) (q + (size_t) (i + u) * PANEL + 8 * v));

              w[v] = _mm256_cvtepi32_ps (_mm256_sub_epi32 (_mm256_cvtepu8_epi32 (c), z[v]));
            }
#pragma GCC unroll 6
          for (int r = 0; r < rows; r++)
            {
              const __m256 xv = _mm256_broadcast_ss (x + (size_t) r * ldx + i + u);

#pragma GCC unroll 2
              for (int v = 0; v < 2; v++)
                s[u][r][v] = _mm256_fmadd_ps (xv, w[v], s[u][r][v]);
            }
        }
    }
  for (; i < kb; i++)
    {
      __m256 w[2];

#pragma GCC unroll 2
      for (int v = 0; v < 2; v++)
        {
          const __m128i c = _mm_loadl_epi64 ((const __m128i *) (q + (size_t) i * PANEL + 8 * v));

          w[v] = _mm256_cvtepi32_ps (_mm256_sub_epi32 (_mm256_cvtepu8_epi32 (c), z[v]));
        }
#pragma GCC unroll 6
      for (int r = 0; r < rows; r++)
        {
          const __m256 xv = _mm256_broadcast_ss (x + (size_t) r * ldx + i);

#pragma GCC unroll 2
          for (int v = 0; v < 2; v++)
            s[0][r][v] = _mm256_fmadd_ps (xv, w[v], s[0][r][v]);
        }
    }
#pragma GCC unroll 6
  for (int r = 0; r < rows; r++)
#pragma GCC unroll 2
    for (int v = 0; v < 2; v++)
      {
        __m256 t = s[0][r][v];

#pragma GCC unroll 3
        for (int u = 1; u < ku; u++)
          t = _mm256_add_ps (t, s[u][r][v]);
        /* a block's sum added to the others': short chains of roundings */
        _mm256_storeu_ps (acc + r * PANEL + 8 * v,
                          _mm256_add_ps (_mm256_loadu_ps (acc + r * PANEL + 8 * v), t));
      }
}

/* few_tile () for 1 to 6 rows */
__attribute__ ((target ("arch=x86-64-v3"))) static void
few_tile_rows (float         *acc,
               const float   *x,
               int            ldx,
               const uint8_t *q,
               const __m256i *z,
               int            kb,
               int            rows)
{
  switch (rows)
    {
    case 1: few_tile (acc, x, ldx, q, z, kb, 1, 4); break;
    case 2: few_tile (acc, x, ldx, q, z, kb, 2, 2); break;
    case 3: few_tile (acc, x, ldx, q, z, kb, 3, 2); break;
    case 4: few_tile (acc, x, ldx, q, z, kb, 4, 1); break;
    case 5: few_tile (acc, x, ldx, q, z, kb, 5, 1); break;
    default: few_tile (acc, x, ldx, q, z, kb, 6, 1); break;
    }
}

/* Panels [p0, p1) of c [m][n] = act (x × (a·q + b) + bias), m ≤ FEW_ROWS. */
__attribute__ ((target ("arch=x86-64-v3"))) static void
few_panels_avx2 (const Product *g,
                 int            p0,
                 int            p1)
{
  const int m = g->m, k = g->k;

  for (int p = p0; p < p1; p++)
    {
      const uint8_t *q = g->codes + (size_t) p * k * PANEL;
      const float *a = g->a + p * PANEL, *b = g->b + p * PANEL;
      float acc[FEW_ROWS * PANEL] __attribute__ ((aligned (32)));
      float b2[PANEL];
      int32_t zi[PANEL];
      __m256i z[2];

      for (int o = 0; o < PANEL; o++)
        {
          const float zf = a[o] > 0.0f ? rintf (-b[o] / a[o]) : 0.0f;

          zi[o] = zf < 0.0f ? 0 : zf > 255.0f ? 255 : (int32_t) zf;
          b2[o] = fmaf (a[o], (float) zi[o], b[o]);
        }
      z[0] = _mm256_loadu_si256 ((const __m256i *) zi);
      z[1] = _mm256_loadu_si256 ((const __m256i *) (zi + 8));
      memset (acc, 0, (size_t) m * PANEL * sizeof (float));
      for (int k0 = 0; k0 < k; k0 += FEW_KB)
        {
          const int kb = k - k0 < FEW_KB ? k - k0 : FEW_KB;
          const uint8_t *qk = q + (size_t) k0 * PANEL;

          few_tile_rows (acc, g->x + k0, g->ldx, qk, z, kb, m);
        }
      {
        const __m256 a0 = _mm256_loadu_ps (a), a1 = _mm256_loadu_ps (a + 8);
        const __m256 c0 = _mm256_loadu_ps (b2), c1 = _mm256_loadu_ps (b2 + 8);
        const __m256 bi0 = g->bias ? _mm256_loadu_ps (g->bias + p * PANEL) : _mm256_setzero_ps ();
        const __m256 bi1 = g->bias ? _mm256_loadu_ps (g->bias + p * PANEL + 8) : _mm256_setzero_ps ();

        for (int r = 0; r < m; r++)
          {
            const __m256 sx = _mm256_broadcast_ss (g->sx + r);
            float *o = g->c + (size_t) r * g->ldc + p * PANEL;
            const __m256 y0 = _mm256_fmadd_ps (a0, _mm256_loadu_ps (acc + r * PANEL), _mm256_fmadd_ps (c0, sx, bi0));
            const __m256 y1 = _mm256_fmadd_ps (a1, _mm256_loadu_ps (acc + r * PANEL + 8), _mm256_fmadd_ps (c1, sx, bi1));

            store8 (o, tl_nn_act8 ((v8sf) y0, g->s));
            store8 (o + 8, tl_nn_act8 ((v8sf) y1, g->s));
          }
      }
    }
}
#endif

static void
product_panels_any (const Product *g,
                    int            p0,
                    int            p1)
{
  product_panels (g, p0, p1, dequantise_block);
}

static bool portable_only;

void
tl_quant_use_portable_kernel (bool portable)
{
  portable_only = portable;
}

static bool
use_avx2 (void)
{
#ifdef TL_QUANT_X86
  static int avx2 = -1;

  if (avx2 < 0)
    avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  return avx2 && !portable_only;
#else
  return false;
#endif
}

static void
run_panels (const Product *g,
            int            p0,
            int            p1)
{
#ifdef TL_QUANT_X86
  if (use_avx2 () && g->sx != NULL)
    {
      few_panels_avx2 (g, p0, p1);
      return;
    }
  if (use_avx2 ())
    {
      product_panels_avx2 (g, p0, p1);
      return;
    }
#endif
  product_panels_any (g, p0, p1);
}

/* Whether few_panels_avx2 () takes a product of m rows on 8-bit codes */
static bool
few_rows_apply (int m)
{
  return use_avx2 () && m <= FEW_ROWS;
}

/* sx [r] = Σ_k x [r][k], in eight lanes, then the tail, then the lanes */
static void
row_sums (float       *sx,
          const float *x,
          int          m,
          int          k)
{
  for (int r = 0; r < m; r++)
    {
      const float *row = x + (size_t) r * k;
      v8sf acc = { 0 };
      float sum = 0.0f;
      int i = 0;

      for (; i + 8 <= k; i += 8)
        acc += load8 (row + i);
      for (; i < k; i++)
        sum += row[i];
      for (int l = 0; l < 8; l++)
        sum += acc[l];
      sx[r] = sum;
    }
}

static void
product_chunk (void *ctx,
               int   i)
{
  const Product *g = ctx;
  const int panels = g->s->oc / PANEL;
  const int p0 = i * g->step;

  run_panels (g, p0, p0 + g->step < panels ? p0 + g->step : panels);
}

/* ---- F(2×2, 3×3) from the codes ---------------------------------------------
 *
 * The 3×3 stride-1 convolutions of the smallest maps (the encoder's
 * 256-channel 4×4 ones: four 2×2 tiles) by Winograd's minimal filtering
 * (tl-nn-winograd.h): 16 products a tile instead of 36 for its 4 pixels,
 * 2.25× fewer multiply-adds.  The filters come from the same 8-bit codes,
 * transformed as the products need them, a panel of 16 outputs and WG_KC
 * channels at a time, so that the bytes read stay one a weight:
 *
 *   U[ξ] = G (a·q + b) Gᵀ,  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
 *
 * taken without its halvings, with adds only: Ũ = G̃ w G̃ᵀ, G̃ = [1 0 0;
 * 1 1 1; 1 −1 1; 0 0 1], is U[ξ]·2^p(ξ), p = 0, 1 or 2 for the corner,
 * edge and centre positions, and each input V[ξ][tile][c] = (Bᵀ d B)[ξ]
 * is scaled by 2^−p(ξ) instead, so every product Ũ·Ṽ is U·V to the bit
 * (scaling by powers of two rounds nothing): 21 adds for eight outputs'
 * 16 positions instead of 35 with (2G) w/4 (same bits).  Products
 * M[ξ][tile][oc]; out = Aᵀ M A + bias, activation, per panel as soon as
 * its products are done.  Split by panels: each thread reads only its panels' codes, and
 * every output's arithmetic is the same whatever the threads. */

/* channels transformed at a time: 16 positions × WG_KC × 16 floats */
#define WG_KC 32
/* floats from one position's filters to the next (not a multiple of 4 KiB) */
#define WG_XI (WG_KC * PANEL + 16)

static bool
winograd_applies (const TlConv2dShape *s)
{
  const int tiles = s->n * (s->oh / 2) * (s->ow / 2);

  /* whole 2×2 tiles; V and M fit in the im2col workspace */
  return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->groups == 1 && s->oh == s->h &&
         s->ow == s->w && s->oh % 2 == 0 && s->ow % 2 == 0 && s->oh * s->ow <= 16 &&
         s->c % 8 == 0 && (size_t) 16 * tiles * (s->c + s->oc) <= tl_conv2d_workspace (s);
}

/* buf [16][kc][16] (position ξ at ξ·WG_XI floats) = Ũ[ξ] for channels
 * [c0, c0 + kc) of one panel, whose codes are q [k][16], k = (tap·c + ci);
 * a, b: the panel's grid. */
typedef void (*FilterFunc) (float *restrict buf, const uint8_t *restrict q, const float *a,
                            const float *b, int c, int c0, int kc);

/* G̃ on eight lanes: r0 = w0, r1 = w0 + w1 + w2, r2 = w0 − w1 + w2, r3 = w2 */
INLINE void
filter2_1d (v8sf *y,
            int   ys,
            v8sf  w0,
            v8sf  w1,
            v8sf  w2)
{
  const v8sf e = w0 + w2;

  y[0] = w0;
  y[ys] = e + w1;
  y[2 * ys] = e - w1;
  y[3 * ys] = w2;
}

/* Ũ[ξ] of eight outputs from their nine taps w */
INLINE void
filter2_store (float      *buf,
               const v8sf *w)
{
  v8sf t[4][3];

#pragma GCC unroll 3
  for (int kx = 0; kx < 3; kx++)
    filter2_1d (&t[0][kx], 3, w[kx], w[3 + kx], w[6 + kx]);
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++)
    {
      v8sf y[4];

      filter2_1d (y, 1, t[i][0], t[i][1], t[i][2]);
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++)
        store8 (buf + (size_t) (i * 4 + j) * WG_XI, y[j]);
    }
}

static void
filter_codes (float         *restrict buf,
              const uint8_t *restrict q,
              const float   *a,
              const float   *b,
              int            c,
              int            c0,
              int            kc)
{
  for (int ci = 0; ci < kc; ci++)
    for (int h = 0; h < PANEL; h += 8)
      {
        v8sf w[9];

        for (int tap = 0; tap < 9; tap++)
          for (int o = 0; o < 8; o++)
            w[tap][o] = a[h + o] * q[((size_t) tap * c + c0 + ci) * PANEL + h + o] + b[h + o];
        filter2_store (buf + ci * PANEL + h, w);
      }
}

#ifdef TL_QUANT_X86
__attribute__ ((target ("arch=x86-64-v3"))) static void
filter_codes_avx2 (float         *restrict buf,
                   const uint8_t *restrict q,
                   const float   *a,
                   const float   *b,
                   int            c,
                   int            c0,
                   int            kc)
{
  const size_t tap_step = (size_t) c * PANEL;

  for (int ci = 0; ci < kc; ci++)
    {
      const uint8_t *p = q + (size_t) (c0 + ci) * PANEL;

      /* one line of codes holds four channels' */
      if (ci % 4 == 0)
#pragma GCC unroll 9
        for (int tap = 0; tap < 9; tap++)
          _mm_prefetch ((const char *) p + tap * tap_step + AHEAD / 4, _MM_HINT_NTA);
      /* eight outputs at a time, a column of taps at a time: few
       * registers live */
      for (int h = 0; h < PANEL; h += 8)
        {
          const __m256 ah = _mm256_loadu_ps (a + h), bh = _mm256_loadu_ps (b + h);
          v8sf t[4][3];

#pragma GCC unroll 3
          for (int kx = 0; kx < 3; kx++)
            {
              v8sf w[3];

#pragma GCC unroll 3
              for (int ky = 0; ky < 3; ky++)
                {
                  const __m128i v = _mm_loadl_epi64 ((const __m128i *) (p + (ky * 3 + kx) * tap_step + h));

                  w[ky] = (v8sf) _mm256_fmadd_ps (_mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (v)), ah, bh);
                }
              filter2_1d (&t[0][kx], 3, w[0], w[1], w[2]);
            }
#pragma GCC unroll 4
          for (int i = 0; i < 4; i++)
            {
              v8sf y[4];

              filter2_1d (y, 1, t[i][0], t[i][1], t[i][2]);
#pragma GCC unroll 4
              for (int jx = 0; jx < 4; jx++)
                store8 (buf + (size_t) (i * 4 + jx) * WG_XI + ci * PANEL + h, y[jx]);
            }
        }
    }
}
#endif

typedef struct
{
  float               *out, *v, *mm;
  const float         *in, *a, *b, *bias;
  const uint8_t       *codes;
  const TlConv2dShape *s;
  int                  tiles, step;   /* panels per task */
} Wino;

/* V for channels [c0, c0 + 8) of every tile */
INLINE void
wino_input (const Wino *j,
            int         c0)
{
  const TlConv2dShape *s = j->s;
  const int c = s->c, tw = s->ow / 2, per_image = (s->oh / 2) * tw;
  const size_t plane = (size_t) j->tiles * c;

  for (int t = 0; t < j->tiles; t++)
    {
      const int r = t % per_image, iy0 = (r / tw) * 2 - s->pad_t, ix0 = (r % tw) * 2 - s->pad_l;
      const float *img = j->in + (size_t) (t / per_image) * s->h * s->w * c;
      v8sf d[4][4], x[4][4];

#pragma GCC unroll 4
      for (int i = 0; i < 4; i++)
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
          {
            const int iy = iy0 + i, ix = ix0 + k;

            d[i][k] = iy >= 0 && iy < s->h && ix >= 0 && ix < s->w ?
                      load8 (img + ((size_t) iy * s->w + ix) * c + c0) : (v8sf) { 0 };
          }
      /* Bᵀ d B: rows, then columns */
#pragma GCC unroll 4
      for (int k = 0; k < 4; k++)
        {
          x[0][k] = d[0][k] - d[2][k];
          x[1][k] = d[1][k] + d[2][k];
          x[2][k] = d[2][k] - d[1][k];
          x[3][k] = d[1][k] - d[3][k];
        }
      /* scaled by 2^−p(ξ): ½ a middle row or column */
#pragma GCC unroll 4
      for (int i = 0; i < 4; i++)
        {
          float *dst = j->v + (size_t) i * 4 * plane + (size_t) t * c + c0;
          const float edge = i == 1 || i == 2 ? 0.5f : 1.0f, mid = edge * 0.5f;

          store8 (dst, edge * (x[i][0] - x[i][2]));
          store8 (dst + plane, mid * (x[i][1] + x[i][2]));
          store8 (dst + 2 * plane, mid * (x[i][2] - x[i][1]));
          store8 (dst + 3 * plane, edge * (x[i][1] - x[i][3]));
        }
    }
}

/* out = act (Aᵀ M A + bias) for the channels [o0, o0 + 8) of every tile */
INLINE void
wino_output (const Wino *j,
             int         o0)
{
  const TlConv2dShape *s = j->s;
  const int oc = s->oc, tw = s->ow / 2, per_image = (s->oh / 2) * tw;
  const size_t plane = (size_t) j->tiles * oc;
  const v8sf bias = j->bias ? load8 (j->bias + o0) : (v8sf) { 0 };

  for (int t = 0; t < j->tiles; t++)
    {
      const int r = t % per_image, oy = (r / tw) * 2, ox = (r % tw) * 2;
      float *o = j->out + (((size_t) (t / per_image) * s->oh + oy) * s->ow + ox) * oc + o0;
      const float *src = j->mm + (size_t) t * oc + o0;
      v8sf y[2][4];

#pragma GCC unroll 4
      for (int k = 0; k < 4; k++)
        {
          const v8sf x0 = load8 (src + (size_t) k * plane), x1 = load8 (src + (size_t) (4 + k) * plane);
          const v8sf x2 = load8 (src + (size_t) (8 + k) * plane), x3 = load8 (src + (size_t) (12 + k) * plane);

          y[0][k] = x0 + x1 + x2;
          y[1][k] = x1 - x2 - x3;
        }
#pragma GCC unroll 2
      for (int i = 0; i < 2; i++)
        {
          store8 (o + (size_t) i * s->ow * oc, tl_nn_act8 (y[i][0] + y[i][1] + y[i][2] + bias, s));
          store8 (o + ((size_t) i * s->ow + 1) * oc, tl_nn_act8 (y[i][1] - y[i][2] - y[i][3] + bias, s));
        }
    }
}

/* Panels [p0, p1): products over the channels in order, then the
 * panel's output transform. */
INLINE void
wino_panels (const Wino *j,
             int         p0,
             int         p1,
             FilterFunc  filter)
{
  float buf[16 * WG_XI] __attribute__ ((aligned (64)));
  const TlConv2dShape *s = j->s;
  const int c = s->c, oc = s->oc, k = 9 * c, m = j->tiles;
  const size_t vplane = (size_t) m * c, mplane = (size_t) m * oc;

  for (int p = p0; p < p1; p++)
    {
      for (int c0 = 0; c0 < c; c0 += WG_KC)
        {
          const int kc = c - c0 < WG_KC ? c - c0 : WG_KC;

          filter (buf, j->codes + (size_t) p * k * PANEL, j->a + p * PANEL, j->b + p * PANEL, c,
                  c0, kc);
          for (int x = 0; x < 16; x++)
            for (int r0 = 0; r0 < m; r0 += MR)
              {
                float *cr = j->mm + x * mplane + (size_t) r0 * oc + p * PANEL;
                const float *v = j->v + x * vplane + (size_t) r0 * c + c0;
                const float *w = buf + (size_t) x * WG_XI, *vr[MR] = { NULL };
                const int rows = m - r0 < MR ? m - r0 : MR;

                rows_at (vr, v, c, rows);
                tile_rows (cr, oc, vr, w, PANEL, kc, c0 > 0, rows);
              }
        }
      wino_output (j, p * PANEL);
      wino_output (j, p * PANEL + 8);
    }
}

#ifdef TL_QUANT_X86
__attribute__ ((target ("arch=x86-64-v3"))) static void
wino_panels_avx2 (const Wino *j,
                  int         p0,
                  int         p1)
{
  wino_panels (j, p0, p1, filter_codes_avx2);
}

__attribute__ ((target ("arch=x86-64-v3"))) static void
wino_input_avx2 (const Wino *j,
                 int         c0)
{
  wino_input (j, c0);
}
#endif

static void
wino_panels_any (const Wino *j,
                 int         p0,
                 int         p1)
{
  wino_panels (j, p0, p1, filter_codes);
}

static void
wino_input_any (const Wino *j,
                int         c0)
{
  wino_input (j, c0);
}

static void
wino_input_chunk (void *ctx,
                  int   i)
{
  const Wino *j = ctx;
  const int groups = j->s->c / 8, g0 = i * j->step, g1 = g0 + j->step < groups ? g0 + j->step : groups;

  for (int g = g0; g < g1; g++)
#ifdef TL_QUANT_X86
    if (use_avx2 ())
      wino_input_avx2 (j, g * 8);
    else
#endif
      wino_input_any (j, g * 8);
}

static void
wino_panels_chunk (void *ctx,
                   int   i)
{
  const Wino *j = ctx;
  const int panels = j->s->oc / PANEL, p0 = i * j->step;
  const int p1 = p0 + j->step < panels ? p0 + j->step : panels;

#ifdef TL_QUANT_X86
  if (use_avx2 ())
    wino_panels_avx2 (j, p0, p1);
  else
#endif
    wino_panels_any (j, p0, p1);
}

static void
winograd_forward (float               *out,
                  const float         *in,
                  const uint8_t       *qw,
                  const float         *bias,
                  const TlConv2dShape *s,
                  float               *ws)
{
  const int threads = tl_nn_get_threads (), panels = s->oc / PANEL, groups = s->c / 8;
  const int tiles = s->n * (s->oh / 2) * (s->ow / 2);
  Wino j = { out, ws, ws + (size_t) 16 * tiles * s->c, in, (const float *) qw,
             (const float *) qw + s->oc, bias, codes_of ((uint8_t *) qw, s->oc), s, tiles, 0 };

  j.step = (groups + threads - 1) / threads;
  tl_nn_parallel ((groups + j.step - 1) / j.step, wino_input_chunk, &j);
  /* two chunks a thread, for balance; each reads only its panels' codes */
  j.step = (panels + 2 * threads - 1) / (2 * threads);
  tl_nn_parallel_work ((panels + j.step - 1) / j.step, wino_panels_chunk, &j,
                       (double) tl_conv2d_flops (s) * 16 / 36 + 12.0 * 9 * s->c * s->oc);
}

void
tl_quant_conv2d_forward (float               *out,
                         const float         *in,
                         const uint8_t       *qw,
                         const float         *b,
                         const TlConv2dShape *s,
                         float               *ws)
{
  const int panels = s->oc / PANEL, threads = tl_nn_get_threads ();
  size_t from;
  const int k = tl_quant_conv2d_rows (s, &from);
  /* one tap: a 1×1 convolution, the image its own patches */
  const bool one_tap = k < s->kh * s->kw * s->c;
  Product g = { out, one_tap ? in : ws, s->oc, k, s->n * s->oh * s->ow, k, (const float *) qw,
                (const float *) qw + s->oc, codes_of ((uint8_t *) qw, s->oc), 1, NULL, 0,
                b, s, 0, false };
  float sx[FEW_ROWS];

  if (winograd_applies (s))
    {
      winograd_forward (out, in, qw, b, s, ws);
      return;
    }
  if (few_rows_apply (g.m))
    {
      if (!one_tap)
        tl_conv2d_im2col (ws, in, s);
      row_sums (sx, g.x, g.m, k);
      g.sx = sx;
    }
  else if (!one_tap && patches_in_place (s))
    g.in = in;
  else if (!one_tap)
    tl_conv2d_im2col (ws, in, s);
  /* two chunks a thread, for balance; each thread streams its own
   * panels' codes.  The work counts the codes' decoding too, which at
   * one output pixel is most of it: about as long as 12 FLOPs a code
   * (the encoder's 256-channel stride-2 layer to 1×1, 1.2 MFLOP on
   * 590 K codes, took 0.09 ms on one core) */
  g.step = (panels + 2 * threads - 1) / (2 * threads);
  tl_nn_parallel_work ((panels + g.step - 1) / g.step, product_chunk, &g,
                       (double) tl_conv2d_flops (s) + 12.0 * k * s->oc);
}

void
tl_quant_gemm16 (float         *c,
                 int            ldc,
                 const float   *x,
                 int            ldx,
                 int            m,
                 int            k,
                 int            n,
                 const uint8_t *w16)
{
  const float *a = (const float *) w16;
  Product g = { c, x, ldc, ldx, m, k, a, a + n, w16 + 2 * (size_t) n * sizeof (float), 2,
                NULL, 0, NULL, NULL, 0, false };

  run_panels (&g, 0, n / PANEL);
}

void
tl_quant_gemm_f32 (float       *c,
                   int          ldc,
                   const float *x,
                   int          ldx,
                   int          m,
                   int          k,
                   int          n,
                   const float *w,
                   int          ldw,
                   bool         add)
{
  Product g = { c, x, ldc, ldx, m, k, NULL, NULL, NULL, 4, w, ldw, NULL, NULL, 0, add };

  run_panels (&g, 0, n / PANEL);
}

/* ---- reference ---------------------------------------------------------------- */

void
tl_quant_conv2d_forward_ref (float               *out,
                             const float         *in,
                             const uint8_t       *qw,
                             const float         *b,
                             const TlConv2dShape *s)
{
  const float *a = (const float *) qw, *mn = a + s->oc;
  const uint8_t *codes = codes_of ((uint8_t *) qw, s->oc);
  size_t from;
  const int k = tl_quant_conv2d_rows (s, &from);
  /* the first tap the codes hold: all, or the one that meets the image */
  const int tap0 = (int) (from / ((size_t) s->c * s->oc));

  for (int n = 0; n < s->n; n++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        for (int o = 0; o < s->oc; o++)
          {
            double sum = b ? b[o] : 0.0;

            for (int ky = 0; ky < s->kh; ky++)
              for (int kx = 0; kx < s->kw; kx++)
                for (int i = 0; i < s->c; i++)
                  {
                    int iy = oy * s->stride - s->pad_t + ky;
                    int ix = ox * s->stride - s->pad_l + kx;
                    int row = (ky * s->kw + kx - tap0) * s->c + i;
                    double w;

                    if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                      continue;
                    w = (double) a[o] * codes[((size_t) (o / PANEL) * k + row) * PANEL + o % PANEL] + mn[o];
                    sum += (double) in[(((size_t) n * s->h + iy) * s->w + ix) * s->c + i] * w;
                  }
            if (s->act == TL_CONV_ACT_RELU && sum < 0.0)
              sum = 0.0;
            else if (s->act == TL_CONV_ACT_LEAKY && sum < 0.0)
              sum *= s->slope;
            out[(((size_t) n * s->oh + oy) * s->ow + ox) * s->oc + o] = (float) sum;
          }
}
