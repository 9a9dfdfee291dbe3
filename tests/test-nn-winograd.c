/* test-nn-winograd.c — Winograd convolutions (tl-nn-winograd.c) against
 * the engine's naive direct convolution, and a network that uses them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn-test-util.h"
#include "tl-nn-net.h"
#include "tl-nn-winograd.h"

typedef struct
{
  int n, h, w, c, oc, pad;
} Case;

static const Case cases[] = {
  { 1, 35, 35, 32, 32, TL_PAD_SAME },     /* the face encoder's maps */
  { 1, 17, 17, 64, 64, TL_PAD_SAME },
  { 1, 8, 8, 128, 128, TL_PAD_SAME },
  { 1, 4, 4, 256, 256, TL_PAD_SAME },
  { 1, 3, 3, 64, 48, TL_PAD_SAME },       /* one partial tile */
  { 1, 1, 1, 16, 16, TL_PAD_SAME },
  { 2, 9, 7, 5, 12, 1 },                  /* batch, odd sides, partial vectors */
  { 1, 10, 13, 16, 24, TL_PAD_VALID },
  { 1, 6, 11, 3, 7, 2 },
};

static void
test_forward (gconstpointer data)
{
  int m = GPOINTER_TO_INT (data);

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const Case *c = &cases[k];
      TlConv2dShape s;
      size_t n_in, n_w, n_out;
      g_autofree float *in = NULL, *w = NULL, *b = NULL, *u = NULL, *ws = NULL;
      g_autofree float *fast = NULL, *ref = NULL;
      double d;

      g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->w, c->c, c->oc, 3, 3, 1, c->pad, 1));
      g_assert_true (tl_winograd_applies (&s));
      s.act = k % 3;            /* none, ReLU, leaky ReLU in turn */
      s.slope = 0.1f;
      n_in = (size_t) c->n * c->h * c->w * c->c;
      n_w = (size_t) 9 * c->c * c->oc;
      n_out = (size_t) c->n * s.oh * s.ow * c->oc;
      in = nn_test_new (n_in, 1 + k);
      w = nn_test_new (n_w, 100 + k);
      b = nn_test_new (c->oc, 200 + k);
      u = tl_nn_alloc (tl_winograd_filter_floats (&s, m) * sizeof (float));
      ws = tl_nn_alloc (tl_winograd_workspace (&s, m) * sizeof (float));
      fast = nn_test_new (n_out, 300);  /* garbage: every output must be written */
      ref = nn_test_new (n_out, 0);

      tl_winograd_filter (u, w, &s, m);
      tl_nn_set_threads (1);
      tl_winograd_forward (ref, in, u, k % 2 ? b : NULL, &s, m, ws);
      tl_nn_set_threads (2);
      tl_winograd_forward (fast, in, u, k % 2 ? b : NULL, &s, m, ws);
      /* whole tiles a thread or positions a thread: the same bits */
      g_assert_cmpmem (fast, n_out * sizeof (float), ref, n_out * sizeof (float));
      tl_nn_set_threads (0);
      tl_conv2d_forward_ref (ref, in, w, k % 2 ? b : NULL, &s);
      d = nn_test_scaled_diff (fast, ref, n_out);
      g_test_message ("F(%d×%d, 3×3) n%d %d×%d×%d → %d×%d×%d pad %d act %d: "
                      "max |diff| / (1 + max |ref|) = %.2e",
                      m, m, c->n, c->h, c->w, c->c, s.oh, s.ow, c->oc, c->pad, s.act, d);
      /* m = 4 multiplies by up to 8 and divides by 24 on the way: fp32
       * leaves it about ten times the error of m = 2 (measured ≤ 1e-6 and
       * ≤ 1e-5 on these cases); m = 6, by up to 32 and 1/180, again
       * more (measured ≤ 1e-5). */
      g_assert_cmpfloat (d, <, m == 2 ? 1e-5 : 1e-4);
    }
}

/* Fills the workspace with NaN, so that a path that reads a part of it
 * it did not write first cannot pass on what an earlier run left. */
