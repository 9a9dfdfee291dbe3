/* test-faces-units.c — images, alignment, face layers, weight files and
 * the face-api import, each on small inputs made here or committed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tl-face-align.h"
#include "tl-face-detector.h"
#include "tl-faceapi-import.h"
#include "tl-image-io.h"
#include "tl-image-ops.h"

static char *
fixture (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "faces", file, NULL);
}

static TlImage *
load_bytes (const void *data,
            gsize       len,
            GError    **error)
{
  g_autoptr (GBytes) b = g_bytes_new (data, len);
  return tl_image_load_bytes (b, "test", error);
}

/* ---- images ---------------------------------------------------------------- */

static void
test_image_formats (void)
{
  g_autofree char *pgm = fixture ("orl-s1-1.pgm");
  g_autofree char *png = fixture ("lfw-Abel_Pacheco_0001.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (TlImage) grey = tl_image_load (pgm, &error);
  g_autoptr (TlImage) rgb = NULL;
  g_autoptr (TlImage) ascii = NULL;
  static const char p2[] = "P2\n# comment\n3 2\n255\n0 128 255\n10 20 30\n";

  g_assert_no_error (error);
  g_assert_cmpint (grey->width, ==, 92);
  g_assert_cmpint (grey->height, ==, 112);
  g_assert_cmpint (grey->channels, ==, 1);
  rgb = tl_image_load (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rgb->width, ==, 250);
  g_assert_cmpint (rgb->channels, ==, 3);

  ascii = load_bytes (p2, strlen (p2), &error);
  g_assert_no_error (error);
  g_assert_cmpint (ascii->width, ==, 3);
  g_assert_cmpint (ascii->data[1], ==, 128);
  g_assert_cmpint (ascii->data[ascii->stride + 2], ==, 30);
}

static void
expect_image_error (const void *data,
                    gsize       len,
                    int         code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlImage) image = load_bytes (data, len, &error);

  g_assert_null (image);
  g_assert_error (error, TL_IMAGE_ERROR, code);
  g_test_message ("refused as expected: %s", error->message);
}

static void
test_image_hostile (void)
{
  g_autofree char *png = fixture ("lfw-Abel_Pacheco_0001.png");
  g_autofree char *pgm = fixture ("orl-s1-1.pgm");
  g_autofree char *contents = NULL, *pgm_contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len, pgm_len;
  guint8 noise[4096];
  static const char huge[] = "P5\n100000 100000\n255\n";
  static const char bad_header[] = "P5\n-3 x\n255\n";
  static const char ascii_range[] = "P2\n2 1\n15\n3 99\n";

  g_assert_true (g_file_get_contents (png, &contents, &len, NULL));
  g_assert_true (g_file_get_contents (pgm, &pgm_contents, &pgm_len, NULL));
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) (i * 2654435761u >> 13);

  expect_image_error (contents, len / 2, TL_IMAGE_ERROR_FORMAT);       /* truncated PNG */
  expect_image_error (pgm_contents, pgm_len - 100, TL_IMAGE_ERROR_FORMAT); /* truncated PGM */
  expect_image_error (noise, sizeof noise, TL_IMAGE_ERROR_FORMAT);
  expect_image_error ("P5", 2, TL_IMAGE_ERROR_FORMAT);
  expect_image_error (huge, strlen (huge), TL_IMAGE_ERROR_TOO_LARGE);
  expect_image_error (bad_header, strlen (bad_header), TL_IMAGE_ERROR_FORMAT);
  expect_image_error (ascii_range, strlen (ascii_range), TL_IMAGE_ERROR_FORMAT);

  g_assert_null (tl_image_load ("/nonexistent/face.jpg", &error));
  g_assert_error (error, TL_IMAGE_ERROR, TL_IMAGE_ERROR_IO);
}

static void
test_image_ops (void)
{
  g_autoptr (TlImage) grey = tl_image_new (40, 30, 1);
  g_autoptr (TlImage) rgb = NULL, back = NULL, small = NULL;
  g_autofree float *in = g_new (float, 16 * 16 * 3);

  for (int y = 0; y < 30; y++)
    for (int x = 0; x < 40; x++)
      grey->data[y * grey->stride + x] = (guint8) (x * 5 + y);
  rgb = tl_image_to_rgb (grey);
  back = tl_image_to_grey (rgb);
  g_assert_cmpint (rgb->channels, ==, 3);
  for (int y = 0; y < 30; y++)
    for (int x = 0; x < 40; x++)
      {
        g_assert_cmpint (rgb->data[y * rgb->stride + 3 * x + 1], ==, grey->data[y * grey->stride + x]);
        g_assert_cmpint (back->data[y * back->stride + x], ==, grey->data[y * grey->stride + x]);
      }

  /* A linear ramp stays a ramp when halved: pixel (10, 5) samples the
   * source at (20.5, 10.5), where the ramp 5x + y is 113. */
  small = tl_image_resize (grey, 20, 15);
  g_assert_cmpint (abs (small->data[5 * small->stride + 10] - 113), <=, 1);

  /* Input tensor: a 10×4 region padded (centred) to 10×10, sampled at 16. */
  tl_image_to_input (grey, 5, 5, 10, 4, TRUE, 16, in);
  /* Rows above the region's three padding rows are zero … */
  g_assert_cmpfloat (in[(0 * 16 + 8) * 3], ==, 0.0f);
  /* … and the top-left of the region is the image's pixel (5, 5). */
  {
    int row = (int) ceil (3 * 16 / 10.0);  /* first output row inside the region */
    double src = row * 10.0 / 16 - 3;
    double expect = 5 * 5 + 5 + src;  /* the ramp is linear in y */
    g_assert_cmpfloat (fabs (in[(row * 16 + 0) * 3] - expect), <, 1e-4);
  }
}

