/* test-nn-quant.c — convolutions on 8-bit weight codes (tl-nn-quant.c):
 * finding the grid, the kernel against its naive reference and against
 * the float convolution, and a frozen network that uses them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>

#include "nn-test-util.h"
#include "tl-nn-net.h"
#include "tl-nn-quant.h"
#include "tl-nn-winograd.h"

/* Weights the way a uint8-quantised model file gives them after a
 * per-channel scale is folded in: w[k][o] = (q·scale + min)·g[o], in
 * float as the importer and tl_net_fold () compute them. */
static void
fill_on_grid (float   *w,
              int      k,
              int      oc,
              guint32  seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  double scale = g_rand_double_range (rand, 1e-4, 1e-2), min = -127.3 * scale;
  float *g = g_new (float, oc);

  for (int o = 0; o < oc; o++)
    g[o] = (float) g_rand_double_range (rand, 0.2, 3.0);
  for (size_t i = 0; i < (size_t) k * oc; i++)
    {
      /* every code, 0 and 255 included, occurs */
      int q = i < 256 ? (int) i : g_rand_int_range (rand, 0, 256);

      w[i] = (float) (q * scale + min) * g[i % oc];
    }
  g_free (g);
  g_rand_free (rand);
}

static void
test_find (void)
{
  const int k = 9 * 64, oc = 32;
  g_autofree uint8_t *qw = g_malloc (tl_quant_weights_bytes (k, oc));
  g_autofree float *w = g_new (float, (size_t) k * oc);
  g_autofree float *back = g_new (float, (size_t) k * oc);
  double err = -1.0, big = 0.0;

  fill_on_grid (w, k, oc, 1);
  g_assert_true (tl_quant_weights_find (qw, w, k, oc, 1.0 / (1 << 20), &err));
  g_test_message ("grid found, largest distance to it %.2e of the column's magnitude", err);
  g_assert_cmpfloat (err, <, 1.0 / (1 << 21));
  tl_quant_weights_dequantise (back, qw, k, oc);
  for (size_t i = 0; i < (size_t) k * oc; i++)
    big = MAX (big, fabs (w[i]));
  nn_test_assert_close ("dequantised weights", back, w, (size_t) k * oc, 1e-6 * big);

  /* a constant column is a grid of one value */
  for (int i = 0; i < k; i++)
    w[(size_t) i * oc + 3] = 0.25f;
  g_assert_true (tl_quant_weights_find (qw, w, k, oc, 1.0 / (1 << 20), NULL));

  /* off the grid: random floats, one weight nudged, more than 256 levels */
  nn_test_fill (w, (size_t) k * oc, 2);
  g_assert_false (tl_quant_weights_find (qw, w, k, oc, 1.0 / (1 << 20), NULL));
  fill_on_grid (w, k, oc, 3);
  w[77 * oc + 5] += 1e-4f;       /* steps are 2e-5 or more, magnitudes 2.5e-3 or more */
  g_assert_false (tl_quant_weights_find (qw, w, k, oc, 1.0 / (1 << 20), NULL));
  for (size_t i = 0; i < (size_t) k * oc; i++)
    w[i] = (float) (i / oc % 300) * 0.01f;     /* 300 levels a column */
  g_assert_false (tl_quant_weights_find (qw, w, k, oc, 1.0 / (1 << 20), NULL));
  w[0] = NAN;
  g_assert_false (tl_quant_weights_find (qw, w, k, oc, 1.0 / (1 << 20), NULL));
  /* panels of 16 channels only */
  g_assert_false (tl_quant_weights_find (qw, w, k, 24, 1.0 / (1 << 20), NULL));
}

typedef struct
{
  int n, h, w, c, oc, stride, pad;
} Case;

