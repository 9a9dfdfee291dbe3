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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tl-ctl-bench.h"
#include "tl-faceapi-nets.h"
#include "tl-nn-net.h"
#include "tl-nn-quant.h"
#include "tl-nn-winograd.h"

typedef struct
{
  const char *name;
  int         count;       /* how many of the 29 convolutions have this shape */
  int         hw, c, oc, stride, pad;
  gboolean    floats;      /* float filters in the model file, off any grid */
  /* measured */
  double      seconds;     /* best wall-clock time of one */
  double      cpu_seconds; /* mean CPU time of one, all threads together */
  const char *path;        /* how it ran (conv_path ()) */
} ConvLayer;

static ConvLayer encoder_convs[] = {
  { "conv32_down 7x7/2 3->32 150->72", 1, 150, 3, 32, 2, TL_PAD_VALID },
  { "conv32 3x3 32->32 @35", 6, 35, 32, 32, 1, TL_PAD_SAME },
  { "conv64_down 3x3/2 32->64 35->17", 1, 35, 32, 64, 2, TL_PAD_VALID },
  { "conv64 3x3 64->64 @17", 7, 17, 64, 64, 1, TL_PAD_SAME, TRUE },
  { "conv128_down 3x3/2 64->128 17->8", 1, 17, 64, 128, 2, TL_PAD_VALID },
  { "conv128 3x3 128->128 @8", 5, 8, 128, 128, 1, TL_PAD_SAME },
  { "conv256_down 3x3/2 128->256 8->3", 1, 8, 128, 256, 2, TL_PAD_VALID },
  { "conv256 3x3 256->256 @3", 1, 3, 256, 256, 1, TL_PAD_SAME },
  { "conv256 3x3 256->256 @4", 4, 4, 256, 256, 1, TL_PAD_SAME },
  { "conv256_down_out 3x3/2 256->256 4->1", 1, 4, 256, 256, 2, TL_PAD_VALID },
  { "conv256 3x3 256->256 @1", 1, 1, 256, 256, 1, TL_PAD_SAME },
};

typedef void (*RunFunc) (gpointer ctx);

/* Runs once and keeps the best time.  Best, not mean: other processes on
 * a shared machine only ever add time. */
static void
time_once (RunFunc   run,
           gpointer  ctx,
           double   *best)
{
  gint64 t0 = g_get_monotonic_time ();

  run (ctx);
  *best = MIN (*best, MAX (g_get_monotonic_time () - t0, 1) / 1e6);
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

/* The same on one thread, timed by that thread's CPU clock: what one core
 * delivers while it runs, however often the OS takes it away. */
static void
time_core (RunFunc   run,
           gpointer  ctx,
           double   *best)
{
  struct timespec t0, t1;
  double t;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t0);
  run (ctx);
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t1);
  t = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  *best = MIN (*best, MAX (t, 1e-9));
}

/* Wall clock and the process's CPU clock (every thread) around one run:
 * flops over CPU time is how well the cycles spent were used, whether or
 * not the OS gave the run all its threads at once.  The wall time keeps
 * the best run; the CPU time is summed and averaged, because the kernel
 * books another thread's CPU time only at scheduler ticks, so a single
 * sub-millisecond run can show less CPU than it used (and a minimum
 * would pick exactly those runs). */
static void
time_both (RunFunc   run,
           gpointer  ctx,
           double   *best_wall,
           double   *total_cpu)
{
  struct timespec c0, c1;
  gint64 t0;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c0);
  t0 = g_get_monotonic_time ();
  run (ctx);
  *best_wall = MIN (*best_wall, MAX (g_get_monotonic_time () - t0, 1) / 1e6);
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c1);
  *total_cpu += (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
}

static void
gemm_setup (GemmCtx *g,
            int      n)
{
  size_t sz = (size_t) n * n * sizeof (float);

  g->n = n;
  g->a = tl_nn_alloc (sz);
  g->b = tl_nn_alloc (sz);
  g->c = tl_nn_alloc (sz);
  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      g->a[i] = (float) (i % 13) * 0.01f;
      g->b[i] = (float) (i % 7) * 0.01f;
    }
}

/* Each layer runs the way a frozen encoder runs it (tl_net_freeze ()):
 * Winograd, 8-bit codes (the weights below lie on a grid, as the model
 * file's do), transposed weights, or the engine's direct convolution. */