static void
poison (float  *ws,
        size_t  n)
{
  for (size_t i = 0; i < n; i++)
    ws[i] = NAN;
}

/* F(4×4, 3×3) and F(6×6, 3×3) from the taps, their filters transformed
 * on the way: the same as the direct convolution up to the tiles'
 * rounding, and the same bits on 1 to 4 threads (F(6×6) runs all tiles
 * and positions in one task on one thread, splits by rows of positions
 * on two, by tiles on three or four). */
static void
test_taps (void)
{
  static const Case taps[] = {
    { 1, 17, 17, 64, 64, TL_PAD_SAME },     /* the face encoder's 64-channel stage */
    { 2, 17, 17, 64, 64, TL_PAD_SAME },     /* with its mirror image */
    { 1, 13, 12, 40, 32, TL_PAD_SAME },     /* partial vectors */
    { 1, 17, 17, 100, 32, TL_PAD_SAME },    /* two blocks of channels, the second partial */
    { 1, 14, 15, 24, 16, TL_PAD_VALID },
    { 3, 12, 12, 8, 48, 1 },
  };

  for (guint k = 0; k < 2 * G_N_ELEMENTS (taps); k++)
    {
      const Case *c = &taps[k / 2];
      const int m = k % 2 ? 6 : 4;
      TlConv2dShape s;
      size_t n_out;
      g_autofree float *in = NULL, *w = NULL, *b = NULL, *u = NULL, *ws = NULL;
      g_autofree float *one = NULL, *two = NULL, *ref = NULL;
      double d;

      g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->w, c->c, c->oc, 3, 3, 1, c->pad, 1));
      s.act = k / 2 % 3;
      s.slope = 0.1f;
      n_out = (size_t) c->n * s.oh * s.ow * c->oc;
      in = nn_test_new ((size_t) c->n * c->h * c->w * c->c, 800 + k / 2);
      w = nn_test_new ((size_t) 9 * c->c * c->oc, 900 + k / 2);
      b = nn_test_new (c->oc, 1000 + k / 2);
      u = tl_nn_alloc (tl_winograd_taps_floats (&s) * sizeof (float));
      ws = tl_nn_alloc (tl_winograd_workspace (&s, m) * sizeof (float));
      one = nn_test_new (n_out, 1100);  /* garbage: every output must be written */
      two = nn_test_new (n_out, 1200);
      ref = nn_test_new (n_out, 0);

      tl_winograd_taps (u, w, &s);
      for (int threads = 1; threads <= 4; threads++)
        {
          tl_nn_set_threads (threads);
          poison (ws, tl_winograd_workspace (&s, m));
          tl_winograd_forward_taps (threads == 1 ? one : two, in, u, k % 3 ? NULL : b, &s, m, ws);
          if (threads > 1)
            g_assert_cmpmem (one, n_out * sizeof (float), two, n_out * sizeof (float));
        }
      tl_nn_set_threads (0);
      tl_conv2d_forward_ref (ref, in, w, k % 3 ? NULL : b, &s);
      d = nn_test_scaled_diff (two, ref, n_out);
      g_test_message ("F(%d×%d, 3×3) taps n%d %d×%d×%d → %d×%d×%d pad %d act %d: "
                      "max |diff| / (1 + max |ref|) = %.2e",
                      m, m, c->n, c->h, c->w, c->c, s.oh, s.ow, c->oc, c->pad, s.act, d);
      g_assert_cmpfloat (d, <, 1e-4);
    }
}

/* A convolution with its residual sum (and ReLU) in the output
 * transform: the same bits as the convolution, then the sum, then the
 * ReLU, on 1 and 2 threads, for whole tiles a thread (35×35, 17×17),
 * positions a thread (8×8) and the taps (17×17, 13×12; 4×4 and 6×6
 * tiles). */