static void
test_forward (gconstpointer data)
{
  static const Case cases[] = {
    { 1, 4, 4, 256, 256, 1, TL_PAD_SAME },     /* the face encoder's deep layers */
    { 1, 8, 8, 128, 256, 2, TL_PAD_VALID },
    { 1, 17, 17, 64, 128, 2, TL_PAD_VALID },   /* 64 output pixels */
    { 1, 4, 4, 256, 256, 2, TL_PAD_VALID },    /* one output pixel */
    { 2, 4, 4, 256, 256, 1, TL_PAD_SAME },     /* a face and its mirror image */
    { 1, 3, 3, 200, 160, 1, TL_PAD_SAME },     /* 9 rows: tiles of 5 and 4 */
    { 3, 2, 3, 232, 128, 1, 1 },               /* batch, odd sides, k not a multiple of 128 */
    /* patches read where they lie (channels a multiple of 128): the
     * encoder's 3×3 map, then a batch with padding at stride 2 */
    { 1, 3, 3, 256, 256, 1, TL_PAD_SAME },
    { 2, 7, 6, 128, 48, 2, TL_PAD_SAME },
    /* F(2×2, 3×3) from the codes: channels not a multiple of its blocks, one tile, batch */
    { 1, 4, 4, 200, 160, 1, TL_PAD_SAME },
    { 1, 2, 2, 64, 32, 1, TL_PAD_SAME },
    { 2, 2, 4, 40, 48, 1, TL_PAD_SAME },
    /* up to 6 output pixels, codes turned into floats in registers: a
     * face and its mirror image to 1×1, 3 and 5 pixels, k not a multiple
     * of the running sums (4 for one row, 2 for two or three) */
    { 2, 4, 4, 256, 256, 2, TL_PAD_VALID },
    { 1, 3, 3, 43, 16, 1, TL_PAD_VALID },
    { 1, 3, 7, 41, 48, 2, TL_PAD_VALID },
    { 1, 3, 11, 41, 32, 2, TL_PAD_VALID },
    /* a 1×1 map: only the centre tap's codes */
    { 1, 1, 1, 256, 256, 1, TL_PAD_SAME },
    { 2, 1, 1, 72, 48, 1, TL_PAD_SAME },
  };
  int threads = GPOINTER_TO_INT (data) % 8;
  bool portable = GPOINTER_TO_INT (data) >= 8;

  tl_nn_set_threads (threads);
  tl_quant_use_portable_kernel (portable);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      TlConv2dShape s;
      int k;
      size_t n_out, from;
      g_autofree uint8_t *qw = NULL;
      g_autofree float *in = NULL, *w = NULL, *wq = NULL, *b = NULL, *ws = NULL;
      g_autofree float *fast = NULL, *ref = NULL, *plain = NULL;
      double d_ref, d_float;

      g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->w, c->c, c->oc, 3, 3, c->stride,
                                      c->pad, 1));
      s.act = i % 2 ? TL_CONV_ACT_NONE : TL_CONV_ACT_RELU;
      g_assert_true (tl_quant_conv2d_applies (&s));
      k = tl_quant_conv2d_rows (&s, &from);
      g_assert_cmpint (k, ==, c->h * c->w == 1 ? c->c : 9 * c->c);
      n_out = (size_t) c->n * s.oh * s.ow * c->oc;
      in = nn_test_new ((size_t) c->n * c->h * c->w * c->c, 10 + i);
      w = g_new (float, (size_t) 9 * c->c * c->oc);
      wq = g_new (float, (size_t) 9 * c->c * c->oc);
      fill_on_grid (w, 9 * c->c, c->oc, 20 + i);
      b = nn_test_new (c->oc, 30 + i);
      qw = tl_nn_alloc (tl_quant_weights_bytes (k, c->oc));
      ws = tl_nn_alloc ((tl_conv2d_workspace (&s) + 1) * sizeof (float));
      fast = nn_test_new (n_out, 40);
      ref = nn_test_new (n_out, 0);
      plain = nn_test_new (n_out, 0);
      g_assert_true (tl_quant_weights_find (qw, w + from, k, c->oc, 1.0 / (1 << 20), NULL));

      tl_quant_conv2d_forward (fast, in, qw, b, &s, ws);
      tl_quant_conv2d_forward_ref (ref, in, qw, b, &s);
      /* the float convolution of the weights the codes came from */
      tl_conv2d_forward_ref (plain, in, w, b, &s);
      /* split over the threads by output channels: the same bits as one */
      if (threads > 1)
        {
          g_autofree float *one = nn_test_new (n_out, 41);

          tl_nn_set_threads (1);
          tl_quant_conv2d_forward (one, in, qw, b, &s, ws);
          tl_nn_set_threads (threads);
          g_assert_cmpmem (one, n_out * sizeof (float), fast, n_out * sizeof (float));
        }
      d_ref = nn_test_scaled_diff (fast, ref, n_out);
      d_float = nn_test_scaled_diff (fast, plain, n_out);
      g_test_message ("%s kernel, %d thread(s), n%d %d×%d×%d /%d → %d×%d×%d: max |diff| / "
                      "(1 + max |ref|) = %.2e against the reference, %.2e against the float weights",
                      portable ? "portable" : "best", threads, c->n, c->h, c->w, c->c, c->stride, s.oh, s.ow, c->oc, d_ref,
                      d_float);
      g_assert_cmpfloat (d_ref, <, 1e-6);
      g_assert_cmpfloat (d_float, <, 1e-6);
    }
  tl_nn_set_threads (0);
  tl_quant_use_portable_kernel (false);
}

