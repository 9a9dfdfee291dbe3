/* tl-nn-conv.c — 2-D convolution, forward and backward, NHWC
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fast paths: 1×1 stride-1 unpadded → one GEMM over the input as it lies;
 * depthwise (groups == c) → a direct loop over taps whose inner loop runs
 * across contiguous channels (the compiler vectorises it); everything else
 * → im2col into the workspace and one GEMM per group.  The im2col matrix
 * is laid out [row][group][kh][kw][c/groups], so group g's slice is a
 * plain strided matrix (offset g·K, row stride groups·K) that BLIS takes
 * directly.
 */
#include <string.h>

#include "tl-nn-fast.h"
#include "tl-nn-layers.h"
#include "tl-nn-private.h"
#include "tl-nn-quant.h"

static bool
pad_for (int  in,
         int  k,
         int  stride,
         int  pad,
         int *out,
         int *before)
{
  if (pad == TL_PAD_SAME)
    {
      int o = (in + stride - 1) / stride;
      int total = (o - 1) * stride + k - in;

      if (total < 0)
        total = 0;
      *out = o;
      *before = total / 2;
      return o > 0;
    }
  if (pad < 0 || in + 2 * pad < k)
    return false;
  *out = (in + 2 * pad - k) / stride + 1;
  *before = pad;
  return *out > 0;
}

bool
tl_conv2d_shape (TlConv2dShape *s,
                 int            n,
                 int            h,
                 int            w,
                 int            c,
                 int            oc,
                 int            kh,
                 int            kw,
                 int            stride,
                 int            pad,
                 int            groups)
{
  memset (s, 0, sizeof *s);
  /* Bounds first: with them no sum or product below can overflow. */
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0 || oc <= 0 || kh <= 0 ||
      kw <= 0 || stride <= 0 || groups <= 0 || n > (1 << 20) ||
      h > (1 << 16) || w > (1 << 16) || c > (1 << 20) || oc > (1 << 20) ||
      kh > 1024 || kw > 1024 || stride > 1024 || pad < TL_PAD_SAME ||
      pad > 1024 || c % groups != 0 || oc % groups != 0)
    return false;
  s->n = n; s->h = h; s->w = w; s->c = c;
  s->oc = oc; s->kh = kh; s->kw = kw; s->stride = stride; s->groups = groups;
  return pad_for (h, kh, stride, pad, &s->oh, &s->pad_t) &&
         pad_for (w, kw, stride, pad, &s->ow, &s->pad_l);
}

static bool
is_pointwise (const TlConv2dShape *s)
{
  return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->groups == 1 &&
         s->pad_t == 0 && s->pad_l == 0;
}

static bool
is_depthwise (const TlConv2dShape *s)
{
  return s->groups == s->c && s->groups > 1;
}

static size_t
cols_size (const TlConv2dShape *s)
{
  return (size_t) s->n * s->oh * s->ow * s->kh * s->kw * s->c;
}

size_t
tl_conv2d_workspace (const TlConv2dShape *s)
{
  return is_pointwise (s) || is_depthwise (s) ? 0 : cols_size (s);
}

size_t
tl_conv2d_backward_workspace (const TlConv2dShape *s)
{
  return is_pointwise (s) || is_depthwise (s) ? 0 : 2 * cols_size (s);
}

int64_t
tl_conv2d_flops (const TlConv2dShape *s)
{
  return (int64_t) 2 * s->n * s->oh * s->ow * s->oc *
         (s->kh * s->kw * (s->c / s->groups));
}

/* Short runs (the first layer copies 21 floats at a time) cost more in
 * memcpy's call and dispatch than in copying. */
static inline void
copy_floats (float       *restrict dst,
             const float *restrict src,
             size_t                n)
{
  if (n >= 64)
    {
      memcpy (dst, src, n * sizeof (float));
      return;
    }
  for (size_t i = 0; i < n; i++)
    dst[i] = src[i];
}

/* One row of kernel taps (fixed ky) for groups == 1: the in-image taps
 * are contiguous in NHWC (kw·c floats at most), so each row is one copy
 * plus zeros for the taps that fall in the padding. */
