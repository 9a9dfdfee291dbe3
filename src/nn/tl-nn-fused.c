/* tl-nn-fused.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdatomic.h>

#include "tl-nn-fast.h"
#include "tl-nn-fused.h"
#include "tl-nn-private.h"
#include "tl-nn-simd.h"

/* A band's scratch is kept near this many floats (96 KiB): it stays in
 * L2 while the next layer of the chain reads it. */
#define BAND_FLOATS 24576

/* Pointwise products with at most this many input channels run on the
 * kernel below; wider ones on BLIS, whose packing then pays off. */
#define SMALL_K 64

static inline void
act_run (float               *o,
         int                  n,
         const TlConv2dShape *s)
{
  if (s->act != TL_CONV_ACT_NONE)
    tl_nn_fast_bias_act (o, NULL, 1, n, s);
}

/* What follows a pointwise product, on n floats of its output while they
 * are in cache; res and o2 point at the same position as o, or are NULL. */
typedef struct
{
  const TlNnChain *c;
  const TlConv2dShape *act;   /* the activation to apply here */
  const float     *res;
  float           *o2;
} Epilogue;

static void
epilogue (float          *o,
          size_t          at,
          int             n,
          const Epilogue *e)
{
  if (e->res)
    tl_nn_fast_add (o, o, e->res + at, n);
  act_run (o, n, e->act);
  if (e->o2 && e->c->act2 == TL_CONV_ACT_RELU)
    tl_nn_fast_relu (e->o2 + at, o, n);
  else if (e->o2)
    tl_nn_fast_leaky (e->o2 + at, o, e->c->slope2, n);
}

/* One output row of a 3×3 depthwise convolution.  rows[ky] is the input
 * row under tap row ky, NULL where it falls in the padding.  Eight
 * channels at a time, their nine taps held in registers along the row. */
SIMD static void
dw3_row (float *restrict o, const float *const rows[3], const float *restrict w,
         const float *restrict b, const TlConv2dShape *s)
{
  const int c = s->c, st = s->stride, pl = s->pad_l, iw = s->w;
  const float *r[3];
  /* output columns whose three taps all lie inside the row */
  int lo = (pl + st - 1) / st, hi = iw - 3 + pl >= 0 ? (iw - 3 + pl) / st + 1 : lo;

  if (hi > s->ow)
    hi = s->ow;
  if (hi < lo)
    hi = lo;
  for (int ky = 0; ky < 3; ky++)
    r[ky] = rows[ky] ? rows[ky] : rows[1] ? rows[1] : rows[0] ? rows[0] : rows[2];

  /* Strips of columns, all channels of a strip before the next: three
   * input rows of a whole row do not fit L1, a strip's do. */
  for (int x0 = lo; x0 < hi; x0 += 32)
    for (int q = 0; q < c; q += 8)
      {
        v8sf k[9], bias = b ? load8 (b + q) : (v8sf) { 0 };
        int x1 = x0 + 32 < hi ? x0 + 32 : hi, ox = x0;

        for (int t = 0; t < 9; t++)
          k[t] = rows[t / 3] ? load8 (w + (size_t) t * c + q) : (v8sf) { 0 };

        /* stride 1: two pixels share two of their three columns */
        for (; st == 1 && ox + 2 <= x1; ox += 2)
          {
            size_t at = (size_t) (ox - pl) * c + q;
            v8sf a = bias, d = bias;

            for (int ky = 0; ky < 3; ky++)
              {
                const float *p = r[ky] + at;
                v8sf x0v = load8 (p), x1v = load8 (p + c), x2v = load8 (p + 2 * c);
                v8sf x3v = load8 (p + 3 * c);

                a += x0v * k[3 * ky] + x1v * k[3 * ky + 1] + x2v * k[3 * ky + 2];
                d += x1v * k[3 * ky] + x2v * k[3 * ky + 1] + x3v * k[3 * ky + 2];
              }
            store8 (o + (size_t) ox * c + q, a);
            store8 (o + (size_t) (ox + 1) * c + q, d);
          }
        for (; ox < x1; ox++)
          {
            size_t at = (size_t) (ox * st - pl) * c + q;
            const float *p0 = r[0] + at, *p1 = r[1] + at, *p2 = r[2] + at;
            v8sf a0 = bias + load8 (p0) * k[0] + load8 (p0 + c) * k[1] + load8 (p0 + 2 * c) * k[2];
            v8sf a1 = load8 (p1) * k[3] + load8 (p1 + c) * k[4] + load8 (p1 + 2 * c) * k[5];
            v8sf a2 = load8 (p2) * k[6] + load8 (p2 + c) * k[7] + load8 (p2 + 2 * c) * k[8];

            store8 (o + (size_t) ox * c + q, a0 + a1 + a2);
          }
      }
  for (int q = 0; q < c; q += 8)
    {
      v8sf k[9], bias = b ? load8 (b + q) : (v8sf) { 0 };

      for (int t = 0; t < 9; t++)
        k[t] = rows[t / 3] ? load8 (w + (size_t) t * c + q) : (v8sf) { 0 };
      /* the columns at the edges, tap by tap */
      for (int ox = 0; ox < s->ow; ox++)
        {
          v8sf a = bias;

          if (ox == lo && hi > lo)
            ox = hi;
          if (ox >= s->ow)
            break;
          for (int kx = 0; kx < 3; kx++)
            {
              int ix = ox * st - pl + kx;

              if (ix < 0 || ix >= iw)
                continue;
              for (int ky = 0; ky < 3; ky++)
                a += load8 (r[ky] + (size_t) ix * c + q) * k[ky * 3 + kx];
            }
          store8 (o + (size_t) ox * c + q, a);
        }
    }
  act_run (o, s->ow * c, s);
}

