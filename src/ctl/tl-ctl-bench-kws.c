/* tl-ctl-bench-kws.c — `twinlockctl bench kws`: the voice pipeline's parts
 * on real speech
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two halves.  The keyphrase search (PocketSphinx) runs over whole WAV
 * files, alone (stage gate only) and as the default pipeline (with the
 * verifier), in interleaved passes: their real-time factors by the wall
 * clock and by the process's CPU clock.  Then the verifier's parts on the
 * window of a real candidate of that search: one window's log-mel features,
 * each network of the ensemble, and a whole candidate (the three windows'
 * features, each frame of their union once, then each window through every
 * member, as the engine's verify () does by default: no warped views,
 * logits averaged per window), each beside its
 * naive reference (the features by a direct DFT, the networks by the
 * engine's *_ref kernels), whose outputs are compared with the fast ones.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tl-ctl.h"
#include "tl-ctl-bench.h"
#include "tl-kws-engine.h"
#include "tl-kws-features.h"
#include "tl-kws-verifier.h"
#include "tl-nn.h"
#include "tl-nn-net.h"
#include "tl-wav.h"

#define LIBRIVOX_DIR "/usr/share/pocketsphinx/test/data/librivox"

/* The verifier's windows around a candidate, in frames, as the engine's. */
static const int window_offsets[] = TL_KWS_VERIFY_OFFSETS;

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* One measured part: wall and CPU time (ms) of each repetition. */
typedef struct
{
  GArray *wall, *cpu;
  double  flops;      /* per repetition, 0 if not counted */
} Part;

static void
part_init (Part   *p,
           double  flops)
{
  p->wall = g_array_new (FALSE, FALSE, sizeof (double));
  p->cpu = g_array_new (FALSE, FALSE, sizeof (double));
  p->flops = flops;
}

static void
part_clear (Part *p)
{
  g_clear_pointer (&p->wall, g_array_unref);
  g_clear_pointer (&p->cpu, g_array_unref);
}

/* The value below which a fraction @q of @a lies (sorts @a). */
static double
quantile (GArray *a,
          double  q)
{
  if (a->len == 0)
    return NAN;
  qsort (a->data, a->len, sizeof (double), tl_ctl_bench_compare_doubles);
  if (q == 0.5 && a->len % 2 == 0)
    return (g_array_index (a, double, a->len / 2 - 1) + g_array_index (a, double, a->len / 2)) / 2;
  return g_array_index (a, double, (guint) ceil (q * (a->len - 1)));
}

typedef struct
{
  double wall_ms, wall_p90_ms, cpu_ms, gflops;
  guint  n;
} PartStats;

static void
part_stats (Part      *p,
            PartStats *s)
{
  s->n = p->wall->len;
  s->wall_ms = quantile (p->wall, 0.5);
  s->wall_p90_ms = quantile (p->wall, 0.9);
  s->cpu_ms = quantile (p->cpu, 0.5);
  s->gflops = p->flops > 0 ? p->flops / (s->wall_ms * 1e6) : 0.0;
}

/* ---- the keyphrase search over whole files -------------------------------- */

typedef struct
{
  double   wall_s, cpu_s;
  guint    candidates, judged;    /* judged: went through the verifier */
  gint64   verify_us;
  /* the first candidate the verifier judged: its file and end */
  gint     window_file;
  gint64   window_end_sample;
} Pass;

