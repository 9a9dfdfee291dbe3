/* test-nn-net.c — networks: shapes, batches, backward through a graph with
 * residual joins and branches, and model files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "nn-test-util.h"
#include "tl-model.h"

/* Every op at least once: a conv stem with batch norm, two branches joined
 * by a residual add, a concat, pools, padding, and an embedding head. */
static TlNet *
build_small (void)
{
  TlNet *net = tl_net_new (8, 8, 3);
  TlNnError err = { 0 };
  int x, a, b, j, cat;

  x = tl_net_conv2d (net, 0, "stem", 4, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_batchnorm (net, x, "stem_bn", 1e-3f, 0.1f);
  x = tl_net_relu (net, x);
  a = tl_net_conv2d (net, x, "branch_a", 4, 1, 1, 1, TL_PAD_VALID, 1, false);
  a = tl_net_prelu (net, a, "branch_a_act");
  b = tl_net_conv2d (net, x, "branch_b", 4, 3, 3, 1, TL_PAD_SAME, 4, true);
  b = tl_net_leaky_relu (net, b, 0.1f);
  j = tl_net_add (net, a, b);
  cat = tl_net_concat (net, 2, (int[]) { j, x });
  x = tl_net_maxpool (net, cat, 2, 2, TL_PAD_VALID);
  x = tl_net_scale_bias (net, x, "mid");
  x = tl_net_avgpool (net, x, 3, 2, TL_PAD_SAME);
  x = tl_net_pad (net, x, 3, 3, 10);
  x = tl_net_conv2d (net, x, "down", 6, 3, 3, 2, 1, 2, true);
  x = tl_net_global_avgpool (net, x);
  x = tl_net_dense (net, x, "fc", 5, true);
  x = tl_net_l2norm (net, x, 1e-6f);
  g_assert_cmpint (x, >, 0);
  if (!tl_net_build (net, &err))
    g_error ("build: %s", err.message);
  tl_net_init_params (net, 7);
  /* non-trivial running statistics and biases */
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);
      if (g_str_has_suffix (t->name, ".bias") || g_str_has_suffix (t->name, ".mean") ||
          g_str_has_suffix (t->name, ".beta"))
        nn_test_fill (t->data, t->count, 100 + i);
    }
  return net;
}

static void
test_build (void)
{
  TlNet *net = build_small ();
  const TlNetNode *out = tl_net_node (net, tl_net_output (net));
  TlNnTensor *t;

  g_assert_cmpint (out->h, ==, 1);
  g_assert_cmpint (out->c, ==, 5);
  g_assert_cmpint (tl_net_node (net, 9)->c, ==, 8);      /* concat 4 + 4 */
  t = tl_net_find_tensor (net, "down.weight");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dims[2], ==, 5);                   /* 10 channels / 2 groups */
  g_assert_cmpint (t->dims[3], ==, 6);
  g_assert_false (tl_net_find_tensor (net, "stem_bn.mean")->trainable);
  g_assert_cmpuint ((uintptr_t) t->data % 64, ==, 0);
  /* stem 3·3·3·4+4, bn 4+4, a 16, prelu 4, b 36+4, mid 8+8, down 3·3·5·6+6, fc 30+5 */
  g_assert_cmpuint (tl_net_n_params (net), ==, 112 + 8 + 16 + 4 + 40 + 16 + 276 + 35);
  tl_net_free (net);
}

