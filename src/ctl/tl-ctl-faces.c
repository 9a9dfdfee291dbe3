/* tl-ctl-faces.c — twinlockctl import faceapi, verify
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tl-ctl.h"
#include "tl-ctl-faces.h"
#include "tl-face-pipeline.h"
#include "tl-faceapi-import.h"
#include "tl-image-io.h"
#include "tl-nn.h"

int
tl_ctl_import (int    argc,
               char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("faceapi MODEL-DIR — convert face-api weights"));
  g_autoptr (GError) error = NULL;
  g_autofree char *out_dir = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      N_("Folder for the Twinlock model files (default: the model folder in use)"), N_("DIR") },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("MODEL-DIR is the model/ folder of the npm package @vladmandic/face-api\n"
      "(npm pack @vladmandic/face-api@1.7.15). Converts the tiny face detector,\n"
      "the 68-point landmark net and the face recognition net."));
  if (!tl_ctl_parse (ctx, &argc, &argv))
    return 2;
  if (argc != 3 || !g_str_equal (argv[1], "faceapi"))
    return tl_ctl_fail (_("usage: twinlockctl import faceapi MODEL-DIR [--output DIR]"));
  if (out_dir == NULL)
    out_dir = g_strdup (tl_face_model_dir ());
  if (!tl_faceapi_import_dir (argv[2], out_dir, &error))
    return tl_ctl_fail ("%s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (tl_faceapi_models); i++)
    {
      g_autofree char *path = g_build_filename (out_dir, tl_faceapi_models[i].file, NULL);
      g_print ("%s\n", path);
    }
  return 0;
}

static gboolean
embed_file (TlFacePipeline *p,
            const char     *path,
            float          *embedding,
            TlFaceAnalysis *analysis,
            const char     *chip_dir,
            GError        **error)
{
  g_autoptr (TlImage) image = tl_image_load (path, error);
  g_autoptr (TlImage) chip = NULL;

  if (image == NULL)
    return FALSE;
  tl_face_detector_set_input_size (tl_face_pipeline_get_detector (p),
                                   tl_face_detector_size_for (image->width, image->height));
  if (!tl_face_pipeline_embed (p, image, FALSE, analysis, embedding, &chip))
    {
      g_autofree char *name = g_filename_display_name (path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("No face found in “%s”"), name);
      return FALSE;
    }
  if (chip_dir != NULL)
    {
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *stem = g_strndup (base, strcspn (base, "."));
      g_autofree char *file = g_strconcat (stem, "-chip.png", NULL);
      g_autofree char *out = g_build_filename (chip_dir, file, NULL);
      if (!tl_image_save_png (chip, out, error))
        return FALSE;
    }
  return TRUE;
}

int
tl_ctl_verify (int    argc,
               char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("IMAGE-A IMAGE-B — do two photos show one person?"));
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFacePipeline) p = NULL;
  double threshold = TL_FACE_ENCODER_DEFAULT_THRESHOLD;
  gboolean json = FALSE;
  g_autofree char *chip_dir = NULL;
  float a[TL_FACE_EMBEDDING_DIM], b[TL_FACE_EMBEDDING_DIM];
  TlFaceAnalysis fa, fb;
  float d;
  GOptionEntry entries[] = {
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold,
      N_("Distance below which the faces match (default 0.6)"), N_("D") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "save-chips", 0, 0, G_OPTION_ARG_FILENAME, &chip_dir,
      N_("Write the aligned 150×150 face chips to DIR as NAME-chip.png"), N_("DIR") },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (ctx, &argc, &argv))
    return 2;
  if (argc != 3)
    return tl_ctl_fail (_("usage: twinlockctl verify IMAGE-A IMAGE-B"));
  tl_nn_set_threads (1);
  p = tl_face_pipeline_new (NULL, &error);
  if (p == NULL)
    return tl_ctl_fail ("%s", error->message);
  /* As eval measures it: the mean of the chip's and its mirror's embedding. */
  tl_face_pipeline_set_mirror_average (p, TRUE);
  if (!embed_file (p, argv[1], a, &fa, chip_dir, &error) ||
      !embed_file (p, argv[2], b, &fb, chip_dir, &error))
    return tl_ctl_fail ("%s", error->message);
  d = tl_face_distance (a, b);
  if (json)
    g_print ("{\"distance\": %.6f, \"threshold\": %.4f, \"same_person\": %s}\n",
             d, threshold, d < threshold ? "true" : "false");
  else
    g_print (_("distance %.4f (threshold %.2f): %s\n"), d, threshold,
             d < threshold ? _("same person") : _("different people"));
  return d < threshold ? 0 : 3;
}
