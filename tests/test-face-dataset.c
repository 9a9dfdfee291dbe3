/* test-face-dataset.c — reading folder-per-person datasets and montages,
 * splitting them, bad datasets refused; `twinlockctl train` end to end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tl-face-dataset.h"
#include "tl-model.h"

#define TILE_W 23
#define TILE_H 28

typedef struct
{
  char          *dir;
  TlFaceDataset *orl;
} Fixture;

static void
write_pgm (const char  *path,
           const float *grey,
           int          w,
           int          h)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  int i;

  g_string_printf (out, "P5\n%d %d\n255\n", w, h);
  for (i = 0; i < w * h; i++)
    g_string_append_c (out, (char) (guint8) (grey[i] * 255.0f + 0.5f));
  g_file_set_contents (path, out->str, out->len, &error);
  g_assert_no_error (error);
}

/* people/NAME/NN.pgm for the first n_people × n_images of the fixture. */
static void
write_folders (Fixture *f,
               int      n_people,
               int      n_images)
{
  int p, i;

  for (p = 0; p < n_people; p++)
    {
      g_autofree char *name = g_strdup_printf ("person-%02d", p);
      g_autofree char *pdir = g_build_filename (f->dir, name, NULL);

      g_assert_cmpint (g_mkdir (pdir, 0700), ==, 0);
      for (i = 0; i < n_images; i++)
        {
          g_autofree char *file = g_strdup_printf ("%02d.pgm", i);
          g_autofree char *path = g_build_filename (pdir, file, NULL);

          write_pgm (path, f->orl->pixels + (gsize) (p * 10 + i) * TILE_W * TILE_H,
                     TILE_W, TILE_H);
        }
    }
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_remove (path);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "orl-small",
                                                 "orl-small.pgm", NULL);

  f->orl = tl_face_dataset_load_montage (path, TILE_W, TILE_H, &error);
  g_assert_no_error (error);
  f->dir = g_dir_make_tmp ("tl-dataset-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  tl_face_dataset_free (f->orl);
}

static void
test_montage (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "orl-small",
                                                 "orl-small.pgm", NULL);
  TlFaceDataset *bad;
  int first = -1;

  g_assert_cmpint (f->orl->n_people, ==, 20);
  g_assert_cmpint (f->orl->n_images, ==, 200);
  g_assert_cmpstr (f->orl->names[19], ==, "20");
  g_assert_null (f->orl->names[20]);
  g_assert_cmpint (tl_face_dataset_count (f->orl, 3, &first), ==, 10);
  g_assert_cmpint (first, ==, 30);
  g_assert_cmpint (f->orl->labels[35], ==, 3);
  /* Pixels are grey values in [0, 1], and faces are not blank. */
  g_assert_cmpfloat (f->orl->pixels[0], >=, 0.0f);
  g_assert_cmpfloat (f->orl->pixels[0], <=, 1.0f);
  g_assert_cmpfloat (f->orl->pixels[TILE_W * TILE_H / 2], !=, f->orl->pixels[0]);

  bad = tl_face_dataset_load_montage (path, 24, 28, &error);
  g_assert_null (bad);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  bad = tl_face_dataset_load_montage (path, 0, 28, &error);
  g_assert_null (bad);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_split (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr (TlFaceDataset) people = tl_face_dataset_people (f->orl, 15, 5);
  g_autoptr (TlFaceDataset) images = tl_face_dataset_images (f->orl, 7, 100);
  TlFaceDataset *head = NULL, *tail = NULL;
  gsize tile = TILE_W * TILE_H;

  g_assert_cmpint (people->n_people, ==, 5);
  g_assert_cmpint (people->n_images, ==, 50);
  g_assert_cmpstr (people->names[0], ==, "16");
  g_assert_cmpint (people->labels[49], ==, 4);
  g_assert_cmpmem (people->pixels, tile * sizeof (float),
                   f->orl->pixels + 150 * tile, tile * sizeof (float));

  /* Images 7, 8, 9 of each person (the ones that exist). */
  g_assert_cmpint (images->n_images, ==, 60);
  g_assert_cmpint (images->labels[3], ==, 1);
  g_assert_cmpmem (images->pixels + 3 * tile, tile * sizeof (float),
                   f->orl->pixels + 17 * tile, tile * sizeof (float));

  tl_face_dataset_split_images (f->orl, 4, &head, &tail);
  g_assert_cmpint (head->n_images, ==, 120);
  g_assert_cmpint (tail->n_images, ==, 80);
  g_assert_cmpint (head->n_people, ==, 20);
  g_assert_cmpmem (tail->pixels, tile * sizeof (float),
                   f->orl->pixels + 6 * tile, tile * sizeof (float));
  tl_face_dataset_free (head);
  tl_face_dataset_free (tail);
}

