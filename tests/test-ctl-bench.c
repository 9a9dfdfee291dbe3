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

static JsonObject *
run_json (const char * const *args,
          JsonParser         *parser)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) g_getenv ("TWINLOCKCTL"));
  for (; *args; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
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

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/ctl/bench/nn", test_bench_nn);
  g_test_add_func ("/twinlock/ctl/bench/faces", test_bench_faces);
  return g_test_run ();
}