static inline void
im2col_row (float               *dst,
            const float         *img,
            int                  iy,
            int                  ox,
            const TlConv2dShape *s)
{
  int ix0 = ox * s->stride - s->pad_l;
  int kx0 = ix0 < 0 ? -ix0 : 0;
  int kx1 = ix0 + s->kw > s->w ? s->w - ix0 : s->kw;

  if (iy < 0 || iy >= s->h || kx1 <= kx0)
    {
      memset (dst, 0, (size_t) s->kw * s->c * sizeof (float));
      return;
    }
  if (kx0 > 0)
    memset (dst, 0, (size_t) kx0 * s->c * sizeof (float));
  copy_floats (dst + (size_t) kx0 * s->c, img + ((size_t) iy * s->w + ix0 + kx0) * s->c,
               (size_t) (kx1 - kx0) * s->c);
  if (kx1 < s->kw)
    memset (dst + (size_t) kx1 * s->c, 0, (size_t) (s->kw - kx1) * s->c * sizeof (float));
}

/* GEMM rows [p0, p1), i.e. output pixels of the flattened (image, oy, ox)
 * index, each written at its own row of cols. */
TL_NN_HOT static void
im2col_rows (float               *cols,
             const float         *in,
             const TlConv2dShape *s,
             int                  p0,
             int                  p1)
{
  int cg = s->c / s->groups;
  size_t row_len = (size_t) s->kh * s->kw * s->c;

  for (int p = p0; p < p1; p++)
    {
      int b = p / (s->oh * s->ow), oy = p / s->ow % s->oh, ox = p % s->ow;
      float *row = cols + (size_t) p * row_len;
      const float *img = in + (size_t) b * s->h * s->w * s->c;

      if (s->groups == 1)
        {
          for (int ky = 0; ky < s->kh; ky++)
            im2col_row (row + (size_t) ky * s->kw * s->c, img,
                        oy * s->stride - s->pad_t + ky, ox, s);
          continue;
        }
      for (int g = 0; g < s->groups; g++)
        for (int ky = 0; ky < s->kh; ky++)
          {
            int iy = oy * s->stride - s->pad_t + ky;

            for (int kx = 0; kx < s->kw; kx++, row += cg)
              {
                int ix = ox * s->stride - s->pad_l + kx;

                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                  memset (row, 0, cg * sizeof (float));
                else
                  memcpy (row, img + ((size_t) iy * s->w + ix) * s->c + g * cg,
                          cg * sizeof (float));
              }
          }
    }
}

typedef struct
{
  float               *cols, *out;
  const float         *in, *w, *b;
  const TlConv2dShape *s;
  int                  step;
  bool                 gemm;
} Im2colJob;

/* Output pixels [p0, p1): their patches, then (when gemm) the GEMMs and
 * the epilogue, on the thread that wrote the patches. */