/* ---- alignment ------------------------------------------------------------- */

static void
test_align_recovers_similarity (void)
{
  /* Fitting is equivariant: if the landmarks are moved by a similarity S,
   * the fitted chip→image map becomes S ∘ (the old map). */
  const double a = 0.8 * cos (0.3), b = 0.8 * sin (0.3), tx = 40, ty = 25;
  double m0[6], m[6];
  TlFaceLandmarks base = { 0 }, moved = { 0 };
  g_autoptr (TlImage) grey = tl_image_new (200, 200, 1);
  g_autoptr (TlImage) chip = NULL;

  for (int i = 0; i < TL_FACE_N_LANDMARKS; i++)
    {
      double u = 20 + (i * 37 % 110), v = 20 + (i * 53 % 110);
      base.x[i] = (float) u;
      base.y[i] = (float) v;
      moved.x[i] = (float) (a * u - b * v + tx);
      moved.y[i] = (float) (b * u + a * v + ty);
    }
  tl_face_align_transform (&base, 150, 0.25, m0);
  tl_face_align_transform (&moved, 150, 0.25, m);
  g_assert_cmpfloat (fabs (m[0] - (a * m0[0] - b * m0[3])), <, 1e-5);
  g_assert_cmpfloat (fabs (m[1] - (a * m0[1] - b * m0[4])), <, 1e-5);
  g_assert_cmpfloat (fabs (m[2] - (a * m0[2] - b * m0[5] + tx)), <, 1e-4);
  g_assert_cmpfloat (fabs (m[3] - (b * m0[0] + a * m0[3])), <, 1e-5);
  g_assert_cmpfloat (fabs (m[5] - (b * m0[2] + a * m0[5] + ty)), <, 1e-4);
  /* And it is a similarity: [p −q; q p]. */
  g_assert_cmpfloat (fabs (m[0] - m[4]), <, 1e-9);
  g_assert_cmpfloat (fabs (m[1] + m[3]), <, 1e-9);

  /* Grey images give grey chips, and a constant image a constant chip. */
  memset (grey->data, 90, (gsize) grey->stride * grey->height);
  for (int i = 0; i < TL_FACE_N_LANDMARKS; i++)
    {
      moved.x[i] = 100 + (moved.x[i] - 100) * 0.3f;
      moved.y[i] = 100 + (moved.y[i] - 100) * 0.3f;
    }
  chip = tl_face_align (grey, &moved, 150, 0.25);
  g_assert_cmpint (chip->channels, ==, 1);
  g_assert_cmpint (chip->data[75 * chip->stride + 75], ==, 90);
}

/* ---- model files ----------------------------------------------------------- */

static void
test_model_files (void)
{
  g_autofree char *models = g_build_filename (g_getenv ("TL_SOURCE_ROOT"), "models", NULL);
  g_autofree char *det = g_build_filename (models, "face-detector.tlnn", NULL);
  g_autofree char *enc = g_build_filename (models, "face-encoder.tlnn", NULL);
  g_autofree char *dir = g_dir_make_tmp ("tl-model-XXXXXX", NULL);
  g_autofree char *copy = g_build_filename (dir, "face-detector.tlnn", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFaceDetector) d = NULL;
  gsize len;

  /* The encoder's file is no detector. */
  d = tl_face_detector_new (enc, &error);
  g_assert_null (d);
  g_assert_nonnull (error);
  g_test_message ("refused as expected: %s", error->message);
  g_clear_error (&error);

  /* One flipped byte, and a truncated file. */
  g_assert_true (g_file_get_contents (det, &contents, &len, NULL));
  contents[len / 2] ^= 0x40;
  g_assert_true (g_file_set_contents (copy, contents, len, NULL));
  g_assert_null (tl_face_detector_new (copy, &error));
  g_assert_nonnull (error);
  g_test_message ("refused as expected: %s", error->message);
  g_clear_error (&error);
  contents[len / 2] ^= 0x40;
  g_assert_true (g_file_set_contents (copy, contents, len / 3, NULL));
  g_assert_null (tl_face_detector_new (copy, &error));
  g_assert_nonnull (error);
  g_test_message ("refused as expected: %s", error->message);
  g_clear_error (&error);

  /* The intact copy loads, at every supported input size. */
  g_assert_true (g_file_set_contents (copy, contents, len, NULL));
  d = tl_face_detector_new (copy, &error);
  g_assert_no_error (error);
  g_assert_true (tl_face_detector_set_input_size (d, 160));
  g_assert_true (tl_face_detector_set_input_size (d, 608));
  g_assert_false (tl_face_detector_set_input_size (d, 300));
  g_assert_cmpint (tl_face_detector_get_input_size (d), ==, 608);

  /* Sizes chosen from the image: never far beyond it, within the range. */
  g_assert_cmpint (tl_face_detector_size_for (250, 250), ==, 256);
  g_assert_cmpint (tl_face_detector_size_for (92, 112), ==, 160);
  g_assert_cmpint (tl_face_detector_size_for (1920, 1080), ==, 608);
  g_assert_cmpint (tl_face_detector_size_for (320, 240), ==, 320);

  g_unlink (copy);
  g_rmdir (dir);
}

