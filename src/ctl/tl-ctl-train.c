/* tl-ctl-train.c — `twinlockctl train`: train a twin encoder from a
 * folder-per-person dataset and save it as a model file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "tl-ctl-train.h"
#include "tl-model.h"
#include "tl-nn.h"
#include "tl-plot.h"
#include "tl-twin-trainer.h"

typedef struct
{
  GArray *steps;
  GArray *losses;
} Curve;

static void
print_progress (int      step,
                int      steps,
                double   loss,
                double   active,
                float    lr,
                gpointer user_data)
{
  Curve *curve = user_data;
  double x = step;

  g_array_append_val (curve->steps, x);
  g_array_append_val (curve->losses, loss);
  g_print (_("step %d/%d  loss %.4f  active %.1f %%  learning rate %.2g\n"),
           step, steps, loss, 100 * active, lr);
}

static gboolean
parse_size (const char *text,
            int        *width,
            int        *height)
{
  char *end = NULL;
  gint64 w, h;

  w = g_ascii_strtoll (text, &end, 10);
  if (end == text || (*end != 'x' && *end != 'X'))
    return FALSE;
  text = end + 1;
  h = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0' || w < 8 || h < 8 || w > 256 || h > 256)
    return FALSE;
  *width = (int) w;
  *height = (int) h;
  return TRUE;
}

/* Embeds `ds`, prints its pair figures, and optionally plots the ROC. */
static gboolean
report (TlNet               *net,
        const TlFaceDataset *ds,
        const char          *what,
        const char          *roc_path,
        GError             **error)
{
  g_autofree float *emb = NULL;
  g_autoptr (GArray) scores = NULL;
  TlTwinEval ev;
  int dim;

  emb = tl_twin_embed (net, ds, &dim, error);
  if (emb == NULL ||
      !tl_twin_evaluate (emb, ds->labels, ds->n_images, dim, 1, &ev,
                         roc_path != NULL ? &scores : NULL, error))
    {
      g_prefix_error (error, _("Cannot evaluate on the %s: "), what);
      return FALSE;
    }
  g_print (_("%s (%d people, %d images): pair accuracy %.1f %% ± %.1f (10-fold, balanced), "
             "EER %.1f %% at distance %.3f (%d same-person pairs, %d different-person pairs)\n"),
           what, ds->n_people, ds->n_images, 100 * ev.accuracy, 100 * ev.accuracy_std,
           100 * ev.eer, ev.eer_threshold, ev.n_genuine, ev.n_impostor);

  if (roc_path != NULL)
    {
      g_autoptr (TlRoc) roc = NULL;
      g_autoptr (TlPlot) plot = NULL;
      g_autofree char *csv = NULL;
      g_autofree char *base = NULL;
      g_autofree char *title = g_strdup_printf (_("Twin encoder on the %s"), what);

      roc = tl_roc_new ((const TlScore *) scores->data, scores->len,
                        TL_SCORE_LOWER_IS_GENUINE, error);
      if (roc == NULL)
        return FALSE;
      plot = tl_plot_new (title, _("false accept rate"), _("true accept rate"));
      tl_plot_set_log_x (plot, TRUE);
      tl_plot_set_y_range (plot, 0.0, 1.0);
      tl_plot_set_legend (plot, TL_PLOT_LEGEND_BOTTOM_RIGHT);
      tl_plot_add_roc (plot, what, roc, FALSE);
      if (!tl_plot_write_png (plot, roc_path, 800, 600, error))
        return FALSE;
      base = g_str_has_suffix (roc_path, ".png")
             ? g_strndup (roc_path, strlen (roc_path) - 4) : g_strdup (roc_path);
      csv = g_strconcat (base, ".csv", NULL);
      if (!tl_roc_write_csv (roc, csv, error))
        return FALSE;
      g_print (_("ROC written to %s and %s\n"), roc_path, csv);
    }
  return TRUE;
}