/* F(2×2, 3×3) with its transformed filters as 16-bit codes, against the
 * float convolution of the weights the codes came from. */
static void
test_winograd (void)
{
  static const Case cases[] = {
    { 1, 8, 8, 128, 128, 1, TL_PAD_SAME },     /* the face encoder's */
    { 2, 8, 8, 128, 128, 1, TL_PAD_SAME },
    { 2, 17, 17, 64, 64, 1, TL_PAD_SAME },
    { 1, 7, 9, 24, 32, 1, TL_PAD_VALID },      /* partial tiles, k not a multiple of 8 */
  };

  for (int run = 0; run < 3; run++)
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        /* one thread, two, and the portable kernel */
        int threads = run == 1 ? 2 : 1;

        const Case *c = &cases[i];
        TlConv2dShape s;
        size_t n_out;
        g_autofree uint8_t *u = NULL;
        g_autofree float *in = NULL, *w = NULL, *b = NULL, *ws = NULL, *fast = NULL;
        g_autofree float *ref = NULL;
        double d;

        tl_nn_set_threads (threads);
        tl_quant_use_portable_kernel (run == 2);
        g_assert_true (tl_conv2d_shape (&s, c->n, c->h, c->w, c->c, c->oc, 3, 3, 1, c->pad, 1));
        s.act = TL_CONV_ACT_RELU;
        n_out = (size_t) c->n * s.oh * s.ow * c->oc;
        in = nn_test_new ((size_t) c->n * c->h * c->w * c->c, 50 + i);
        w = g_new (float, (size_t) 9 * c->c * c->oc);
        fill_on_grid (w, 9 * c->c, c->oc, 60 + i);
        b = nn_test_new (c->oc, 70 + i);
        u = tl_nn_alloc (tl_winograd_codes_bytes (&s));
        ws = tl_nn_alloc (tl_winograd_workspace (&s, 2) * sizeof (float));
        fast = nn_test_new (n_out, 80);
        ref = nn_test_new (n_out, 0);
        g_assert_true (tl_winograd_filter_codes (u, w, &s, 1.0 / (1 << 20)));
        tl_winograd_forward_codes (fast, in, u, b, &s, ws);
        tl_conv2d_forward_ref (ref, in, w, b, &s);
        d = nn_test_scaled_diff (fast, ref, n_out);
        g_test_message ("F(2×2, 3×3) on codes, %s kernel, %d thread(s), n%d %d×%d×%d → "
                        "%d×%d×%d: max |diff| / (1 + max |ref|) = %.2e",
                        run == 2 ? "portable" : "best", threads, c->n, c->h, c->w, c->c, s.oh, s.ow, c->oc, d);
        g_assert_cmpfloat (d, <, 1e-5);

        /* off the grid, or channels not in panels of 16: no codes */
        w[5] += 1e-4f;
        g_assert_false (tl_winograd_filter_codes (u, w, &s, 1.0 / (1 << 20)));
      }
  {
    TlConv2dShape s;
    g_autofree float *zeros = g_new0 (float, 9 * 16 * 24);
    g_autofree uint8_t *u = NULL;

    g_assert_true (tl_conv2d_shape (&s, 1, 8, 8, 16, 24, 3, 3, 1, TL_PAD_SAME, 1));
    u = g_malloc (tl_winograd_codes_bytes (&s));
    g_assert_false (tl_winograd_filter_codes (u, zeros, &s, 1.0 / (1 << 20)));
  }
  tl_nn_set_threads (0);
  tl_quant_use_portable_kernel (false);
}

