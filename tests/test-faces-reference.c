/* test-faces-reference.c — the ported networks against face-api's own
 * outputs (tests/data/faces/faceapi-reference.json, written by
 * tests/reference/run-reference.sh) on the same inputs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "tl-face-pipeline.h"
#include "tl-image-io.h"
#include "tl-image-ops.h"

/* Tolerances the ported networks must meet. */
#define MIN_IOU            0.95
#define MAX_LANDMARK_PX    1.0
#define MAX_DESCRIPTOR_L2  0.01

static JsonObject *reference;
static TlFacePipeline *pipeline;

static char *
data_path (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "faces", file, NULL);
}

static TlImage *
load_fixture (const char *file)
{
  g_autofree char *path = data_path (file);
  g_autoptr (GError) error = NULL;
  TlImage *image = tl_image_load (path, &error);

  g_assert_no_error (error);
  return image;
}

static JsonArray *
images (void)
{
  return json_object_get_array_member (reference, "images");
}

static void
box_from_json (JsonObject *o,
               TlFaceBox  *b)
{
  b->x = json_object_get_double_member (o, "x");
  b->y = json_object_get_double_member (o, "y");
  b->width = json_object_get_double_member (o, "width");
  b->height = json_object_get_double_member (o, "height");
  b->score = json_object_has_member (o, "score") ? json_object_get_double_member (o, "score") : 0;
}

static void
test_detector (void)
{
  TlFaceDetector *det = tl_face_pipeline_get_detector (pipeline);
  double min_iou = 1, max_score = 0;
  guint n_boxes = 0;

  tl_face_detector_set_input_size (det, json_object_get_int_member (reference, "input_size"));
  tl_face_detector_set_score_threshold (det, json_object_get_double_member (reference, "score_threshold"));
  for (guint i = 0; i < json_array_get_length (images ()); i++)
    {
      JsonObject *e = json_array_get_object_element (images (), i);
      JsonArray *ref = json_object_get_array_member (e, "detections");
      g_autoptr (TlImage) image = load_fixture (json_object_get_string_member (e, "file"));
      g_autoptr (GArray) ours = tl_face_detector_detect (det, image);

      g_test_message ("%s: %u faces (reference %u)", json_object_get_string_member (e, "file"),
                      ours->len, json_array_get_length (ref));
      g_assert_cmpuint (ours->len, ==, json_array_get_length (ref));
      for (guint k = 0; k < ours->len; k++)
        {
          TlFaceBox r;
          const TlFaceBox *o = &g_array_index (ours, TlFaceBox, k);
          box_from_json (json_array_get_object_element (ref, k), &r);
          min_iou = MIN (min_iou, tl_face_box_iou (o, &r));
          max_score = MAX (max_score, fabs (o->score - r.score));
          n_boxes++;
        }
    }
  g_test_message ("detector: %u boxes, min IoU %.6f (need >= %.2f), max score difference %.2e",
                  n_boxes, min_iou, MIN_IOU, max_score);
  g_assert_cmpuint (n_boxes, >=, 4);
  g_assert_cmpfloat (min_iou, >=, MIN_IOU);
  tl_face_detector_set_input_size (det, TL_FACE_DETECTOR_DEFAULT_SIZE);
  tl_face_detector_set_score_threshold (det, TL_FACE_PIPELINE_SCORE_THRESHOLD);
}

static void
test_landmarks (void)
{
  TlFaceLandmarker *lm = tl_face_pipeline_get_landmarker (pipeline);
  double max_err = 0;
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (images ()); i++)
    {
      JsonObject *e = json_array_get_object_element (images (), i);
      JsonArray *dets = json_object_get_array_member (e, "detections");
      g_autoptr (TlImage) image = NULL;
      JsonObject *crop;
      JsonArray *pts;
      TlFaceLandmarks ours;
      TlFaceBox box, best = { 0 };

      if (!json_object_has_member (e, "landmarks"))
        continue;
      image = load_fixture (json_object_get_string_member (e, "file"));
      for (guint k = 0; k < json_array_get_length (dets); k++)
        {
          box_from_json (json_array_get_object_element (dets, k), &box);
          if (box.score > best.score)
            best = box;
        }
      crop = json_object_get_object_member (e, "crop");
      pts = json_object_get_array_member (e, "landmarks");
      g_assert_true (tl_face_landmarker_run (lm, image, &best, &ours));
      for (int p = 0; p < TL_FACE_N_LANDMARKS; p++)
        {
          JsonArray *pt = json_array_get_array_element (pts, p);
          double rx = json_object_get_int_member (crop, "x") + json_array_get_double_element (pt, 0);
          double ry = json_object_get_int_member (crop, "y") + json_array_get_double_element (pt, 1);
          max_err = MAX (max_err, hypot (ours.x[p] - rx, ours.y[p] - ry));
        }
      n++;
    }
  g_test_message ("landmarks: %u faces, max error %.4f px (need <= %.1f)", n, max_err, MAX_LANDMARK_PX);
  g_assert_cmpuint (n, >=, 4);
  g_assert_cmpfloat (max_err, <=, MAX_LANDMARK_PX);
}

