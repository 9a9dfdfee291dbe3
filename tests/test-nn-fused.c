/* test-nn-fused.c — chains of layers run band by band (tl-nn-fused.c)
 * against the layers' naive references run one after the other
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <float.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn-test-util.h"
#include "tl-faceapi-nets.h"
#include "tl-nn-fused.h"
#include "tl-nn-net.h"

static void
act_ref (float *x, size_t n, int act, float slope)
{
  for (size_t i = 0; i < n; i++)
    if (act == TL_CONV_ACT_RELU)
      x[i] = MAX (x[i], 0.0f);
    else if (act == TL_CONV_ACT_LEAKY)
      x[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

/* max over the window's real pixels */
static void
maxpool_ref (float *out, const float *in, const TlPoolShape *s)
{
  for (int b = 0; b < s->n; b++)
    for (int oy = 0; oy < s->oh; oy++)
      for (int ox = 0; ox < s->ow; ox++)
        for (int q = 0; q < s->c; q++)
          {
            float m = -FLT_MAX;

            for (int ky = 0; ky < s->k; ky++)
              for (int kx = 0; kx < s->k; kx++)
                {
                  int y = oy * s->stride - s->pad_t + ky, x = ox * s->stride - s->pad_l + kx;

                  if (y >= 0 && y < s->h && x >= 0 && x < s->w)
                    m = MAX (m, in[(((size_t) b * s->h + y) * s->w + x) * s->c + q]);
                }
            out[(((size_t) b * s->oh + oy) * s->ow + ox) * s->c + q] = m;
          }
}

typedef struct
{
  int n, h, w, c;        /* the chain's input */
  bool dw;
  int stride, pad;       /* of the depthwise, or of the first conv (3×3) */
  int oc, act;
  int pool_stride;       /* 0: no pool */
  int threads;           /* planned for */
  bool residual;         /* a tensor added before act */
  int act2;              /* a second output act2 (out) */
  int k;                 /* the first conv's kernel side, 0: 3 */
  int pool_k, pool_pad;  /* pool_k 0: 2×2, "same" */
} ChainCase;