/* Output row oy of image n of a depthwise 3×3 convolution. */
static void
dw3_output_row (float               *o,
                const float         *in,
                const float         *w,
                const float         *b,
                const TlConv2dShape *s,
                int                  n,
                int                  oy)
{
  const float *rows[3];

  for (int ky = 0; ky < 3; ky++)
    {
      int iy = oy * s->stride - s->pad_t + ky;

      rows[ky] = iy >= 0 && iy < s->h ? in + (((size_t) n * s->h + iy) * s->w) * s->c : NULL;
    }
  if (rows[0] == NULL && rows[1] == NULL && rows[2] == NULL)
    {
      /* all padding (a padding of 3 or more): the bias alone */
      for (int x = 0; x < s->ow; x++)
        for (int q = 0; q < s->c; q++)
          o[(size_t) x * s->c + q] = b ? b[q] : 0.0f;
      tl_nn_fast_bias_act (o, NULL, 1, s->ow * s->c, s);
      return;
    }
  dw3_row (o, rows, w, b, s);
}

/* out[m][n] = act (b + a[m][k] × w[k][n]) for n a multiple of 16: six
 * rows by sixteen columns in twelve accumulators, A read as it lies (no
 * packing: k is small and the band is in cache), the epilogue done on
 * the rows while they are in L1. */