typedef struct
{
  TlConv2dShape s;
  float *in, *w, *b, *out, *ws;
  float *u;                 /* the weights as the path wants them, or NULL */
  uint8_t *codes;           /* or their codes */
  int    winograd;          /* tile size, or 0 */
  int    taps;              /* u: tl_winograd_taps (), this tile size; or 0 */
} ConvCtx;

static void
run_conv (gpointer data)
{
  ConvCtx *c = data;

  if (c->taps)
    tl_winograd_forward_taps (c->out, c->in, c->u, c->b, &c->s, c->taps, c->ws);
  else if (c->winograd > 0 && c->codes != NULL)
    tl_winograd_forward_codes (c->out, c->in, c->codes, c->b, &c->s, c->ws);
  else if (c->winograd > 0)
    tl_winograd_forward (c->out, c->in, c->u, c->b, &c->s, c->winograd, c->ws);
  else if (c->codes != NULL)
    tl_quant_conv2d_forward (c->out, c->in, c->codes, c->b, &c->s, c->ws);
  else if (c->u != NULL)
    tl_conv2d_forward_transposed (c->out, c->in, c->u, c->b, &c->s, c->ws);
  else
    tl_conv2d_forward (c->out, c->in, c->w, c->b, &c->s, c->ws);
}

static const char *
conv_path (const ConvCtx *c)
{
  if (c->taps)
    return c->taps == 6 ? "F(6x6,3x3) taps" : "F(4x4,3x3) taps";
  if (c->winograd == 4)
    return "F(4x4,3x3)";
  if (c->winograd == 2)
    return c->codes != NULL ? "F(2x2,3x3) codes" : "F(2x2,3x3)";
  if (c->codes != NULL)
    return "codes";
  return c->u != NULL ? "transposed" : "direct";
}

static void
conv_setup (ConvCtx         *c,
            const ConvLayer *layer)
{
  int k = layer->c == 3 ? 7 : 3;

  tl_conv2d_shape (&c->s, 1, layer->hw, layer->hw, layer->c, layer->oc, k, k,
                   layer->stride, layer->pad, 1);
  c->in = tl_nn_alloc ((size_t) c->s.h * c->s.w * c->s.c * sizeof (float));
  c->w = tl_nn_alloc ((size_t) k * k * c->s.c * c->s.oc * sizeof (float));
  c->b = tl_nn_alloc ((size_t) c->s.oc * sizeof (float));
  c->out = tl_nn_alloc ((size_t) c->s.oh * c->s.ow * c->s.oc * sizeof (float));
  for (int i = 0; i < c->s.h * c->s.w * c->s.c; i++)
    c->in[i] = (float) (i % 17) * 0.05f;
  for (int i = 0; i < k * k * c->s.c * c->s.oc; i++)
    c->w[i] = layer->floats ? 0.05f * sinf (i) : (float) (i % 11) * 0.01f - 0.05f;
  c->winograd = tl_winograd_choose (&c->s);
  c->u = NULL;
  c->codes = NULL;
  c->taps = 0;
  if (c->winograd == 2 && layer->floats && (c->taps = tl_winograd_taps_choose (&c->s)) > 0)
    {
      /* as tl_net_freeze () runs float filters on these maps */
      c->u = tl_nn_alloc (tl_winograd_taps_floats (&c->s) * sizeof (float));
      tl_winograd_taps (c->u, c->w, &c->s);
      c->ws = tl_nn_alloc (tl_winograd_workspace (&c->s, c->taps) * sizeof (float));
      return;
    }
  if (c->winograd == 2)
    {
      c->codes = tl_nn_alloc (tl_winograd_codes_bytes (&c->s));
      if (!tl_winograd_filter_codes (c->codes, c->w, &c->s, 1.0 / (1 << 20)))
        g_clear_pointer (&c->codes, tl_nn_free);
    }
  if (c->winograd > 0)
    {
      c->u = tl_nn_alloc (tl_winograd_filter_floats (&c->s, c->winograd) * sizeof (float));
      tl_winograd_filter (c->u, c->w, &c->s, c->winograd);
      c->ws = tl_nn_alloc (tl_winograd_workspace (&c->s, c->winograd) * sizeof (float));
      return;
    }
  if (tl_quant_conv2d_applies (&c->s))
    {
      size_t from;
      int rows = tl_quant_conv2d_rows (&c->s, &from);

      c->codes = tl_nn_alloc (tl_quant_weights_bytes (rows, c->s.oc));
      if (!tl_quant_weights_find (c->codes, c->w + from, rows, c->s.oc, 1.0 / (1 << 20), NULL))
        g_clear_pointer (&c->codes, tl_nn_free);
    }
  if (c->codes == NULL && tl_conv2d_transposed_applies (&c->s))
    {
      c->u = tl_nn_alloc ((size_t) k * k * c->s.c * c->s.oc * sizeof (float));
      tl_conv2d_transpose_weights (c->u, c->w, &c->s);
    }
  c->ws = tl_nn_alloc (tl_conv2d_workspace (&c->s) * sizeof (float));
}