static double
descriptor_distance (JsonArray   *ref,
                     const float *ours)
{
  double s = 0;

  g_assert_cmpuint (json_array_get_length (ref), ==, TL_FACE_EMBEDDING_DIM);
  for (int k = 0; k < TL_FACE_EMBEDDING_DIM; k++)
    {
      double d = ours[k] - json_array_get_double_element (ref, k);
      s += d * d;
    }
  return sqrt (s);
}

/* face-api's own path: its crop of the landmark-aligned box, padded and
 * resized to 150 — rebuilt here from the same box. */
static void
test_descriptor_crop (void)
{
  TlFaceEncoder *enc = tl_face_pipeline_get_encoder (pipeline);
  g_autofree float *input = g_new (float, 150 * 150 * 3);
  float ours[TL_FACE_EMBEDDING_DIM];
  double max_d = 0;
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (images ()); i++)
    {
      JsonObject *e = json_array_get_object_element (images (), i);
      g_autoptr (TlImage) image = NULL;
      JsonObject *b;

      if (!json_object_has_member (e, "descriptor"))
        continue;
      image = load_fixture (json_object_get_string_member (e, "file"));
      b = json_object_get_object_member (e, "aligned_box");
      tl_image_to_input (image, json_object_get_int_member (b, "x"), json_object_get_int_member (b, "y"),
                         json_object_get_int_member (b, "width"), json_object_get_int_member (b, "height"),
                         TRUE, TL_FACE_ENCODER_INPUT, input);
      tl_face_encoder_forward (enc, input, ours);
      max_d = MAX (max_d, descriptor_distance (json_object_get_array_member (e, "descriptor"), ours));
      n++;
    }
  g_test_message ("descriptors (face-api crop path): %u faces, max distance %.6f (need <= %.2f)",
                  n, max_d, MAX_DESCRIPTOR_L2);
  g_assert_cmpuint (n, >=, 4);
  g_assert_cmpfloat (max_d, <=, MAX_DESCRIPTOR_L2);
}

/* Twinlock's aligned chips, fed unchanged to both implementations. */
static void
test_descriptor_chip (void)
{
  TlFaceEncoder *enc = tl_face_pipeline_get_encoder (pipeline);
  JsonArray *chips = json_object_get_array_member (reference, "chips");
  float ours[TL_FACE_EMBEDDING_DIM];
  double max_d = 0;

  for (guint i = 0; i < json_array_get_length (chips); i++)
    {
      JsonObject *e = json_array_get_object_element (chips, i);
      g_autofree char *file = g_build_filename ("chips", json_object_get_string_member (e, "file"), NULL);
      g_autoptr (TlImage) chip = load_fixture (file);

      g_assert_cmpint (chip->width, ==, TL_FACE_CHIP_SIZE);
      tl_face_encoder_encode (enc, chip, ours);
      max_d = MAX (max_d, descriptor_distance (json_object_get_array_member (e, "descriptor"), ours));
    }
  g_test_message ("descriptors (aligned chips): %u chips, max distance %.6f (need <= %.2f)",
                  json_array_get_length (chips), max_d, MAX_DESCRIPTOR_L2);

  /* the same chips two at a time, in batches of two */
  for (guint i = 0; i < json_array_get_length (chips); i++)
    {
      guint k = (i + 1) % json_array_get_length (chips);
      JsonObject *e = json_array_get_object_element (chips, i);
      JsonObject *f = json_array_get_object_element (chips, k);
      g_autofree char *file_e = g_build_filename ("chips", json_object_get_string_member (e, "file"), NULL);
      g_autofree char *file_f = g_build_filename ("chips", json_object_get_string_member (f, "file"), NULL);
      g_autoptr (TlImage) a = load_fixture (file_e);
      g_autoptr (TlImage) b = load_fixture (file_f);
      float other[TL_FACE_EMBEDDING_DIM];

      tl_face_encoder_encode_pair (enc, a, b, ours, other);
      max_d = MAX (max_d, descriptor_distance (json_object_get_array_member (e, "descriptor"), ours));
      max_d = MAX (max_d, descriptor_distance (json_object_get_array_member (f, "descriptor"), other));
    }
  g_test_message ("descriptors (aligned chips, also in pairs): max distance %.6f (need <= %.2f)",
                  max_d, MAX_DESCRIPTOR_L2);
  g_assert_cmpuint (json_array_get_length (chips), >=, 4);
  g_assert_cmpfloat (max_d, <=, MAX_DESCRIPTOR_L2);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *ref = NULL;
  g_autofree char *models = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  ref = data_path ("faceapi-reference.json");
  json_parser_load_from_file (parser, ref, &error);
  g_assert_no_error (error);
  reference = json_node_get_object (json_parser_get_root (parser));
  models = g_build_filename (g_getenv ("TL_SOURCE_ROOT"), "models", NULL);
  pipeline = tl_face_pipeline_new (models, &error);
  g_assert_no_error (error);

  g_test_add_func ("/twinlock/vision/faceapi/detector", test_detector);
  g_test_add_func ("/twinlock/vision/faceapi/landmarks", test_landmarks);
  g_test_add_func ("/twinlock/vision/faceapi/descriptor-crop", test_descriptor_crop);
  g_test_add_func ("/twinlock/vision/faceapi/descriptor-chip", test_descriptor_chip);
  ret = g_test_run ();
  tl_face_pipeline_free (pipeline);
  return ret;
}