static void
test_chain (void)
{
  static const ChainCase cases[] = {
    /* detector conv0 (3 channels, valid, leaky, pool /2) at a small size */
    { 1, 30, 30, 3, false, 1, TL_PAD_VALID, 16, TL_CONV_ACT_LEAKY, 2, 1 },
    { 2, 27, 21, 3, false, 1, TL_PAD_VALID, 32, TL_CONV_ACT_LEAKY, 2, 2 },
    /* widths of whole six-pixel blocks: pooled in pairs as computed */
    { 2, 23, 26, 3, false, 1, TL_PAD_VALID, 32, TL_CONV_ACT_RELU, 2, 1 },
    { 1, 122, 110, 3, false, 1, TL_PAD_VALID, 32, TL_CONV_ACT_LEAKY, 2, 2 },
    /* detector separable blocks: pad 1, leaky, pool /2 (odd sides) or /1 */
    { 1, 25, 25, 16, true, 1, 1, 32, TL_CONV_ACT_LEAKY, 2, 2 },
    { 1, 13, 13, 64, true, 1, 1, 128, TL_CONV_ACT_LEAKY, 2, 1 },
    { 1, 13, 11, 72, true, 1, 1, 80, TL_CONV_ACT_LEAKY, 1, 2 },
    { 2, 7, 9, 256, true, 1, 1, 512, TL_CONV_ACT_LEAKY, 1, 3 },
    /* large enough to be split over the threads (TL_NN_SPLIT_MIN_FLOPS) */
    { 1, 104, 104, 32, true, 1, 1, 64, TL_CONV_ACT_LEAKY, 2, 2 },
    { 1, 13, 13, 256, true, 1, 1, 512, TL_CONV_ACT_LEAKY, 1, 2 },
    { 1, 100, 99, 3, false, 1, TL_PAD_VALID, 32, TL_CONV_ACT_RELU, 2, 2 },
    /* landmark blocks: "same", stride 1 or 2, relu or none, no pool */
    { 1, 56, 56, 32, true, 1, TL_PAD_SAME, 32, TL_CONV_ACT_RELU, 0, 2 },
    { 1, 29, 29, 32, true, 2, TL_PAD_SAME, 64, TL_CONV_ACT_NONE, 0, 1 },
    { 2, 14, 14, 128, true, 2, TL_PAD_SAME, 256, TL_CONV_ACT_RELU, 0, 2 },
    { 1, 7, 7, 256, true, 1, TL_PAD_SAME, 24, TL_CONV_ACT_NONE, 0, 2 },
    /* landmark dense blocks: the running sum, then ReLU in place or beside */
    { 1, 28, 28, 64, true, 1, TL_PAD_SAME, 64, TL_CONV_ACT_NONE, 0, 2, true, TL_CONV_ACT_RELU },
    { 2, 15, 13, 32, true, 1, TL_PAD_SAME, 32, TL_CONV_ACT_RELU, 0, 1, true, TL_CONV_ACT_NONE },
    { 1, 7, 7, 256, true, 1, TL_PAD_SAME, 256, TL_CONV_ACT_NONE, 0, 2, true, TL_CONV_ACT_LEAKY },
    /* the encoder's stem: 7×7/2, then a 3×3 max pool of stride 2, valid
     * or padded; in steps of several rows (tall bands), or of one */
    { 1, 150, 150, 3, false, 2, TL_PAD_VALID, 32, TL_CONV_ACT_RELU, 2, 2, false, 0, 7, 3, TL_PAD_VALID },
    { 2, 41, 37, 3, false, 2, TL_PAD_VALID, 16, TL_CONV_ACT_RELU, 2, 1, false, 0, 7, 3, TL_PAD_VALID },
    { 1, 64, 31, 3, false, 1, TL_PAD_SAME, 48, TL_CONV_ACT_LEAKY, 2, 2, false, 0, 5, 3, TL_PAD_SAME },
    { 2, 70, 200, 4, false, 2, 3, 16, TL_CONV_ACT_RELU, 2, 3, false, 0, 7, 3, 1 },
  };

  for (guint t = 0; t < G_N_ELEMENTS (cases); t++)
    {
      const ChainCase *k = &cases[t];
      TlNnChain c = { .has_dw = k->dw, .has_pool = k->pool_stride > 0,
                      .has_residual = k->residual, .act2 = k->act2, .slope2 = 0.2f };
      TlNnChainArgs a = { 0 };
      g_autofree float *in = NULL, *dw_w = NULL, *dw_b = NULL, *w = NULL, *b = NULL;
      g_autofree float *mid = NULL, *conv = NULL, *pooled = NULL, *fast = NULL, *ws = NULL;
      g_autofree float *res = NULL, *fast2 = NULL, *ref2 = NULL;
      size_t n_in = (size_t) k->n * k->h * k->w * k->c, n_conv, n_out;
      int ch = k->c, h = k->h, wd = k->w;
      const float *conv_in, *ref;
      double d;

      in = g_new (float, n_in);
      nn_test_fill (in, n_in, 1 + t);
      conv_in = in;
      if (k->dw)
        {
          g_assert_true (tl_conv2d_shape (&c.dw, k->n, h, wd, ch, ch, 3, 3, k->stride, k->pad, ch));
          dw_w = g_new (float, 9 * ch);
          dw_b = g_new (float, ch);
          nn_test_fill (dw_w, 9 * ch, 10 + t);
          nn_test_fill (dw_b, ch, 20 + t);
          mid = g_new (float, (size_t) k->n * c.dw.oh * c.dw.ow * ch);
          tl_conv2d_forward_ref (mid, in, dw_w, t % 2 ? dw_b : NULL, &c.dw);
          conv_in = mid;
          h = c.dw.oh;
          wd = c.dw.ow;
          g_assert_true (tl_conv2d_shape (&c.conv, k->n, h, wd, ch, k->oc, 1, 1, 1,
                                          TL_PAD_VALID, 1));
        }
      else
        g_assert_true (tl_conv2d_shape (&c.conv, k->n, h, wd, ch, k->oc, k->k ? k->k : 3,
                                        k->k ? k->k : 3, k->stride, k->pad, 1));
      c.conv.act = k->act;
      c.conv.slope = 0.1f;
      w = g_new (float, (size_t) c.conv.kh * c.conv.kw * ch * k->oc);
      b = g_new (float, k->oc);
      nn_test_fill (w, (size_t) c.conv.kh * c.conv.kw * ch * k->oc, 30 + t);
      nn_test_fill (b, k->oc, 40 + t);
      n_conv = (size_t) k->n * c.conv.oh * c.conv.ow * k->oc;
      conv = g_new (float, n_conv);
      n_out = n_conv;
      ref = conv;
      if (k->residual)
        {
          /* conv + residual, then act, then act2 */
          TlConv2dShape plain = c.conv;

          plain.act = TL_CONV_ACT_NONE;
          tl_conv2d_forward_ref (conv, conv_in, w, b, &plain);
          res = g_new (float, n_conv);
          nn_test_fill (res, n_conv, 50 + t);
          for (size_t q = 0; q < n_conv; q++)
            conv[q] += res[q];
          act_ref (conv, n_conv, k->act, 0.1f);
          ref2 = g_memdup2 (conv, n_conv * sizeof (float));
          act_ref (ref2, n_conv, k->act2, 0.2f);
          fast2 = g_new (float, n_conv);
        }
      else
        tl_conv2d_forward_ref (conv, conv_in, w, b, &c.conv);   /* with its act */
      if (c.has_pool)
        {
          g_assert_true (tl_pool_shape (&c.pool, k->n, c.conv.oh, c.conv.ow, k->oc,
                                        k->pool_k ? k->pool_k : 2, k->pool_stride,
                                        k->pool_k ? k->pool_pad : TL_PAD_SAME));
          n_out = (size_t) k->n * c.pool.oh * c.pool.ow * k->oc;
          ref = pooled = g_new (float, n_out);
          maxpool_ref (pooled, conv, &c.pool);
        }

      g_assert_true (tl_nn_chain_plan (&c, k->threads));
      ws = g_new (float, tl_nn_chain_workspace (&c) + 1);
      fast = g_new (float, n_out);
      /* the engine's threads up to the planned number */
      tl_nn_set_threads (MIN (k->threads, 2));
      a = (TlNnChainArgs) { fast, k->act2 ? fast2 : NULL, in, res, dw_w, t % 2 ? dw_b : NULL, w, b };
      tl_nn_chain_forward (&a, &c, ws);
      tl_nn_set_threads (0);
      d = nn_test_max_diff (fast, ref, n_out);
      if (k->act2)
        d = MAX (d, nn_test_max_diff (fast2, ref2, n_out));
      g_test_message ("chain %d×%d×%d×%d %s %d×%d/%d → %d,%s act %d, act2 %d, pool %d×%d/%d, "
                      "%d threads%s (bands of %d rows): max |diff| %.2e",
                      k->n, k->h, k->w, k->c, k->dw ? "depthwise" : "conv", c.conv.kh, c.conv.kw,
                      k->stride, k->oc, k->residual ? " + residual," : "", k->act, k->act2,
                      c.pool.k, c.pool.k, k->pool_stride, k->threads, c.split ? ", split" : "",
                      c.band_rows, d);
      g_assert_cmpfloat (d, <, 1e-4);
    }
}

