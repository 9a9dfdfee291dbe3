/* test-ctl-bench.c — twinlockctl bench prints what it promises
 *
 * The figures themselves are measured, not asserted: a benchmark prints,
 * a test checks that what it prints is complete and consistent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "tl-nn.h"

/* Runs twinlockctl with @args; its output in @out and @err; whether it
 * exited with success. */
static gboolean
run_ctl (const char * const  *args,
         char               **out,
         char               **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) g_getenv ("TWINLOCKCTL"));
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                out, err, &status, &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL);
}

static JsonObject *
run_json (const char * const *args,
          JsonParser         *parser)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;

  if (!run_ctl (args, &out, &err))
    g_error ("twinlockctl failed: %s", err);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_bench_nn (void)
{
  const char *args[] = { "bench", "nn", "--json", "--seconds", "0.2", "--peak-size", "256", NULL };
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = run_json (args, parser);
  JsonArray *layers;
  double peak, total;

  g_assert_cmpstr (json_object_get_string_member (o, "blis_kernels"), ==, tl_nn_kernels_name ());
  peak = json_object_get_double_member (o, "sgemm_peak_gflops");
  total = json_object_get_double_member (o, "conv_total_ratio");
  g_assert_cmpfloat (peak, >, 0.0);
  g_assert_cmpfloat (total, >, 0.0);
  g_assert_cmpfloat (total, <=, 1.5);
  layers = json_object_get_array_member (o, "layers");
  g_assert_cmpuint (json_array_get_length (layers), >=, 10);
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      double gflops = json_object_get_double_member (l, "gflops");
      double ratio = json_object_get_double_member (l, "ratio_to_peak");

      g_assert_nonnull (json_object_get_string_member (l, "layer"));
      g_assert_cmpfloat (gflops, >, 0.0);
      /* the ratio is the layer's rate over the printed peak */
      g_assert_cmpfloat (fabs (ratio - gflops / peak), <, 0.01 + 0.01 * ratio);
    }
}

static void
test_bench_faces (void)
{
  const char *args[] = { "bench", "faces", "--json", "-n", "2", NULL };
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = run_json (args, parser);

  g_assert_cmpfloat (json_object_get_double_member (o, "detector_ms"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "landmarks_ms"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "encoder_ms"), >, 0.0);
}

static void
test_bench_kws (void)
{
  g_autofree char *wav = g_test_build_filename (G_TEST_DIST, "data", "kws-unlock.wav", NULL);
  const char *args[] = { "bench", "kws", "--json", "-n", "3", "--naive-runs", "1", "--passes", "1",
                         "--wav", wav, NULL };
  /* --naive-runs not given: 10, or all the runs when fewer */
  const char *few_runs[] = { "bench", "kws", "--json", "-n", "3", "--passes", "1", "--wav", wav, NULL };
  const char *missing_model[] = { "bench", "kws", "--wav", wav, "--verifier", "/nonexistent/v.tlnn", NULL };
  const char *bad_wav[] = { "bench", "kws", "--wav", "/nonexistent/speech.wav", NULL };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonParser) few_parser = json_parser_new ();
  JsonObject *o = run_json (args, parser);
  JsonObject *few = run_json (few_runs, few_parser);
  JsonArray *members = json_object_get_array_member (o, "members");
  g_autofree char *out1 = NULL, *err1 = NULL, *out2 = NULL, *err2 = NULL;
  double sum = 0;

  g_assert_cmpint (json_object_get_int_member (o, "runs"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "naive_runs"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (few, "runs"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (few, "naive_runs"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (few, "features_naive_ms"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "audio_s"), >, 0.5);
  g_assert_cmpfloat (json_object_get_double_member (o, "search_rtf_wall"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "search_rtf_cpu"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "pipeline_rtf_wall"), >, 0.0);
  /* the clip says "unlock": the window is a real candidate's */
  g_assert_cmpint (json_object_get_int_member (o, "judged"), >=, 1);
  g_assert_true (json_object_get_boolean_member (o, "window_from_candidate"));
  g_assert_cmpfloat (json_object_get_double_member (o, "features_ms"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "features_naive_ms"), >, 0.0);
  /* the checks beside the times: fast and naive agree */
  g_test_message ("features: max |fast - naive| %g",
                  json_object_get_double_member (o, "features_max_abs_diff"));
  g_assert_cmpfloat (json_object_get_double_member (o, "features_max_abs_diff"), <, 1e-2);
  g_assert_cmpuint (json_array_get_length (members), >=, 1);
  for (guint m = 0; m < json_array_get_length (members); m++)
    {
      JsonObject *n = json_array_get_object_element (members, m);
      double macs = json_object_get_double_member (n, "multiply_adds");
      double ms = json_object_get_double_member (n, "forward_ms");

      g_test_message ("network %u: max |fast - naive| of the logits %g", m + 1,
                      json_object_get_double_member (n, "max_abs_diff"));
      g_assert_cmpfloat (json_object_get_double_member (n, "max_abs_diff"), <, 1e-3);
      g_assert_cmpfloat (macs, >, 1e6);
      g_assert_cmpfloat (ms, >, 0.0);
      g_assert_cmpfloat (json_object_get_double_member (n, "naive_ms"), >, 0.0);
      /* GFLOP/s is the multiply-adds over the median time */
      g_assert_cmpfloat (fabs (json_object_get_double_member (n, "gflops") - 2 * macs / (ms * 1e6)), <,
                         0.01 + 0.01 * json_object_get_double_member (n, "gflops"));
      sum += macs;
    }
  /* a candidate: three windows through every network */
  g_assert_cmpint (json_object_get_int_member (o, "candidate_windows"), ==, 3);
  g_assert_cmpfloat (fabs (json_object_get_double_member (o, "candidate_multiply_adds") -
                           json_object_get_int_member (o, "candidate_windows") * sum), <, 1.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "candidate_ms"), >, 0.0);

  /* bad input: a message that names it, nothing on stdout */
  g_assert_false (run_ctl (missing_model, &out1, &err1));
  g_assert_cmpstr (out1, ==, "");
  g_assert_nonnull (strstr (err1, "/nonexistent/v.tlnn"));
  g_assert_false (run_ctl (bad_wav, &out2, &err2));
  g_assert_cmpstr (out2, ==, "");
  g_assert_nonnull (strstr (err2, "/nonexistent/speech.wav"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/ctl/bench/nn", test_bench_nn);
  g_test_add_func ("/twinlock/ctl/bench/faces", test_bench_faces);
  g_test_add_func ("/twinlock/ctl/bench/kws", test_bench_kws);
  return g_test_run ();
}