static void
conv_clear (ConvCtx *c)
{
  tl_nn_free (c->in);
  tl_nn_free (c->w);
  tl_nn_free (c->b);
  tl_nn_free (c->out);
  tl_nn_free (c->ws);
  tl_nn_free (c->u);
  tl_nn_free (c->codes);
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

typedef struct
{
  TlNet *net;
  float *in;
} NetCtx;

typedef struct
{
  float *in, *w, *out;
} DenseCtx;

static void
run_dense (gpointer data)
{
  DenseCtx *d = data;

  tl_dense_forward (d->out, d->in, d->w, NULL, 1, 256, 128);
}

static void
run_net (gpointer data)
{
  NetCtx *c = data;

  tl_net_forward (c->net, c->in, 1, false);
}

/* The encoder's model file stores its convolutions' weights as 8-bit
 * codes, one scale and minimum per tensor (face-api's uint8
 * quantisation): random weights put on such a grid run the way the real
 * ones do (tl_net_freeze () keeps them as codes where it can).  All but
 * the 64-channel stage's, whose filters face-api ships as plain floats
 * (run from their taps, "F(6x6,3x3) taps"). */
static void
quantise_weights (TlNet *net)
{
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);
      float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
      double scale;

      if (t->ndim != 4 || g_str_has_prefix (t->name, "conv64_"))
        continue;
      for (size_t j = 0; j < t->count; j++)
        {
          lo = MIN (lo, t->data[j]);
          hi = MAX (hi, t->data[j]);
        }
      scale = (hi - (double) lo) / 255.0;
      for (size_t j = 0; j < t->count && scale > 0.0; j++)
        t->data[j] = (float) (rint ((t->data[j] - (double) lo) / scale) * scale + lo);
    }
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
  int threads = 0, peak_n = 1536, rounds = 0;
  double seconds = 3.0;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: all cores)"), "N" },
    { "peak-size", 0, 0, G_OPTION_ARG_INT, &peak_n, N_("Size of the square sgemm for the peak"), "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, N_("How long to measure (default 3)"), "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  TlNnError err = { 0 };
  double peak_time = G_MAXDOUBLE, core_time = G_MAXDOUBLE, peak, core_peak, wall_peak;
  double conv_time = 0.0, conv_cpu_time = 0.0, net_time = G_MAXDOUBLE;
  double fc_time = G_MAXDOUBLE, load;
  int64_t conv_total = 0;
  ConvCtx convs[G_N_ELEMENTS (encoder_convs)];
  GemmCtx gemm;
  DenseCtx fc;
  TlNet *net;
  NetCtx nc;
  gint64 start;
  int n_folded, n_frozen;

  g_option_context_set_summary (context, _("Measures the engine's GEMM peak and the face encoder's layers."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (peak_n < 64 || peak_n > 8192)
    return tl_ctl_fail (_("--peak-size must be between 64 and 8192"));
  if (!(seconds > 0.0 && seconds <= 600.0))
    return tl_ctl_fail (_("--seconds must be between 0 and 600"));
  tl_nn_set_threads (threads);

  /* The face encoder exactly as the pipeline builds it (random weights,
   * on the model file's grid: speed does not depend on their values). */
  net = tl_faceapi_encoder_net ();
  if (!tl_net_prepare (net, 1, false, &err))
    {
      tl_net_free (net);
      return tl_ctl_fail ("%s", err.message);
    }
  tl_net_init_params (net, 1);
  quantise_weights (net);
  n_folded = tl_net_fold (net);
  n_frozen = tl_net_freeze (net, &err);
  if (n_frozen < 0)
    {
      tl_net_free (net);
      return tl_ctl_fail ("%s", err.message);
    }
  nc.net = net;
  nc.in = tl_nn_alloc (150 * 150 * 3 * sizeof (float));
  gemm_setup (&gemm, peak_n);
  for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
    {
      conv_setup (&convs[i], &encoder_convs[i]);
      encoder_convs[i].path = conv_path (&convs[i]);
      encoder_convs[i].seconds = G_MAXDOUBLE;
      encoder_convs[i].cpu_seconds = 0.0;
      run_conv (&convs[i]);                         /* warm up */
    }
  fc.in = tl_nn_alloc (256 * sizeof (float));
  fc.w = tl_nn_alloc (256 * 128 * sizeof (float));
  fc.out = tl_nn_alloc (128 * sizeof (float));
  run_gemm (&gemm);
  run_net (&nc);

  /* Rounds of everything, interleaved, so that peak and layers sample the
   * same moments of a machine that others share. */
  start = g_get_monotonic_time ();
  while (rounds < 3 || (g_get_monotonic_time () - start) / 1e6 < seconds)
    {
      time_once (run_gemm, &gemm, &peak_time);
      tl_nn_set_threads (1);
      time_core (run_gemm, &gemm, &core_time);
      tl_nn_set_threads (threads);
      for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
        for (int r = 0; r < 5; r++)
          time_both (run_conv, &convs[i], &encoder_convs[i].seconds,
                     &encoder_convs[i].cpu_seconds);
      for (int r = 0; r < 20; r++)
        time_once (run_dense, &fc, &fc_time);
      time_once (run_net, &nc, &net_time);
      rounds++;
    }
  /* The ratios divide by the higher of the all-threads peak measured by
   * the wall clock and the one-core peak (CPU clock) times the threads: on
   * a busy machine a long GEMM rarely gets both cores for its whole run,
   * and a peak spoiled that way must not flatter the layers. */
  wall_peak = 2.0 * peak_n * peak_n * (double) peak_n / peak_time / 1e9;
  core_peak = 2.0 * peak_n * peak_n * (double) peak_n / core_time / 1e9;
  peak = MAX (wall_peak, core_peak * tl_nn_get_threads ());
  for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
    {
      encoder_convs[i].cpu_seconds = MAX (encoder_convs[i].cpu_seconds / (rounds * 5), 1e-9);
      conv_total += encoder_convs[i].count * conv_flops (&encoder_convs[i]);
      conv_time += encoder_convs[i].count * encoder_convs[i].seconds;
      conv_cpu_time += encoder_convs[i].count * encoder_convs[i].cpu_seconds;
      conv_clear (&convs[i]);
    }
  tl_nn_free (gemm.a); tl_nn_free (gemm.b); tl_nn_free (gemm.c);
  tl_nn_free (fc.in); tl_nn_free (fc.w); tl_nn_free (fc.out);
  tl_nn_free (nc.in);
  load = tl_ctl_bench_load_average ();

  if (json)
    {
      g_autofree char *kernels = json_string (tl_nn_kernels_name ());
      g_autofree char *arch = json_string (tl_nn_kernels_arch ());
      double conv_gflops = conv_total / conv_time / 1e9;

      g_print ("{\"blis_kernels\": %s, \"blis_arch\": %s, \"blis_threading\": \"%s\", "
               "\"threads\": %d, \"rounds\": %d, \"load_average\": %.2f, "
               "\"sgemm_peak_gflops\": %.2f, \"sgemm_peak_wall_gflops\": %.2f, "
               "\"sgemm_core_gflops\": %.2f, \"sgemm_peak_size\": %d, \"layers\": [",
               kernels, arch, tl_nn_blis_threading (), tl_nn_get_threads (), rounds, load,
               peak, wall_peak, core_peak, peak_n);
      for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
        {
          const ConvLayer *l = &encoder_convs[i];
          double g = conv_flops (l) / l->seconds / 1e9;

          g_print ("%s{\"layer\": \"%s\", \"path\": \"%s\", \"count\": %d, \"mflops\": %.3f, "
                   "\"ms\": %.4f, \"gflops\": %.2f, \"ratio_to_peak\": %.3f, \"cpu_ms\": %.4f, "
                   "\"cpu_ratio_to_core_peak\": %.3f}",
                   i ? ", " : "", l->name, l->path, l->count, conv_flops (l) / 1e6, l->seconds * 1e3,
                   g, g / peak, l->cpu_seconds * 1e3,
                   conv_flops (l) / l->cpu_seconds / 1e9 / core_peak);
        }
      g_print (", {\"layer\": \"fc dense 256->128\", \"count\": 1, \"mflops\": %.3f, \"ms\": %.4f, "
               "\"gflops\": %.2f, \"ratio_to_peak\": %.3f}",
               2 * 256 * 128 / 1e6, fc_time * 1e3, 2 * 256 * 128 / fc_time / 1e9,
               2 * 256 * 128 / fc_time / 1e9 / peak);
      g_print ("], \"conv_total_mflops\": %.2f, \"conv_total_ms\": %.3f, \"conv_total_gflops\": %.2f, "
               "\"conv_total_ratio\": %.3f, \"conv_total_cpu_ratio\": %.3f, \"encoder_forward_ms\": %.3f, \"encoder_folded_layers\": %d, "
               "\"encoder_frozen_convolutions\": %d}\n",
               conv_total / 1e6, conv_time * 1e3, conv_gflops, conv_gflops / peak,
               conv_total / conv_cpu_time / 1e9 / core_peak, net_time * 1e3, n_folded, n_frozen);
    }
  else
    {
      g_print ("%s: %s\n", _("BLIS kernels"), tl_nn_kernels_name ());
      g_print ("%s: %d (%s)\n", _("Threads"), tl_nn_get_threads (),
               _("Twinlock's workers; each runs BLIS single-threaded"));
      g_print ("%s: %s\n", _("BLIS built with"), tl_nn_blis_threading ());
      g_print ("%s: %.1f GFLOP/s (%d×%d×%d; all threads by the wall clock %.1f, "
               "one core by its CPU clock %.1f × %d threads)\n", _("sgemm peak"), peak,
               peak_n, peak_n, peak_n, wall_peak, core_peak, tl_nn_get_threads ());
      g_print (_("Best times of %d interleaved rounds; load average %.2f\n"), rounds, load);
      g_print ("\n%s\n", _("Face encoder (ResNet-29, 150×150, batch 1), best time per layer:"));
      g_print ("  %-38s %-16s %5s %9s %9s %9s %7s %9s\n", "layer", "path", "count", "MFLOP", "ms",
               "GFLOP/s", "ratio", "cpu-ratio");
      for (guint i = 0; i < G_N_ELEMENTS (encoder_convs); i++)
        {
          const ConvLayer *l = &encoder_convs[i];
          double g = conv_flops (l) / l->seconds / 1e9;

          g_print ("  %-38s %-16s %5d %9.2f %9.4f %9.1f %7.3f %9.3f\n", l->name, l->path, l->count,
                   conv_flops (l) / 1e6, l->seconds * 1e3, g, g / peak,
                   conv_flops (l) / l->cpu_seconds / 1e9 / core_peak);
        }
      g_print ("  %-38s %-16s %5d %9.2f %9.4f %9.1f %7.3f\n", "fc dense 256->128", "gemm", 1,
               2 * 256 * 128 / 1e6, fc_time * 1e3, 2 * 256 * 128 / fc_time / 1e9,
               2 * 256 * 128 / fc_time / 1e9 / peak);
      g_print ("  %-38s %-10s %5d %9.2f %9.4f %9.1f %7.3f %9.3f\n", "all 29 convolutions", "", 29,
               conv_total / 1e6, conv_time * 1e3, conv_total / conv_time / 1e9,
               conv_total / conv_time / 1e9 / peak,
               conv_total / conv_cpu_time / 1e9 / core_peak);
      g_print ("  (MFLOP and GFLOP/s count direct-convolution FLOPs, whatever the path; ratio:\n"
               "   wall-clock GFLOP/s over the all-threads peak; cpu-ratio: FLOPs over the CPU\n"
               "   time of all threads, over one core's peak)\n");
      g_print ("\n%s: %.3f ms (%.1f GFLOP/s, every layer, as one network; %d scale layers folded,\n"
               "  %d convolutions frozen: Winograd, 8-bit codes or transposed weights)\n",
               _("Encoder forward"), net_time * 1e3, tl_net_flops (net) / net_time / 1e9, n_folded,
               n_frozen);
    }
  tl_net_free (net);
  return 0;
}