static void
im2col_block (const Im2colJob *j,
              int              p0,
              int              p1)
{
  const TlConv2dShape *s = j->s;
  int cg = s->c / s->groups, ocg = s->oc / s->groups, kg = s->kh * s->kw * cg;

  if (j->gemm && s->kh == 1 && s->kw == 1 && s->stride == 1 && s->groups == 1 &&
      s->pad_t == 0 && s->pad_l == 0)
    {
      /* pointwise: the input is the matrix */
      tl_gemm_1 (false, false, p1 - p0, s->oc, s->c, 1.0f, j->in + (size_t) p0 * s->c, s->c,
                 j->w, s->oc, 0.0f, j->out + (size_t) p0 * s->oc, s->oc);
      tl_nn_fast_bias_act (j->out + (size_t) p0 * s->oc, j->b, p1 - p0, s->oc, s);
      return;
    }
  im2col_rows (j->cols, j->in, s, p0, p1);
  if (!j->gemm)
    return;
  if (s->groups == 1 && s->oc % 16 == 0)
    {
      /* The engine's panel kernel reads the weights where they lie, in
       * order; BLIS would pack them again for every band (the encoder's
       * 3×3/2 32 → 64 layer: four bands, 74 KB each, a pass).  Each
       * row's sums run over k in order whatever the band: the same bits
       * on any number of threads. */
      tl_quant_gemm_f32 (j->out + (size_t) p0 * s->oc, s->oc, j->cols + (size_t) p0 * kg, kg,
                         p1 - p0, kg, s->oc, j->w, s->oc, false);
      tl_nn_fast_bias_act (j->out + (size_t) p0 * s->oc, j->b, p1 - p0, s->oc, s);
      return;
    }
  for (int g = 0; g < s->groups; g++)
    tl_gemm_1 (false, false, p1 - p0, ocg, kg, 1.0f,
               j->cols + (size_t) p0 * s->groups * kg + (size_t) g * kg, s->groups * kg,
               j->w + (size_t) g * ocg, s->oc,
               0.0f, j->out + (size_t) p0 * s->oc + (size_t) g * ocg, s->oc);
  /* bias and activation while the band's output is still in cache */
  tl_nn_fast_bias_act (j->out + (size_t) p0 * s->oc, j->b, p1 - p0, s->oc, s);
}

/* One band of output pixels, in blocks. */
static void
im2col_chunk (void *ctx,
              int   i)
{
  const Im2colJob *j = ctx;
  const TlConv2dShape *s = j->s;
  int rows = s->n * s->oh * s->ow;
  int p0 = i * j->step, p1 = p0 + j->step < rows ? p0 + j->step : rows;
  /* Blocks of about 128 KiB of output (a multiple of the micro-kernel's 6
   * rows), so that the epilogue finds them in L2. */
  int block = (32768 / s->oc) / 6 * 6;

  if (j->gemm && block >= 192 && p1 - p0 > block + block / 2)
    {
      for (int q = p0; q < p1; q += block)
        im2col_block (j, q, q + block < p1 ? q + block : p1);
      return;
    }
  im2col_block (j, p0, p1);
}

/* Two bands per thread (one band on one thread): fewer, larger GEMMs run
 * faster than cache-sized ones, measured; two per thread rebalance a late
 * thread's share. */
static int
band_rows (int rows)
{
  int threads = tl_nn_get_threads ();
  int step = threads > 1 ? (rows + 2 * threads - 1) / (2 * threads) : rows;

  return step > 0 ? step : 1;
}

void
tl_conv2d_im2col (float               *cols,
                  const float         *in,
                  const TlConv2dShape *s)
{
  int rows = s->n * s->oh * s->ow;
  Im2colJob j = { cols, NULL, in, NULL, NULL, s, band_rows (rows), false };

  tl_nn_parallel ((rows + j.step - 1) / j.step, im2col_chunk, &j);
}

TL_NN_HOT static void
col2im_add (float               *din,
            const float         *cols,
            const TlConv2dShape *s)
{
  int cg = s->c / s->groups;
  size_t row_len = (size_t) s->kh * s->kw * s->c;

  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *row = cols + (((size_t) b * s->oh + oy) * s->ow + ox) * row_len;
          float *img = din + (size_t) b * s->h * s->w * s->c;

          for (int g = 0; g < s->groups; g++)
            for (int ky = 0; ky < s->kh; ky++)
              {
                int iy = oy * s->stride - s->pad_t + ky;

                for (int kx = 0; kx < s->kw; kx++, row += cg)
                  {
                    int ix = ox * s->stride - s->pad_l + kx;
                    float *dst;

                    if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                      continue;
                    dst = img + ((size_t) iy * s->w + ix) * s->c + g * cg;
                    for (int q = 0; q < cg; q++)
                      dst[q] += row[q];
                  }
              }
        }
}

