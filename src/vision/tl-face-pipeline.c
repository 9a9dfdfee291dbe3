/* tl-face-pipeline.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tl-face-pipeline.h"

struct _TlFacePipeline
{
  TlFaceDetector   *detector;
  TlFaceLandmarker *landmarker;
  TlFaceEncoder    *encoder;
  TlFacePick        pick;
  gboolean          mirror_average;
};

const char *
tl_face_model_dir (void)
{
  const char *env = g_getenv ("TWINLOCK_MODELDIR");
  g_autofree char *probe = NULL;

  if (env != NULL && env[0] != '\0')
    return env;
  probe = g_build_filename (TL_MODELDIR, "face-encoder.tlnn", NULL);
  if (g_file_test (probe, G_FILE_TEST_IS_REGULAR))
    return TL_MODELDIR;
  return TL_SOURCE_MODELDIR;
}

void
tl_face_pipeline_free (TlFacePipeline *p)
{
  if (p == NULL)
    return;
  tl_face_detector_free (p->detector);
  tl_face_landmarker_free (p->landmarker);
  tl_face_encoder_free (p->encoder);
  g_free (p);
}

TlFacePipeline *
tl_face_pipeline_new (const char  *model_dir,
                      GError     **error)
{
  g_autoptr (TlFacePipeline) p = g_new0 (TlFacePipeline, 1);
  g_autofree char *det = NULL, *lm = NULL, *enc = NULL;

  if (model_dir == NULL)
    model_dir = tl_face_model_dir ();
  det = g_build_filename (model_dir, "face-detector.tlnn", NULL);
  lm = g_build_filename (model_dir, "face-landmarks68.tlnn", NULL);
  enc = g_build_filename (model_dir, "face-encoder.tlnn", NULL);

  if ((p->detector = tl_face_detector_new (det, error)) == NULL ||
      (p->landmarker = tl_face_landmarker_new (lm, error)) == NULL ||
      (p->encoder = tl_face_encoder_new (enc, error)) == NULL)
    return NULL;
  tl_face_detector_set_score_threshold (p->detector, TL_FACE_PIPELINE_SCORE_THRESHOLD);
  return g_steal_pointer (&p);
}

void
tl_face_pipeline_set_pick (TlFacePipeline *p,
                           TlFacePick      pick)
{
  p->pick = pick;
}

void
tl_face_pipeline_set_mirror_average (TlFacePipeline *p,
                                     gboolean        average)
{
  p->mirror_average = average;
}

static TlImage *
mirrored (const TlImage *image)
{
  TlImage *out = tl_image_new (image->width, image->height, image->channels);
  int ch = image->channels;

  for (int y = 0; y < image->height; y++)
    {
      const guint8 *src = image->data + (gsize) y * image->stride;
      guint8 *dst = out->data + (gsize) y * out->stride;
      for (int x = 0; x < image->width; x++)
        memcpy (dst + (gsize) x * ch, src + (gsize) (image->width - 1 - x) * ch, ch);
    }
  return out;
}

static guint
pick_face (TlFacePipeline *p,
           const TlImage  *image,
           GArray         *faces)
{
  guint best = 0;
  double best_value = -G_MAXDOUBLE;

  for (guint i = 0; i < faces->len; i++)
    {
      const TlFaceBox *b = &g_array_index (faces, TlFaceBox, i);
      double value;

      switch (p->pick)
        {
        case TL_FACE_PICK_CENTRAL:
          {
            double dx = b->x + b->width / 2 - image->width / 2.0;
            double dy = b->y + b->height / 2 - image->height / 2.0;
            value = -(dx * dx + dy * dy);
          }
          break;
        case TL_FACE_PICK_SCORE:
          value = b->score;
          break;
        case TL_FACE_PICK_LARGEST:
        default:
          value = (double) b->width * b->height;
          break;
        }
      if (value > best_value)
        {
          best_value = value;
          best = i;
        }
    }
  return best;
}

TlFaceDetector *
tl_face_pipeline_get_detector (TlFacePipeline *p)
{
  return p->detector;
}

TlFaceLandmarker *
tl_face_pipeline_get_landmarker (TlFacePipeline *p)
{
  return p->landmarker;
}

TlFaceEncoder *
tl_face_pipeline_get_encoder (TlFacePipeline *p)
{
  return p->encoder;
}

gboolean
tl_face_pipeline_analyse (TlFacePipeline *p,
                          const TlImage  *image,
                          gboolean        fallback,
                          TlFaceAnalysis *out)
{
  g_autoptr (GArray) faces = NULL;

  g_return_val_if_fail (p != NULL && image != NULL && out != NULL, FALSE);

  faces = tl_face_detector_detect (p->detector, image);
  if (faces->len == 0)
    {
      /* The detector misses faces that fill the whole frame (tight crops
       * such as ID photos): look again with the image in a black canvas
       * twice its size. */
      int side = MAX (image->width, image->height) * 2;
      int ox = (side - image->width) / 2, oy = (side - image->height) / 2;
      g_autoptr (TlImage) canvas = tl_image_new (side, side, image->channels == 1 ? 1 : image->channels);

      for (int y = 0; y < image->height; y++)
        memcpy (canvas->data + (gsize) (y + oy) * canvas->stride + (gsize) ox * canvas->channels,
                image->data + (gsize) y * image->stride, (gsize) image->width * image->channels);
      g_array_unref (faces);
      faces = tl_face_detector_detect (p->detector, canvas);
      for (guint i = 0; i < faces->len; i++)
        {
          TlFaceBox *b = &g_array_index (faces, TlFaceBox, i);
          b->x -= ox;
          b->y -= oy;
        }
    }
  out->n_faces = faces->len;
  out->found = faces->len > 0;
  if (out->found)
    out->box = g_array_index (faces, TlFaceBox, pick_face (p, image, faces));
  else if (fallback)
    {
      float side = MIN (image->width, image->height) * 0.5f;
      out->box.x = (image->width - side) / 2;
      out->box.y = (image->height - side) / 2;
      out->box.width = out->box.height = side;
      out->box.score = 0;
    }
  else
    return FALSE;

  return tl_face_landmarker_run (p->landmarker, image, &out->box, &out->landmarks);
}

gboolean
tl_face_pipeline_embed (TlFacePipeline *p,
                        const TlImage  *image,
                        gboolean        fallback,
                        TlFaceAnalysis *analysis,
                        float          *embedding,
                        TlImage       **chip_out)
{
  TlFaceAnalysis local;
  g_autoptr (TlImage) chip = NULL;

  if (analysis == NULL)
    analysis = &local;
  if (!tl_face_pipeline_analyse (p, image, fallback, analysis))
    return FALSE;
  chip = tl_face_align (image, &analysis->landmarks, TL_FACE_CHIP_SIZE, TL_FACE_CHIP_PADDING);
  if (p->mirror_average)
    {
      g_autoptr (TlImage) flipped = mirrored (chip);
      float other[TL_FACE_EMBEDDING_DIM];

      tl_face_encoder_encode_pair (p->encoder, chip, flipped, embedding, other);
      for (int i = 0; i < TL_FACE_EMBEDDING_DIM; i++)
        embedding[i] = (embedding[i] + other[i]) / 2;
    }
  else
    tl_face_encoder_encode (p->encoder, chip, embedding);
  if (chip_out)
    *chip_out = g_steal_pointer (&chip);
  return TRUE;
}
