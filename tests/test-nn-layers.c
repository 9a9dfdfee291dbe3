/* test-nn-layers.c — every layer's fast path against its naive reference,
 * every backward against finite differences
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "nn-test-util.h"
#include "tl-nn-layers.h"
#include "tl-nn-private.h"

/* ---- finite differences ---------------------------------------------------
 * loss (ctx) = Σ r·f(x) computed in double from the layer's output; the
 * check perturbs entries of x by ±h and compares (L⁺ − L⁻)/2h with the
 * analytic gradient (which is what backward accumulates for dout = r). */
typedef double (*LossFunc) (gpointer ctx);

static void
fd_check (const char  *what,
          float       *x,
          size_t       n,
          const float *analytic,
          LossFunc     loss,
          gpointer     ctx,
          double       h,
          double       tol)
{
  double worst = 0.0;
  size_t step = n > 64 ? n / 61 : 1;   /* a spread sample of entries */

  for (size_t i = 0; i < n; i += step)
    {
      float saved = x[i];
      double lp, lm, fd, err;

      x[i] = (float) (saved + h);
      lp = loss (ctx);
      x[i] = (float) (saved - h);
      lm = loss (ctx);
      x[i] = saved;
      fd = (lp - lm) / (((double) (float) (saved + h)) - (double) (float) (saved - h));
      err = fabs (fd - analytic[i]) / MAX (1.0, fabs (fd));
      worst = MAX (worst, err);
    }
  g_test_message ("%s: finite differences, max rel error %.3g (tolerance %.3g)",
                  what, worst, tol);
  if (!(worst <= tol))
    g_test_fail_printf ("%s: gradient off by %.3g", what, worst);
}

static double
dot (const float *r,
     const float *y,
     size_t       n)
{
  double s = 0.0;

  for (size_t i = 0; i < n; i++)
    s += (double) r[i] * y[i];
  return s;
}

/* ---- GEMM ---------------------------------------------------------------- */