static void
test_batch (void)
{
  TlNet *net = build_small ();
  TlNnError err = { 0 };
  float *in = nn_test_new (3 * 8 * 8 * 3, 5), *all = nn_test_new (3 * 5, 0);
  const float *out;

  g_assert_true (tl_net_prepare (net, 3, false, &err));
  out = tl_net_forward (net, in, 3, false);
  memcpy (all, out, 3 * 5 * sizeof (float));
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *what = g_strdup_printf ("image %d alone vs in a batch", i);

      out = tl_net_forward (net, in + i * 8 * 8 * 3, 1, false);
      nn_test_assert_close (what, out, all + i * 5, 5, 1e-6);
    }
  /* prepared for training nothing runs in place: the same results */
  {
    TlNet *twin = build_small ();

    g_assert_true (tl_net_prepare (twin, 3, true, &err));
    nn_test_assert_close ("in-place inference vs separate buffers",
                          tl_net_forward (twin, in, 3, false), all, 15, 0.0);
    tl_net_free (twin);
  }
  g_assert_null (tl_net_forward (net, in, 4, false));    /* past max_batch */
  g_assert_null (tl_net_forward (net, in, 1, true));     /* not prepared for training */
  tl_nn_free (in);
  tl_nn_free (all);
  tl_net_free (net);
}

typedef struct
{
  TlNet *net;
  const float *in, *r;
  int batch;
} NetCtx;

static double
net_loss (NetCtx *x)
{
  const float *out = tl_net_forward (x->net, x->in, x->batch, true);
  double s = 0.0;

  for (int i = 0; i < x->batch * 5; i++)
    s += (double) x->r[i] * out[i];
  return s;
}

static void
test_backward (void)
{
  TlNet *net = build_small ();
  TlNnError err = { 0 };
  float *in = nn_test_new (4 * 8 * 8 * 3, 6), *r = nn_test_new (4 * 5, 8);
  NetCtx ctx = { net, in, r, 4 };
  double worst = 0.0;

  g_assert_true (tl_net_prepare (net, 4, true, &err));
  tl_net_zero_grads (net);
  net_loss (&ctx);
  tl_net_backward (net, r);

  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);
      double tensor_worst = 0.0;

      if (!t->trainable)
        continue;
      for (size_t j = 0; j < t->count; j += 1 + t->count / 7)
        {
          float saved = t->data[j];
          double h = 1e-3, lp, lm, fd;

          t->data[j] = saved + h;
          lp = net_loss (&ctx);
          t->data[j] = saved - h;
          lm = net_loss (&ctx);
          t->data[j] = saved;
          fd = (lp - lm) / (2 * h);
          tensor_worst = MAX (tensor_worst, fabs (fd - t->grad[j]) / MAX (0.1, fabs (fd)));
        }
      g_test_message ("%s: finite differences, max rel error %.3g", t->name, tensor_worst);
      worst = MAX (worst, tensor_worst);
    }
  g_test_message ("whole net: max rel error %.3g (tolerance 2e-2)", worst);
  g_assert_cmpfloat (worst, <, 2e-2);

  /* gradients accumulate: a second backward doubles them */
  {
    TlNnTensor *t = tl_net_find_tensor (net, "fc.weight");
    float before = t->grad[3];

    net_loss (&ctx);
    tl_net_backward (net, r);
    g_assert_cmpfloat_with_epsilon (t->grad[3], 2 * before, 1e-4 + 1e-3 * fabsf (before));
  }
  tl_nn_free (in);
  tl_nn_free (r);
  tl_net_free (net);
}

/* Folding batch norm and scale+bias into convolutions changes nothing but
 * the time; a folded net saves and loads as folded. */