TL_NN_HOT static void
depthwise_forward (float               *out,
                   const float         *in,
                   const float         *w,
                   const float         *bias,
                   const TlConv2dShape *s)
{
  int oc = s->oc, mult = s->oc / s->c;

  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          float *restrict o = out + (((size_t) b * s->oh + oy) * s->ow + ox) * oc;

          if (bias)
            memcpy (o, bias, oc * sizeof (float));
          else
            memset (o, 0, oc * sizeof (float));
          for (int ky = 0; ky < s->kh; ky++)
            {
              int iy = oy * s->stride - s->pad_t + ky;

              if (iy < 0 || iy >= s->h)
                continue;
              for (int kx = 0; kx < s->kw; kx++)
                {
                  int ix = ox * s->stride - s->pad_l + kx;
                  const float *restrict ip, *restrict wt;

                  if (ix < 0 || ix >= s->w)
                    continue;
                  ip = in + (((size_t) b * s->h + iy) * s->w + ix) * s->c;
                  wt = w + ((size_t) ky * s->kw + kx) * oc;
                  if (mult == 1)
                    for (int q = 0; q < oc; q++)
                      o[q] += ip[q] * wt[q];
                  else
                    for (int q = 0; q < oc; q++)
                      o[q] += ip[q / mult] * wt[q];
                }
            }
        }
}

TL_NN_HOT static void
depthwise_backward (float               *din,
                    float               *dw,
                    const float         *dout,
                    const float         *in,
                    const float         *w,
                    const TlConv2dShape *s)
{
  int oc = s->oc, mult = s->oc / s->c;

  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *restrict d = dout + (((size_t) b * s->oh + oy) * s->ow + ox) * oc;

          for (int ky = 0; ky < s->kh; ky++)
            {
              int iy = oy * s->stride - s->pad_t + ky;

              if (iy < 0 || iy >= s->h)
                continue;
              for (int kx = 0; kx < s->kw; kx++)
                {
                  int ix = ox * s->stride - s->pad_l + kx;
                  size_t at = (((size_t) b * s->h + iy) * s->w + ix) * s->c;
                  size_t tap = ((size_t) ky * s->kw + kx) * oc;

                  if (ix < 0 || ix >= s->w)
                    continue;
                  if (mult == 1)
                    {
                      if (dw)
                        for (int q = 0; q < oc; q++)
                          dw[tap + q] += in[at + q] * d[q];
                      if (din)
                        for (int q = 0; q < oc; q++)
                          din[at + q] += w[tap + q] * d[q];
                    }
                  else
                    for (int q = 0; q < oc; q++)
                      {
                        if (dw)
                          dw[tap + q] += in[at + q / mult] * d[q];
                        if (din)
                          din[at + q / mult] += w[tap + q] * d[q];
                      }
                }
            }
        }
}

/* The one kernel tap that ever meets the image, when it maps each output
 * pixel onto the same input pixel (a 3×3 "same" convolution of a 1×1 map,
 * the encoder's last, sees only its centre): the convolution is then a
 * 1×1 one with that tap's weights, a ninth of the weights to read.  -1
 * otherwise. */
static int
single_tap (const TlConv2dShape *s)
{
  if (s->groups != 1 || s->stride != 1 || s->oh != s->h || s->ow != s->w ||
      (s->kh == 1 && s->kw == 1))
    return -1;
  /* tap ky meets row oy − pad_t + ky of the image for some oy < oh */
  for (int ky = 0; ky < s->kh; ky++)
    if (ky != s->pad_t && ky - s->pad_t > -s->oh && ky - s->pad_t < s->h)
      return -1;
  for (int kx = 0; kx < s->kw; kx++)
    if (kx != s->pad_l && kx - s->pad_l > -s->ow && kx - s->pad_l < s->w)
      return -1;
  return s->pad_t < s->kh && s->pad_l < s->kw ? s->pad_t * s->kw + s->pad_l : -1;
}

bool
tl_conv2d_patches_apply (const TlConv2dShape *s)
{
  return s->groups == 1 && !is_pointwise (s) && single_tap (s) < 0;
}