static void
test_gemm (void)
{
  /* the last three: few rows by a large B (tl_nn_gemm_few_rows () when
   * not transposed), with a stretch of columns past 256 and a ragged
   * end */
  static const int sizes[][3] = { { 1, 1, 1 }, { 7, 5, 3 }, { 64, 33, 130 }, { 129, 257, 65 },
                                  { 1, 128, 256 }, { 2, 300, 70 }, { 4, 523, 33 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        {
          int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
          int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
          float *a = nn_test_new ((size_t) lda * MAX (m, k), 1);
          float *b = nn_test_new ((size_t) ldb * MAX (n, k), 2);
          float *c = nn_test_new ((size_t) ldc * m, 3);
          float *r = nn_test_new ((size_t) ldc * m, 0);
          char *what = g_strdup_printf ("gemm %dx%dx%d%s%s", m, n, k,
                                        ta ? " A^T" : "", tb ? " B^T" : "");

          memcpy (r, c, (size_t) ldc * m * sizeof (float));
          tl_gemm (ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c, ldc);
          tl_gemm_ref (ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, r, ldc);
          nn_test_assert_close (what, c, r, (size_t) ldc * m, 1e-4 * sqrt (k));
          g_free (what);
          tl_nn_free (a); tl_nn_free (b); tl_nn_free (c); tl_nn_free (r);
        }
}

/* A few rows by a large B: the columns split over two threads give the
 * same bits as one thread. */
static void
test_gemm_few_rows_threads (void)
{
  static const int sizes[][3] = { { 1, 256, 256 }, { 2, 136, 256 }, { 3, 1030, 17 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2], ldc = n + 5;
      float *a = nn_test_new ((size_t) m * k, 4);
      float *b = nn_test_new ((size_t) k * n, 5);
      float *one = nn_test_new ((size_t) ldc * m, 6);
      float *two = nn_test_new ((size_t) ldc * m, 6);

      tl_nn_set_threads (1);
      tl_gemm (false, false, m, n, k, 1.0f, a, k, b, n, 1.0f, one, ldc);
      tl_nn_set_threads (2);
      tl_nn_pool_forget_lag ();
      tl_gemm (false, false, m, n, k, 1.0f, a, k, b, n, 1.0f, two, ldc);
      g_test_message ("gemm %dx%dx%d: max difference 1 against 2 threads %g", m, n, k,
                      nn_test_max_diff (one, two, (size_t) ldc * m));
      g_assert_cmpmem (one, (size_t) ldc * m * sizeof (float), two, (size_t) ldc * m * sizeof (float));
      tl_nn_free (a); tl_nn_free (b); tl_nn_free (one); tl_nn_free (two);
    }
  tl_nn_set_threads (0);
}

/* ---- conv2d -------------------------------------------------------------- */

/* tl_conv2d_weights_read (): the forward pass reads no weight outside
 * the stretch it names (those are NaN here, and the output matches the
 * reference on the real weights); a 1×1 map's 3×3 "same" convolution
 * reads its centre tap only. */
static void
test_conv_weights_read (void)
{
  static const int shapes[][4] = { { 1, 1, 3, TL_PAD_SAME }, { 5, 4, 3, TL_PAD_SAME },
                                   { 1, 1, 1, TL_PAD_VALID }, { 7, 7, 3, TL_PAD_VALID } };

  for (guint t = 0; t < G_N_ELEMENTS (shapes); t++)
    {
      TlConv2dShape s;
      size_t from, count, n_w, n_in, n_out;
      g_autofree float *w = NULL, *poisoned = NULL, *in = NULL, *out = NULL, *ref = NULL, *ws = NULL;
      double d;

      g_assert_true (tl_conv2d_shape (&s, 2, shapes[t][0], shapes[t][1], 8, 16, shapes[t][2],
                                      shapes[t][2], 1, shapes[t][3], 1));
      n_w = (size_t) s.kh * s.kw * s.c * s.oc;
      n_in = (size_t) 2 * s.h * s.w * s.c;
      n_out = (size_t) 2 * s.oh * s.ow * s.oc;
      tl_conv2d_weights_read (&s, &from, &count);
      g_assert_cmpuint (from + count, <=, n_w);
      if (shapes[t][0] == 1 && shapes[t][2] == 3)
        g_assert_true (from == 4 * (size_t) s.c * s.oc && count == (size_t) s.c * s.oc);
      w = g_new (float, n_w);
      nn_test_fill (w, n_w, 70 + t);
      poisoned = g_new (float, n_w);
      for (size_t i = 0; i < n_w; i++)
        poisoned[i] = i >= from && i < from + count ? w[i] : NAN;
      in = g_new (float, n_in);
      nn_test_fill (in, n_in, 80 + t);
      out = g_new (float, n_out);
      ref = g_new (float, n_out);
      ws = g_new (float, tl_conv2d_workspace (&s) + 1);
      tl_conv2d_forward (out, in, poisoned, NULL, &s, ws);
      tl_conv2d_forward_ref (ref, in, w, NULL, &s);
      d = nn_test_max_diff (out, ref, n_out);
      g_test_message ("conv %d×%d k%d reads weights [%zu, %zu) of %zu: max |diff| %.2e",
                      s.h, s.w, s.kh, from, from + count, n_w, d);
      g_assert_cmpfloat (d, <, 1e-4);
    }
}

typedef struct
{
  const char *name;
  int n, h, w, c, oc, k, stride, pad, groups;
} ConvCase;

static const ConvCase conv_cases[] = {
  { "3x3 same", 2, 7, 6, 5, 4, 3, 1, TL_PAD_SAME, 1 },
  { "7x7/2 valid", 1, 17, 15, 3, 8, 7, 2, TL_PAD_VALID, 1 },
  { "3x3/2 same (uneven padding)", 2, 8, 9, 4, 6, 3, 2, TL_PAD_SAME, 1 },
  { "1x1 pointwise", 3, 5, 4, 7, 9, 1, 1, TL_PAD_VALID, 1 },
  { "2x2 padded 2 (taps wholly in the padding)", 2, 3, 4, 2, 3, 2, 1, 2, 1 },
  { "1x1/2", 1, 6, 6, 4, 5, 1, 2, TL_PAD_VALID, 1 },
  { "grouped 3x3", 1, 6, 5, 6, 4, 3, 1, 1, 2 },
  { "depthwise 3x3", 2, 7, 7, 8, 8, 3, 1, TL_PAD_SAME, 8 },
  { "depthwise 3x3/2 x2", 1, 9, 8, 3, 6, 3, 2, TL_PAD_SAME, 3 },
  { "3x3/2 same, 32 outputs (bands on the panel kernel)", 2, 17, 17, 5, 32, 3, 2, TL_PAD_SAME, 1 },
};

typedef struct
{
  const TlConv2dShape *s;
  float *in, *w, *b, *out, *r;
} ConvCtx;

static double
conv_loss (gpointer data)
{
  ConvCtx *x = data;

  tl_conv2d_forward_ref (x->out, x->in, x->w, x->b, x->s);
  return dot (x->r, x->out, (size_t) x->s->n * x->s->oh * x->s->ow * x->s->oc);
}

static void
test_conv2d (gconstpointer data)
{
  const ConvCase *cc = data;
  TlConv2dShape s;
  size_t nin, nw, nout;
  float *in, *w, *b, *out, *ref, *ws, *dout;
  float *din, *dw, *db, *din_r, *dw_r, *db_r;
  ConvCtx ctx;

  g_assert_true (tl_conv2d_shape (&s, cc->n, cc->h, cc->w, cc->c, cc->oc, cc->k, cc->k,
                                  cc->stride, cc->pad, cc->groups));
  nin = (size_t) s.n * s.h * s.w * s.c;
  nw = (size_t) s.kh * s.kw * (s.c / s.groups) * s.oc;
  nout = (size_t) s.n * s.oh * s.ow * s.oc;
  in = nn_test_new (nin, 11); w = nn_test_new (nw, 12); b = nn_test_new (s.oc, 13);
  out = nn_test_new (nout, 0); ref = nn_test_new (nout, 0); dout = nn_test_new (nout, 14);
  ws = nn_test_new (MAX (tl_conv2d_workspace (&s), tl_conv2d_backward_workspace (&s)) + 1, 0);

  tl_conv2d_forward (out, in, w, b, &s, ws);
  tl_conv2d_forward_ref (ref, in, w, b, &s);
  nn_test_assert_close ("forward vs reference", out, ref, nout, 1e-5);
  /* without bias too */
  tl_conv2d_forward (out, in, w, NULL, &s, ws);
  tl_conv2d_forward_ref (ref, in, w, NULL, &s);
  nn_test_assert_close ("forward (no bias) vs reference", out, ref, nout, 1e-5);

  /* backward accumulates: start every gradient from the same non-zero values */
  din = nn_test_new (nin, 21); dw = nn_test_new (nw, 22); db = nn_test_new (s.oc, 23);
  din_r = nn_test_new (nin, 21); dw_r = nn_test_new (nw, 22); db_r = nn_test_new (s.oc, 23);
  tl_conv2d_backward (din, dw, db, dout, in, w, &s, ws);
  tl_conv2d_backward_ref (din_r, dw_r, db_r, dout, in, w, &s);
  nn_test_assert_close ("backward din vs reference", din, din_r, nin, 1e-5);
  nn_test_assert_close ("backward dw vs reference", dw, dw_r, nw, 1e-4);
  nn_test_assert_close ("backward db vs reference", db, db_r, s.oc, 1e-4);

  /* reference backward against finite differences (the layer is linear,
   * so a large step loses nothing) */
  memset (din_r, 0, nin * sizeof (float));
  memset (dw_r, 0, nw * sizeof (float));
  memset (db_r, 0, s.oc * sizeof (float));
  tl_conv2d_backward_ref (din_r, dw_r, db_r, dout, in, w, &s);
  ctx = (ConvCtx) { &s, in, w, b, out, dout };
  fd_check ("d/din", in, nin, din_r, conv_loss, &ctx, 0.25, 1e-4);
  fd_check ("d/dw", w, nw, dw_r, conv_loss, &ctx, 0.25, 1e-4);
  fd_check ("d/db", b, s.oc, db_r, conv_loss, &ctx, 0.25, 1e-4);

  tl_nn_free (in); tl_nn_free (w); tl_nn_free (b); tl_nn_free (out); tl_nn_free (ref);
  tl_nn_free (ws); tl_nn_free (dout); tl_nn_free (din); tl_nn_free (dw); tl_nn_free (db);
  tl_nn_free (din_r); tl_nn_free (dw_r); tl_nn_free (db_r);
}

static void
test_conv2d_shape (void)
{
  TlConv2dShape s;

  /* TensorFlow "same", stride 2, 150 → 75 with 2 before and 3 after */
  g_assert_true (tl_conv2d_shape (&s, 1, 150, 150, 3, 32, 7, 7, 2, TL_PAD_SAME, 1));
  g_assert_cmpint (s.oh, ==, 75);
  g_assert_cmpint (s.pad_t, ==, 2);
  g_assert_true (tl_conv2d_shape (&s, 1, 150, 150, 3, 32, 7, 7, 2, TL_PAD_VALID, 1));
  g_assert_cmpint (s.oh, ==, 72);
  g_assert_false (tl_conv2d_shape (&s, 1, 5, 5, 3, 32, 7, 7, 1, TL_PAD_VALID, 1));
  g_assert_false (tl_conv2d_shape (&s, 1, 9, 9, 3, 32, 3, 3, 1, 0, 2));
  g_assert_false (tl_conv2d_shape (&s, 1, 9, 9, 4, 32, 3, 3, 0, 0, 1));
}

/* ---- batch norm ------------------------------------------------------------ */

typedef struct
{
  float *in, *gamma, *beta, *r;
  int m, c;
} BnCtx;

/* Batch norm forward in double: the reference precision the check needs
 * (the batch statistics make the float forward too coarse for it). */
static double
bn_loss (gpointer data)
{
  BnCtx *x = data;
  double loss = 0.0;

  for (int q = 0; q < x->c; q++)
    {
      double mean = 0.0, var = 0.0;

      for (int r = 0; r < x->m; r++)
        mean += x->in[r * x->c + q];
      mean /= x->m;
      for (int r = 0; r < x->m; r++)
        var += (x->in[r * x->c + q] - mean) * (x->in[r * x->c + q] - mean);
      var /= x->m;
      for (int r = 0; r < x->m; r++)
        loss += x->r[r * x->c + q] *
                ((x->in[r * x->c + q] - mean) / sqrt (var + 1e-5) * x->gamma[q] + x->beta[q]);
    }
  return loss;
}

static void
test_batchnorm (void)
{
  int m = 10, c = 3;
  float *in = nn_test_new (m * c, 31), *gamma = nn_test_new (c, 32), *beta = nn_test_new (c, 33);
  float *out = nn_test_new (m * c, 0), *mean = nn_test_new (c, 0), *rstd = nn_test_new (c, 0);
  float *dout = nn_test_new (m * c, 34), *din = nn_test_new (m * c, 0);
  float *dg = nn_test_new (c, 0), *dbt = nn_test_new (c, 0);
  BnCtx ctx = { in, gamma, beta, dout, m, c };
  double mu = 0.0, var = 0.0;

  tl_batchnorm_forward (out, mean, rstd, in, gamma, beta, m, c, 1e-5f);
  /* normalised output of channel 0: zero mean, variance gamma² */
  for (int r = 0; r < m; r++)
    mu += out[r * c];
  mu /= m;
  for (int r = 0; r < m; r++)
    var += (out[r * c] - mu) * (out[r * c] - mu);
  var /= m;
  g_assert_cmpfloat_with_epsilon (mu, beta[0], 1e-5);
  g_assert_cmpfloat_with_epsilon (var, gamma[0] * gamma[0], 1e-4);

  tl_batchnorm_backward (din, dg, dbt, dout, in, mean, rstd, gamma, m, c);
  fd_check ("batchnorm d/din", in, m * c, din, bn_loss, &ctx, 1e-3, 1e-3);
  fd_check ("batchnorm d/dgamma", gamma, c, dg, bn_loss, &ctx, 1e-3, 1e-3);
  fd_check ("batchnorm d/dbeta", beta, c, dbt, bn_loss, &ctx, 1e-3, 1e-3);

  tl_nn_free (in); tl_nn_free (gamma); tl_nn_free (beta); tl_nn_free (out);
  tl_nn_free (mean); tl_nn_free (rstd); tl_nn_free (dout); tl_nn_free (din);
  tl_nn_free (dg); tl_nn_free (dbt);
}

/* conv → batch norm (inference) equals the conv with the batch norm folded in */
static void
test_batchnorm_fold (void)
{
  TlConv2dShape s;
  size_t nin, nw, nout;
  float *in, *w, *b, *gamma, *beta, *mean, *var, *scale, *bias, *out, *ref, *ws;

  g_assert_true (tl_conv2d_shape (&s, 1, 6, 6, 4, 5, 3, 3, 1, TL_PAD_SAME, 1));
  nin = 6 * 6 * 4; nw = 3 * 3 * 4 * 5; nout = 6 * 6 * 5;
  in = nn_test_new (nin, 41); w = nn_test_new (nw, 42); b = nn_test_new (5, 43);
  gamma = nn_test_new (5, 44); beta = nn_test_new (5, 45); mean = nn_test_new (5, 46);
  var = nn_test_new (5, 47);
  for (int q = 0; q < 5; q++)
    var[q] = var[q] * var[q] + 0.1f;
  scale = nn_test_new (5, 0); bias = nn_test_new (5, 0);
  out = nn_test_new (nout, 0); ref = nn_test_new (nout, 0);
  ws = nn_test_new (tl_conv2d_workspace (&s), 0);

  tl_conv2d_forward_ref (ref, in, w, b, &s);
  tl_batchnorm_to_scale_bias (scale, bias, gamma, beta, mean, var, 5, 1e-3f);
  tl_scale_bias_forward (ref, ref, scale, bias, 6 * 6, 5);
  tl_fold_scale_bias (w, b, scale, bias, 3 * 3 * 4, 5);
  tl_conv2d_forward (out, in, w, b, &s, ws);
  nn_test_assert_close ("folded conv vs conv + batch norm", out, ref, nout, 1e-5);

  tl_nn_free (in); tl_nn_free (w); tl_nn_free (b); tl_nn_free (gamma); tl_nn_free (beta);
  tl_nn_free (mean); tl_nn_free (var); tl_nn_free (scale); tl_nn_free (bias);
  tl_nn_free (out); tl_nn_free (ref); tl_nn_free (ws);
}

/* ---- element-wise and per-channel layers ----------------------------------- */

typedef enum { ACT_SCALE_BIAS, ACT_RELU, ACT_LEAKY, ACT_PRELU, ACT_L2NORM } ActKind;

typedef struct
{
  ActKind kind;
  float *in, *p1, *p2, *out, *r;
  int m, c;
} ActCtx;

static void
act_forward (ActCtx *x)
{
  size_t n = (size_t) x->m * x->c;

  switch (x->kind)
    {
    case ACT_SCALE_BIAS: tl_scale_bias_forward (x->out, x->in, x->p1, x->p2, x->m, x->c); break;
    case ACT_RELU: tl_relu_forward (x->out, x->in, n); break;
    case ACT_LEAKY: tl_leaky_relu_forward (x->out, x->in, 0.1f, n); break;
    case ACT_PRELU: tl_prelu_forward (x->out, x->in, x->p1, x->m, x->c); break;
    case ACT_L2NORM: tl_l2norm_forward (x->out, x->in, x->m, x->c, 1e-6f); break;
    }
}

static double
act_loss (gpointer data)
{
  ActCtx *x = data;

  act_forward (x);
  return dot (x->r, x->out, (size_t) x->m * x->c);
}

static void
test_activation (gconstpointer data)
{
  ActKind kind = GPOINTER_TO_INT (data);
  int m = 6, c = 5;
  size_t n = (size_t) m * c;
  ActCtx x = { kind, nn_test_new (n, 51), nn_test_new (c, 52), nn_test_new (c, 53),
               nn_test_new (n, 0), nn_test_new (n, 54), m, c };
  float *din = nn_test_new (n, 0), *d1 = nn_test_new (c, 0), *d2 = nn_test_new (c, 0);
  float *inplace = nn_test_new (n, 0);

  /* keep inputs away from the kink at 0, where the derivative jumps */
  for (size_t i = 0; i < n; i++)
    if (fabsf (x.in[i]) < 0.05f)
      x.in[i] = 0.3f;
  if (kind == ACT_PRELU)
    for (int q = 0; q < c; q++)
      x.p1[q] = 0.1f + 0.2f * fabsf (x.p1[q]);

  act_forward (&x);
  {
    /* in place (out == in) gives the same result */
    ActCtx y = x;

    memcpy (inplace, x.in, n * sizeof (float));
    y.in = y.out = inplace;
    act_forward (&y);
    nn_test_assert_close ("in place vs out of place", inplace, x.out, n, 0.0);
  }

  switch (kind)
    {
    case ACT_SCALE_BIAS: tl_scale_bias_backward (din, d1, d2, x.r, x.in, x.p1, m, c); break;
    case ACT_RELU: tl_relu_backward (din, x.r, x.out, n); break;
    case ACT_LEAKY: tl_leaky_relu_backward (din, x.r, x.in, 0.1f, n); break;
    case ACT_PRELU: tl_prelu_backward (din, d1, x.r, x.in, x.p1, m, c); break;
    case ACT_L2NORM: tl_l2norm_backward (din, x.r, x.in, m, c, 1e-6f); break;
    }
  fd_check ("d/din", x.in, n, din, act_loss, &x, 1e-3, 2e-3);
  if (kind == ACT_SCALE_BIAS || kind == ACT_PRELU)
    fd_check ("d/dparam1", x.p1, c, d1, act_loss, &x, 1e-3, 2e-3);
  if (kind == ACT_SCALE_BIAS)
    fd_check ("d/dparam2", x.p2, c, d2, act_loss, &x, 1e-3, 2e-3);
  if (kind == ACT_L2NORM)
    {
      double norm = 0.0;
      for (int i = 0; i < c; i++)
        norm += x.out[i] * x.out[i];
      g_assert_cmpfloat_with_epsilon (norm, 1.0, 1e-5);
    }

  tl_nn_free (x.in); tl_nn_free (x.p1); tl_nn_free (x.p2); tl_nn_free (x.r);
  tl_nn_free (din); tl_nn_free (d1); tl_nn_free (d2); tl_nn_free (inplace);
  tl_nn_free (x.out);
}

/* ---- pooling ---------------------------------------------------------------- */

typedef struct
{
  TlPoolShape s;
  bool max, global;
  float *in, *out, *r;
} PoolCtx;

static size_t
pool_out_size (PoolCtx *x)
{
  return x->global ? (size_t) x->s.n * x->s.c : (size_t) x->s.n * x->s.oh * x->s.ow * x->s.c;
}

static double
pool_loss (gpointer data)
{
  PoolCtx *x = data;

  if (x->global)
    tl_global_avgpool_forward (x->out, x->in, x->s.n, x->s.h * x->s.w, x->s.c);
  else if (x->max)
    tl_maxpool_forward (x->out, x->in, &x->s);
  else
    tl_avgpool_forward (x->out, x->in, &x->s);
  return dot (x->r, x->out, pool_out_size (x));
}

static void
test_pool (gconstpointer data)
{
  int kind = GPOINTER_TO_INT (data);   /* 0 max, 1 avg, 2 global avg */
  PoolCtx x = { .max = kind == 0, .global = kind == 2 };
  size_t nin;
  float *din;

  /* 3/2 "same" on 7x6: windows clipped by padding on the far edges */
  g_assert_true (tl_pool_shape (&x.s, 2, 7, 6, 3, 3, 2, TL_PAD_SAME));
  g_assert_cmpint (x.s.oh, ==, 4);
  g_assert_cmpint (x.s.ow, ==, 3);
  nin = (size_t) 2 * 7 * 6 * 3;
  x.in = nn_test_new (nin, 61);
  x.out = nn_test_new (pool_out_size (&x), 0);
  x.r = nn_test_new (pool_out_size (&x), 62);
  din = nn_test_new (nin, 0);

  pool_loss (&x);
  if (x.max)
    {
      /* the reference: each output is the maximum of its clipped window */
      for (int oy = 0; oy < x.s.oh; oy++)
        for (int ox = 0; ox < x.s.ow; ox++)
          {
            float m = -INFINITY;
            for (int y = MAX (0, oy * 2 - x.s.pad_t); y < MIN (7, oy * 2 - x.s.pad_t + 3); y++)
              for (int xx = MAX (0, ox * 2 - x.s.pad_l); xx < MIN (6, ox * 2 - x.s.pad_l + 3); xx++)
                m = MAX (m, x.in[(y * 6 + xx) * 3 + 1]);
            g_assert_cmpfloat (x.out[(oy * x.s.ow + ox) * 3 + 1], ==, m);
          }
      tl_maxpool_backward (din, x.r, x.in, &x.s);
    }
  else if (x.global)
    tl_global_avgpool_backward (din, x.r, 2, 7 * 6, 3);
  else
    tl_avgpool_backward (din, x.r, &x.s);
  fd_check ("d/din", x.in, nin, din, pool_loss, &x, 1e-3, 2e-3);

  tl_nn_free (x.in); tl_nn_free (x.out); tl_nn_free (x.r); tl_nn_free (din);
}

/* ---- dense ------------------------------------------------------------------ */

typedef struct
{
  float *in, *w, *b, *out, *r;
  int n, ic, oc;
} DenseCtx;

static double
dense_loss (gpointer data)
{
  DenseCtx *x = data;

  tl_dense_forward_ref (x->out, x->in, x->w, x->b, x->n, x->ic, x->oc);
  return dot (x->r, x->out, (size_t) x->n * x->oc);
}

static void
test_dense (void)
{
  int n = 3, ic = 37, oc = 11;
  DenseCtx x = { nn_test_new (n * ic, 71), nn_test_new (ic * oc, 72), nn_test_new (oc, 73),
                 nn_test_new (n * oc, 0), nn_test_new (n * oc, 74), n, ic, oc };
  float *fast = nn_test_new (n * oc, 0);
  float *din = nn_test_new (n * ic, 75), *dw = nn_test_new (ic * oc, 76), *db = nn_test_new (oc, 77);
  float *din_r = nn_test_new (n * ic, 75), *dw_r = nn_test_new (ic * oc, 76), *db_r = nn_test_new (oc, 77);

  tl_dense_forward (fast, x.in, x.w, x.b, n, ic, oc);
  tl_dense_forward_ref (x.out, x.in, x.w, x.b, n, ic, oc);
  nn_test_assert_close ("dense forward vs reference", fast, x.out, n * oc, 1e-5);
  tl_dense_backward (din, dw, db, x.r, x.in, x.w, n, ic, oc);
  tl_dense_backward_ref (din_r, dw_r, db_r, x.r, x.in, x.w, n, ic, oc);
  nn_test_assert_close ("dense din vs reference", din, din_r, n * ic, 1e-5);
  nn_test_assert_close ("dense dw vs reference", dw, dw_r, ic * oc, 1e-5);
  nn_test_assert_close ("dense db vs reference", db, db_r, oc, 1e-5);

  memset (din_r, 0, n * ic * sizeof (float));
  memset (dw_r, 0, ic * oc * sizeof (float));
  memset (db_r, 0, oc * sizeof (float));
  tl_dense_backward_ref (din_r, dw_r, db_r, x.r, x.in, x.w, n, ic, oc);
  fd_check ("dense d/din", x.in, n * ic, din_r, dense_loss, &x, 0.25, 1e-4);
  fd_check ("dense d/dw", x.w, ic * oc, dw_r, dense_loss, &x, 0.25, 1e-4);
  fd_check ("dense d/db", x.b, oc, db_r, dense_loss, &x, 0.25, 1e-4);

  tl_nn_free (x.in); tl_nn_free (x.w); tl_nn_free (x.b); tl_nn_free (x.out); tl_nn_free (x.r);
  tl_nn_free (fast); tl_nn_free (din); tl_nn_free (dw); tl_nn_free (db);
  tl_nn_free (din_r); tl_nn_free (dw_r); tl_nn_free (db_r);
}

/* ---- add, concat, pad ---------------------------------------------------------- */

static void
test_add_concat_pad (void)
{
  float a[6] = { 1, 2, 3, 4, 5, 6 }, b[4] = { -1, -2, -3, -4 };
  float out[10], da[6] = { 0 }, db[4] = { 0 };
  float expect_cat[10] = { 1, 2, 3, -1, -2, 4, 5, 6, -3, -4 };
  const float *ins[2] = { a, b };
  float *dins[2] = { da, db };
  int cs[2] = { 3, 2 };
  float padded[2 * 3 * 2] = { 0 }, dpad[6] = { 0 };
  float expect_pad[12] = { 1, 2, 0, 3, 4, 0, 5, 6, 0, 0, 0, 0 };

  tl_add_forward (out, a, a, 6);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (out[i], ==, 2 * a[i]);
  tl_add_backward (da, db, a, 4);
  g_assert_cmpfloat (da[3], ==, 4);
  g_assert_cmpfloat (db[3], ==, 4);
  memset (da, 0, sizeof da);
  memset (db, 0, sizeof db);

  tl_concat_forward (out, ins, cs, 2, 2);
  for (int i = 0; i < 10; i++)
    g_assert_cmpfloat (out[i], ==, expect_cat[i]);
  tl_concat_backward (dins, expect_cat, cs, 2, 2);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (da[i], ==, a[i]);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (db[i], ==, b[i]);

  /* [1][3][1][2] padded to [1][4][1][3] */
  tl_pad_forward (padded, a, 1, 3, 1, 2, 4, 1, 3);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (padded[i], ==, expect_pad[i]);
  tl_pad_backward (dpad, expect_pad, 1, 3, 1, 2, 4, 1, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (dpad[i], ==, a[i]);
}

/* tl_nn_alloc_huge (): zeroed; from 1 MiB on, whole 2 MiB pages from a
 * 2 MiB boundary (whether the kernel backs them with huge pages is its
 * choice: printed, not required); below, tl_nn_alloc ()'s 64 bytes. */
static void
test_alloc_huge (void)
{
  const size_t sizes[] = { 100, (size_t) 1 << 20, ((size_t) 3 << 20) + 4 };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      unsigned char *p = tl_nn_alloc_huge (sizes[k]);
      size_t align = sizes[k] >= (size_t) 1 << 20 ? (size_t) 2 << 20 : 64;
      size_t nonzero = 0;

      g_assert_nonnull (p);
      g_assert_cmpuint ((uintptr_t) p % align, ==, 0);
      for (size_t i = 0; i < sizes[k]; i++)
        nonzero += p[i] != 0;
      g_assert_cmpuint (nonzero, ==, 0);
      memset (p, 0xa5, sizes[k]);
      g_assert_cmpuint (p[sizes[k] - 1], ==, 0xa5);
      tl_nn_free (p);
    }
  {
    g_autofree char *smaps = NULL;
    const char *at;
    void *p = tl_nn_alloc_huge ((size_t) 4 << 20);

    if (g_file_get_contents ("/proc/self/smaps_rollup", &smaps, NULL, NULL) &&
        (at = strstr (smaps, "AnonHugePages:")) != NULL)
      g_test_message ("4 MiB block: process %.*s", (int) strcspn (at, "\n"), at);
    tl_nn_free (p);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  tl_nn_init ();

  g_test_add_func ("/twinlock/nn/gemm/reference", test_gemm);
  g_test_add_func ("/twinlock/nn/alloc/huge", test_alloc_huge);
  g_test_add_func ("/twinlock/nn/gemm/few-rows-threads", test_gemm_few_rows_threads);
  g_test_add_func ("/twinlock/nn/conv/weights-read", test_conv_weights_read);
  g_test_add_func ("/twinlock/nn/conv2d/shape", test_conv2d_shape);
  for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/twinlock/nn/conv2d/%s", conv_cases[i].name);
      g_test_add_data_func (path, &conv_cases[i], test_conv2d);
    }
  g_test_add_func ("/twinlock/nn/batchnorm/backward", test_batchnorm);
  g_test_add_func ("/twinlock/nn/batchnorm/fold", test_batchnorm_fold);
  g_test_add_data_func ("/twinlock/nn/scale-bias/backward", GINT_TO_POINTER (ACT_SCALE_BIAS), test_activation);
  g_test_add_data_func ("/twinlock/nn/relu/backward", GINT_TO_POINTER (ACT_RELU), test_activation);
  g_test_add_data_func ("/twinlock/nn/leaky-relu/backward", GINT_TO_POINTER (ACT_LEAKY), test_activation);
  g_test_add_data_func ("/twinlock/nn/prelu/backward", GINT_TO_POINTER (ACT_PRELU), test_activation);
  g_test_add_data_func ("/twinlock/nn/l2norm/backward", GINT_TO_POINTER (ACT_L2NORM), test_activation);
  g_test_add_data_func ("/twinlock/nn/maxpool/backward", GINT_TO_POINTER (0), test_pool);
  g_test_add_data_func ("/twinlock/nn/avgpool/backward", GINT_TO_POINTER (1), test_pool);
  g_test_add_data_func ("/twinlock/nn/global-avgpool/backward", GINT_TO_POINTER (2), test_pool);
  g_test_add_func ("/twinlock/nn/dense/backward", test_dense);
  g_test_add_func ("/twinlock/nn/add-concat-pad", test_add_concat_pad);

  return g_test_run ();
}