static void
test_fold (void)
{
  TlNet *net = tl_net_new (9, 9, 3), *back;
  TlNnError err = { 0 };
  float *in = nn_test_new (2 * 9 * 9 * 3, 17), *before = nn_test_new (2 * 6, 0);
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "tl-nn-test-fold.tlnn", NULL);
  int x, y;

  x = tl_net_conv2d (net, 0, "c1", 6, 3, 3, 2, TL_PAD_SAME, 1, true);
  x = tl_net_scale_bias (net, x, "s1");
  x = tl_net_relu (net, x);
  y = tl_net_conv2d (net, x, "c2", 6, 3, 3, 1, TL_PAD_SAME, 1, true);
  y = tl_net_batchnorm (net, y, "bn2", 1e-3f, 0.1f);
  x = tl_net_add (net, x, y);
  y = tl_net_conv2d (net, x, "c3", 6, 1, 1, 1, TL_PAD_VALID, 1, false);   /* no bias: kept */
  y = tl_net_scale_bias (net, y, "s3");
  x = tl_net_global_avgpool (net, y);
  g_assert_true (tl_net_build (net, &err));
  tl_net_init_params (net, 5);
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);

      if (!g_str_has_suffix (t->name, ".weight"))
        nn_test_fill (t->data, t->count, 200 + i);
      if (g_str_has_suffix (t->name, ".var"))
        for (size_t j = 0; j < t->count; j++)
          t->data[j] = 0.5f + fabsf (t->data[j]);
    }
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  memcpy (before, tl_net_forward (net, in, 2, false), 2 * 6 * sizeof (float));

  g_assert_cmpint (tl_net_fold (net), ==, 2);
  g_assert_cmpint (tl_net_fold (net), ==, 0);
  nn_test_assert_close ("folded vs unfolded", tl_net_forward (net, in, 2, false), before, 12, 1e-5);

  g_assert_true (tl_nn_model_save (net, path, &err));
  back = tl_nn_model_load (path, &err);
  g_assert_nonnull (back);
  g_assert_true (tl_net_prepare (back, 2, false, &err));
  nn_test_assert_close ("folded, saved and loaded vs unfolded",
                        tl_net_forward (back, in, 2, false), before, 12, 1e-5);
  g_unlink (path);
  tl_net_free (back);
  tl_net_free (net);
  tl_nn_free (in);
  tl_nn_free (before);
}

/* The face networks' patterns whose activation inference fuses into the
 * layer before: conv → leaky, conv → folded scale → ReLU, depthwise →
 * ReLU, pointwise → leaky, add → ReLU; and a ReLU that cannot be fused
 * (its input has two readers).  Against a twin prepared for training,
 * where nothing runs in place and nothing is fused. */
static TlNet *
build_fusable (void)
{
  TlNet *net = tl_net_new (12, 12, 3);
  TlNnError err = { 0 };
  int x, y, z;

  x = tl_net_conv2d (net, 0, "c0", 16, 3, 3, 1, TL_PAD_VALID, 1, true);
  x = tl_net_leaky_relu (net, x, 0.1f);
  y = tl_net_conv2d (net, x, "c1", 16, 3, 3, 1, TL_PAD_SAME, 1, true);
  y = tl_net_scale_bias (net, y, "s1");
  y = tl_net_relu (net, y);
  z = tl_net_conv2d (net, y, "dw", 16, 3, 3, 1, TL_PAD_SAME, 16, false);
  z = tl_net_relu (net, z);
  z = tl_net_conv2d (net, z, "pw", 16, 1, 1, 1, TL_PAD_VALID, 1, true);
  z = tl_net_leaky_relu (net, z, 0.2f);
  x = tl_net_relu (net, tl_net_add (net, y, z));
  y = tl_net_relu (net, x);                    /* x also feeds the add below */
  x = tl_net_add (net, x, y);
  x = tl_net_global_avgpool (net, x);
  tl_net_dense (net, x, "fc", 5, true);
  g_assert_true (tl_net_build (net, &err));
  tl_net_init_params (net, 9);
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);

      if (!g_str_has_suffix (t->name, ".weight"))
        nn_test_fill (t->data, t->count, 300 + i);
    }
  return net;
}