int
tl_ctl_train (int    argc,
              char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TlFaceDataset) all = NULL;
  g_autoptr (TlFaceDataset) train = NULL;
  g_autoptr (TlFaceDataset) held_people = NULL;
  g_autoptr (TlFaceDataset) held_images = NULL;
  g_autoptr (TlNet) net = NULL;
  g_autofree char *loss_name = NULL;
  g_autofree char *mining_name = NULL;
  g_autofree char *size_text = NULL;
  g_autofree char *output = NULL;
  g_autofree char *roc_path = NULL;
  g_autofree char *curve_path = NULL;
  g_autoptr (GArray) curve_steps = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) curve_losses = g_array_new (FALSE, FALSE, sizeof (double));
  Curve curve = { curve_steps, curve_losses };
  TlTwinTrainOptions opts;
  TlTwinLoss loss = TL_TWIN_LOSS_TRIPLET;
  double margin = -1.0, threshold = -1.0, lr = -1.0, crop = 1.0;
  int steps = -1, dim = -1, people = -1, images = -1, seed = 1, every = 0;
  int held_out_people = 0, held_out_images = 0, min_images = 2, max_images = 0;
  int threads = 1, width = 23, height = 28, n_train_people;
  gboolean no_augment = FALSE;
  gint64 t0;
  GOptionEntry entries[] = {
    { "loss", 0, 0, G_OPTION_ARG_STRING, &loss_name,
      N_("contrastive, triplet (default) or hinge"), N_("LOSS") },
    { "mining", 0, 0, G_OPTION_ARG_STRING, &mining_name,
      N_("Triplet mining: all, hard or semi-hard (default)"), N_("MINING") },
    { "margin", 0, 0, G_OPTION_ARG_DOUBLE, &margin,
      N_("The loss's margin (defaults: contrastive 1, triplet 0.3, hinge 0.1)"), N_("M") },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      N_("The hinge loss's distance threshold (default 0.8)"), N_("T") },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_text,
      N_("Face size the images are resized to (default 23x28)"), N_("WxH") },
    { "crop", 0, 0, G_OPTION_ARG_DOUBLE, &crop,
      N_("Keep this central fraction of each image first (default 1)"), N_("F") },
    { "dim", 0, 0, G_OPTION_ARG_INT, &dim,
      N_("Embedding dimensions (default 32)"), N_("N") },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps,
      N_("Training steps (default 200)"), N_("N") },
    { "batch-people", 0, 0, G_OPTION_ARG_INT, &people,
      N_("People in a batch (default 8)"), N_("P") },
    { "batch-images", 0, 0, G_OPTION_ARG_INT, &images,
      N_("Images of each person in a batch (default 4)"), N_("K") },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr,
      N_("Peak learning rate of Adam (default 0.002)"), N_("RATE") },
    { "no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment,
      N_("Do not mirror and shift training images"), NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed,
      N_("Random seed (default 1)"), N_("N") },
    { "held-out-people", 0, 0, G_OPTION_ARG_INT, &held_out_people,
      N_("Keep the last N people (in name order) out of training and evaluate on them"),
      N_("N") },
    { "held-out-images", 0, 0, G_OPTION_ARG_INT, &held_out_images,
      N_("Keep the last N images of each trained person out of training and evaluate on them"),
      N_("N") },
    { "min-images", 0, 0, G_OPTION_ARG_INT, &min_images,
      N_("Skip people with fewer images (default 2)"), N_("N") },
    { "max-images", 0, 0, G_OPTION_ARG_INT, &max_images,
      N_("Read at most N images of each person (default: all)"), N_("N") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads for the engine's GEMMs (default 1: this encoder is small)"), N_("N") },
    { "every", 0, 0, G_OPTION_ARG_INT, &every,
      N_("Print progress every N steps (default: 10 lines)"), N_("N") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Save the trained encoder to this model file"), N_("FILE") },
    { "roc", 0, 0, G_OPTION_ARG_FILENAME, &roc_path,
      N_("Plot the held-out ROC to this PNG (and its table to the same name .csv)"),
      N_("FILE") },
    { "curve", 0, 0, G_OPTION_ARG_FILENAME, &curve_path,
      N_("Plot the training loss against the step to this PNG"), N_("FILE") },
    { NULL }
  };

  context = g_option_context_new (_("DATASET — train a twin face encoder"));
  g_option_context_set_summary (context,
    _("DATASET holds one folder of face images per person.  A small convolutional\n"
      "encoder is trained from scratch with the chosen loss, evaluated on held-out\n"
      "people or images (pair accuracy, EER), and saved as a Twinlock model file."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc != 2)
    return tl_ctl_fail (_("give one dataset folder; see “twinlockctl train --help”")), 2;

  if (loss_name != NULL && !tl_twin_loss_from_string (loss_name, &loss))
    return tl_ctl_fail (_("unknown loss “%s” (use contrastive, triplet or hinge)"), loss_name), 2;
  tl_twin_train_options_init (&opts, loss);
  if (mining_name != NULL && !tl_triplet_mining_from_string (mining_name, &opts.mining))
    return tl_ctl_fail (_("unknown mining “%s” (use all, hard or semi-hard)"), mining_name), 2;
  if (size_text != NULL && !parse_size (size_text, &width, &height))
    return tl_ctl_fail (_("--size takes WIDTHxHEIGHT, each 8 to 256, e.g. 32x32")), 2;
  if (margin >= 0)
    opts.margin = (float) margin;
  if (threshold >= 0)
    opts.threshold = (float) threshold;
  if (lr > 0)
    opts.learning_rate = (float) lr;
  if (steps > 0)
    opts.steps = steps;
  if (dim > 0)
    opts.embedding_dim = dim;
  if (people > 0)
    opts.people_per_batch = people;
  if (images > 0)
    opts.images_per_person = images;
  opts.augment = !no_augment;
  opts.seed = (guint32) seed;
  if (held_out_people < 0 || held_out_images < 0 || min_images < 1 || max_images < 0 ||
      threads < 1 || every < 0)
    return tl_ctl_fail (_("counts must not be negative (and --min-images, --threads at least 1)")), 2;
  if (held_out_images > 0 && min_images < held_out_images + 2)
    min_images = held_out_images + 2;
  if (!tl_twin_train_options_check (&opts, &error))
    return tl_ctl_fail ("%s", error->message), 2;
  tl_nn_set_threads (threads);

  all = tl_face_dataset_load_folders (argv[1], width, height, crop, min_images, max_images,
                                      &error);
  if (all == NULL)
    return tl_ctl_fail ("%s", error->message);
  n_train_people = all->n_people - held_out_people;
  if (n_train_people < 2)
    return tl_ctl_fail (_("holding out %d of %d people leaves fewer than 2 to train on"),
                        held_out_people, all->n_people);
  if (held_out_people > 0)
    held_people = tl_face_dataset_people (all, n_train_people, held_out_people);
  train = tl_face_dataset_people (all, 0, n_train_people);
  if (held_out_images > 0)
    {
      /* min_images leaves every trained person at least 2 to train on. */
      g_autoptr (TlFaceDataset) trained = g_steal_pointer (&train);

      tl_face_dataset_split_images (trained, held_out_images, &train, &held_images);
    }

  g_print (_("Dataset %s: %d people, %d images at %dx%d; training on %d people, %d images\n"),
           argv[1], all->n_people, all->n_images, width, height, train->n_people,
           train->n_images);
  g_print (_("Loss %s%s%s, margin %g, %d steps of %d×%d images, embedding %d, kernels %s\n"),
           tl_twin_loss_to_string (opts.loss),
           opts.loss == TL_TWIN_LOSS_TRIPLET ? " " : "",
           opts.loss == TL_TWIN_LOSS_TRIPLET ? tl_triplet_mining_to_string (opts.mining) : "",
           opts.margin,
           opts.steps, opts.people_per_batch, opts.images_per_person, opts.embedding_dim,
           tl_nn_kernels_name ());

  net = tl_twin_encoder_new (height, width, opts.embedding_dim, opts.seed, &error);
  if (net == NULL)
    return tl_ctl_fail ("%s", error->message);
  t0 = g_get_monotonic_time ();
  if (!tl_twin_train (net, train, &opts, every > 0 ? every : MAX (1, opts.steps / 10),
                      print_progress, &curve, &error))
    return tl_ctl_fail ("%s", error->message);
  g_print (_("Trained in %.1f s\n"), (g_get_monotonic_time () - t0) / 1e6);

  if (curve_path != NULL)
    {
      g_autoptr (TlPlot) plot = tl_plot_new (_("Training"), _("step"), _("loss"));

      tl_plot_add_curve (plot, tl_twin_loss_to_string (opts.loss),
                         (const double *) curve_steps->data, (const double *) curve_losses->data,
                         curve_steps->len);
      if (!tl_plot_write_png (plot, curve_path, 800, 600, &error))
        return tl_ctl_fail ("%s", error->message);
      g_print (_("Training curve written to %s\n"), curve_path);
    }

  if (!report (net, train, _("training images"), NULL, &error) ||
      (held_images != NULL &&
       !report (net, held_images, _("held-out images"),
                held_people == NULL ? roc_path : NULL, &error)) ||
      (held_people != NULL &&
       !report (net, held_people, _("held-out people"), roc_path, &error)))
    return tl_ctl_fail ("%s", error->message);

  if (output != NULL)
    {
      if (!tl_model_save (net, output, &error))
        return tl_ctl_fail ("%s", error->message);
      g_print (_("Model saved to %s\n"), output);
    }
  return 0;
}
