/* tl-ctl-bench-nn.c — `twinlockctl bench nn`: the BLIS kernels in use, the
 * sgemm peak of this machine, and the face encoder's layers against it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The layers are those of the face encoder Twinlock runs (dlib's ResNet as
 * face-api's faceRecognitionNet computes it): a 150×150 RGB face, batch 1,
 * a 7×7/2 "valid" convolution to 32 channels (→ 72×72), a 3/2 max pool
 * (→ 35×35), residual stages of 3×3 convolutions at 32@35², 64@17²,
 * 128@8², 256@3²/4²/1² — each stage entered by a 3×3/2 "valid"
 * convolution, shortcuts through a 2×2 average pool, zero-padded to the
 * branch's shape — then a global average and a 256→128 dense layer: 29
 * convolutions.  Peak and layers are measured in the same run, so the
 * ratios hold on a machine that other work shares.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "tl-ctl-bench.h"
#include "tl-nn-net.h"

typedef struct
{
  const char *name;
  int         count;       /* how many of the 29 convolutions have this shape */
  int         hw, c, oc, stride, pad;
  /* measured */
  double      seconds;     /* best time of one */
} ConvLayer;

static ConvLayer encoder_convs[] = {
  { "conv32_down 7x7/2 3->32 150->72", 1, 150, 3, 32, 2, TL_PAD_VALID },
  { "conv32 3x3 32->32 @35", 6, 35, 32, 32, 1, TL_PAD_SAME },
  { "conv64_down 3x3/2 32->64 35->17", 1, 35, 32, 64, 2, TL_PAD_VALID },
  { "conv64 3x3 64->64 @17", 7, 17, 64, 64, 1, TL_PAD_SAME },
  { "conv128_down 3x3/2 64->128 17->8", 1, 17, 64, 128, 2, TL_PAD_VALID },
  { "conv128 3x3 128->128 @8", 5, 8, 128, 128, 1, TL_PAD_SAME },
  { "conv256_down 3x3/2 128->256 8->3", 1, 8, 128, 256, 2, TL_PAD_VALID },
  { "conv256 3x3 256->256 @3", 1, 3, 256, 256, 1, TL_PAD_SAME },
  { "conv256 3x3 256->256 @4", 4, 4, 256, 256, 1, TL_PAD_SAME },
  { "conv256_down_out 3x3/2 256->256 4->1", 1, 4, 256, 256, 2, TL_PAD_VALID },
  { "conv256 3x3 256->256 @1", 1, 1, 256, 256, 1, TL_PAD_SAME },
};

typedef void (*RunFunc) (gpointer ctx);

/* Best time of one run: one warm-up, then repeats until both min_reps and
 * min_seconds are reached.  The best, not the mean: other processes on a
 * shared machine only ever add time. */
static double
time_best (RunFunc  run,
           gpointer ctx,
           int      min_reps,
           double   min_seconds)
{
  double best = G_MAXDOUBLE, start = g_get_monotonic_time () / 1e6;

  run (ctx);
  for (int i = 0; i < min_reps || g_get_monotonic_time () / 1e6 - start < min_seconds; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double t;

      run (ctx);
      t = (g_get_monotonic_time () - t0) / 1e6;
      best = MIN (best, t);
    }
  return best;
}

typedef struct
{
  int    n;
  float *a, *b, *c;
} GemmCtx;

static void
run_gemm (gpointer data)
{
  GemmCtx *g = data;

  tl_gemm (false, false, g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
}

static double
measure_peak (int n)
{
  GemmCtx g = { n };
  size_t sz = (size_t) n * n * sizeof (float);
  double t;

  g.a = tl_nn_alloc (sz);
  g.b = tl_nn_alloc (sz);
  g.c = tl_nn_alloc (sz);
  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      g.a[i] = (float) (i % 13) * 0.01f;
      g.b[i] = (float) (i % 7) * 0.01f;
    }
  t = time_best (run_gemm, &g, 5, 0.5);
  tl_nn_free (g.a);
  tl_nn_free (g.b);
  tl_nn_free (g.c);
  return 2.0 * n * n * (double) n / t / 1e9;
}