SIMD static void
pointwise_small_k (float *restrict out, const float *restrict a, const float *restrict w,
                   const float *restrict b, int m, int k, int n, const Epilogue *e)
{
  int i = 0, done = 0;

  for (; i + 6 <= m; i += 6)
    {
      for (int j = 0; j < n; j += 16)
        {
          const float *restrict ap = a + (size_t) i * k;
          const float *restrict wp = w + j;
          v8sf acc[6][2];

          for (int u = 0; u < 6; u++)
            {
              acc[u][0] = b ? load8 (b + j) : (v8sf) { 0 };
              acc[u][1] = b ? load8 (b + j + 8) : (v8sf) { 0 };
            }
          for (int t = 0; t < k; t++, wp += n)
            {
              v8sf w0 = load8 (wp), w1 = load8 (wp + 8);

              for (int u = 0; u < 6; u++)
                {
                  acc[u][0] += ap[(size_t) u * k + t] * w0;
                  acc[u][1] += ap[(size_t) u * k + t] * w1;
                }
            }
          for (int u = 0; u < 6; u++)
            {
              float *o = out + (size_t) (i + u) * n + j;

              store8 (o, acc[u][0]);
              store8 (o + 8, acc[u][1]);
            }
        }
      /* the epilogue every 48 rows: in L1 still, few calls */
      if (i + 6 - done >= 48)
        {
          epilogue (out + (size_t) done * n, (size_t) done * n, (i + 6 - done) * n, e);
          done = i + 6;
        }
    }
  for (; i < m; i++)
    {
      for (int j = 0; j < n; j += 16)
        {
          const float *restrict ap = a + (size_t) i * k;
          const float *restrict wp = w + j;
          v8sf a0 = b ? load8 (b + j) : (v8sf) { 0 }, a1 = b ? load8 (b + j + 8) : (v8sf) { 0 };

          for (int t = 0; t < k; t++, wp += n)
            {
              a0 += ap[t] * load8 (wp);
              a1 += ap[t] * load8 (wp + 8);
            }
          store8 (out + (size_t) i * n + j, a0);
          store8 (out + (size_t) i * n + j + 8, a1);
        }
    }
  if (done < m)
    epilogue (out + (size_t) done * n, (size_t) done * n, (m - done) * n, e);
}

/* One row of a 2×2 max pool from the two input rows under it (the same
 * row twice where the window hangs over the edge: padding never counts),
 * then the activation s->act.  A ReLU or leaky ReLU rises monotonically,
 * so it gives the same values after the pool as before it, on a quarter
 * of them. */
SIMD static void
pool2_row (float *restrict o, const float *r0, const float *r1, const TlPoolShape *p,
           const TlConv2dShape *s)
{
  const int c = p->c;
  float *row = o;

  for (int ox = 0; ox < p->ow; ox++, o += c)
    {
      int x = ox * p->stride - p->pad_l;
      int xa = x < 0 ? 0 : x, xb = x + 1 >= p->w ? p->w - 1 : x + 1;
      const float *restrict a0 = r0 + (size_t) xa * c, *restrict a1 = r0 + (size_t) xb * c;
      const float *restrict b0 = r1 + (size_t) xa * c, *restrict b1 = r1 + (size_t) xb * c;
      int j = 0;

      /* eight at a time: one vector max per pair, no loop set-up */
      for (; j + 8 <= c; j += 8)
        for (int l = j; l < j + 8; l++)
          {
            float m0 = a0[l] > a1[l] ? a0[l] : a1[l];
            float m1 = b0[l] > b1[l] ? b0[l] : b1[l];
            o[l] = m0 > m1 ? m0 : m1;
          }
      for (; j < c; j++)
        {
          float m0 = a0[j] > a1[j] ? a0[j] : a1[j];
          float m1 = b0[j] > b1[j] ? b0[j] : b1[j];
          o[j] = m0 > m1 ? m0 : m1;
        }
    }
  act_run (row, p->ow * c, s);
}

/* The second half of a 2×2 max pool after the first (the larger of two
 * rows' already paired values), then the activation. */
SIMD static void
vmax_row (float *restrict o, const float *r0, const float *r1, int n,
          const TlConv2dShape *s)
{
  for (int i = 0; i < n; i++)
    o[i] = r0[i] > r1[i] ? r0[i] : r1[i];
  act_run (o, n, s);
}

/* One row of a 3×3 max pool from the three input rows under it (the
 * nearest row inside where the window hangs over the edge: padding never
 * counts), then the activation, as in pool2_row (). */