/* The encoder's 128-channel stage frozen: its filters on codes, the same
 * result as before. */
static void
test_winograd_net (void)
{
  TlNnError err = { 0 };
  TlNet *net = tl_net_new (8, 8, 128);
  g_autofree float *plain = NULL;
  size_t n_out = (size_t) 2 * 8 * 8 * 128;
  float *in;
  double d;
  int x;

  x = tl_net_conv2d (net, 0, "a", 128, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, x);
  x = tl_net_conv2d (net, x, "b", 128, 3, 3, 1, TL_PAD_SAME, 1, true);
  tl_net_relu (net, tl_net_add (net, 0, x));
  g_assert_true (tl_net_build (net, &err));
  fill_on_grid (tl_net_find_tensor (net, "a.weight")->data, 9 * 128, 128, 90);
  fill_on_grid (tl_net_find_tensor (net, "b.weight")->data, 9 * 128, 128, 91);
  nn_test_fill (tl_net_find_tensor (net, "a.bias")->data, 128, 92);
  nn_test_fill (tl_net_find_tensor (net, "b.bias")->data, 128, 93);
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  in = nn_test_new ((size_t) 2 * 8 * 8 * 128, 94);
  plain = g_memdup2 (tl_net_forward (net, in, 2, false), n_out * sizeof (float));
  g_assert_cmpint (tl_net_freeze (net, &err), ==, 2);
  g_assert_cmpstr (tl_net_frozen_layout (net, 1), ==, "F(2x2,3x3) codes");
  d = nn_test_scaled_diff (tl_net_forward (net, in, 2, false), plain, n_out);
  g_test_message ("frozen on Winograd codes: max |diff| / (1 + max |ref|) = %.2e", d);
  g_assert_cmpfloat (d, <, 1e-5);
  tl_nn_free (in);
  tl_net_free (net);
}

/* A net whose deep convolution has weights on a grid runs it on codes
 * once frozen, and gives what it gave before; weights off the grid keep
 * the float path with the same result. */