void
tl_conv2d_weights_read (const TlConv2dShape *s,
                        size_t              *from,
                        size_t              *count)
{
  size_t per_tap = (size_t) s->c / s->groups * s->oc;
  int tap = s->groups == 1 ? single_tap (s) : -1;

  *from = tap >= 0 ? (size_t) tap * per_tap : 0;
  *count = tap >= 0 ? per_tap : (size_t) s->kh * s->kw * per_tap;
}

bool
tl_conv2d_transposed_applies (const TlConv2dShape *s)
{
  return tl_conv2d_patches_apply (s) && s->oh * s->ow <= 16 &&
         (int64_t) s->kh * s->kw * s->c * s->oc >= (1 << 18);
}

void
tl_conv2d_transpose_weights (float               *wt,
                             const float         *w,
                             const TlConv2dShape *s)
{
  size_t k = (size_t) s->kh * s->kw * s->c;

  for (size_t i = 0; i < k; i++)
    for (int o = 0; o < s->oc; o++)
      wt[(size_t) o * k + i] = w[i * s->oc + o];
}

void
tl_conv2d_forward_transposed (float               *out,
                              const float         *in,
                              const float         *wt,
                              const float         *b,
                              const TlConv2dShape *s,
                              float               *ws)
{
  int rows = s->n * s->oh * s->ow, k = s->kh * s->kw * s->c;

  tl_conv2d_im2col (ws, in, s);
  tl_gemm (false, true, rows, s->oc, k, 1.0f, ws, k, wt, k, 0.0f, out, s->oc);
  tl_nn_fast_bias_act (out, b, rows, s->oc, s);
}

void
tl_conv2d_forward (float               *out,
                   const float         *in,
                   const float         *w,
                   const float         *b,
                   const TlConv2dShape *s,
                   float               *ws)
{
  int rows = s->n * s->oh * s->ow;
  int cg = s->c / s->groups, ocg = s->oc / s->groups;
  int kg = s->kh * s->kw * cg;

  if (tl_nn_fast_conv2d_forward (out, in, w, b, s))
    return;
  if (single_tap (s) >= 0)
    {
      tl_gemm (false, false, rows, s->oc, s->c, 1.0f, in, s->c,
               w + (size_t) single_tap (s) * s->c * s->oc, s->oc, 0.0f, out, s->oc);
      tl_nn_fast_bias_act (out, b, rows, s->oc, s);
      return;
    }
  if (is_depthwise (s))
    {
      depthwise_forward (out, in, w, b, s);
      tl_nn_fast_bias_act (out, NULL, rows, s->oc, s);
      return;
    }
  /* Many pixels, few channels: bands of pixels, each patched (unless
   * pointwise) and multiplied by one thread, then given its bias and
   * activation.  Few pixels, many channels (the deep layers at batch 1):
   * one im2col, and the GEMM split along its channels. */
  if (rows >= 4 * ocg)
    {
      Im2colJob j = { ws, out, in, w, b, s, band_rows (rows), true };

      tl_nn_parallel ((rows + j.step - 1) / j.step, im2col_chunk, &j);
      return;
    }
  if (is_pointwise (s))
    tl_gemm (false, false, rows, s->oc, s->c, 1.0f, in, s->c, w, s->oc,
             0.0f, out, s->oc);
  else
    {
      tl_conv2d_im2col (ws, in, s);
      for (int g = 0; g < s->groups; g++)
        tl_gemm (false, false, rows, ocg, kg, 1.0f,
                 ws + (size_t) g * kg, s->groups * kg,
                 w + (size_t) g * ocg, s->oc,
                 0.0f, out + (size_t) g * ocg, s->oc);
    }
  tl_nn_fast_bias_act (out, b, rows, s->oc, s);
}

