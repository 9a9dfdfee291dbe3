/* test-nn-fast.c — the vectorised kernels (tl-nn-fast.c) against the
 * engine's naive references, on the face networks' shapes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "tl-nn-fast.h"

static void
fill (float *x, size_t n, guint32 seed)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);

  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
}

static double
max_rel_diff (const float *a, const float *b, size_t n)
{
  double m = 0;

  for (size_t i = 0; i < n; i++)
    m = MAX (m, fabs (a[i] - b[i]) / (1.0 + fabs (b[i])));
  return m;
}

typedef struct
{
  int n, h, c, oc, k, stride, pad, groups;
} ConvCase;

static void
test_conv (void)
{
  static const ConvCase cases[] = {
    { 1, 20, 3, 16, 3, 1, TL_PAD_VALID, 1 },      /* detector conv0 */
    { 2, 21, 3, 32, 3, 2, TL_PAD_SAME, 1 },       /* landmark conv0, batch 2 */
    { 1, 23, 3, 16, 3, 1, TL_PAD_SAME, 1 },       /* blocks of six and a rest */
    { 1, 31, 4, 32, 2, 3, 1, 1 },
    { 1, 23, 3, 32, 7, 2, TL_PAD_VALID, 1 },      /* the encoder's 7×7 stem */
    { 1, 13, 16, 16, 3, 1, 1, 16 },               /* detector depthwise, pad 1 */
    { 2, 14, 32, 32, 3, 2, TL_PAD_SAME, 32 },     /* landmark depthwise /2 */
    { 1, 9, 24, 24, 3, 1, TL_PAD_SAME, 24 },
  };

  for (guint t = 0; t < G_N_ELEMENTS (cases); t++)
    {
      const ConvCase *c = &cases[t];
      TlConv2dShape s;
      size_t n_in, n_w, n_out;
      g_autofree float *in = NULL, *w = NULL, *b = NULL, *fast = NULL, *ref = NULL;
      double d;

      g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->h, c->c, c->oc, c->k, c->k,
                                      c->stride, c->pad, c->groups));
      /* each activation the network fuses, in turn */
      s.act = t % 3;
      s.slope = 0.1f;
      n_in = (size_t) c->n * c->h * c->h * c->c;
      n_w = (size_t) c->k * c->k * (c->c / c->groups) * c->oc;
      n_out = (size_t) c->n * s.oh * s.ow * c->oc;
      in = g_new (float, n_in);
      w = g_new (float, n_w);
      b = g_new (float, c->oc);
      fast = g_new (float, n_out);
      ref = g_new (float, n_out);
      fill (in, n_in, 1 + t);
      fill (w, n_w, 10 + t);
      fill (b, c->oc, 20 + t);
      g_assert_true (tl_nn_fast_conv2d_forward (fast, in, w, b, &s));
      tl_conv2d_forward_ref (ref, in, w, b, &s);
      d = max_rel_diff (fast, ref, n_out);
      g_test_message ("conv %d×%d×%d k%d/%d groups %d act %d → %d×%d×%d: max rel. difference %.2e",
                      c->h, c->h, c->c, c->k, c->stride, c->groups, s.act, s.oh, s.ow, c->oc, d);
      g_assert_cmpfloat (d, <, 1e-5);
    }

  /* Shapes it does not handle are left to the generic path: many input
   * channels, and kernels larger than 7×7. */
  {
    TlConv2dShape s;
    g_assert_true (tl_conv2d_shape (&s, 1, 8, 8, 32, 32, 3, 3, 1, TL_PAD_SAME, 1));
    g_assert_false (tl_nn_fast_conv2d_forward (NULL, NULL, NULL, NULL, &s));
    g_assert_true (tl_conv2d_shape (&s, 1, 23, 23, 3, 32, 9, 9, 2, TL_PAD_VALID, 1));
    g_assert_false (tl_nn_fast_conv2d_forward (NULL, NULL, NULL, NULL, &s));
  }
}

/* The generic paths (banded pointwise and im2col GEMMs, one large GEMM,
 * the depthwise loop with a multiplier) with a fused bias and activation. */