static void
test_sum (void)
{
  /* m: the tile size; taps: from the taps */
  static const struct { Case c; int m; gboolean taps; } sums[] = {
    { { 1, 35, 35, 32, 32, TL_PAD_SAME }, 4, FALSE },    /* the face encoder's stages */
    { { 1, 17, 17, 64, 64, TL_PAD_SAME }, 6, TRUE },
    { { 2, 17, 17, 64, 64, TL_PAD_SAME }, 6, TRUE },
    { { 1, 17, 17, 64, 64, TL_PAD_SAME }, 4, TRUE },
    { { 1, 13, 12, 40, 32, TL_PAD_SAME }, 4, TRUE },
    { { 1, 13, 12, 40, 32, TL_PAD_SAME }, 6, TRUE },
    { { 1, 17, 17, 100, 32, TL_PAD_SAME }, 4, TRUE },   /* two blocks of channels */
    { { 1, 17, 17, 100, 32, TL_PAD_SAME }, 6, TRUE },
    { { 2, 35, 35, 32, 32, TL_PAD_SAME }, 2, FALSE },
    { { 1, 35, 35, 32, 32, TL_PAD_SAME }, 6, FALSE },
    { { 1, 8, 8, 16, 16, TL_PAD_SAME }, 4, FALSE },
    { { 2, 9, 7, 5, 12, 1 }, 4, FALSE },                 /* partial tiles and vectors */
    { { 2, 9, 7, 5, 12, 1 }, 6, FALSE },
  };

  for (guint k = 0; k < G_N_ELEMENTS (sums); k++)
    {
      const Case *c = &sums[k].c;
      const int m = sums[k].m;
      const gboolean taps = sums[k].taps;
      TlConv2dShape s;
      size_t n_out, n_u;
      g_autofree float *in = NULL, *w = NULL, *b = NULL, *r = NULL, *u = NULL, *ws = NULL;
      g_autofree float *one = NULL, *two = NULL, *plain = NULL, *ref = NULL;
      double d;

      g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->w, c->c, c->oc, 3, 3, 1, c->pad, 1));
      n_out = (size_t) c->n * s.oh * s.ow * c->oc;
      n_u = taps ? tl_winograd_taps_floats (&s) : tl_winograd_filter_floats (&s, m);
      in = nn_test_new ((size_t) c->n * c->h * c->w * c->c, 1300 + k);
      w = nn_test_new ((size_t) 9 * c->c * c->oc, 1400 + k);
      b = nn_test_new (c->oc, 1500 + k);
      r = nn_test_new (n_out, 1600 + k);
      u = tl_nn_alloc (n_u * sizeof (float));
      ws = tl_nn_alloc (tl_winograd_workspace (&s, m) * sizeof (float));
      one = nn_test_new (n_out, 1700);  /* garbage: every output must be written */
      two = nn_test_new (n_out, 1800);
      plain = nn_test_new (n_out, 0);
      ref = nn_test_new (n_out, 0);
      if (taps)
        tl_winograd_taps (u, w, &s);
      else
        tl_winograd_filter (u, w, &s, m);

      /* unfused: the convolution, then the sum with its ReLU */
      tl_nn_set_threads (1);
      if (taps)
        tl_winograd_forward_taps (plain, in, u, b, &s, m, ws);
      else
        tl_winograd_forward (plain, in, u, b, &s, m, ws);
      tl_add_forward (plain, r, plain, n_out);
      tl_relu_forward (plain, plain, n_out);
      /* fused, on 1 to 4 threads */
      s.act = TL_CONV_ACT_RELU;
      for (int threads = 1; threads <= 4; threads++)
        {
          tl_nn_set_threads (threads);
          poison (ws, tl_winograd_workspace (&s, m));
          if (taps)
            tl_winograd_forward_taps_sum (threads == 1 ? one : two, in, u, b, r, &s, m, ws);
          else
            tl_winograd_forward_sum (threads == 1 ? one : two, in, u, b, r, &s, m, ws);
          if (threads > 1)
            g_assert_cmpmem (two, n_out * sizeof (float), plain, n_out * sizeof (float));
        }
      tl_nn_set_threads (0);
      g_test_message ("F(%d×%d)%s n%d %d×%d×%d → %d×%d×%d + sum + ReLU: fused vs unfused "
                      "max |diff| %.2e", m, m, taps ? " taps" : "", c->n, c->h, c->w,
                      c->c, s.oh, s.ow, c->oc, nn_test_max_diff (one, plain, n_out));
      g_assert_cmpmem (one, n_out * sizeof (float), plain, n_out * sizeof (float));

      /* and the naive convolution, sum and ReLU */
      s.act = TL_CONV_ACT_NONE;
      tl_conv2d_forward_ref (ref, in, w, b, &s);
      tl_add_forward (ref, ref, r, n_out);
      tl_relu_forward (ref, ref, n_out);
      d = nn_test_scaled_diff (two, ref, n_out);
      g_test_message ("  vs the naive convolution: max |diff| / (1 + max |ref|) = %.2e", d);
      g_assert_cmpfloat (d, <, m == 2 ? 1e-5 : 1e-4);
    }
}