typedef struct
{
  TlConv2dShape s;
  float *in, *w, *b, *out, *ws;
} ConvCtx;

static void
run_conv (gpointer data)
{
  ConvCtx *c = data;

  tl_conv2d_forward (c->out, c->in, c->w, c->b, &c->s, c->ws);
}

static void
measure_conv (ConvLayer *layer)
{
  ConvCtx c;

  tl_conv2d_shape (&c.s, 1, layer->hw, layer->hw, layer->c, layer->oc, 3, 3,
                   layer->stride, layer->pad, 1);
  if (layer->c == 3)
    tl_conv2d_shape (&c.s, 1, layer->hw, layer->hw, layer->c, layer->oc, 7, 7,
                     layer->stride, layer->pad, 1);
  c.in = tl_nn_alloc ((size_t) c.s.h * c.s.w * c.s.c * sizeof (float));
  c.w = tl_nn_alloc ((size_t) c.s.kh * c.s.kw * c.s.c * c.s.oc * sizeof (float));
  c.b = tl_nn_alloc ((size_t) c.s.oc * sizeof (float));
  c.out = tl_nn_alloc ((size_t) c.s.oh * c.s.ow * c.s.oc * sizeof (float));
  c.ws = tl_nn_alloc (tl_conv2d_workspace (&c.s) * sizeof (float));
  for (int i = 0; i < c.s.h * c.s.w * c.s.c; i++)
    c.in[i] = (float) (i % 17) * 0.05f;
  for (int i = 0; i < c.s.kh * c.s.kw * c.s.c * c.s.oc; i++)
    c.w[i] = (float) (i % 11) * 0.01f - 0.05f;
  layer->seconds = time_best (run_conv, &c, 20, 0.1);
  tl_nn_free (c.in); tl_nn_free (c.w); tl_nn_free (c.b); tl_nn_free (c.out); tl_nn_free (c.ws);
}

static int64_t
conv_flops (const ConvLayer *layer)
{
  TlConv2dShape s;
  int k = layer->c == 3 ? 7 : 3;

  tl_conv2d_shape (&s, 1, layer->hw, layer->hw, layer->c, layer->oc, k, k,
                   layer->stride, layer->pad, 1);
  return tl_conv2d_flops (&s);
}

/* ---- the whole encoder as a network --------------------------------------- */

static int
conv_block (TlNet      *net,
            int         x,
            const char *name,
            int         oc,
            int         k,
            int         stride,
            int         pad,
            bool        relu)
{
  g_autofree char *conv = g_strconcat (name, "/conv", NULL);
  g_autofree char *scale = g_strconcat (name, "/scale", NULL);

  x = tl_net_conv2d (net, x, conv, oc, k, k, stride, pad, 1, true);
  x = tl_net_scale_bias (net, x, scale);
  return relu ? tl_net_relu (net, x) : x;
}

static int
residual (TlNet      *net,
          int         x,
          const char *name,
          int         oc,
          bool        down)
{
  g_autofree char *n1 = g_strconcat (name, "/conv1", NULL);
  g_autofree char *n2 = g_strconcat (name, "/conv2", NULL);
  int out, shortcut = x;

  out = conv_block (net, x, n1, oc, 3, down ? 2 : 1, down ? TL_PAD_VALID : TL_PAD_SAME, true);
  out = conv_block (net, out, n2, oc, 3, 1, TL_PAD_SAME, false);
  if (down)
    {
      const TlNetNode *o, *p;

      shortcut = tl_net_avgpool (net, x, 2, 2, TL_PAD_VALID);
      o = tl_net_node (net, out);
      p = tl_net_node (net, shortcut);
      if (o != NULL && p != NULL)
        {
          if (o->h != p->h || o->w != p->w)
            out = tl_net_pad (net, out, p->h, p->w, o->c);
          if (p->c != oc)
            shortcut = tl_net_pad (net, shortcut, p->h, p->w, oc);
        }
    }
  return tl_net_relu (net, tl_net_add (net, out, shortcut));
}

