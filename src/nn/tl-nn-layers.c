/* tl-nn-layers.c — every layer but convolution, forward and backward
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "tl-nn-fast.h"
#include "tl-nn-layers.h"
#include "tl-nn-private.h"

/* ---- batch normalisation ------------------------------------------------- */

void
tl_batchnorm_forward (float       *out,
                      float       *mean,
                      float       *rstd,
                      const float *in,
                      const float *gamma,
                      const float *beta,
                      int          m,
                      int          c,
                      float        eps)
{
  for (int q = 0; q < c; q++)
    {
      double sum = 0.0, sq = 0.0;

      for (int r = 0; r < m; r++)
        sum += in[(size_t) r * c + q];
      sum /= m;
      for (int r = 0; r < m; r++)
        {
          double d = in[(size_t) r * c + q] - sum;
          sq += d * d;
        }
      mean[q] = (float) sum;
      rstd[q] = (float) (1.0 / sqrt (sq / m + eps));
    }
  for (int r = 0; r < m; r++)
    for (int q = 0; q < c; q++)
      {
        size_t i = (size_t) r * c + q;
        out[i] = (in[i] - mean[q]) * rstd[q] * gamma[q] + beta[q];
      }
}

void
tl_batchnorm_backward (float       *din,
                       float       *dgamma,
                       float       *dbeta,
                       const float *dout,
                       const float *in,
                       const float *mean,
                       const float *rstd,
                       const float *gamma,
                       int          m,
                       int          c)
{
  for (int q = 0; q < c; q++)
    {
      double sd = 0.0, sdx = 0.0;

      for (int r = 0; r < m; r++)
        {
          size_t i = (size_t) r * c + q;
          double xhat = (in[i] - mean[q]) * rstd[q];
          sd += dout[i];
          sdx += dout[i] * xhat;
        }
      if (dbeta)
        dbeta[q] += (float) sd;
      if (dgamma)
        dgamma[q] += (float) sdx;
      if (din)
        for (int r = 0; r < m; r++)
          {
            size_t i = (size_t) r * c + q;
            double xhat = (in[i] - mean[q]) * rstd[q];
            din[i] += (float) (gamma[q] * rstd[q] / m *
                               (m * (double) dout[i] - sd - xhat * sdx));
          }
    }
}

void
tl_batchnorm_update_running (float       *run_mean,
                             float       *run_var,
                             const float *mean,
                             const float *rstd,
                             int          m,
                             int          c,
                             float        momentum,
                             float        eps)
{
  for (int q = 0; q < c; q++)
    {
      double var = 1.0 / ((double) rstd[q] * rstd[q]) - eps;

      if (var < 0.0)
        var = 0.0;
      if (m > 1)
        var *= (double) m / (m - 1);
      run_mean[q] = (1.0f - momentum) * run_mean[q] + momentum * mean[q];
      run_var[q] = (float) ((1.0f - momentum) * run_var[q] + momentum * var);
    }
}

void
tl_batchnorm_to_scale_bias (float       *scale,
                            float       *bias,
                            const float *gamma,
                            const float *beta,
                            const float *mean,
                            const float *var,
                            int          c,
                            float        eps)
{
  for (int q = 0; q < c; q++)
    {
      scale[q] = (float) (gamma[q] / sqrt ((double) var[q] + eps));
      bias[q] = beta[q] - mean[q] * scale[q];
    }
}

void
tl_fold_scale_bias (float       *w,
                    float       *b,
                    const float *scale,
                    const float *bias,
                    int          rows,
                    int          oc)
{
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < oc; q++)
      w[(size_t) r * oc + q] *= scale[q];
  for (int q = 0; q < oc; q++)
    b[q] = b[q] * scale[q] + bias[q];
}

/* ---- scale + bias -------------------------------------------------------- */

TL_NN_HOT void
tl_scale_bias_forward (float       *out,
                       const float *in,
                       const float *scale,
                       const float *bias,
                       int          m,
                       int          c)
{
  if (scale && bias)
    {
      tl_nn_fast_scale_bias (out, in, scale, bias, m, c);
      return;
    }
  for (int r = 0; r < m; r++)
    {
      float *restrict o = out + (size_t) r * c;
      const float *restrict x = in + (size_t) r * c;

      for (int q = 0; q < c; q++)
        o[q] = x[q] * (scale ? scale[q] : 1.0f) + (bias ? bias[q] : 0.0f);
    }
}