/* The other inference layouts of tl_net_freeze (): transposed weights for
 * few output pixels, and the single live tap of a 3×3 on a 1×1 map. */
static void
test_few_pixels (void)
{
  static const Case few[] = {
    { 1, 4, 4, 128, 256, TL_PAD_SAME },
    { 1, 3, 3, 256, 120, TL_PAD_SAME },
    { 2, 5, 5, 136, 240, TL_PAD_VALID },
    { 1, 1, 1, 40, 24, TL_PAD_SAME },     /* single tap */
    { 3, 1, 1, 8, 16, 1 },                /* single tap, batch */
  };

  for (guint k = 0; k < G_N_ELEMENTS (few); k++)
    {
      const Case *c = &few[k];
      TlConv2dShape s;
      size_t n_w, n_out;
      g_autofree float *in = NULL, *w = NULL, *wt = NULL, *b = NULL, *ws = NULL;
      g_autofree float *fast = NULL, *ref = NULL;
      double d;

      g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->w, c->c, c->oc, 3, 3, 1, c->pad, 1));
      s.act = TL_CONV_ACT_RELU;
      n_w = (size_t) 9 * c->c * c->oc;
      n_out = (size_t) c->n * s.oh * s.ow * c->oc;
      in = nn_test_new ((size_t) c->n * c->h * c->w * c->c, 400 + k);
      w = nn_test_new (n_w, 500 + k);
      b = nn_test_new (c->oc, 600 + k);
      wt = nn_test_new (n_w, 0);
      ws = nn_test_new (tl_conv2d_workspace (&s) + 1, 0);
      fast = nn_test_new (n_out, 700);
      ref = nn_test_new (n_out, 0);
      tl_conv2d_forward_ref (ref, in, w, b, &s);
      if (s.h == 1)
        {
          g_assert_false (tl_conv2d_transposed_applies (&s));
          tl_conv2d_forward (fast, in, w, b, &s, ws);
        }
      else
        {
          g_assert_true (tl_conv2d_transposed_applies (&s));
          tl_conv2d_transpose_weights (wt, w, &s);
          tl_conv2d_forward_transposed (fast, in, wt, b, &s, ws);
        }
      d = nn_test_scaled_diff (fast, ref, n_out);
      g_test_message ("%s n%d %d×%d×%d → %d×%d×%d: max |diff| / (1 + max |ref|) = %.2e",
                      s.h == 1 ? "single tap" : "transposed", c->n, c->h, c->w, c->c,
                      s.oh, s.ow, c->oc, d);
      g_assert_cmpfloat (d, <, 1e-5);
    }
}