static void
test_conv_epilogue (void)
{
  static const ConvCase cases[] = {
    { 1, 40, 16, 32, 1, 1, TL_PAD_VALID, 1 },     /* pointwise, banded */
    { 1, 4, 64, 128, 1, 1, TL_PAD_VALID, 1 },     /* pointwise, one GEMM */
    { 1, 35, 32, 32, 3, 1, TL_PAD_SAME, 1 },      /* im2col, banded */
    { 1, 8, 32, 64, 3, 2, TL_PAD_VALID, 1 },      /* im2col, one GEMM */
    { 2, 9, 8, 16, 3, 1, TL_PAD_SAME, 8 },        /* depthwise ×2 */
  };

  for (guint t = 0; t < G_N_ELEMENTS (cases); t++)
    for (int act = TL_CONV_ACT_NONE; act <= TL_CONV_ACT_LEAKY; act++)
      {
        const ConvCase *c = &cases[t];
        TlConv2dShape s;
        size_t n_in, n_w, n_out;
        g_autofree float *in = NULL, *w = NULL, *b = NULL, *ws = NULL;
        g_autofree float *fast = NULL, *ref = NULL;
        double d;

        g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->h, c->c, c->oc, c->k, c->k,
                                        c->stride, c->pad, c->groups));
        s.act = act;
        s.slope = 0.1f;
        n_in = (size_t) c->n * c->h * c->h * c->c;
        n_w = (size_t) c->k * c->k * (c->c / c->groups) * c->oc;
        n_out = (size_t) c->n * s.oh * s.ow * c->oc;
        in = g_new (float, n_in);
        w = g_new (float, n_w);
        b = g_new (float, c->oc);
        ws = g_new (float, tl_conv2d_workspace (&s) + 1);
        fast = g_new (float, n_out);
        ref = g_new (float, n_out);
        fill (in, n_in, 31 + t);
        fill (w, n_w, 41 + t);
        fill (b, c->oc, 51 + t);
        tl_conv2d_forward (fast, in, w, b, &s, ws);
        tl_conv2d_forward_ref (ref, in, w, b, &s);
        d = max_rel_diff (fast, ref, n_out);
        g_test_message ("conv %d×%d×%d k%d/%d groups %d act %d: max rel. difference %.2e",
                        c->h, c->h, c->c, c->k, c->stride, c->groups, act, d);
        g_assert_cmpfloat (d, <, 1e-5);
      }
}

static void
test_maxpool (void)
{
  /* the last is large enough to be split over two threads */
  static const int cases[][3] = { { 13, 2, TL_PAD_SAME }, { 13, 1, TL_PAD_SAME },
                                  { 14, 2, TL_PAD_SAME }, { 9, 2, TL_PAD_VALID },
                                  { 121, 2, TL_PAD_SAME } };

  int threads = tl_nn_get_threads ();

  tl_nn_set_threads (2);
  for (guint t = 0; t < G_N_ELEMENTS (cases); t++)
    {
      int h = cases[t][0], c = 24;
      TlPoolShape s;
      g_autofree float *in = g_new (float, h * h * c);
      g_autofree float *fast = g_new (float, h * h * c);

      g_assert_true (tl_pool_shape (&s, 1, h, h, c, 2, cases[t][1], cases[t][2]));
      fill (in, (size_t) h * h * c, 30 + t);
      g_assert_true (tl_nn_fast_maxpool_forward (fast, in, &s));
      for (int oy = 0; oy < s.oh; oy++)
        for (int ox = 0; ox < s.ow; ox++)
          for (int j = 0; j < c; j++)
            {
              float m = -INFINITY;
              for (int ky = 0; ky < 2; ky++)
                for (int kx = 0; kx < 2; kx++)
                  {
                    int y = oy * s.stride - s.pad_t + ky, x = ox * s.stride - s.pad_l + kx;
                    if (y >= 0 && x >= 0 && y < h && x < h)
                      m = MAX (m, in[(y * h + x) * c + j]);
                  }
              g_assert_cmpfloat (fast[(oy * s.ow + ox) * c + j], ==, m);
            }
    }
  tl_nn_set_threads (threads);
}