void
tl_scale_bias_backward (float       *din,
                        float       *dscale,
                        float       *dbias,
                        const float *dout,
                        const float *in,
                        const float *scale,
                        int          m,
                        int          c)
{
  for (int r = 0; r < m; r++)
    for (int q = 0; q < c; q++)
      {
        size_t i = (size_t) r * c + q;

        if (din)
          din[i] += dout[i] * (scale ? scale[q] : 1.0f);
        if (dscale)
          dscale[q] += dout[i] * in[i];
        if (dbias)
          dbias[q] += dout[i];
      }
}

/* ---- activations --------------------------------------------------------- */

TL_NN_HOT void
tl_relu_forward (float       *out,
                 const float *in,
                 size_t       n)
{
  tl_nn_fast_relu (out, in, n);
}

TL_NN_HOT void
tl_relu_backward (float       *din,
                  const float *dout,
                  const float *out,
                  size_t       n)
{
  for (size_t i = 0; i < n; i++)
    din[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

TL_NN_HOT void
tl_leaky_relu_forward (float       *out,
                       const float *in,
                       float        slope,
                       size_t       n)
{
  if (slope >= 0.0f && slope <= 1.0f)
    {
      tl_nn_fast_leaky (out, in, slope, n);
      return;
    }
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] > 0.0f ? in[i] : slope * in[i];
}

TL_NN_HOT void
tl_leaky_relu_backward (float       *din,
                        const float *dout,
                        const float *in,
                        float        slope,
                        size_t       n)
{
  for (size_t i = 0; i < n; i++)
    din[i] += in[i] > 0.0f ? dout[i] : slope * dout[i];
}

TL_NN_HOT void
tl_prelu_forward (float       *out,
                  const float *in,
                  const float *alpha,
                  int          m,
                  int          c)
{
  for (int r = 0; r < m; r++)
    for (int q = 0; q < c; q++)
      {
        size_t i = (size_t) r * c + q;
        out[i] = in[i] > 0.0f ? in[i] : alpha[q] * in[i];
      }
}

void
tl_prelu_backward (float       *din,
                   float       *dalpha,
                   const float *dout,
                   const float *in,
                   const float *alpha,
                   int          m,
                   int          c)
{
  for (int r = 0; r < m; r++)
    for (int q = 0; q < c; q++)
      {
        size_t i = (size_t) r * c + q;

        if (in[i] > 0.0f)
          {
            if (din)
              din[i] += dout[i];
          }
        else
          {
            if (din)
              din[i] += alpha[q] * dout[i];
            if (dalpha)
              dalpha[q] += in[i] * dout[i];
          }
      }
}

/* ---- pooling ------------------------------------------------------------- */

bool
tl_pool_shape (TlPoolShape *s,
               int          n,
               int          h,
               int          w,
               int          c,
               int          k,
               int          stride,
               int          pad)
{
  TlConv2dShape cs;

  memset (s, 0, sizeof *s);
  if (!tl_conv2d_shape (&cs, n, h, w, c, c, k, k, stride, pad, 1))
    return false;
  /* A window made only of padding has no pixel to pool. */
  if (cs.pad_t >= k || cs.pad_l >= k)
    return false;
  s->n = n; s->h = h; s->w = w; s->c = c; s->k = k; s->stride = stride;
  s->pad_t = cs.pad_t; s->pad_l = cs.pad_l; s->oh = cs.oh; s->ow = cs.ow;
  return true;
}

/* The window of output (oy, ox), clipped to the image. */
static void
pool_window (const TlPoolShape *s,
             int                oy,
             int                ox,
             int               *y0,
             int               *y1,
             int               *x0,
             int               *x1)
{
  *y0 = oy * s->stride - s->pad_t;
  *x0 = ox * s->stride - s->pad_l;
  *y1 = *y0 + s->k;
  *x1 = *x0 + s->k;
  if (*y0 < 0) *y0 = 0;
  if (*x0 < 0) *x0 = 0;
  if (*y1 > s->h) *y1 = s->h;
  if (*x1 > s->w) *x1 = s->w;
}

TL_NN_HOT void
tl_maxpool_forward (float             *out,
                    const float       *in,
                    const TlPoolShape *s)
{
  int c = s->c;

  if (tl_nn_fast_maxpool_forward (out, in, s))
    return;
  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          float *restrict o = out + (((size_t) b * s->oh + oy) * s->ow + ox) * c;
          int y0, y1, x0, x1;

          pool_window (s, oy, ox, &y0, &y1, &x0, &x1);
          for (int q = 0; q < c; q++)
            o[q] = -FLT_MAX;
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              {
                const float *restrict p = in + (((size_t) b * s->h + y) * s->w + x) * c;

                for (int q = 0; q < c; q++)
                  o[q] = p[q] > o[q] ? p[q] : o[q];
              }
        }
}