static void
test_shapes (void)
{
  TlConv2dShape s;

  g_assert_true (tl_conv2d_shape (&s, 1, 8, 8, 16, 16, 3, 3, 2, TL_PAD_SAME, 1));
  g_assert_false (tl_winograd_applies (&s));
  g_assert_cmpint (tl_winograd_choose (&s), ==, 0);
  g_assert_true (tl_conv2d_shape (&s, 1, 8, 8, 16, 16, 3, 3, 1, TL_PAD_SAME, 16));
  g_assert_false (tl_winograd_applies (&s));
  g_assert_true (tl_conv2d_shape (&s, 1, 8, 8, 16, 16, 5, 5, 1, TL_PAD_SAME, 1));
  g_assert_false (tl_winograd_applies (&s));
  g_assert_true (tl_conv2d_shape (&s, 1, 35, 35, 32, 32, 3, 3, 1, TL_PAD_SAME, 1));
  g_assert_cmpint (tl_winograd_choose (&s), !=, 0);
  g_assert_cmpint (tl_winograd_taps_choose (&s), ==, 0);
  g_assert_true (tl_conv2d_shape (&s, 1, 17, 17, 64, 64, 3, 3, 1, TL_PAD_SAME, 1));
  g_assert_cmpint (tl_winograd_taps_choose (&s), ==, 6);
  g_assert_true (tl_conv2d_shape (&s, 1, 13, 12, 40, 32, 3, 3, 1, TL_PAD_SAME, 1));
  g_assert_cmpint (tl_winograd_taps_choose (&s), ==, 4);
  g_assert_true (tl_conv2d_shape (&s, 1, 8, 8, 128, 128, 3, 3, 1, TL_PAD_SAME, 1));
  g_assert_cmpint (tl_winograd_taps_choose (&s), ==, 0);
}

/* A residual block of 3×3 convolutions (the encoder's kind) run with
 * transformed filters after tl_net_freeze () gives what it gave before;
 * a prepare for training drops them again. */
static void
test_net (void)
{
  TlNnError err = { 0 };
  TlNet *net = tl_net_new (17, 17, 32);
  g_autofree float *plain = NULL;
  const float *out;
  float *in;
  size_t n_params, n_out;
  float *params;
  double d;
  int x;

  x = tl_net_conv2d (net, 0, "a", 32, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, x);
  x = tl_net_conv2d (net, x, "b", 32, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, tl_net_add (net, 0, x));
  x = tl_net_conv2d (net, x, "c", 64, 3, 3, 2, TL_PAD_VALID, 1, true);
  g_assert_true (tl_net_build (net, &err));
  params = tl_net_params (net, &n_params);
  nn_test_fill (params, n_params, 7);
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  in = nn_test_new ((size_t) 2 * 17 * 17 * 32, 8);
  n_out = (size_t) 2 * 8 * 8 * 64;

  out = tl_net_forward (net, in, 2, false);
  plain = g_memdup2 (out, n_out * sizeof (float));
  g_assert_cmpint (tl_net_freeze (net, &err), ==, 2);
  out = tl_net_forward (net, in, 2, false);
  d = nn_test_scaled_diff (out, plain, n_out);
  g_test_message ("frozen net: max |diff| / (1 + max |ref|) = %.2e", d);
  g_assert_cmpfloat (d, <, 1e-4);

  /* training drops the transformed filters: a changed weight is seen */
  g_assert_true (tl_net_prepare (net, 2, true, &err));
  params[0] += 1.0f;
  out = tl_net_forward (net, in, 2, false);
  g_assert_cmpfloat (nn_test_scaled_diff (out, plain, n_out), >, 1e-3);

  tl_nn_free (in);
  tl_net_free (net);
}

/* A residual block of the encoder's kind, x → conv → ReLU → conv (→
 * scale) → sum with x' → ReLU, built twice: with x' computed before the
 * second convolution (its output transform then adds x' and applies the
 * ReLU: the sum takes over the convolution's buffer) and after it (the
 * separate sum).  Frozen, both give the same bits. */
static TlNet *
build_block (int      side,
             int      ch,
             gboolean late,
             int     *conv,
             int     *sum)
{
  TlNet *net = tl_net_new (side, side, ch);
  TlNnError err = { 0 };
  int x, y, shortcut = 0;

  if (!late)
    shortcut = tl_net_relu (net, 0);
  y = tl_net_conv2d (net, 0, "a", ch, 3, 3, 1, TL_PAD_SAME, 1, true);
  y = tl_net_relu (net, y);
  y = *conv = tl_net_conv2d (net, y, "b", ch, 3, 3, 1, TL_PAD_SAME, 1, true);
  y = tl_net_scale_bias (net, y, "s");
  if (late)
    shortcut = tl_net_relu (net, 0);
  *sum = tl_net_add (net, late ? y : shortcut, late ? shortcut : y);
  x = tl_net_relu (net, *sum);
  tl_net_global_avgpool (net, tl_net_conv2d (net, x, "c", ch, 3, 3, 2, TL_PAD_VALID, 1, true));
  g_assert_true (tl_net_build (net, &err));
  return net;
}