static void
test_fuse (void)
{
  TlNet *net = build_fusable (), *twin = build_fusable ();
  TlNnError err = { 0 };
  float *in = nn_test_new (2 * 12 * 12 * 3, 23), *expect = nn_test_new (2 * 5, 0);

  g_assert_true (tl_net_prepare (twin, 2, true, &err));
  memcpy (expect, tl_net_forward (twin, in, 2, false), 2 * 5 * sizeof (float));
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  nn_test_assert_close ("fused vs unfused", tl_net_forward (net, in, 2, false), expect, 10, 1e-6);
  g_assert_cmpint (tl_net_fold (net), ==, 1);
  nn_test_assert_close ("folded and fused vs unfused", tl_net_forward (net, in, 2, false),
                        expect, 10, 1e-5);
  /* twice: the fused marks of one forward do not leak into the next */
  nn_test_assert_close ("again", tl_net_forward (net, in, 2, false), expect, 10, 1e-5);
  tl_net_free (net);
  tl_net_free (twin);
  tl_nn_free (in);
  tl_nn_free (expect);
}

/* Training-mode batch norm moves the running statistics toward the
 * batch's; inference then uses them. */
static void
test_batchnorm_running (void)
{
  TlNet *net = tl_net_new (4, 4, 2);
  TlNnError err = { 0 };
  float in[2 * 4 * 4 * 2];
  TlNnTensor *mean, *var;
  double batch_mean = 0.0;

  tl_net_batchnorm (net, 0, "bn", 1e-5f, 0.5f);
  g_assert_true (tl_net_build (net, &err));
  g_assert_true (tl_net_prepare (net, 2, true, &err));
  nn_test_fill (in, G_N_ELEMENTS (in), 3);
  for (guint i = 0; i < G_N_ELEMENTS (in); i++)
    in[i] = 3.0f + 2.0f * in[i];
  for (guint i = 0; i < G_N_ELEMENTS (in); i += 2)
    batch_mean += in[i];
  batch_mean /= G_N_ELEMENTS (in) / 2;

  mean = tl_net_find_tensor (net, "bn.mean");
  var = tl_net_find_tensor (net, "bn.var");
  tl_net_forward (net, in, 2, true);
  /* momentum 0.5 from 0: half the batch mean */
  g_assert_cmpfloat_with_epsilon (mean->data[0], 0.5 * batch_mean, 1e-4);
  for (int r = 0; r < 30; r++)
    tl_net_forward (net, in, 2, true);
  g_assert_cmpfloat_with_epsilon (mean->data[0], batch_mean, 1e-4);
  g_assert_cmpfloat (var->data[0], >, 0.5);

  /* inference with the running statistics normalises the same batch to
   * about zero mean */
  {
    const float *out = tl_net_forward (net, in, 2, false);
    double m = 0.0;

    for (guint i = 0; i < G_N_ELEMENTS (in); i += 2)
      m += out[i];
    g_assert_cmpfloat (fabs (m / (G_N_ELEMENTS (in) / 2)), <, 1e-3);
  }
  tl_net_free (net);
}

/* Networks on several threads at once (each its own net) compute what
 * they compute alone: the engine's shared worker threads keep them apart. */
typedef struct
{
  TlNet       *net;
  const float *in, *expect;
  int          failures;
} ThreadRun;

static gpointer
thread_run (gpointer data)
{
  ThreadRun *t = data;

  for (int r = 0; r < 40; r++)
    {
      const float *out = tl_net_forward (t->net, t->in, 3, false);

      if (nn_test_max_diff (out, t->expect, 3 * 5) != 0.0)
        t->failures++;
    }
  return NULL;
}