void
tl_maxpool_backward (float             *din,
                     const float       *dout,
                     const float       *in,
                     const TlPoolShape *s)
{
  int c = s->c;

  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *d = dout + (((size_t) b * s->oh + oy) * s->ow + ox) * c;
          int y0, y1, x0, x1;

          pool_window (s, oy, ox, &y0, &y1, &x0, &x1);
          for (int q = 0; q < c; q++)
            {
              size_t best = 0;
              float v = 0.0f;
              bool have = false;

              /* The gradient goes to the first maximum, as forward saw it. */
              for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                  {
                    size_t i = (((size_t) b * s->h + y) * s->w + x) * c + q;
                    if (!have || in[i] > v)
                      {
                        v = in[i];
                        best = i;
                        have = true;
                      }
                  }
              din[best] += d[q];
            }
        }
}

TL_NN_HOT void
tl_avgpool_forward (float             *out,
                    const float       *in,
                    const TlPoolShape *s)
{
  int c = s->c;

  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          float *restrict o = out + (((size_t) b * s->oh + oy) * s->ow + ox) * c;
          int y0, y1, x0, x1;
          float inv;

          pool_window (s, oy, ox, &y0, &y1, &x0, &x1);
          inv = 1.0f / ((y1 - y0) * (x1 - x0));
          memset (o, 0, c * sizeof (float));
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              {
                const float *restrict p = in + (((size_t) b * s->h + y) * s->w + x) * c;

                for (int q = 0; q < c; q++)
                  o[q] += p[q];
              }
          for (int q = 0; q < c; q++)
            o[q] *= inv;
        }
}

void
tl_avgpool_backward (float             *din,
                     const float       *dout,
                     const TlPoolShape *s)
{
  int c = s->c;

  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        {
          const float *d = dout + (((size_t) b * s->oh + oy) * s->ow + ox) * c;
          int y0, y1, x0, x1;
          float inv;

          pool_window (s, oy, ox, &y0, &y1, &x0, &x1);
          inv = 1.0f / ((y1 - y0) * (x1 - x0));
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              {
                float *p = din + (((size_t) b * s->h + y) * s->w + x) * c;

                for (int q = 0; q < c; q++)
                  p[q] += d[q] * inv;
              }
        }
}

TL_NN_HOT void
tl_global_avgpool_forward (float       *out,
                           const float *in,
                           int          n,
                           int          hw,
                           int          c)
{
  for (int b = 0; b < n; b++)
    {
      float *o = out + (size_t) b * c;

      memset (o, 0, c * sizeof (float));
      for (int p = 0; p < hw; p++)
        for (int q = 0; q < c; q++)
          o[q] += in[((size_t) b * hw + p) * c + q];
      for (int q = 0; q < c; q++)
        o[q] /= hw;
    }
}

void
tl_global_avgpool_backward (float       *din,
                            const float *dout,
                            int          n,
                            int          hw,
                            int          c)
{
  for (int b = 0; b < n; b++)
    for (int p = 0; p < hw; p++)
      for (int q = 0; q < c; q++)
        din[((size_t) b * hw + p) * c + q] += dout[(size_t) b * c + q] / hw;
}

/* ---- dense --------------------------------------------------------------- */

void
tl_dense_forward (float       *out,
                  const float *in,
                  const float *w,
                  const float *b,
                  int          n,
                  int          ic,
                  int          oc)
{
  float beta = 0.0f;

  if (b)
    {
      for (int r = 0; r < n; r++)
        memcpy (out + (size_t) r * oc, b, oc * sizeof (float));
      beta = 1.0f;
    }
  tl_gemm (false, false, n, oc, ic, 1.0f, in, ic, w, oc, beta, out, oc);
}

void
tl_dense_backward (float       *din,
                   float       *dw,
                   float       *db,
                   const float *dout,
                   const float *in,
                   const float *w,
                   int          n,
                   int          ic,
                   int          oc)
{
  if (db)
    for (int r = 0; r < n; r++)
      for (int q = 0; q < oc; q++)
        db[q] += dout[(size_t) r * oc + q];
  if (dw)
    tl_gemm (true, false, ic, oc, n, 1.0f, in, ic, dout, oc, 1.0f, dw, oc);
  if (din)
    tl_gemm (false, true, n, ic, oc, 1.0f, dout, oc, w, oc, 1.0f, din, ic);
}

void
tl_dense_forward_ref (float       *out,
                      const float *in,
                      const float *w,
                      const float *b,
                      int          n,
                      int          ic,
                      int          oc)
{
  for (int r = 0; r < n; r++)
    for (int q = 0; q < oc; q++)
      {
        double sum = b ? b[q] : 0.0;

        for (int i = 0; i < ic; i++)
          sum += (double) in[(size_t) r * ic + i] * w[(size_t) i * oc + q];
        out[(size_t) r * oc + q] = (float) sum;
      }
}