static void
test_net_sum (void)
{
  static const int shapes[][2] = { { 35, 32 }, { 17, 64 } };

  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const int side = shapes[k][0], ch = shapes[k][1];
      int conv[2], sum[2];
      TlNet *fused = build_block (side, ch, FALSE, &conv[0], &sum[0]);
      TlNet *plain = build_block (side, ch, TRUE, &conv[1], &sum[1]);
      TlNnError err = { 0 };
      float *in = nn_test_new ((size_t) 2 * side * side * ch, 40 + k);
      float *p1, *p2;
      size_t n1, n2;
      const float *out;
      g_autofree float *expect = NULL;

      p1 = tl_net_params (fused, &n1);
      p2 = tl_net_params (plain, &n2);
      g_assert_cmpuint (n1, ==, n2);
      nn_test_fill (p1, n1, 50 + k);
      memcpy (p2, p1, n1 * sizeof (float));
      for (int t = 0; t < 2; t++)
        {
          TlNet *net = t ? plain : fused;

          g_assert_true (tl_net_prepare (net, 2, false, &err));
          g_assert_cmpint (tl_net_fold (net), ==, 1);
          g_assert_cmpint (tl_net_freeze (net, &err), >=, 2);
          g_assert_cmpstr (tl_net_frozen_layout (net, conv[t]), ==,
                           side == 35 ? "F(4x4,3x3)" : "F(6x6,3x3) taps");
        }
      /* the first sum takes over b's buffer, the second cannot */
      g_assert_true (tl_net_activation (fused, sum[0]) == tl_net_activation (fused, conv[0]));
      g_assert_true (tl_net_activation (plain, sum[1]) != tl_net_activation (plain, conv[1]));
      for (int threads = 1; threads <= 2; threads++)
        {
          /* (the stride-2 convolution after the block need not give the
           * same bits on 1 and 2 threads: compare at the same count) */
          tl_nn_set_threads (threads);
          g_free (expect);
          expect = g_memdup2 (tl_net_forward (plain, in, 2, false), 2 * ch * sizeof (float));
          out = tl_net_forward (fused, in, 2, false);
          g_test_message ("%d×%d×%d block (%s), %d thread(s): sum in the transform vs after: "
                          "max |diff| %.2e", side, side, ch, tl_net_frozen_layout (fused, conv[0]),
                          threads, nn_test_max_diff (out, expect, 2 * ch));
          g_assert_cmpmem (out, 2 * ch * sizeof (float), expect, 2 * ch * sizeof (float));
        }
      tl_nn_set_threads (0);
      tl_nn_free (in);
      tl_net_free (fused);
      tl_net_free (plain);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tl_nn_init ();
  g_test_add_data_func ("/twinlock/nn/winograd/f2", GINT_TO_POINTER (2), test_forward);
  g_test_add_data_func ("/twinlock/nn/winograd/f4", GINT_TO_POINTER (4), test_forward);
  g_test_add_data_func ("/twinlock/nn/winograd/f6", GINT_TO_POINTER (6), test_forward);
  g_test_add_func ("/twinlock/nn/winograd/taps", test_taps);
  g_test_add_func ("/twinlock/nn/winograd/sum", test_sum);
  g_test_add_func ("/twinlock/nn/winograd/few-pixels", test_few_pixels);
  g_test_add_func ("/twinlock/nn/winograd/shapes", test_shapes);
  g_test_add_func ("/twinlock/nn/winograd/net", test_net);
  g_test_add_func ("/twinlock/nn/winograd/net-sum", test_net_sum);
  return g_test_run ();
}