static void
test_folders (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFaceDataset) ds = NULL;
  g_autoptr (TlFaceDataset) cropped = NULL;
  g_autofree char *notes = g_build_filename (f->dir, "person-00", "notes.txt", NULL);
  g_autofree char *lonely = g_build_filename (f->dir, "person-99", NULL);
  g_autofree char *one = g_build_filename (lonely, "01.pgm", NULL);
  gsize tile = TILE_W * TILE_H;
  double max_diff = 0.0;
  gsize i;

  write_folders (f, 4, 3);
  /* Not an image: ignored.  A person with one image: left out (min 2). */
  g_assert_true (g_file_set_contents (notes, "not a face", -1, NULL));
  g_assert_cmpint (g_mkdir (lonely, 0700), ==, 0);
  write_pgm (one, f->orl->pixels, TILE_W, TILE_H);

  ds = tl_face_dataset_load_folders (f->dir, TILE_W, TILE_H, 1.0, 2, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds->n_people, ==, 4);
  g_assert_cmpint (ds->n_images, ==, 12);
  g_assert_cmpstr (ds->names[2], ==, "person-02");
  g_assert_cmpint (ds->labels[11], ==, 3);
  /* Same size in and out: the pixels come back within 8-bit rounding. */
  for (i = 0; i < tile; i++)
    max_diff = MAX (max_diff, fabs (ds->pixels[tile * 4 + i] - f->orl->pixels[tile * 11 + i]));
  g_test_message ("max pixel difference after a PGM round trip: %g", max_diff);
  g_assert_cmpfloat (max_diff, <=, 0.5 / 255 + 1e-6);

  cropped = tl_face_dataset_load_folders (f->dir, 8, 8, 0.5, 1, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cropped->n_people, ==, 5);
  g_assert_cmpint (cropped->n_images, ==, 9);
  g_assert_cmpint (cropped->width, ==, 8);
}

static void
test_bad_folders (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "nothing-here", NULL);
  g_autofree char *broken = g_build_filename (f->dir, "person-01", "99.png", NULL);
  TlFaceDataset *ds;

  ds = tl_face_dataset_load_folders (missing, 32, 32, 1.0, 2, 0, &error);
  g_assert_null (ds);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* An empty folder: no people. */
  ds = tl_face_dataset_load_folders (f->dir, 32, 32, 1.0, 2, 0, &error);
  g_assert_null (ds);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  ds = tl_face_dataset_load_folders (f->dir, 32, 32, 1.5, 2, 0, &error);
  g_assert_null (ds);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ds = tl_face_dataset_load_folders (f->dir, 5000, 32, 1.0, 2, 0, &error);
  g_assert_null (ds);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A file that claims to be an image but is not: named in the error. */
  write_folders (f, 3, 2);
  g_assert_true (g_file_set_contents (broken, "\x89PNG\r\n\x1a\n garbage", -1, NULL));
  ds = tl_face_dataset_load_folders (f->dir, 32, 32, 1.0, 2, 0, &error);
  g_assert_null (ds);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "99.png"));
  g_test_message ("%s", error->message);
}

static char *
run_ctl (const char *const *args,
         int                *status,
         char              **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("TWINLOCKCTL"));
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &out, err, status, &error);
  g_assert_no_error (error);
  return out;
}

static void
test_ctl_train (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *data_dir = g_build_filename (f->dir, "faces", NULL);
  g_autofree char *model = g_build_filename (f->dir, "encoder.tlnn", NULL);
  g_autofree char *roc = g_build_filename (f->dir, "roc.png", NULL);
  g_autofree char *roc_csv = g_build_filename (f->dir, "roc.csv", NULL);
  g_autofree char *curve = g_build_filename (f->dir, "curve.png", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TlNet) net = NULL;
  const TlNetNode *node;
  int status = 0;
  char *saved_dir = f->dir;

  g_assert_cmpint (g_mkdir (data_dir, 0700), ==, 0);
  f->dir = data_dir;
  write_folders (f, 8, 6);
  f->dir = saved_dir;

  {
    const char *args[] = { "train", data_dir, "--loss", "hinge", "--steps", "12",
                           "--dim", "16", "--held-out-images", "3", "--held-out-people", "2",
                           "--roc", roc, "--curve", curve, "-o", model, NULL };
    out = run_ctl (args, &status, &err);
  }
  g_test_message ("%s%s", out, err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "step 12/12"));
  g_assert_nonnull (strstr (out, "held-out images (6 people, 18 images)"));
  g_assert_nonnull (strstr (out, "held-out people (2 people, 12 images)"));
  g_assert_true (g_file_test (roc, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (roc_csv, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (curve, G_FILE_TEST_EXISTS));

  /* The saved model is the encoder: grey 23×28 in, 16 unit-length out. */
  net = tl_model_load (model, &error);
  g_assert_no_error (error);
  node = tl_net_node (net, 0);
  g_assert_cmpint (node->w, ==, TILE_W);
  g_assert_cmpint (node->h, ==, TILE_H);
  g_assert_cmpint (node->c, ==, 1);
  node = tl_net_node (net, tl_net_output (net));
  g_assert_cmpint (node->c, ==, 16);
  g_assert_cmpint (node->op, ==, TL_OP_L2NORM);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  {
    const char *args[] = { "train", data_dir, "--loss", "quadruplet", NULL };
    out = run_ctl (args, &status, &err);
  }
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "quadruplet"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  {
    const char *args[] = { "train", model, NULL };
    out = run_ctl (args, &status, &err);
  }
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "encoder.tlnn"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/twinlock/vision/face-dataset/montage", Fixture, NULL,
              fixture_set_up, test_montage, fixture_tear_down);
  g_test_add ("/twinlock/vision/face-dataset/split", Fixture, NULL,
              fixture_set_up, test_split, fixture_tear_down);
  g_test_add ("/twinlock/vision/face-dataset/folders", Fixture, NULL,
              fixture_set_up, test_folders, fixture_tear_down);
  g_test_add ("/twinlock/vision/face-dataset/bad-folders", Fixture, NULL,
              fixture_set_up, test_bad_folders, fixture_tear_down);
  g_test_add ("/twinlock/ctl/train", Fixture, NULL,
              fixture_set_up, test_ctl_train, fixture_tear_down);
  return g_test_run ();
}
