/* tl-ctl-bench-faces.c — twinlockctl bench faces: the three face networks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "tl-ctl.h"
#include "tl-ctl-bench.h"
#include "tl-face-pipeline.h"
#include "tl-image-io.h"
#include "tl-image-ops.h"
#include "tl-nn.h"

typedef void (*RunFunc) (gpointer net, const float *in, float *out);

/* How the engine's worker threads shared the timed runs (percent). */
typedef struct
{
  double worker_chunks;   /* of the split calls' chunks, run by workers */
  double calls_alone;     /* of the split calls, run by the caller alone */
} PoolShare;

/* Median wall time of `runs` calls after `warmup` untimed ones, in ms;
 * `cpu_ms` gets the median CPU time of the calling thread (on a machine
 * shared with other work the two differ: wall time includes waiting, and
 * while the engine's threads take part the calling thread spins for
 * them, so that CPU time no longer tells whether they did: `share` does). */
static double
time_median (RunFunc     run,
             gpointer    net,
             const float *in,
             float       *out,
             int          warmup,
             int          runs,
             double      *cpu_ms,
             PoolShare   *share)
{
  g_autofree double *t = g_new (double, runs);
  g_autofree double *c = g_new (double, runs);
  TlNnPoolStats s0, s1;

  for (int i = 0; i < warmup; i++)
    run (net, in, out);
  tl_nn_pool_stats (&s0);
  for (int i = 0; i < runs; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double c0 = tl_ctl_bench_clock_ms (CLOCK_THREAD_CPUTIME_ID);
      run (net, in, out);
      c[i] = tl_ctl_bench_clock_ms (CLOCK_THREAD_CPUTIME_ID) - c0;
      t[i] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  tl_nn_pool_stats (&s1);
  share->worker_chunks = s1.chunks > s0.chunks ?
    100.0 * (s1.worker_chunks - s0.worker_chunks) / (s1.chunks - s0.chunks) : 0.0;
  share->calls_alone = s1.calls > s0.calls ?
    100.0 * (s1.calls_alone - s0.calls_alone) / (s1.calls - s0.calls) : 0.0;
  *cpu_ms = tl_ctl_bench_median (c, runs);
  return tl_ctl_bench_median (t, runs);
}

static void
run_detector (gpointer net, const float *in, float *out)
{
  tl_face_detector_forward (net, in, out);
}

static void
run_landmarks (gpointer net, const float *in, float *out)
{
  tl_face_landmarker_forward (net, in, out);
}

static void
run_encoder (gpointer net, const float *in, float *out)
{
  tl_face_encoder_forward (net, in, out);
}

int
tl_ctl_bench_faces (int    argc,
                    char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("— time the face networks"));
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFacePipeline) p = NULL;
  g_autoptr (TlImage) image = NULL;
  g_autoptr (TlImage) chip = NULL;
  g_autofree char *image_path = NULL;
  g_autofree float *det_in = NULL, *det_out = NULL;
  float lm_in[112 * 112 * 3], lm_out[136], enc_in[150 * 150 * 3], emb[128];
  gboolean json = FALSE;
  int runs = 50, warmup = 5, threads = 0, size = TL_FACE_DETECTOR_DEFAULT_SIZE;
  TlFaceAnalysis a;
  double det_ms, lm_ms, enc_ms, det_gf, lm_gf, enc_gf, det_cpu, lm_cpu, enc_cpu;
  PoolShare det_share, lm_share, enc_share;
  int cx, cy, cw, ch;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, N_("Timed runs per network (default 50)"), N_("N") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Threads (default: all cores)"), N_("N") },
    { "input-size", 's', 0, G_OPTION_ARG_INT, &size, N_("Detector input side (default 416)"), N_("PX") },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &image_path,
      N_("Photo to take the inputs from (default: a test fixture)"), N_("FILE") },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (ctx, &argc, &argv))
    return 2;
  if (runs < 1 || runs > 100000)
    return tl_ctl_fail (_("--runs must be between 1 and 100000"));

  tl_nn_init ();
  tl_nn_set_threads (threads);
  p = tl_face_pipeline_new (NULL, &error);
  if (p == NULL)
    return tl_ctl_fail ("%s", error->message);
  if (!tl_face_detector_set_input_size (tl_face_pipeline_get_detector (p), size))
    return tl_ctl_fail (_("--input-size must be a multiple of 32 from %d to %d"),
                        TL_FACE_DETECTOR_MIN_SIZE, TL_FACE_DETECTOR_MAX_SIZE);
  if (image_path == NULL)
    image_path = g_build_filename (TL_SOURCE_MODELDIR, "..", "tests", "data", "faces",
                                   "lfw-Abel_Pacheco_0001.png", NULL);
  image = tl_image_load (image_path, &error);
  if (image == NULL)
    return tl_ctl_fail ("%s", error->message);
  if (!tl_face_pipeline_embed (p, image, TRUE, &a, emb, &chip))
    return tl_ctl_fail (_("No face to benchmark on in “%s”"), image_path);

  /* The same inputs the pipeline feeds the networks. */
  det_in = g_new (float, (gsize) size * size * 3);
  det_out = g_new (float, (gsize) (size / 32) * (size / 32) * 25);
  tl_image_to_input (image, 0, 0, image->width, image->height, FALSE, size, det_in);
  tl_face_landmarker_crop (image, &a.box, &cx, &cy, &cw, &ch);
  tl_image_to_input (image, cx, cy, cw, ch, TRUE, 112, lm_in);
  tl_image_to_input (chip, 0, 0, chip->width, chip->height, TRUE, 150, enc_in);

  det_ms = time_median (run_detector, tl_face_pipeline_get_detector (p), det_in, det_out, warmup, runs, &det_cpu, &det_share);
  lm_ms = time_median (run_landmarks, tl_face_pipeline_get_landmarker (p), lm_in, lm_out, warmup, runs, &lm_cpu, &lm_share);
  enc_ms = time_median (run_encoder, tl_face_pipeline_get_encoder (p), enc_in, emb, warmup, runs, &enc_cpu, &enc_share);
  det_gf = tl_face_detector_flops (tl_face_pipeline_get_detector (p)) / (det_ms * 1e6);
  lm_gf = tl_face_landmarker_flops (tl_face_pipeline_get_landmarker (p)) / (lm_ms * 1e6);
  enc_gf = tl_face_encoder_flops (tl_face_pipeline_get_encoder (p)) / (enc_ms * 1e6);

  if (json)
    g_print ("{\"kernels\": \"%s\", \"threads\": %d, \"runs\": %d, \"detector_input\": %d, "
             "\"detector_ms\": %.3f, \"landmarks_ms\": %.3f, \"encoder_ms\": %.3f, "
             "\"detector_cpu_ms\": %.3f, \"landmarks_cpu_ms\": %.3f, \"encoder_cpu_ms\": %.3f, "
             "\"detector_gflops\": %.1f, \"landmarks_gflops\": %.1f, \"encoder_gflops\": %.1f, "
             "\"detector_worker_chunks_pct\": %.1f, \"landmarks_worker_chunks_pct\": %.1f, "
             "\"encoder_worker_chunks_pct\": %.1f, \"detector_calls_alone_pct\": %.1f, "
             "\"landmarks_calls_alone_pct\": %.1f, \"encoder_calls_alone_pct\": %.1f, "
             "\"load_average\": %.2f}\n",
             tl_nn_kernels_name (), tl_nn_get_threads (), runs, size, det_ms, lm_ms, enc_ms,
             det_cpu, lm_cpu, enc_cpu, det_gf, lm_gf, enc_gf,
             det_share.worker_chunks, lm_share.worker_chunks, enc_share.worker_chunks,
             det_share.calls_alone, lm_share.calls_alone, enc_share.calls_alone,
             tl_ctl_bench_load_average ());
  else
    {
      g_print (_("kernels: %s, %d thread(s), median of %d runs after %d warm-up\n"),
               tl_nn_kernels_name (), tl_nn_get_threads (), runs, warmup);
      g_print (_("  (wall time; CPU time of the calling thread in brackets; load average %.2f;\n"
                 "   GFLOP/s count each network's convolutions as direct ones, 2 per multiply-add,\n"
                 "   whatever algorithm (Winograd) ran them)\n"),
               tl_ctl_bench_load_average ());
      g_print ("  %-22s %8.3f ms (%7.3f) %7.1f GFLOP/s\n", _("detector (416)"), det_ms, det_cpu, det_gf);
      g_print ("  %-22s %8.3f ms (%7.3f) %7.1f GFLOP/s\n", _("landmarks (112)"), lm_ms, lm_cpu, lm_gf);
      g_print ("  %-22s %8.3f ms (%7.3f) %7.1f GFLOP/s\n", _("encoder (150)"), enc_ms, enc_cpu, enc_gf);
      if (tl_nn_get_threads () > 1)
        g_print (_("  worker threads ran %.0f / %.0f / %.0f %% of the split calls' chunks;\n"
                   "  %.0f / %.0f / %.0f %% of those calls ran on the calling thread alone\n"
                   "  (the engine's fallback on a busy machine)\n"),
                 det_share.worker_chunks, lm_share.worker_chunks, enc_share.worker_chunks,
                 det_share.calls_alone, lm_share.calls_alone, enc_share.calls_alone);
    }
  return 0;
}