SIMD static void
pool3_row (float *restrict o, const float *const r[3], const TlPoolShape *p,
           const TlConv2dShape *s)
{
  const int c = p->c;
  float *row = o;

  for (int ox = 0; ox < p->ow; ox++, o += c)
    {
      int x = ox * p->stride - p->pad_l, xs[3];

      for (int k = 0; k < 3; k++)
        xs[k] = x + k < 0 ? 0 : x + k >= p->w ? p->w - 1 : x + k;
      for (int j = 0; j < c; j++)
        {
          float m = r[0][(size_t) xs[0] * c + j];

          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                float v = r[ky][(size_t) xs[kx] * c + j];
                m = v > m ? v : m;
              }
          o[j] = m;
        }
    }
  act_run (row, p->ow * c, s);
}

/* ---- chains -------------------------------------------------------------- */

static bool
is_dw3 (const TlConv2dShape *s)
{
  return s->groups == s->c && s->oc == s->c && s->kh == 3 && s->kw == 3 &&
         s->c % 8 == 0 && s->stride <= 2;
}

static bool
is_pointwise (const TlConv2dShape *s)
{
  return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->groups == 1 &&
         s->pad_t == 0 && s->pad_l == 0;
}

/* The convolution rows [c0, c1) that output rows [f0, f1) need. */
static void
conv_rows_for (const TlNnChain *c,
               int              f0,
               int              f1,
               int             *c0,
               int             *c1)
{
  if (!c->has_pool)
    {
      *c0 = f0;
      *c1 = f1;
      return;
    }
  *c0 = f0 * c->pool.stride - c->pool.pad_t;
  *c1 = (f1 - 1) * c->pool.stride - c->pool.pad_t + c->pool.k;
  if (*c0 < 0)
    *c0 = 0;
  if (*c1 > c->conv.oh)
    *c1 = c->conv.oh;
}

static int
out_rows (const TlNnChain *c)
{
  return c->has_pool ? c->pool.oh : c->conv.oh;
}

/* The scratch of one band: depthwise rows, then convolution rows. */
static size_t
dw_floats (const TlNnChain *c,
           int              rows)
{
  return c->has_dw ? tl_nn_round16 ((size_t) rows * c->conv.w * c->conv.c) : 0;
}

/* The first convolution before a pool of stride 2 keeps only the larger
 * of each two horizontal neighbours (tl_nn_fast_direct_rows ()): half the
 * rows to write and to pool. */
static bool
pairs_first (const TlNnChain *c)
{
  return !c->has_dw && c->has_pool && c->pool.k == 2 && c->pool.stride == 2 && c->pool.pad_l == 0 &&
         c->pool.ow * 2 == c->conv.ow && tl_nn_fast_direct_pairs_ok (&c->conv);
}

static size_t
conv_floats (const TlNnChain *c,
             int              rows)
{
  int ow = pairs_first (c) ? c->conv.ow / 2 : c->conv.ow;

  return c->has_pool ? tl_nn_round16 ((size_t) rows * ow * c->conv.oc) : 0;
}