/* What the chain does not run is left to the layers. */
static void
test_chain_refuses (void)
{
  TlNnChain c = { .has_dw = true };

  /* a depthwise 5×5 */
  g_assert_true (tl_conv2d_shape (&c.dw, 1, 9, 9, 8, 8, 5, 5, 1, TL_PAD_SAME, 8));
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 9, 9, 8, 16, 1, 1, 1, TL_PAD_VALID, 1));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  /* channels not a multiple of 8 */
  g_assert_true (tl_conv2d_shape (&c.dw, 1, 9, 9, 12, 12, 3, 3, 1, TL_PAD_SAME, 12));
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 9, 9, 12, 16, 1, 1, 1, TL_PAD_VALID, 1));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  /* a 3×3 after the depthwise, not a pointwise */
  g_assert_true (tl_conv2d_shape (&c.dw, 1, 9, 9, 8, 8, 3, 3, 1, TL_PAD_SAME, 8));
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 9, 9, 8, 16, 3, 3, 1, TL_PAD_SAME, 1));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  /* shapes that do not follow each other */
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 8, 8, 8, 16, 1, 1, 1, TL_PAD_VALID, 1));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  /* a first conv without a pool gains nothing */
  c = (TlNnChain) { 0 };
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 9, 9, 3, 16, 3, 3, 1, TL_PAD_SAME, 1));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  /* a residual or second output after a first conv */
  c.has_residual = c.has_pool = true;
  g_assert_true (tl_pool_shape (&c.pool, 1, 9, 9, 16, 2, 2, TL_PAD_SAME));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  c.has_residual = false;
  /* a 3×3 pool of stride 2 runs, one of stride 1 does not, nor one
   * after a depthwise */
  g_assert_true (tl_pool_shape (&c.pool, 1, 9, 9, 16, 3, 2, TL_PAD_SAME));
  g_assert_true (tl_nn_chain_plan (&c, 1));
  g_assert_true (tl_pool_shape (&c.pool, 1, 9, 9, 16, 3, 1, TL_PAD_SAME));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  c.has_dw = true;
  g_assert_true (tl_conv2d_shape (&c.dw, 1, 9, 9, 8, 8, 3, 3, 1, TL_PAD_SAME, 8));
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 9, 9, 8, 16, 1, 1, 1, TL_PAD_VALID, 1));
  g_assert_true (tl_pool_shape (&c.pool, 1, 9, 9, 16, 3, 2, TL_PAD_SAME));
  g_assert_false (tl_nn_chain_plan (&c, 1));
  /* a 9×9 first conv */
  c = (TlNnChain) { .has_pool = true };
  g_assert_true (tl_conv2d_shape (&c.conv, 1, 19, 19, 3, 16, 9, 9, 1, TL_PAD_SAME, 1));
  g_assert_true (tl_pool_shape (&c.pool, 1, 19, 19, 16, 3, 2, TL_PAD_VALID));
  g_assert_false (tl_nn_chain_plan (&c, 1));
}