void
tl_conv2d_backward (float               *din,
                    float               *dw,
                    float               *db,
                    const float         *dout,
                    const float         *in,
                    const float         *w,
                    const TlConv2dShape *s,
                    float               *ws)
{
  int rows = s->n * s->oh * s->ow;
  int cg = s->c / s->groups, ocg = s->oc / s->groups;
  int kg = s->kh * s->kw * cg, ld = s->groups * kg;

  if (db)
    for (int r = 0; r < rows; r++)
      for (int q = 0; q < s->oc; q++)
        db[q] += dout[(size_t) r * s->oc + q];

  if (is_depthwise (s))
    {
      depthwise_backward (din, dw, dout, in, w, s);
      return;
    }
  if (is_pointwise (s))
    {
      if (dw)
        tl_gemm (true, false, s->c, s->oc, rows, 1.0f, in, s->c, dout, s->oc,
                 1.0f, dw, s->oc);
      if (din)
        tl_gemm (false, true, rows, s->c, s->oc, 1.0f, dout, s->oc, w, s->oc,
                 1.0f, din, s->c);
      return;
    }
  if (dw)
    {
      tl_conv2d_im2col (ws, in, s);
      for (int g = 0; g < s->groups; g++)
        tl_gemm (true, false, kg, ocg, rows, 1.0f,
                 ws + (size_t) g * kg, ld,
                 dout + (size_t) g * ocg, s->oc,
                 1.0f, dw + (size_t) g * ocg, s->oc);
    }
  if (din)
    {
      float *dcols = ws + cols_size (s);

      for (int g = 0; g < s->groups; g++)
        tl_gemm (false, true, rows, kg, ocg, 1.0f,
                 dout + (size_t) g * ocg, s->oc,
                 w + (size_t) g * ocg, s->oc,
                 0.0f, dcols + (size_t) g * kg, ld);
      col2im_add (din, dcols, s);
    }
}

/* ---- references: the definition, one multiply-add at a time ------------ */

void
tl_conv2d_forward_ref (float               *out,
                       const float         *in,
                       const float         *w,
                       const float         *b,
                       const TlConv2dShape *s)
{
  int cg = s->c / s->groups, ocg = s->oc / s->groups;

  for (int n = 0; n < s->n; n++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        for (int o = 0; o < s->oc; o++)
          {
            int g = o / ocg;
            double sum = b ? b[o] : 0.0;

            for (int ky = 0; ky < s->kh; ky++)
              for (int kx = 0; kx < s->kw; kx++)
                for (int i = 0; i < cg; i++)
                  {
                    int iy = oy * s->stride - s->pad_t + ky;
                    int ix = ox * s->stride - s->pad_l + kx;

                    if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                      continue;
                    sum += (double) in[(((size_t) n * s->h + iy) * s->w + ix) * s->c + g * cg + i] *
                           w[(((size_t) ky * s->kw + kx) * cg + i) * s->oc + o];
                  }
            if (s->act == TL_CONV_ACT_RELU && sum < 0.0)
              sum = 0.0;
            else if (s->act == TL_CONV_ACT_LEAKY && sum < 0.0)
              sum *= s->slope;
            out[(((size_t) n * s->oh + oy) * s->ow + ox) * s->oc + o] = (float) sum;
          }
}

void
tl_conv2d_backward_ref (float               *din,
                        float               *dw,
                        float               *db,
                        const float         *dout,
                        const float         *in,
                        const float         *w,
                        const TlConv2dShape *s)
{
  int cg = s->c / s->groups, ocg = s->oc / s->groups;

  for (int n = 0; n < s->n; n++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        for (int o = 0; o < s->oc; o++)
          {
            int g = o / ocg;
            float d = dout[(((size_t) n * s->oh + oy) * s->ow + ox) * s->oc + o];

            if (db)
              db[o] += d;
            for (int ky = 0; ky < s->kh; ky++)
              for (int kx = 0; kx < s->kw; kx++)
                for (int i = 0; i < cg; i++)
                  {
                    int iy = oy * s->stride - s->pad_t + ky;
                    int ix = ox * s->stride - s->pad_l + kx;
                    size_t xi = (((size_t) n * s->h + iy) * s->w + ix) * s->c + g * cg + i;
                    size_t wi = (((size_t) ky * s->kw + kx) * cg + i) * s->oc + o;

                    if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                      continue;
                    if (dw)
                      dw[wi] += in[xi] * d;
                    if (din)
                      din[xi] += w[wi] * d;
                  }
          }
}