static gboolean
run_pass (TlKwsEngine  *engine,
          GPtrArray    *wavs,
          Pass         *pass,
          GError      **error)
{
  g_autoptr (GPtrArray) decided = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_kws_candidate_free);
  double w0 = tl_ctl_bench_clock_ms (CLOCK_MONOTONIC);
  double c0 = tl_ctl_bench_clock_ms (CLOCK_PROCESS_CPUTIME_ID);

  memset (pass, 0, sizeof *pass);
  pass->window_file = -1;
  for (guint f = 0; f < wavs->len; f++)
    {
      TlWav *wav = wavs->pdata[f];

      g_ptr_array_set_size (decided, 0);
      if (!tl_kws_engine_reset (engine, error) ||
          !tl_kws_engine_process (engine, wav->samples, wav->n_frames, decided, error) ||
          !tl_kws_engine_finish (engine, decided, error))
        return FALSE;
      for (guint i = 0; i < decided->len; i++)
        {
          TlKwsCandidate *c = decided->pdata[i];

          pass->candidates++;
          if (!c->verified)
            continue;
          pass->judged++;
          pass->verify_us += c->verify_us;
          if (pass->window_file < 0)
            {
              pass->window_file = f;
              pass->window_end_sample = c->end_sample;
            }
        }
    }
  pass->wall_s = (tl_ctl_bench_clock_ms (CLOCK_MONOTONIC) - w0) / 1e3;
  pass->cpu_s = (tl_ctl_bench_clock_ms (CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3;
  return TRUE;
}

/* ---- the naive references -------------------------------------------------- */

static float *
tensor_data (TlNet      *net,
             const char *node,
             const char *what)
{
  g_autofree char *name = g_strdup_printf ("%s.%s", node, what);
  TlNnTensor *t = tl_net_find_tensor (net, name);

  return t != NULL ? t->data : NULL;
}

/* A network of batch 1 by the engine's naive kernels (convolution and
 * dense layers by tl_conv2d_forward_ref () and tl_dense_forward_ref (),
 * pooling and the rest by plain loops), node by node; @acts holds one
 * buffer per node.  Knows the ops of the verifier; FALSE for others. */
static gboolean
net_forward_reference (TlNet       *net,
                       const float *input,
                       float      **acts)
{
  for (int i = 0; i < tl_net_n_nodes (net); i++)
    {
      const TlNetNode *node = tl_net_node (net, i);
      const TlNetNode *src = i > 0 ? tl_net_node (net, node->inputs[0]) : node;
      const float *in = i > 0 ? acts[node->inputs[0]] : input;
      size_t count = (size_t) node->h * node->w * node->c;
      float *out = acts[i];

      switch (node->op)
        {
        case TL_OP_INPUT:
          memcpy (out, input, count * sizeof (float));
          break;
        case TL_OP_CONV2D:
          {
            TlConv2dShape s;

            if (!tl_conv2d_shape (&s, 1, src->h, src->w, src->c, node->ip[0], node->ip[1],
                                  node->ip[2], node->ip[3], node->ip[4], node->ip[5]))
              return FALSE;
            tl_conv2d_forward_ref (out, in, tensor_data (net, node->name, "weight"),
                                   node->ip[6] ? tensor_data (net, node->name, "bias") : NULL, &s);
          }
          break;
        case TL_OP_BATCHNORM:
          {
            const float *gamma = tensor_data (net, node->name, "gamma");
            const float *beta = tensor_data (net, node->name, "beta");
            const float *mean = tensor_data (net, node->name, "mean");
            const float *var = tensor_data (net, node->name, "var");

            /* folded into the convolution before it: a pass-through */
            for (size_t j = 0; j < count; j++)
              {
                int c = j % node->c;

                out[j] = node->ip[7] == 1 ? in[j]
                         : gamma[c] * (in[j] - mean[c]) / sqrtf (var[c] + node->fp[0]) + beta[c];
              }
          }
          break;
        case TL_OP_RELU:
          for (size_t j = 0; j < count; j++)
            out[j] = in[j] > 0.0f ? in[j] : 0.0f;
          break;
        case TL_OP_MAXPOOL:
          {
            TlPoolShape s;

            if (!tl_pool_shape (&s, 1, src->h, src->w, src->c, node->ip[0], node->ip[1], node->ip[2]))
              return FALSE;
            for (int y = 0; y < s.oh; y++)
              for (int x = 0; x < s.ow; x++)
                for (int c = 0; c < s.c; c++)
                  {
                    float m = -INFINITY;

                    for (int dy = 0; dy < s.k; dy++)
                      for (int dx = 0; dx < s.k; dx++)
                        {
                          int iy = y * s.stride - s.pad_t + dy, ix = x * s.stride - s.pad_l + dx;

                          if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
                            m = MAX (m, in[((size_t) iy * s.w + ix) * s.c + c]);
                        }
                    out[((size_t) y * s.ow + x) * s.c + c] = m;
                  }
          }
          break;
        case TL_OP_DENSE:
          tl_dense_forward_ref (out, in, tensor_data (net, node->name, "weight"),
                                node->ip[1] ? tensor_data (net, node->name, "bias") : NULL, 1,
                                src->h * src->w * src->c, node->c);
          break;
        default:
          return FALSE;
        }
    }
  return TRUE;
}

static double
max_abs_diff (const float *a,
              const float *b,
              size_t       n)
{
  double d = 0;

  for (size_t i = 0; i < n; i++)
    d = MAX (d, fabs ((double) a[i] - b[i]));
  return d;
}

/* ---- the verifier's parts ---------------------------------------------------- */

typedef struct
{
  TlKwsVerifier *verifier;
  TlKwsMel      *mel;
  const TlWav   *wav;
  gint64         end;           /* sample just past the (first member's) window */
  gint64         word_end;      /* sample just past the candidate's word */
  float         *features, *features_ref;
  /* a candidate's windows as the engine plans them (each member's at
   * each offset, tl_kws_verifier_plan_windows ()) */
  int            n_windows;
  int            ends[TL_KWS_VERIFIER_MAX_MEMBERS * G_N_ELEMENTS (window_offsets)];
  int            index[TL_KWS_VERIFIER_MAX_MEMBERS * G_N_ELEMENTS (window_offsets)];
  float         *windows;       /* [n_windows][frames][bands] */
  float       ***acts;          /* [member][node] of the reference */
} Verify;

/* The clocks at the start of a timed run. */
typedef struct
{
  double wall, cpu;
} Start;

static void
start (Start *t)
{
  t->wall = tl_ctl_bench_clock_ms (CLOCK_MONOTONIC);
  t->cpu = tl_ctl_bench_clock_ms (CLOCK_THREAD_CPUTIME_ID);
}

/* Adds the run that began at @t to @p. */
static void
stop (const Start *t,
      Part        *p)
{
  double cpu = tl_ctl_bench_clock_ms (CLOCK_THREAD_CPUTIME_ID) - t->cpu;
  double wall = tl_ctl_bench_clock_ms (CLOCK_MONOTONIC) - t->wall;

  g_array_append_val (p->wall, wall);
  g_array_append_val (p->cpu, cpu);
}

/* A whole candidate, as the engine decides it: the windows' features
 * (each frame of their union once), then at each of the three offsets
 * each member on its window (logits averaged). */
static void
run_candidate (Verify *v)
{
  guint n_members = tl_kws_verifier_n_members (v->verifier);
  double probs[TL_KWS_N_CLASSES];

  tl_kws_mel_windows (v->mel, v->windows, v->wav->samples, v->wav->n_frames, v->word_end,
                      v->ends, v->n_windows, TL_KWS_VERIFIER_FRAMES);
  for (guint o = 0; o < G_N_ELEMENTS (window_offsets); o++)
    {
      const float *features[TL_KWS_VERIFIER_MAX_MEMBERS];

      for (guint m = 0; m < n_members; m++)
        features[m] = v->windows + (gsize) v->index[m * G_N_ELEMENTS (window_offsets) + o] *
                                   TL_KWS_VERIFIER_INPUT;
      tl_kws_verifier_classify_windows (v->verifier, features, NULL, 0, probs);
    }
}

/* "  LABEL" padded to a column of 34 characters: by characters, not
 * bytes, so that "×" and the translations' umlauts do not shorten it. */
static void
print_label (const char *label)
{
  int pad = 34 - (int) g_utf8_strlen (label, -1);

  g_print ("  %s%*s", label, MAX (pad, 0), "");
}

int
tl_ctl_bench_kws (int    argc,
                  char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("— time the keyword spotter's parts"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) wavs = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_wav_free);
  g_auto (GStrv) wav_paths = NULL;
  g_auto (GStrv) verifier_paths = NULL;
  g_autoptr (TlKwsVerifier) verifier = NULL;
  g_autoptr (TlKwsMel) mel = NULL;
  TlKwsEngine *pipeline = NULL, *search = NULL;
  gboolean json = FALSE;
  int runs = 100, naive_runs = -1, passes = 3, threads = 0, warmup = 5;
  double audio_s = 0, feat_diff = 0, search_wall, search_cpu, pipe_wall, pipe_cpu, judged_ms;
  double net_diff[8] = { 0 }, ensemble_flops = 0;
  float logits[8][TL_KWS_N_CLASSES];
  g_autofree double *rtf = NULL;
  Pass first = { 0 };
  Part feat = { 0 }, feat_ref = { 0 }, cand = { 0 }, fwd[8] = { { 0 } }, fwd_ref[8] = { { 0 } };
  PartStats feat_s, feat_ref_s, cand_s, fwd_s[8], fwd_ref_s[8];
  TlNnPoolStats s0, s1;
  double load, worker_pct;
  Verify v = { 0 };
  guint n_members;
  int status = 1;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, N_("Timed runs of each verifier part (default 100)"), N_("N") },
    { "naive-runs", 0, 0, G_OPTION_ARG_INT, &naive_runs, N_("Runs of the naive references, after the timed runs (default 10, or --runs when fewer)"), N_("N") },
    { "passes", 'p', 0, G_OPTION_ARG_INT, &passes, N_("Passes of the keyphrase search over the audio (default 3)"), N_("N") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: all cores)"), N_("N") },
    { "wav", 'w', 0, G_OPTION_ARG_FILENAME_ARRAY, &wav_paths,
      N_("Speech to run on, 16 kHz mono (repeatable; default: the LibriVox clips of pocketsphinx-testdata)"), N_("FILE") },
    { "verifier", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &verifier_paths,
      N_("The verifier model (default: the installed one; repeated: an ensemble, the models' logits averaged)"), N_("MODEL") },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (ctx, &argc, &argv))
    return 2;
  if (runs < 1 || runs > 100000)
    return tl_ctl_fail (_("--runs must be between 1 and 100000"));
  /* not given: 10, fewer when --runs is */
  if (naive_runs == -1)
    naive_runs = MIN (10, runs);
  else if (naive_runs < 1 || naive_runs > runs)
    return tl_ctl_fail (_("--naive-runs must be between 1 and --runs"));
  if (passes < 1 || passes > 1000)
    return tl_ctl_fail (_("--passes must be between 1 and 1000"));

  tl_nn_init ();
  tl_nn_set_threads (threads);
  if (wav_paths == NULL)
    {
      g_autoptr (GDir) dir = g_dir_open (LIBRIVOX_DIR, 0, NULL);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        return tl_ctl_fail (_("No speech to run on: %s is missing (install pocketsphinx-testdata) "
                              "— or give a WAV file with --wav"), LIBRIVOX_DIR);
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".wav"))
          g_ptr_array_add (names, g_build_filename (LIBRIVOX_DIR, name, NULL));
      g_ptr_array_sort (names, compare_paths);
      g_ptr_array_add (names, NULL);
      wav_paths = (GStrv) g_ptr_array_steal (names, NULL);
    }
  for (guint i = 0; wav_paths[i] != NULL; i++)
    {
      TlWav *wav = tl_wav_load_16k_mono (wav_paths[i], &error);

      if (wav == NULL)
        return tl_ctl_fail ("%s", error->message);
      audio_s += (double) wav->n_frames / TL_KWS_SAMPLE_RATE;
      g_ptr_array_add (wavs, wav);
    }
  if (wavs->len == 0 || audio_s < 0.5)
    return tl_ctl_fail (_("Too little speech to measure on (%.2f s): give at least half a second with --wav"),
                        audio_s);

  if (verifier_paths == NULL)
    verifier_paths = tl_kws_verifier_default_paths ();
  verifier = tl_kws_verifier_load_ensemble ((const char * const *) verifier_paths, &error);
  if (verifier == NULL)
    return tl_ctl_fail ("%s", error->message);
  n_members = tl_kws_verifier_n_members (verifier);
  if (n_members > G_N_ELEMENTS (fwd))
    return tl_ctl_fail (_("at most %u --verifier models"), (guint) G_N_ELEMENTS (fwd));
  pipeline = tl_kws_engine_new_full (NULL, NULL, (const char * const *) verifier_paths, &error);
  if (pipeline != NULL)
    search = tl_kws_engine_new_full (NULL, NULL, NULL, &error);
  if (search == NULL)
    {
      tl_ctl_fail ("%s", error->message);
      goto out;
    }
  /* the same keyphrase search, nothing after the gate */
  tl_kws_engine_set_stages (search, TL_KWS_STAGE_GATE);

  /* The two engines in alternation, so that both see the same moments of
   * a machine that other work shares. */
  rtf = g_new (double, 5 * passes);
  for (int p = 0; p < passes; p++)
    {
      Pass a, b;

      if (!run_pass (search, wavs, &a, &error) || !run_pass (pipeline, wavs, &b, &error))
        {
          tl_ctl_fail ("%s", error->message);
          goto out;
        }
      rtf[0 * passes + p] = a.wall_s / audio_s;
      rtf[1 * passes + p] = a.cpu_s / audio_s;
      rtf[2 * passes + p] = b.wall_s / audio_s;
      rtf[3 * passes + p] = b.cpu_s / audio_s;
      /* the verifier's time per judged candidate by the engine's clock,
       * the search running between candidates (caches not warm) */
      rtf[4 * passes + p] = b.judged ? b.verify_us / 1e3 / b.judged : 0.0;
      if (p == 0)
        first = b;
    }
  search_wall = tl_ctl_bench_median (rtf, passes);
  search_cpu = tl_ctl_bench_median (rtf + passes, passes);
  pipe_wall = tl_ctl_bench_median (rtf + 2 * passes, passes);
  pipe_cpu = tl_ctl_bench_median (rtf + 3 * passes, passes);
  judged_ms = tl_ctl_bench_median (rtf + 4 * passes, passes);

  /* The window of the first candidate the verifier judged, or, without
   * one, the one that ends in the middle of the first file. */
  mel = tl_kws_mel_new ();
  v.verifier = verifier;
  v.mel = mel;
  v.wav = wavs->pdata[MAX (first.window_file, 0)];
  v.word_end = first.window_file >= 0
                 ? first.window_end_sample
                 : (gint64) v.wav->n_frames / 2 - TL_KWS_VERIFIER_AFTER * TL_KWS_MEL_HOP;
  v.end = v.word_end + tl_kws_verifier_member_after (verifier, 0) * TL_KWS_MEL_HOP;
  v.n_windows = (int) tl_kws_verifier_plan_windows (verifier, window_offsets,
                                                    G_N_ELEMENTS (window_offsets), v.ends, v.index);
  v.features = g_new (float, TL_KWS_VERIFIER_INPUT);
  v.features_ref = g_new (float, TL_KWS_VERIFIER_INPUT);
  v.windows = g_new (float, (gsize) v.n_windows * TL_KWS_VERIFIER_INPUT);
  v.acts = g_new0 (float **, n_members);
  part_init (&feat, 0);
  part_init (&feat_ref, 0);
  for (guint m = 0; m < n_members; m++)
    {
      TlNet *net = tl_kws_verifier_member_net (verifier, m);

      part_init (&fwd[m], tl_net_flops (net));
      part_init (&fwd_ref[m], tl_net_flops (net));
      ensemble_flops += tl_net_flops (net);
      v.acts[m] = g_new0 (float *, tl_net_n_nodes (net));
      for (int i = 0; i < tl_net_n_nodes (net); i++)
        {
          const TlNetNode *node = tl_net_node (net, i);

          v.acts[m][i] = g_new0 (float, (gsize) node->h * node->w * node->c);
        }
    }
  part_init (&cand, G_N_ELEMENTS (window_offsets) * ensemble_flops);

  for (int r = 0; r < warmup; r++)
    run_candidate (&v);
  tl_nn_pool_stats (&s0);
  for (int r = 0; r < runs; r++)
    {
      Start t;

      start (&t);
      tl_kws_mel_window (mel, v.features, v.wav->samples, v.wav->n_frames, v.end,
                         TL_KWS_VERIFIER_FRAMES);
      stop (&t, &feat);
      for (guint m = 0; m < n_members; m++)
        {
          start (&t);
          tl_net_forward (tl_kws_verifier_member_net (verifier, m), v.features, 1, false);
          stop (&t, &fwd[m]);
        }
      start (&t);
      run_candidate (&v);
      stop (&t, &cand);
    }
  tl_nn_pool_stats (&s1);

  /* The naive references after all the fast runs: hundreds of
   * milliseconds of direct DFT evict the caches, which would slow the
   * fast run after each of them.  Compared with the fast window's
   * features, and each network's logits on them. */
  tl_kws_mel_window (mel, v.features, v.wav->samples, v.wav->n_frames, v.end,
                     TL_KWS_VERIFIER_FRAMES);
  for (guint m = 0; m < n_members; m++)
    memcpy (logits[m], tl_net_forward (tl_kws_verifier_member_net (verifier, m), v.features, 1, false),
            sizeof logits[m]);
  for (int r = 0; r < naive_runs; r++)
    {
      Start t;

      start (&t);
      tl_kws_mel_window_reference (v.features_ref, v.wav->samples, v.wav->n_frames, v.end,
                                   TL_KWS_VERIFIER_FRAMES);
      stop (&t, &feat_ref);
      feat_diff = MAX (feat_diff, max_abs_diff (v.features, v.features_ref, TL_KWS_VERIFIER_INPUT));
      for (guint m = 0; m < n_members; m++)
        {
          TlNet *net = tl_kws_verifier_member_net (verifier, m);
          gboolean known;

          start (&t);
          known = net_forward_reference (net, v.features, v.acts[m]);
          stop (&t, &fwd_ref[m]);
          if (!known)
            {
              tl_ctl_fail (_("The naive reference does not know every layer of the verifier “%s”"),
                           verifier_paths[m]);
              goto out;
            }
          net_diff[m] = MAX (net_diff[m], max_abs_diff (logits[m], v.acts[m][tl_net_output (net)],
                                                       TL_KWS_N_CLASSES));
        }
    }
  load = tl_ctl_bench_load_average ();
  worker_pct = s1.chunks > s0.chunks
                 ? 100.0 * (s1.worker_chunks - s0.worker_chunks) / (s1.chunks - s0.chunks) : 0.0;

  part_stats (&feat, &feat_s);
  part_stats (&feat_ref, &feat_ref_s);
  part_stats (&cand, &cand_s);
  for (guint m = 0; m < n_members; m++)
    {
      part_stats (&fwd[m], &fwd_s[m]);
      part_stats (&fwd_ref[m], &fwd_ref_s[m]);
    }

  if (json)
    {
      g_print ("{\"kernels\": \"%s\", \"threads\": %d, \"runs\": %d, \"naive_runs\": %d, "
               "\"passes\": %d, \"audio_files\": %u, \"audio_s\": %.3f, "
               "\"search_rtf_wall\": %.4f, \"search_rtf_cpu\": %.4f, "
               "\"pipeline_rtf_wall\": %.4f, \"pipeline_rtf_cpu\": %.4f, "
               "\"candidates\": %u, \"judged\": %u, \"verify_ms_per_candidate\": %.3f, "
               "\"window_from_candidate\": %s, "
               "\"features_ms\": %.4f, \"features_p90_ms\": %.4f, \"features_cpu_ms\": %.4f, "
               "\"features_naive_ms\": %.3f, \"features_naive_ratio\": %.5f, "
               "\"features_max_abs_diff\": %.3g, \"members\": [",
               tl_nn_kernels_name (), tl_nn_get_threads (), runs, naive_runs, passes, wavs->len,
               audio_s, search_wall, search_cpu, pipe_wall, pipe_cpu, first.candidates,
               first.judged, judged_ms,
               first.window_file >= 0 ? "true" : "false",
               feat_s.wall_ms, feat_s.wall_p90_ms, feat_s.cpu_ms, feat_ref_s.wall_ms,
               feat_s.wall_ms / feat_ref_s.wall_ms, feat_diff);
      for (guint m = 0; m < n_members; m++)
        g_print ("%s{\"multiply_adds\": %.0f, \"forward_ms\": %.4f, \"forward_p90_ms\": %.4f, "
                 "\"forward_cpu_ms\": %.4f, \"gflops\": %.2f, \"naive_ms\": %.3f, "
                 "\"naive_gflops\": %.3f, \"naive_ratio\": %.5f, \"max_abs_diff\": %.3g}",
                 m ? ", " : "", fwd[m].flops / 2, fwd_s[m].wall_ms, fwd_s[m].wall_p90_ms,
                 fwd_s[m].cpu_ms, fwd_s[m].gflops, fwd_ref_s[m].wall_ms, fwd_ref_s[m].gflops,
                 fwd_s[m].wall_ms / fwd_ref_s[m].wall_ms, net_diff[m]);
      g_print ("], \"candidate_windows\": %u, \"candidate_multiply_adds\": %.0f, "
               "\"candidate_ms\": %.4f, \"candidate_p90_ms\": %.4f, \"candidate_cpu_ms\": %.4f, "
               "\"split_calls\": %" G_GUINT64_FORMAT ", "
               "\"worker_chunks_pct\": %.1f, \"load_average\": %.2f}\n",
               (guint) G_N_ELEMENTS (window_offsets), cand.flops / 2, cand_s.wall_ms,
               cand_s.wall_p90_ms, cand_s.cpu_ms, s1.calls - s0.calls,
               worker_pct, load);
    }
  else
    {
      g_print (_("kernels: %s, %d thread(s); load average %.2f\n"), tl_nn_kernels_name (),
               tl_nn_get_threads (), load);
      g_print (_("Keyphrase search over %u file(s), %.1f s of speech, median of %d passes\n"
                 "  (real-time factor: wall time, and CPU time of the whole process, over the audio's length)\n"),
               wavs->len, audio_s, passes);
      print_label (_("search alone (gate only)"));
      g_print (" %8.4f (%7.4f)\n", search_wall, search_cpu);
      print_label (_("pipeline (gate + verifier)"));
      g_print (" %8.4f (%7.4f)\n", pipe_wall, pipe_cpu);
      g_print (_("  %u candidates, %u judged by the verifier, %.3f ms each by the engine's own clock\n"
                 "  (mean of a pass, median of the passes; the search runs between candidates)\n"),
               first.candidates, first.judged, judged_ms);
      g_print (_("Verifier on one window of %s, %d runs after %d warm-up, then %d of the naive references\n"
                 "  (median wall time, 90 %% in brackets, CPU time of the calling thread after it;\n"
                 "   GFLOP/s count 2 per multiply-add of the layers' shapes)\n"),
               first.window_file >= 0 ? _("a real candidate") : _("the middle of the first file"),
               runs, warmup, naive_runs);
      print_label (_("log-mel features, one window"));
      g_print (" %8.4f ms (%8.4f) %8.4f ms\n", feat_s.wall_ms, feat_s.wall_p90_ms, feat_s.cpu_ms);
      g_print (_("    naive (direct DFT) %.3f ms: fast/naive %.4f, max |difference| %.2g\n"),
               feat_ref_s.wall_ms, feat_s.wall_ms / feat_ref_s.wall_ms, feat_diff);
      for (guint m = 0; m < n_members; m++)
        {
          g_autofree char *label = g_strdup_printf (_("network %u, %.2f M multiply-adds"), m + 1,
                                                    fwd[m].flops / 2e6);

          print_label (label);
          g_print (" %8.4f ms (%8.4f) %8.4f ms %7.2f GFLOP/s\n", fwd_s[m].wall_ms,
                   fwd_s[m].wall_p90_ms, fwd_s[m].cpu_ms, fwd_s[m].gflops);
          g_print (_("    naive (*_ref kernels) %.3f ms, %.3f GFLOP/s: fast/naive %.4f, max |difference| of the logits %.2g\n"),
                   fwd_ref_s[m].wall_ms, fwd_ref_s[m].gflops, fwd_s[m].wall_ms / fwd_ref_s[m].wall_ms,
                   net_diff[m]);
        }
      {
        g_autofree char *label = g_strdup_printf (_("candidate: %u windows × %u networks"),
                                                  (guint) G_N_ELEMENTS (window_offsets), n_members);

        /* no GFLOP/s: most of its time is the features, which the
         * multiply-adds do not count */
        print_label (label);
        g_print (" %8.4f ms (%8.4f) %8.4f ms\n", cand_s.wall_ms, cand_s.wall_p90_ms, cand_s.cpu_ms);
      }
      g_print (_("  (%.2f M multiply-adds per candidate; %u calls split over the threads,\n"
                 "   the workers ran %.0f %% of the chunks, CPU time that the calling thread's clock misses)\n"),
               cand.flops / 2e6, (guint) (s1.calls - s0.calls), worker_pct);
    }
  status = 0;

out:
  part_clear (&feat);
  part_clear (&feat_ref);
  part_clear (&cand);
  for (guint m = 0; m < G_N_ELEMENTS (fwd); m++)
    {
      part_clear (&fwd[m]);
      part_clear (&fwd_ref[m]);
    }
  for (guint m = 0; v.acts != NULL && m < n_members; m++)
    {
      for (int i = 0; i < tl_net_n_nodes (tl_kws_verifier_member_net (verifier, m)); i++)
        g_free (v.acts[m][i]);
      g_free (v.acts[m]);
    }
  g_free (v.acts);
  g_free (v.features);
  g_free (v.features_ref);
  g_free (v.windows);
  tl_kws_engine_free (pipeline);
  tl_kws_engine_free (search);
  return status;
}