/* The depthwise kernel on its own, against the reference, with bias and
 * each activation, odd sides, both strides, both paddings. */
static void
test_depthwise3 (void)
{
  static const int shapes[][5] = {   /* h, w, c, stride, pad */
    { 11, 13, 8, 1, 1 }, { 12, 9, 16, 2, TL_PAD_SAME }, { 5, 5, 40, 1, TL_PAD_SAME },
    { 9, 10, 24, 2, 1 }, { 3, 4, 8, 1, TL_PAD_VALID }, { 2, 2, 16, 1, TL_PAD_SAME },
    { 2, 3, 8, 1, 4 },   /* rows and columns of padding only */
  };

  for (guint t = 0; t < G_N_ELEMENTS (shapes); t++)
    {
      const int *k = shapes[t];
      TlConv2dShape s;
      g_autofree float *in = NULL, *w = NULL, *b = NULL, *fast = NULL, *ref = NULL;
      size_t n_in, n_out;
      double d;

      g_assert_true (tl_conv2d_shape (&s, 2, k[0], k[1], k[2], k[2], 3, 3, k[3], k[4], k[2]));
      s.act = t % 3;
      s.slope = 0.1f;
      n_in = (size_t) 2 * k[0] * k[1] * k[2];
      n_out = (size_t) 2 * s.oh * s.ow * k[2];
      in = g_new (float, n_in);
      w = g_new (float, 9 * k[2]);
      b = g_new (float, k[2]);
      fast = g_new (float, n_out);
      ref = g_new (float, n_out);
      nn_test_fill (in, n_in, 50 + t);
      nn_test_fill (w, 9 * k[2], 60 + t);
      nn_test_fill (b, k[2], 70 + t);
      g_assert_true (tl_nn_depthwise3_forward (fast, in, w, b, &s));
      tl_conv2d_forward_ref (ref, in, w, b, &s);
      d = nn_test_max_diff (fast, ref, n_out);
      g_test_message ("depthwise 2×%d×%d×%d /%d act %d → %d×%d: max |diff| %.2e",
                      k[0], k[1], k[2], k[3], s.act, s.oh, s.ow, d);
      g_assert_cmpfloat (d, <, 1e-4);
    }
}