bool
tl_nn_chain_plan (TlNnChain *c,
                  int        threads)
{
  const TlConv2dShape *v = &c->conv;
  int f = out_rows (c), per_row, rows, bands, split, c0, c1;

  if (threads < 1)
    threads = 1;
  if (threads > 32)
    threads = 32;
  if (c->has_dw)
    {
      if (!is_dw3 (&c->dw) || c->dw.act != TL_CONV_ACT_NONE || !is_pointwise (v) ||
          c->dw.n != v->n || c->dw.oh != v->h || c->dw.ow != v->w || c->dw.oc != v->c)
        return false;
    }
  else if (!(v->groups == 1 && v->c <= 4 && v->oc % 16 == 0 && c->has_pool &&
             (c->pool.k == 3 ? v->kh <= 7 && v->kw <= 7 : v->kh <= 3 && v->kw <= 3)))
    return false;
  if ((c->has_residual || c->act2 != TL_CONV_ACT_NONE) && (c->has_pool || !c->has_dw))
    return false;
  if (c->has_pool &&
      (c->pool.k < 2 || c->pool.k > 3 || c->pool.stride < 1 || c->pool.stride > 2 ||
       (c->pool.k == 3 && (c->has_dw || c->pool.stride != 2)) || c->pool.pad_t > 1 ||
       c->pool.pad_l > 1 || c->pool.n != v->n ||
       c->pool.h != v->oh || c->pool.w != v->ow || c->pool.c != v->oc))
    return false;
  split = tl_nn_chain_flops (c) / v->n < TL_NN_SPLIT_MIN_FLOPS ? 1 : threads;
  c->slots = threads;
  c->split = split > 1;

  if (c->has_pool && c->pool.k == 3)
    {
      /* The encoder's stem: a 3×3 pool of stride 2 after the first
       * convolution.  Two bands a thread (for balance; each band's edge
       * computes a convolution row that the next also computes), each
       * run in steps of pool_step output rows whose convolution rows fit
       * in the scratch, the row two steps share kept (pool3_band ()). */
      int per_conv_row = v->ow * v->oc;

      bands = split > 1 ? 2 * split : 1;
      bands = bands < f ? bands : f;
      c->band_rows = (f + bands - 1) / bands;
      c->pool_step = (BAND_FLOATS / per_conv_row - 3) / 2 + 1;
      if (c->pool_step < 1)
        c->pool_step = 1;
      if (c->pool_step > c->band_rows)
        c->pool_step = c->band_rows;
      c->slot_floats = conv_floats (c, 2 * c->pool_step + 1);
      return true;
    }

  /* Rows of the chain's output per band: the scratch near BAND_FLOATS,
   * at least one band a thread, as many bands for each thread, of equal
   * heights; an overlapping pool computes a row twice at each band's
   * edge, so it gets no more bands than threads.  A small chain is not
   * split (TL_NN_SPLIT_MIN_FLOPS). */
  per_row = (c->has_dw ? v->w * v->c : 0) + (c->has_pool ? v->ow * v->oc : 0);
  rows = per_row > 0 ? BAND_FLOATS / per_row : f;
  if (c->has_pool)
    rows = rows / c->pool.stride;
  if (rows < 1)
    rows = 1;
  if (c->has_pool && c->pool.stride == 1)
    rows = f;
  bands = (f + rows - 1) / rows;
  bands = (bands + split - 1) / split * split;
  rows = (f + bands - 1) / bands;
  c->band_rows = rows;
  conv_rows_for (c, 0, rows, &c0, &c1);
  /* the first band is a tallest one (later ones may lose a padding row) */
  if (c->has_pool)
    c1 = c0 + (rows - 1) * c->pool.stride + 2;
  c->slot_floats = dw_floats (c, c1 - c0) + conv_floats (c, c1 - c0);
  return true;
}

size_t
tl_nn_chain_workspace (const TlNnChain *c)
{
  return (size_t) (c->split ? c->slots : 1) * c->slot_floats;
}

double
tl_nn_chain_flops (const TlNnChain *c)
{
  return (double) tl_conv2d_flops (&c->conv) + (c->has_dw ? (double) tl_conv2d_flops (&c->dw) : 0);
}

typedef struct
{
  const TlNnChainArgs *a;
  const TlNnChain *c;
  float           *ws;
  int              bands;     /* per image */
  atomic_uint      busy;      /* a bit per slot in use */
} ChainJob;

static int
claim_slot (ChainJob *j)
{
  for (;;)
    {
      unsigned v = atomic_load (&j->busy);

      for (int k = 0; k < j->c->slots; k++)
        if (!(v & (1u << k)))
          {
            if (atomic_compare_exchange_weak (&j->busy, &v, v | (1u << k)))
              return k;
            break;
          }
    }
}

/* Convolution rows [c0, c1) of image n into dst; without a pool, dst is
 * their place in the output (where the residual and second output are
 * found, at the same offset). */
