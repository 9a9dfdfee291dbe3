/* test-faces-cli.c — twinlockctl verify, eval lfw / folders and import
 * faceapi on the committed fixtures, as a person runs them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static char *
fixture (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "faces", file, NULL);
}

/* Runs twinlockctl with argv; returns its exit status, stdout and stderr. */
static int
run (char **out,
     char **err,
     ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *arg;
  va_list ap;
  int status;

  g_ptr_array_add (argv, (char *) g_getenv ("TWINLOCKCTL"));
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("exit %d: %s%s", status, *out, *err);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_verify (void)
{
  g_autofree char *a = fixture ("lfw-Abel_Pacheco_0001.png");
  g_autofree char *b = fixture ("lfw-Abel_Pacheco_0004.png");
  g_autofree char *c = fixture ("lfw-Benedita_da_Silva_0001.png");
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;

  g_assert_cmpint (run (&out, &err, "verify", a, b, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "same person"));
  g_assert_cmpint (run (&out2, &err2, "verify", "--json", a, c, NULL), ==, 3);
  g_assert_nonnull (strstr (out2, "\"same_person\": false"));
  g_assert_cmpint (run (&out3, &err3, "verify", a, "/nonexistent.png", NULL), ==, 1);
  g_assert_nonnull (strstr (err3, "twinlockctl:"));
}

static void
copy_as (const char *file,
         const char *dir,
         const char *person,
         const char *name)
{
  g_autofree char *src = fixture (file);
  g_autofree char *pdir = g_build_filename (dir, person, NULL);
  g_autofree char *dst = g_build_filename (pdir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_cmpint (g_mkdir_with_parents (pdir, 0755), ==, 0);
  g_assert_true (g_file_get_contents (src, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (dst, contents, len, NULL));
}

/* A miniature LFW: NAME/NAME_000N.jpg (gdk-pixbuf reads the PNG inside
 * whatever the name says). */
static char *
make_set (void)
{
  char *dir = g_dir_make_tmp ("tl-faces-set-XXXXXX", NULL);

  copy_as ("lfw-Abel_Pacheco_0001.png", dir, "Abel", "Abel_0001.jpg");
  copy_as ("lfw-Abel_Pacheco_0004.png", dir, "Abel", "Abel_0002.jpg");
  copy_as ("lfw-Benedita_da_Silva_0001.png", dir, "Bene", "Bene_0001.jpg");
  copy_as ("lfw-Ben_Kingsley_0001.png", dir, "Ben", "Ben_0001.jpg");
  copy_as ("orl-s1-1.pgm", dir, "S1", "S1_0001.jpg");
  copy_as ("orl-s1-2.pgm", dir, "S1", "S1_0002.jpg");
  return dir;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;

  while (d && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (dir);
}

static JsonObject *
parse_json (JsonParser *parser,
            const char *text)
{
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_eval (void)
{
  g_autofree char *dir = make_set ();
  g_autofree char *pairs = g_build_filename (dir, "pairs.txt", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.txt", NULL);
  g_autofree char *roc = g_build_filename (dir, "roc.png", NULL);
  g_autofree char *csv = g_build_filename (dir, "roc.csv", NULL);
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonParser) parser2 = json_parser_new ();
  static const char *keys[] = { "accuracy", "accuracy_std", "eer", "tar_at_far_1e-3",
                                "faces_not_found", "pairs" };
  JsonObject *o;

  /* Two folds of one same-person and one different-people pair each. */
  g_assert_true (g_file_set_contents (pairs,
    "2\t1\nAbel\t1\t2\nAbel\t1\tBene\t1\nS1\t1\t2\nBen\t1\tS1\t1\n", -1, NULL));
  g_assert_cmpint (run (&out, &err, "eval", "lfw", "--images", dir, "--pairs", pairs,
                        "--json", "--roc", roc, NULL), ==, 0);
  o = parse_json (parser, out);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_assert_true (json_object_has_member (o, keys[i]));
  g_assert_cmpint (json_object_get_int_member (o, "pairs"), ==, 4);
  g_assert_cmpfloat (json_object_get_double_member (o, "accuracy"), >=, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "accuracy"), <=, 1.0);
  g_assert_true (g_file_test (roc, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (csv, G_FILE_TEST_IS_REGULAR));
  g_unlink (pairs);
  g_unlink (roc);
  g_unlink (csv);

  /* A broken pairs file names its line. */
  g_assert_true (g_file_set_contents (bad, "2\t1\nAbel\t1\n", -1, NULL));
  g_assert_cmpint (run (&out2, &err2, "eval", "lfw", "--images", dir, "--pairs", bad, NULL), ==, 1);
  g_assert_nonnull (strstr (err2, ":2:"));
  g_unlink (bad);

  /* Folder per person: all 2 genuine pairs, as many impostors, fixed seed. */
  g_assert_cmpint (run (&out3, &err3, "eval", "folders", dir, "--json", NULL), ==, 0);
  o = parse_json (parser2, out3);
  g_assert_cmpint (json_object_get_int_member (o, "genuine_pairs"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "impostor_pairs"), ==, 2);
  remove_tree (dir);
}

static void
test_import_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-import-XXXXXX", NULL);
  g_autofree char *out = NULL, *err = NULL;

  /* An empty folder: no manifest. */
  g_assert_cmpint (run (&out, &err, "import", "faceapi", dir, "--output", dir, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "tiny_face_detector_model-weights_manifest.json"));
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/ctl/faces/verify", test_verify);
  g_test_add_func ("/twinlock/ctl/faces/eval", test_eval);
  g_test_add_func ("/twinlock/ctl/faces/import-errors", test_import_errors);
  return g_test_run ();
}