static TlNet *
build_encoder (void)
{
  static const struct { const char *name; int oc; bool down; } blocks[] = {
    { "conv32_1", 32, false }, { "conv32_2", 32, false }, { "conv32_3", 32, false },
    { "conv64_down", 64, true }, { "conv64_1", 64, false }, { "conv64_2", 64, false },
    { "conv64_3", 64, false }, { "conv128_down", 128, true }, { "conv128_1", 128, false },
    { "conv128_2", 128, false }, { "conv256_down", 256, true }, { "conv256_1", 256, false },
    { "conv256_2", 256, false }, { "conv256_down_out", 256, true },
  };
  TlNet *net = tl_net_new (150, 150, 3);
  int x;

  x = tl_net_scale_bias (net, 0, "normalize");
  x = conv_block (net, x, "conv32_down", 32, 7, 2, TL_PAD_VALID, true);
  x = tl_net_maxpool (net, x, 3, 2, TL_PAD_VALID);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    x = residual (net, x, blocks[i].name, blocks[i].oc, blocks[i].down);
  x = tl_net_global_avgpool (net, x);
  tl_net_dense (net, x, "fc", 128, false);
  return net;
}

typedef struct
{
  TlNet *net;
  float *in;
} NetCtx;

static void
run_net (gpointer data)
{
  NetCtx *c = data;

  tl_net_forward (c->net, c->in, 1, false);
}

/* ---- output ---------------------------------------------------------------- */