static void
conv_rows (const ChainJob *j,
           float          *scratch,
           float          *dst,
           int             n,
           int             c0,
           int             c1)
{
  const TlNnChain *c = j->c;
  const TlNnChainArgs *a = j->a;
  const TlConv2dShape *v = &c->conv;
  int m = (c1 - c0) * v->ow;
  size_t at = ((size_t) n * v->oh + c0) * v->ow * v->oc;
  /* before a pool, the activation waits for the pool (pool2_row ()) */
  TlConv2dShape act = *v;
  Epilogue e = { c, &act, c->has_residual ? a->residual + at : NULL,
                 c->act2 != TL_CONV_ACT_NONE ? a->out2 + at : NULL };

  if (c->has_pool)
    act.act = TL_CONV_ACT_NONE;
  if (!c->has_dw)
    {
      /* always before a pool, whose activation waits */
      tl_nn_fast_direct_rows (dst, a->in, a->w, a->b, v, n * v->oh + c0, n * v->oh + c1,
                              pairs_first (c));
      return;
    }
  for (int r = c0; r < c1; r++)
    dw3_output_row (scratch + (size_t) (r - c0) * v->w * v->c, a->in, a->dw_w, a->dw_b,
                    &c->dw, n, r);
  if (v->c <= SMALL_K && v->oc % 16 == 0)
    pointwise_small_k (dst, scratch, a->w, a->b, m, v->c, v->oc, &e);
  else
    {
      tl_gemm_1 (false, false, m, v->oc, v->c, 1.0f, scratch, v->c, a->w, v->oc,
                 0.0f, dst, v->oc);
      if (e.res == NULL && e.o2 == NULL)
        tl_nn_fast_bias_act (dst, a->b, m, v->oc, &act);
      else
        {
          const TlConv2dShape bias_only = { .act = TL_CONV_ACT_NONE };

          tl_nn_fast_bias_act (dst, a->b, m, v->oc, &bias_only);
          epilogue (dst, 0, m * v->oc, &e);
        }
    }
}

/* Output rows [f0, f1) of image n of a chain whose pool is 3×3 of
 * stride 2 (no depthwise), in steps of c->pool_step rows: each step's
 * convolution rows into `rows`, less the one the step before computed,
 * moved down to their place. */
static void
pool3_band (const ChainJob *j,
            float          *rows,
            int             n,
            int             f0,
            int             f1)
{
  const TlNnChain *c = j->c;
  const TlConv2dShape *v = &c->conv;
  const size_t len = (size_t) v->ow * v->oc;
  int lo = 0, hi = 0;           /* the convolution rows in `rows` */

  for (int y0 = f0; y0 < f1; y0 += c->pool_step)
    {
      int y1 = y0 + c->pool_step < f1 ? y0 + c->pool_step : f1, c0, c1, from;

      conv_rows_for (c, y0, y1, &c0, &c1);
      from = c0;
      if (c0 >= lo && c0 < hi)
        {
          memmove (rows, rows + (size_t) (c0 - lo) * len, (size_t) (hi - c0) * len * sizeof (float));
          from = hi;
        }
      if (from < c1)
        conv_rows (j, NULL, rows + (size_t) (from - c0) * len, n, from, c1);
      lo = c0;
      hi = c1;
      for (int y = y0; y < y1; y++)
        {
          const float *r[3];

          for (int k = 0; k < 3; k++)
            {
              int cy = y * c->pool.stride - c->pool.pad_t + k;

              cy = cy < 0 ? 0 : cy >= v->oh ? v->oh - 1 : cy;
              r[k] = rows + (size_t) (cy - c0) * len;
            }
          pool3_row (j->a->out + ((size_t) n * c->pool.oh + y) * c->pool.ow * v->oc, r,
                     &c->pool, v);
        }
    }
}