static void
test_net (void)
{
  TlNnError err = { 0 };
  TlNet *net = tl_net_new (4, 4, 256);
  TlNnTensor *t;
  g_autofree float *plain = NULL;
  const float *out;
  float *in;
  size_t n_out = (size_t) 2 * 4 * 4 * 256;
  double d;
  int x;

  x = tl_net_conv2d (net, 0, "a", 256, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_scale_bias (net, x, "a.s");
  tl_net_relu (net, x);
  g_assert_true (tl_net_build (net, &err));
  t = tl_net_find_tensor (net, "a.weight");
  fill_on_grid (t->data, 9 * 256, 256, 5);
  nn_test_fill (tl_net_find_tensor (net, "a.bias")->data, 256, 6);
  nn_test_fill (tl_net_find_tensor (net, "a.s.scale")->data, 256, 7);
  nn_test_fill (tl_net_find_tensor (net, "a.s.bias")->data, 256, 8);
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  in = nn_test_new ((size_t) 2 * 4 * 4 * 256, 9);

  out = tl_net_forward (net, in, 2, false);
  plain = g_memdup2 (out, n_out * sizeof (float));
  /* the scale folded in keeps each column on a grid of its own */
  g_assert_cmpint (tl_net_fold (net), ==, 1);
  g_assert_cmpint (tl_net_freeze (net, &err), ==, 1);
  out = tl_net_forward (net, in, 2, false);
  d = nn_test_scaled_diff (out, plain, n_out);
  g_test_message ("frozen on codes: max |diff| / (1 + max |ref|) = %.2e", d);
  g_assert_cmpfloat (d, <, 1e-5);

  g_assert_cmpstr (tl_net_frozen_layout (net, 1), ==, "codes");

  /* nudged off the grid: transposed float weights, the same result as
   * the unfrozen net's */
  g_assert_true (tl_net_prepare (net, 2, true, &err));
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  g_assert_null (tl_net_frozen_layout (net, 1));
  t->data[1000] *= 1.01f;
  g_free (plain);
  plain = g_memdup2 (tl_net_forward (net, in, 2, false), n_out * sizeof (float));
  g_assert_cmpint (tl_net_freeze (net, &err), ==, 1);
  g_assert_cmpstr (tl_net_frozen_layout (net, 1), ==, "transposed");
  out = tl_net_forward (net, in, 2, false);
  d = nn_test_scaled_diff (out, plain, n_out);
  g_test_message ("frozen off the grid: max |diff| / (1 + max |ref|) = %.2e", d);
  g_assert_cmpfloat (d, <, 1e-5);
  tl_nn_free (in);
  tl_net_free (net);
}

/* A 3×3 convolution of a 1×1 map keeps only its centre tap's codes, and
 * gives what the float weights gave. */
static void
test_net_one_tap (void)
{
  TlNnError err = { 0 };
  TlNet *net = tl_net_new (1, 1, 256);
  g_autofree float *plain = NULL;
  size_t n_out = (size_t) 2 * 256;
  float *in;
  double d;
  int x;

  x = tl_net_conv2d (net, 0, "a", 256, 3, 3, 1, TL_PAD_SAME, 1, true);
  tl_net_relu (net, x);
  g_assert_true (tl_net_build (net, &err));
  fill_on_grid (tl_net_find_tensor (net, "a.weight")->data, 9 * 256, 256, 95);
  nn_test_fill (tl_net_find_tensor (net, "a.bias")->data, 256, 96);
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  in = nn_test_new (n_out, 97);
  plain = g_memdup2 (tl_net_forward (net, in, 2, false), n_out * sizeof (float));
  g_assert_cmpint (tl_net_freeze (net, &err), ==, 1);
  g_assert_cmpstr (tl_net_frozen_layout (net, 1), ==, "codes");
  d = nn_test_scaled_diff (tl_net_forward (net, in, 2, false), plain, n_out);
  g_test_message ("1×1 map frozen on its centre tap's codes: max |diff| / (1 + max |ref|) = %.2e", d);
  g_assert_cmpfloat (d, <, 1e-5);
  tl_nn_free (in);
  tl_net_free (net);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tl_nn_init ();
  g_test_add_func ("/twinlock/nn/quant/find", test_find);
  g_test_add_data_func ("/twinlock/nn/quant/forward/1-thread", GINT_TO_POINTER (1), test_forward);
  g_test_add_data_func ("/twinlock/nn/quant/forward/2-threads", GINT_TO_POINTER (2), test_forward);
  g_test_add_data_func ("/twinlock/nn/quant/forward/portable", GINT_TO_POINTER (8 + 1), test_forward);
  g_test_add_func ("/twinlock/nn/quant/net", test_net);
  g_test_add_func ("/twinlock/nn/quant/net-one-tap", test_net_one_tap);
  g_test_add_func ("/twinlock/nn/quant/winograd", test_winograd);
  g_test_add_func ("/twinlock/nn/quant/winograd-net", test_winograd_net);
  return g_test_run ();
}