static char *
json_string (const char *s)
{
  GString *out = g_string_new ("\"");

  for (; *s; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_c (out, '\\');
      if ((guchar) *s < 0x20)
        g_string_append_printf (out, "\\u%04x", *s);
      else
        g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

int
tl_ctl_bench_nn (int    argc,
                 char **argv)
{
  gboolean json = FALSE;
  int threads = 0, peak_n = 1536;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: all cores)"), "N" },
    { "peak-size", 0, 0, G_OPTION_ARG_INT, &peak_n, N_("Size of the square sgemm for the peak"), "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  TlNnError err = { 0 };
  double peak, peak2, conv_time = 0.0, net_time, fc_time;
  int64_t conv_total = 0;
  TlNet *net;
  NetCtx nc;

  g_option_context_set_summary (context, _("Measures the engine's GEMM peak and the face encoder's layers."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (peak_n < 64 || peak_n > 8192)
    return tl_ctl_fail (_("--peak-size must be between 64 and 8192"));
  tl_nn_set_threads (threads);

  peak = measure_peak (peak_n);
  for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
    {
      measure_conv (&encoder_convs[i]);
      conv_total += encoder_convs[i].count * conv_flops (&encoder_convs[i]);
      conv_time += encoder_convs[i].count * encoder_convs[i].seconds;
    }
  {
    /* the dense head as its own layer */
    float *in = tl_nn_alloc (256 * sizeof (float)), *w = tl_nn_alloc (256 * 128 * sizeof (float));
    float *out = tl_nn_alloc (128 * sizeof (float));
    gint64 best = G_MAXINT64;

    for (int r = 0; r < 200; r++)
      {
        gint64 t0 = g_get_monotonic_time ();
        tl_dense_forward (out, in, w, NULL, 1, 256, 128);
        best = MIN (best, g_get_monotonic_time () - t0);
      }
    fc_time = MAX (best, 1) / 1e6;
    tl_nn_free (in); tl_nn_free (w); tl_nn_free (out);
  }

  net = build_encoder ();
  if (!tl_net_build (net, &err) || !tl_net_prepare (net, 1, false, &err))
    {
      tl_net_free (net);
      return tl_ctl_fail ("%s", err.message);
    }
  tl_net_init_params (net, 1);
  nc.net = net;
  nc.in = tl_nn_alloc (150 * 150 * 3 * sizeof (float));
  net_time = time_best (run_net, &nc, 10, 0.3);
  tl_nn_free (nc.in);

  /* the peak again, after the layers: the higher of the two is the one
   * the ratios use */
  peak2 = measure_peak (peak_n);
  peak = MAX (peak, peak2);

  if (json)
    {
      g_autofree char *kernels = json_string (tl_nn_kernels_name ());
      g_autofree char *arch = json_string (tl_nn_kernels_arch ());
      double conv_gflops = conv_total / conv_time / 1e9;

      g_print ("{\"blis_kernels\": %s, \"blis_arch\": %s, \"blis_threading\": \"%s\", "
               "\"threads\": %d, \"sgemm_peak_gflops\": %.2f, \"sgemm_peak_size\": %d, \"layers\": [",
               kernels, arch, tl_nn_blis_threading (), tl_nn_get_threads (), peak, peak_n);
      for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
        {
          const ConvLayer *l = &encoder_convs[i];
          double g = conv_flops (l) / l->seconds / 1e9;

          g_print ("%s{\"layer\": \"%s\", \"count\": %d, \"mflops\": %.3f, \"ms\": %.4f, "
                   "\"gflops\": %.2f, \"ratio_to_peak\": %.3f}",
                   i ? ", " : "", l->name, l->count, conv_flops (l) / 1e6, l->seconds * 1e3,
                   g, g / peak);
        }
      g_print (", {\"layer\": \"fc dense 256->128\", \"count\": 1, \"mflops\": %.3f, \"ms\": %.4f, "
               "\"gflops\": %.2f, \"ratio_to_peak\": %.3f}",
               2 * 256 * 128 / 1e6, fc_time * 1e3, 2 * 256 * 128 / fc_time / 1e9,
               2 * 256 * 128 / fc_time / 1e9 / peak);
      g_print ("], \"conv_total_mflops\": %.2f, \"conv_total_ms\": %.3f, \"conv_total_gflops\": %.2f, "
               "\"conv_total_ratio\": %.3f, \"encoder_forward_ms\": %.3f}\n",
               conv_total / 1e6, conv_time * 1e3, conv_gflops, conv_gflops / peak, net_time * 1e3);
    }
  else
    {
      g_print ("%s: %s\n", _("BLIS kernels"), tl_nn_kernels_name ());
      g_print ("%s: %s, %d\n", _("Threads"), tl_nn_blis_threading (), tl_nn_get_threads ());
      g_print ("%s: %.1f GFLOP/s (%d×%d×%d, best of the runs before and after)\n",
               _("sgemm peak"), peak, peak_n, peak_n, peak_n);
      g_print ("\n%s\n", _("Face encoder (ResNet-29, 150×150, batch 1), best time per layer:"));
      g_print ("  %-38s %5s %9s %9s %9s %7s\n", "layer", "count", "MFLOP", "ms", "GFLOP/s", "ratio");
      for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
        {
          const ConvLayer *l = &encoder_convs[i];
          double g = conv_flops (l) / l->seconds / 1e9;

          g_print ("  %-38s %5d %9.2f %9.4f %9.1f %7.3f\n", l->name, l->count,
                   conv_flops (l) / 1e6, l->seconds * 1e3, g, g / peak);
        }
      g_print ("  %-38s %5d %9.2f %9.4f %9.1f %7.3f\n", "fc dense 256->128", 1,
               2 * 256 * 128 / 1e6, fc_time * 1e3, 2 * 256 * 128 / fc_time / 1e9,
               2 * 256 * 128 / fc_time / 1e9 / peak);
      g_print ("  %-38s %5d %9.2f %9.4f %9.1f %7.3f\n", "all 29 convolutions", 29,
               conv_total / 1e6, conv_time * 1e3, conv_total / conv_time / 1e9,
               conv_total / conv_time / 1e9 / peak);
      g_print ("\n%s: %.3f ms (%.1f GFLOP/s, every layer, as one network)\n",
               _("Encoder forward"), net_time * 1e3, tl_net_flops (net) / net_time / 1e9);
    }
  tl_net_free (net);
  return 0;
}