/* Convolutions big enough to be split across the worker threads. */
static TlNet *
build_wide (void)
{
  TlNet *net = tl_net_new (24, 24, 8);
  TlNnError err = { 0 };
  int x;

  x = tl_net_conv2d (net, 0, "c1", 32, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_relu (net, x);
  x = tl_net_conv2d (net, x, "c2", 64, 3, 3, 2, TL_PAD_SAME, 1, true);
  x = tl_net_global_avgpool (net, x);
  tl_net_dense (net, x, "fc", 5, true);
  g_assert_true (tl_net_build (net, &err));
  tl_net_init_params (net, 11);
  return net;
}

static void
test_threads (void)
{
  ThreadRun runs[3];
  GThread *threads[3];
  TlNnError err = { 0 };
  float *in = nn_test_new (3 * 24 * 24 * 8, 77), *expect = nn_test_new (3 * 5, 0);

  for (int i = 0; i < 3; i++)
    {
      runs[i] = (ThreadRun) { build_wide (), in, expect, 0 };
      g_assert_true (tl_net_prepare (runs[i].net, 3, false, &err));
    }
  memcpy (expect, tl_net_forward (runs[0].net, in, 3, false), 3 * 5 * sizeof (float));
  for (int i = 0; i < 3; i++)
    threads[i] = g_thread_new ("net", thread_run, &runs[i]);
  for (int i = 0; i < 3; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpint (runs[i].failures, ==, 0);
      tl_net_free (runs[i].net);
    }
  tl_nn_free (in);
  tl_nn_free (expect);
}

static void
test_errors (void)
{
  TlNnError err = { 0 };
  TlNet *net = tl_net_new (10, 10, 3);

  g_assert_cmpint (tl_net_conv2d (net, 0, "c", 8, 11, 11, 1, TL_PAD_VALID, 1, true), ==, -1);
  g_assert_cmpint (tl_net_relu (net, 0), ==, -1);          /* the first error sticks */
  g_assert_false (tl_net_build (net, &err));
  g_assert_cmpint (err.code, ==, TL_NN_ERROR_SHAPE);
  g_test_message ("error: %s", err.message);
  g_assert_nonnull (strstr (err.message, "does not fit"));
  tl_net_free (net);

  net = tl_net_new (10, 10, 3);
  tl_net_conv2d (net, 0, "c", 8, 3, 3, 1, TL_PAD_SAME, 1, true);
  tl_net_conv2d (net, 1, "c", 8, 3, 3, 1, TL_PAD_SAME, 1, true);
  g_assert_false (tl_net_build (net, &err));
  g_assert_nonnull (strstr (err.message, "two layers"));
  tl_net_free (net);

  net = tl_net_new (10, 10, 3);
  g_assert_cmpint (tl_net_add (net, 0, 5), ==, -1);
  g_assert_false (tl_net_build (net, &err));
  tl_net_free (net);

  net = tl_net_new (10, 10, 3);
  g_assert_cmpint (tl_net_add (net, 0, tl_net_maxpool (net, 0, 2, 2, 0)), ==, -1);
  g_assert_false (tl_net_build (net, &err));
  g_assert_nonnull (strstr (err.message, "cannot add"));
  tl_net_free (net);
}

/* ---- model files ------------------------------------------------------------ */

static char *
save_small (TlNet **net_out)
{
  TlNet *net = build_small ();
  TlNnError err = { 0 };
  char *path = g_build_filename (g_get_tmp_dir (), "tl-nn-test-XXXXXX.tlnn", NULL);
  int fd = g_mkstemp (path);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  if (!tl_nn_model_save (net, path, &err))
    g_error ("save: %s", err.message);
  *net_out = net;
  return path;
}

static void
test_model_roundtrip (void)
{
  TlNet *net, *back, *fresh;
  TlNnError err = { 0 };
  g_autofree char *path = save_small (&net);
  float *in = nn_test_new (2 * 8 * 8 * 3, 9), *a = nn_test_new (10, 0);

  back = tl_nn_model_load (path, &err);
  if (back == NULL)
    g_error ("load: %s", err.message);
  g_assert_cmpint (tl_net_n_nodes (back), ==, tl_net_n_nodes (net));
  g_assert_true (tl_net_prepare (net, 2, false, &err));
  g_assert_true (tl_net_prepare (back, 2, false, &err));
  memcpy (a, tl_net_forward (net, in, 2, false), 10 * sizeof (float));
  nn_test_assert_close ("loaded net vs saved net", tl_net_forward (back, in, 2, false), a, 10, 0.0);

  /* parameters into a net built in code */
  fresh = build_small ();
  tl_net_init_params (fresh, 99);
  g_assert_true (tl_nn_model_load_params (fresh, path, &err));
  g_assert_true (tl_net_prepare (fresh, 2, false, &err));
  nn_test_assert_close ("net with loaded parameters vs saved net",
                        tl_net_forward (fresh, in, 2, false), a, 10, 0.0);

  g_unlink (path);
  tl_nn_free (in); tl_nn_free (a);
  tl_net_free (net); tl_net_free (back); tl_net_free (fresh);
}

/* A hostile edit: change a field, then make the checksum right again, so
 * that the structural checks (not the checksum) must catch it. */
static void
poke_u32 (guint8  *data,
          size_t   size,
          size_t   at,
          guint32  value)
{
  uint64_t sum;

  value = GUINT32_TO_LE (value);
  memcpy (data + at, &value, 4);
  sum = GUINT64_TO_LE (tl_nn_model_checksum (data, size));
  memcpy (data + 80, &sum, 8);
}

static void
test_model_refusals (void)
{
  TlNet *net, *back;
  TlNnError err = { 0 };
  g_autofree char *path = save_small (&net);
  g_autofree guint8 *data = NULL;
  g_autofree guint8 *copy = NULL;
  gsize size;
  struct { const char *what; size_t at; guint32 value; TlNnErrorCode code; } edits[] = {
    { "version", 8, 2, TL_NN_ERROR_VERSION },
    { "node count", 24, 1000000, TL_NN_ERROR_FORMAT },
    { "tensor count", 40, 3, TL_NN_ERROR_FORMAT },
    { "output node", 72, 999, TL_NN_ERROR_FORMAT },
    { "op of layer 1", 128 + 160, 77, TL_NN_ERROR_FORMAT },
    { "input of layer 2", 128 + 2 * 160 + 8, 5, TL_NN_ERROR_FORMAT },
    { "negative input", 128 + 2 * 160 + 8, 0xffffffff, TL_NN_ERROR_FORMAT },
    { "input count", 128 + 2 * 160 + 4, 9, TL_NN_ERROR_FORMAT },
    { "kernel size", 128 + 160 + 44, 100000, TL_NN_ERROR_SHAPE },
    { "output channels", 128 + 160 + 40, 0x7fffffff, TL_NN_ERROR_SHAPE },
    { "input height", 128 + 80, 0, TL_NN_ERROR_FORMAT },
    { "batch norm epsilon", 128 + 2 * 160 + 72, 0x7fc00000, TL_NN_ERROR_SHAPE },
    { "tensor dims", 0, 77, TL_NN_ERROR_SHAPE },
    { "tensor offset", 0, 0x7ffffff0, TL_NN_ERROR_FORMAT },
    { "tensor data NaN", 0, 0x7fc00000, TL_NN_ERROR_FORMAT },
  };

  g_assert_true (g_file_get_contents (path, (char **) &data, &size, NULL));
  {
    /* header fields of the first tensor record and its data */
    size_t tensors = 128 + (size_t) tl_net_n_nodes (net) * 160;
    guint32 data_off;

    memcpy (&data_off, data + 56, 4);
    edits[12].at = tensors + 68;
    edits[13].at = tensors + 88 + 128;   /* second tensor's offset */
    edits[14].at = GUINT32_FROM_LE (data_off) + 4;
  }

  /* every truncation is refused */
  for (gsize n = 0; n < size; n += (n < 300 ? 1 : 97))
    {
      back = tl_nn_model_load_memory (data, n, &err);
      g_assert_null (back);
      g_assert_true (err.code == TL_NN_ERROR_TRUNCATED || err.code == TL_NN_ERROR_FORMAT);
    }
  g_test_message ("truncated: %s", err.message);

  /* any flipped bit is caught by the checksum */
  for (gsize at = 128; at < size; at += 131)
    {
      copy = g_memdup2 (data, size);
      copy[at] ^= 0x10;
      g_assert_null (tl_nn_model_load_memory (copy, size, &err));
      g_assert_cmpint (err.code, ==, TL_NN_ERROR_CHECKSUM);
      g_clear_pointer (&copy, g_free);
    }
  g_test_message ("corrupt: %s", err.message);

  /* trailing bytes */
  copy = g_malloc0 (size + 8);
  memcpy (copy, data, size);
  g_assert_null (tl_nn_model_load_memory (copy, size + 8, &err));
  g_clear_pointer (&copy, g_free);

  /* hostile fields with a correct checksum */
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      copy = g_memdup2 (data, size);
      poke_u32 (copy, size, edits[i].at, edits[i].value);
      back = tl_nn_model_load_memory (copy, size, &err);
      g_test_message ("%s → %s", edits[i].what, back ? "loaded!" : err.message);
      g_assert_null (back);
      g_assert_cmpint (err.code, ==, edits[i].code);
      g_clear_pointer (&copy, g_free);
    }

  /* not a model at all, and a missing file */
  g_assert_null (tl_nn_model_load_memory ("GIF89a", 6, &err));
  g_assert_cmpint (err.code, ==, TL_NN_ERROR_FORMAT);
  g_assert_null (tl_nn_model_load ("/nonexistent/model.tlnn", &err));
  g_assert_cmpint (err.code, ==, TL_NN_ERROR_IO);

  g_unlink (path);
  tl_net_free (net);
}