static void
test_elementwise (void)
{
  const size_t n = 1003;
  const int m = 17, c = 59;
  g_autofree float *a = g_new (float, n), *b = g_new (float, n), *o = g_new (float, n);
  g_autofree float *x = g_new (float, m * c), *y = g_new (float, m * c);
  float scale[59], bias[59];

  fill (a, n, 40);
  fill (b, n, 41);
  tl_nn_fast_relu (o, a, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (o[i], ==, a[i] > 0 ? a[i] : 0);
  tl_nn_fast_leaky (o, a, 0.1f, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (o[i], ==, a[i] > 0 ? a[i] : 0.1f * a[i]);
  tl_nn_fast_add (o, a, b, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (o[i], ==, a[i] + b[i]);
  tl_nn_fast_add_relu (o, a, b, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (o[i], ==, a[i] + b[i] > 0 ? a[i] + b[i] : 0);
  /* In place, as the engine allows. */
  memcpy (o, a, n * sizeof (float));
  tl_nn_fast_relu (o, o, n);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (o[i], ==, a[i] > 0 ? a[i] : 0);

  fill (x, (size_t) m * c, 42);
  fill (scale, c, 43);
  fill (bias, c, 44);
  tl_nn_fast_scale_bias (y, x, scale, bias, m, c);
  for (int r = 0; r < m; r++)
    for (int q = 0; q < c; q++)
      g_assert_cmpfloat (fabs (y[r * c + q] - (x[r * c + q] * scale[q] + bias[q])), <, 1e-6);
}

/* The down block's join in one pass against the pool, the two paddings
 * and the sum it replaces: the same bits, out of place and in y's place. */
static void
test_down_join (void)
{
  static const struct { int n, h, cin, cout, hy; gboolean relu; } cases[] = {
    { 1, 35, 32, 64, 17, TRUE },     /* the face encoder's four */
    { 1, 17, 64, 128, 8, TRUE },
    { 1, 8, 128, 256, 3, TRUE },
    { 1, 4, 256, 256, 1, TRUE },
    { 2, 9, 24, 40, 3, FALSE },      /* batch, odd side, no ReLU */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const int n = cases[i].n, h = cases[i].h, cin = cases[i].cin, cout = cases[i].cout;
      const int hy = cases[i].hy, hp = h / 2;
      const size_t n_out = (size_t) n * hp * hp * cout, n_y = (size_t) n * hy * hy * cout;
      g_autofree float *x = g_new (float, (size_t) n * h * h * cin);
      g_autofree float *y = g_new (float, n_out), *pool = g_new (float, (size_t) n * hp * hp * cin);
      g_autofree float *a = g_new (float, n_out), *b = g_new (float, n_out);
      g_autofree float *ref = g_new (float, n_out), *out = g_new (float, n_out);
      TlPoolShape s;

      fill (x, (size_t) n * h * h * cin, 50 + i);
      fill (y, n_y, 60 + i);
      g_assert_true (tl_pool_shape (&s, n, h, h, cin, 2, 2, TL_PAD_VALID));
      tl_avgpool_forward (pool, x, &s);
      tl_pad_forward (a, pool, n, hp, hp, cin, hp, hp, cout);
      tl_pad_forward (b, y, n, hy, hy, cout, hp, hp, cout);
      if (cases[i].relu)
        tl_nn_fast_add_relu (ref, a, b, n_out);
      else
        tl_nn_fast_add (ref, a, b, n_out);

      tl_nn_fast_down_join (out, x, y, n, h, h, cin, hy, hy, hp, hp, cout, cases[i].relu);
      g_test_message ("down join n%d %d×%d×%d + %d×%d×%d → %d×%d×%d: max |diff| %.2e against "
                      "pool, paddings and sum", n, h, h, cin, hy, hy, cout, hp, hp, cout,
                      max_rel_diff (out, ref, n_out));
      g_assert_cmpmem (out, n_out * sizeof (float), ref, n_out * sizeof (float));
      /* in y's place: its pixels lie at or before their place in out */
      tl_nn_fast_down_join (y, x, y, n, h, h, cin, hy, hy, hp, hp, cout, cases[i].relu);
      g_assert_cmpmem (y, n_out * sizeof (float), ref, n_out * sizeof (float));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/nn/fast/conv2d", test_conv);
  g_test_add_func ("/twinlock/nn/fast/conv2d-epilogue", test_conv_epilogue);
  g_test_add_func ("/twinlock/nn/fast/maxpool", test_maxpool);
  g_test_add_func ("/twinlock/nn/fast/elementwise", test_elementwise);
  g_test_add_func ("/twinlock/nn/fast/down-join", test_down_join);
  return g_test_run ();
}