void
tl_dense_backward_ref (float       *din,
                       float       *dw,
                       float       *db,
                       const float *dout,
                       const float *in,
                       const float *w,
                       int          n,
                       int          ic,
                       int          oc)
{
  for (int r = 0; r < n; r++)
    for (int q = 0; q < oc; q++)
      {
        float d = dout[(size_t) r * oc + q];

        if (db)
          db[q] += d;
        for (int i = 0; i < ic; i++)
          {
            if (dw)
              dw[(size_t) i * oc + q] += in[(size_t) r * ic + i] * d;
            if (din)
              din[(size_t) r * ic + i] += w[(size_t) i * oc + q] * d;
          }
      }
}

/* ---- residual add, concat, pad ------------------------------------------- */

TL_NN_HOT void
tl_add_forward (float       *out,
                const float *a,
                const float *b,
                size_t       n)
{
  tl_nn_fast_add (out, a, b, n);
}

TL_NN_HOT void
tl_add_backward (float       *da,
                 float       *db,
                 const float *dout,
                 size_t       n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (da)
        da[i] += dout[i];
      if (db)
        db[i] += dout[i];
    }
}

void
tl_concat_forward (float              *out,
                   const float *const *ins,
                   const int          *cs,
                   int                 n_in,
                   int                 m)
{
  int total = 0;

  for (int k = 0; k < n_in; k++)
    total += cs[k];
  for (int r = 0; r < m; r++)
    {
      float *o = out + (size_t) r * total;

      for (int k = 0; k < n_in; k++)
        {
          memcpy (o, ins[k] + (size_t) r * cs[k], cs[k] * sizeof (float));
          o += cs[k];
        }
    }
}

void
tl_concat_backward (float *const *dins,
                    const float  *dout,
                    const int    *cs,
                    int           n_in,
                    int           m)
{
  int total = 0;

  for (int k = 0; k < n_in; k++)
    total += cs[k];
  for (int r = 0; r < m; r++)
    {
      const float *d = dout + (size_t) r * total;

      for (int k = 0; k < n_in; k++)
        {
          if (dins[k])
            for (int q = 0; q < cs[k]; q++)
              dins[k][(size_t) r * cs[k] + q] += d[q];
          d += cs[k];
        }
    }
}

void
tl_pad_forward (float       *out,
                const float *in,
                int          n,
                int          h,
                int          w,
                int          c,
                int          oh,
                int          ow,
                int          oc)
{
  memset (out, 0, (size_t) n * oh * ow * oc * sizeof (float));
  for (int b = 0; b < n; b++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        memcpy (out + (((size_t) b * oh + y) * ow + x) * oc,
                in + (((size_t) b * h + y) * w + x) * c, c * sizeof (float));
}

void
tl_pad_backward (float       *din,
                 const float *dout,
                 int          n,
                 int          h,
                 int          w,
                 int          c,
                 int          oh,
                 int          ow,
                 int          oc)
{
  for (int b = 0; b < n; b++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          float *d = din + (((size_t) b * h + y) * w + x) * c;
          const float *g = dout + (((size_t) b * oh + y) * ow + x) * oc;

          for (int q = 0; q < c; q++)
            d[q] += g[q];
        }
}

/* ---- L2 normalisation ---------------------------------------------------- */

void
tl_l2norm_forward (float       *out,
                   const float *in,
                   int          n,
                   int          d,
                   float        eps)
{
  for (int r = 0; r < n; r++)
    {
      const float *x = in + (size_t) r * d;
      float *y = out + (size_t) r * d;
      double sq = eps;
      float inv;

      for (int i = 0; i < d; i++)
        sq += (double) x[i] * x[i];
      inv = (float) (1.0 / sqrt (sq));
      for (int i = 0; i < d; i++)
        y[i] = x[i] * inv;
    }
}

void
tl_l2norm_backward (float       *din,
                    const float *dout,
                    const float *in,
                    int          n,
                    int          d,
                    float        eps)
{
  for (int r = 0; r < n; r++)
    {
      const float *x = in + (size_t) r * d, *g = dout + (size_t) r * d;
      double sq = eps, dot = 0.0, inv;

      for (int i = 0; i < d; i++)
        {
          sq += (double) x[i] * x[i];
          dot += (double) x[i] * g[i];
        }
      inv = 1.0 / sqrt (sq);
      /* d(x/|x|) = (g − y·(y·g)) / |x| with y = x/|x| */
      for (int i = 0; i < d; i++)
        din[(size_t) r * d + i] += (float) ((g[i] - x[i] * dot * inv * inv) * inv);
    }
}