/* The fuzzer's seed corpus (tests/fuzz/model-corpus) loads or is refused
 * cleanly; the valid seed must load. */
static void
test_model_corpus (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "fuzz", "model-corpus", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  int n = 0, loaded = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      TlNnError err = { 0 };
      TlNet *net = tl_nn_model_load (path, &err);

      n++;
      if (net != NULL)
        loaded++;
      else
        g_assert_cmpstr (err.message, !=, "");
      if (g_str_has_prefix (name, "valid"))
        g_assert_nonnull (net);
      tl_net_free (net);
    }
  g_test_message ("%d seeds, %d load", n, loaded);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (loaded, >, 0);
}

/* The GLib face: the engine's error as a GError a person can act on. */
static void
test_model_gerror (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "tl-nn-test-not-a-model", NULL);
  g_autoptr (TlNet) net = NULL;

  net = tl_model_load ("/nonexistent/face.tlnn", &error);
  g_assert_null (net);
  g_assert_error (error, TL_MODEL_ERROR, TL_MODEL_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/face.tlnn"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (path, "TLNNMODL but far too short", -1, NULL));
  net = tl_model_load (path, &error);
  g_assert_null (net);
  g_assert_error (error, TL_MODEL_ERROR, TL_MODEL_ERROR_TRUNCATED);
  g_test_message ("%s", error->message);
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  tl_nn_init ();

  g_test_add_func ("/twinlock/nn/net/build", test_build);
  g_test_add_func ("/twinlock/nn/net/batch", test_batch);
  g_test_add_func ("/twinlock/nn/net/backward", test_backward);
  g_test_add_func ("/twinlock/nn/net/fold", test_fold);
  g_test_add_func ("/twinlock/nn/net/fuse", test_fuse);
  g_test_add_func ("/twinlock/nn/net/batchnorm-running", test_batchnorm_running);
  g_test_add_func ("/twinlock/nn/net/threads", test_threads);
  g_test_add_func ("/twinlock/nn/net/errors", test_errors);
  g_test_add_func ("/twinlock/nn/model/roundtrip", test_model_roundtrip);
  g_test_add_func ("/twinlock/nn/model/refusals", test_model_refusals);
  g_test_add_func ("/twinlock/nn/model/corpus", test_model_corpus);
  g_test_add_func ("/twinlock/nn/model/gerror", test_model_gerror);

  return g_test_run ();
}