static void
chain_band (void *ctx,
            int   i)
{
  ChainJob *j = ctx;
  const TlNnChain *c = j->c;
  const TlConv2dShape *v = &c->conv;
  int n = i / j->bands, f = out_rows (c);
  int f0 = i % j->bands * c->band_rows;
  int f1 = f0 + c->band_rows < f ? f0 + c->band_rows : f;
  int slot = claim_slot (j), c0, c1;
  bool pairs = pairs_first (c);
  float *scratch = j->ws + (size_t) slot * c->slot_floats, *rows;

  if (c->has_pool && c->pool.k == 3)
    {
      pool3_band (j, scratch, n, f0, f1);
      atomic_fetch_and (&j->busy, ~(1u << slot));
      return;
    }
  conv_rows_for (c, f0, f1, &c0, &c1);
  if (!c->has_pool)
    {
      conv_rows (j, scratch, j->a->out + ((size_t) n * v->oh + c0) * v->ow * v->oc, n, c0, c1);
      atomic_fetch_and (&j->busy, ~(1u << slot));
      return;
    }
  rows = scratch + dw_floats (c, c1 - c0);
  conv_rows (j, scratch, rows, n, c0, c1);
  for (int y = f0; y < f1; y++)
    {
      int ya = y * c->pool.stride - c->pool.pad_t, yb = ya + 1;

      if (ya < 0)
        ya = 0;
      if (yb >= v->oh)
        yb = v->oh - 1;
      if (pairs)
        vmax_row (j->a->out + ((size_t) n * f + y) * c->pool.ow * v->oc,
                  rows + (size_t) (ya - c0) * c->pool.ow * v->oc,
                  rows + (size_t) (yb - c0) * c->pool.ow * v->oc, c->pool.ow * v->oc, v);
      else
        pool2_row (j->a->out + ((size_t) n * f + y) * c->pool.ow * v->oc,
                   rows + (size_t) (ya - c0) * v->ow * v->oc,
                   rows + (size_t) (yb - c0) * v->ow * v->oc, &c->pool, v);
    }
  atomic_fetch_and (&j->busy, ~(1u << slot));
}

void
tl_nn_chain_forward (const TlNnChainArgs *a,
                     const TlNnChain     *c,
                     float               *ws)
{
  int f = out_rows (c);
  ChainJob j = { a, c, ws, (f + c->band_rows - 1) / c->band_rows };

  atomic_init (&j.busy, 0);
  if (c->split)
    tl_nn_parallel (c->conv.n * j.bands, chain_band, &j);
  else
    for (int i = 0; i < c->conv.n * j.bands; i++)
      chain_band (&j, i);
}

/* ---- depthwise on its own ------------------------------------------------ */

typedef struct
{
  float               *out;
  const float         *in, *w, *b;
  const TlConv2dShape *s;
  int                  step;
} DwJob;

static void
dw_band (void *ctx,
         int   i)
{
  const DwJob *j = ctx;
  const TlConv2dShape *s = j->s;
  int rows = s->n * s->oh;
  int r1 = (i + 1) * j->step < rows ? (i + 1) * j->step : rows;

  for (int r = i * j->step; r < r1; r++)
    dw3_output_row (j->out + (size_t) r * s->ow * s->oc, j->in, j->w, j->b, s,
                    r / s->oh, r % s->oh);
}

bool
tl_nn_depthwise3_forward (float               *out,
                          const float         *in,
                          const float         *w,
                          const float         *b,
                          const TlConv2dShape *s)
{
  int rows = s->n * s->oh, threads = tl_nn_get_threads ();
  /* bands of at least 32 K outputs, a few a thread */
  int min_rows = 32768 / (s->ow * s->oc) + 1;
  DwJob j = { out, in, w, b, s, (rows + 4 * threads - 1) / (4 * threads) };

  if (!is_dw3 (s))
    return false;
  if (j.step < min_rows)
    j.step = min_rows;
  tl_nn_parallel_work ((rows + j.step - 1) / j.step, dw_band, &j, (double) tl_conv2d_flops (s));
  return true;
}