/* How many distinct buffers the activations of a net's nodes are in. */
static int
distinct_buffers (TlNet *net)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (int i = 1; i < tl_net_n_nodes (net); i++)
    g_hash_table_add (seen, tl_net_activation (net, i));
  return g_hash_table_size (seen);
}

/* The face networks with random weights: prepared for inference (their
 * layers run as chains) against the same weights in a net prepared for
 * training, whose inference pass runs layer by layer; then the chained
 * net on more threads than it was planned for (the split chains fall
 * back to layers, the others still run); then frozen. */
static void
test_nets (void)
{
  TlNet *nets[2][2] = { { tl_faceapi_detector_net (160), tl_faceapi_detector_net (160) },
                        { tl_faceapi_landmarks_net (), tl_faceapi_landmarks_net () } };

  for (int k = 0; k < 2; k++)
    {
      TlNet *chained = nets[k][0], *plain = nets[k][1];
      const TlNetNode *in0 = tl_net_node (chained, 0), *out = tl_net_node (chained, tl_net_output (chained));
      size_t n_in = (size_t) in0->h * in0->w * in0->c, n_out = (size_t) out->h * out->w * out->c;
      g_autofree float *x = g_new (float, n_in), *ref = g_new (float, n_out);
      size_t n_params;
      float *params;
      double d, scale = 0;
      TlNnError err;
      int before, after;

      tl_nn_set_threads (1);
      tl_net_init_params (chained, 7 + k);
      params = tl_net_params (chained, &n_params);
      memcpy (tl_net_params (plain, NULL), params, n_params * sizeof (float));
      g_assert_true (tl_net_prepare (chained, 1, false, &err));
      g_assert_true (tl_net_prepare (plain, 1, true, &err));
      nn_test_fill (x, n_in, 90 + k);
      memcpy (ref, tl_net_forward (plain, x, 1, false), n_out * sizeof (float));
      for (size_t i = 0; i < n_out; i++)
        scale = MAX (scale, fabs (ref[i]));
      d = nn_test_max_diff (tl_net_forward (chained, x, 1, false), ref, n_out);
      g_test_message ("%s net, chains on 1 thread: max |diff| %.2e (outputs up to %.2e)",
                      k ? "landmark" : "detector", d, scale);
      g_assert_cmpfloat (d, <=, 1e-5 * (1 + scale));
      tl_nn_set_threads (2);
      d = nn_test_max_diff (tl_net_forward (chained, x, 1, false), ref, n_out);
      g_test_message ("%s net planned for 1 thread, run on 2: max |diff| %.2e",
                      k ? "landmark" : "detector", d);
      g_assert_cmpfloat (d, <=, 1e-5 * (1 + scale));

      /* frozen, its activations share buffers around the chains */
      tl_nn_set_threads (1);
      before = distinct_buffers (chained);
      g_assert_cmpint (tl_net_freeze (chained, &err), >=, 0);
      after = distinct_buffers (chained);
      d = nn_test_max_diff (tl_net_forward (chained, x, 1, false), ref, n_out);
      g_test_message ("%s net frozen: %d activation buffers instead of %d, max |diff| %.2e",
                      k ? "landmark" : "detector", after, before, d);
      g_assert_cmpint (after, <, before);
      g_assert_cmpfloat (d, <=, 1e-5 * (1 + scale));
      tl_nn_set_threads (0);
      tl_net_free (chained);
      tl_net_free (plain);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tl_nn_init ();
  g_test_add_func ("/twinlock/nn/fused/chain", test_chain);
  g_test_add_func ("/twinlock/nn/fused/chain-refuses", test_chain_refuses);
  g_test_add_func ("/twinlock/nn/fused/depthwise3", test_depthwise3);
  g_test_add_func ("/twinlock/nn/fused/nets", test_nets);
  return g_test_run ();
}