/* ---- face-api import -------------------------------------------------------- */

static TlFaceWeights *
import_with (const char  *manifest,
             const guint8 *shard,
             gsize         shard_len,
             GError      **error)
{
  g_autofree char *dir = g_dir_make_tmp ("tl-import-XXXXXX", NULL);
  g_autofree char *mpath = g_build_filename (dir, "m-weights_manifest.json", NULL);
  g_autofree char *spath = g_build_filename (dir, "m.bin", NULL);
  TlFaceWeights *w;

  g_assert_true (g_file_set_contents (mpath, manifest, -1, NULL));
  if (shard)
    g_assert_true (g_file_set_contents (spath, (const char *) shard, shard_len, NULL));
  w = tl_faceapi_import_manifest (mpath, "test", error);
  g_unlink (mpath);
  g_unlink (spath);
  g_rmdir (dir);
  return w;
}

static void
expect_import_error (const char   *manifest,
                     const guint8 *shard,
                     gsize         len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFaceWeights) w = import_with (manifest, shard, len, &error);

  g_assert_null (w);
  g_assert_nonnull (error);
  g_test_message ("refused as expected: %s", error->message);
}

static void
test_import (void)
{
  static const char good[] =
    "[{\"paths\": [\"m.bin\"], \"weights\": ["
    "{\"name\": \"a\", \"shape\": [2, 2], \"dtype\": \"float32\","
    " \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1.0}},"
    "{\"name\": \"b\", \"shape\": [2], \"dtype\": \"float32\"}]}]";
  guint8 shard[4 + 8];
  float b[2] = { 3.25f, -0.125f };
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFaceWeights) w = NULL;
  const TlFaceTensor *t;

  shard[0] = 0; shard[1] = 1; shard[2] = 2; shard[3] = 255;
  memcpy (shard + 4, b, 8);
  w = import_with (good, shard, sizeof shard, &error);
  g_assert_no_error (error);
  t = tl_face_weights_get (w, "a", 2, (int[]) { 2, 2 }, &error);
  g_assert_nonnull (t);
  g_assert_cmpfloat (t->data[0], ==, -1.0f);
  g_assert_cmpfloat (t->data[1], ==, -0.5f);
  g_assert_cmpfloat (t->data[3], ==, 126.5f);
  t = tl_face_weights_get (w, "b", 1, (int[]) { 2 }, &error);
  g_assert_cmpfloat (t->data[0], ==, 3.25f);
  g_assert_cmpfloat (t->data[1], ==, -0.125f);

  expect_import_error (good, shard, sizeof shard - 1);                 /* short shard */
  expect_import_error (good, NULL, 0);                                 /* missing shard */
  expect_import_error ("[{\"paths\": [\"m.bin\"], \"weights\": [", shard, sizeof shard);
  expect_import_error ("{}", shard, sizeof shard);
  expect_import_error ("[]", shard, sizeof shard);
  expect_import_error ("[{\"paths\": [\"../m.bin\"], \"weights\": []}]", shard, sizeof shard);
  expect_import_error ("[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [-2], \"dtype\": \"float32\"}]}]",
                       shard, sizeof shard);
  expect_import_error ("[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [3], \"dtype\": \"int32\"}]}]",
                       shard, sizeof shard);
  expect_import_error ("[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [4], \"dtype\": \"float32\","
                       " \"quantization\": {\"dtype\": \"float16\"}}]}]", shard, sizeof shard);
  expect_import_error ("[{\"paths\": [\"m.bin\"], \"weights\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}]}]",
                       shard, sizeof shard);                            /* shard longer than described */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/twinlock/vision/image/formats", test_image_formats);
  g_test_add_func ("/twinlock/vision/image/hostile", test_image_hostile);
  g_test_add_func ("/twinlock/vision/image/ops", test_image_ops);
  g_test_add_func ("/twinlock/vision/align/similarity", test_align_recovers_similarity);
  g_test_add_func ("/twinlock/vision/models/files", test_model_files);
  g_test_add_func ("/twinlock/vision/import/faceapi", test_import);
  return g_test_run ();
}
