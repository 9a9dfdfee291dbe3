/* tl-ctl-eval.c — twinlockctl eval lfw / eval folders: the whole face
 * pipeline (detector, landmarks, alignment, encoder) on a verification set
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tl-ctl.h"
#include "tl-ctl-faces.h"
#include "tl-face-pipeline.h"
#include "tl-image-io.h"
#include "tl-metrics.h"
#include "tl-nn.h"
#include "tl-plot.h"

#define MAX_PAIRS   1000000

/* Evaluation sets are photos centred on their subject (LFW is cropped
 * around the labelled face): take the face nearest the centre among all
 * the detector is at least this sure of, rather than a confident face at
 * the edge of the picture. */
#define TL_FACE_EVAL_MIN_SCORE 0.1
#define MAX_IMAGES  200000

typedef struct
{
  GPtrArray  *paths;        /* unique image paths */
  GHashTable *index;        /* path → index + 1 */
  GArray     *a, *b;        /* pair image indices (guint) */
  GArray     *genuine;      /* gboolean per pair */
  GArray     *folds;        /* guint per pair */
  guint       k;            /* number of folds */
  float      *embeddings;   /* [paths->len][128] */
  guint       not_found;
  guint       unreadable;
} EvalSet;

static void
eval_set_init (EvalSet *set)
{
  memset (set, 0, sizeof *set);
  set->paths = g_ptr_array_new_with_free_func (g_free);
  set->index = g_hash_table_new (g_str_hash, g_str_equal);
  set->a = g_array_new (FALSE, FALSE, sizeof (guint));
  set->b = g_array_new (FALSE, FALSE, sizeof (guint));
  set->genuine = g_array_new (FALSE, FALSE, sizeof (gboolean));
  set->folds = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
eval_set_clear (EvalSet *set)
{
  g_hash_table_unref (set->index);
  g_ptr_array_unref (set->paths);
  g_array_unref (set->a);
  g_array_unref (set->b);
  g_array_unref (set->genuine);
  g_array_unref (set->folds);
  g_free (set->embeddings);
}

static guint
eval_set_image (EvalSet    *set,
                const char *path)
{
  gpointer v = g_hash_table_lookup (set->index, path);
  char *copy;

  if (v != NULL)
    return GPOINTER_TO_UINT (v) - 1;
  copy = g_strdup (path);
  g_ptr_array_add (set->paths, copy);
  g_hash_table_insert (set->index, copy, GUINT_TO_POINTER (set->paths->len));
  return set->paths->len - 1;
}

static void
eval_set_pair (EvalSet  *set,
               guint     a,
               guint     b,
               gboolean  genuine,
               guint     fold)
{
  g_array_append_val (set->a, a);
  g_array_append_val (set->b, b);
  g_array_append_val (set->genuine, genuine);
  g_array_append_val (set->folds, fold);
}

/* ---- LFW pairs file ------------------------------------------------------ */

static char *
lfw_path (const char *images,
          const char *name,
          int         number)
{
  g_autofree char *file = g_strdup_printf ("%s_%04d.jpg", name, number);
  return g_build_filename (images, name, file, NULL);
}

static gboolean
parse_int (const char *s,
           int        *out)
{
  char *end;
  gint64 v;

  errno = 0;
  v = g_ascii_strtoll (s, &end, 10);
  if (errno || end == s || *end != '\0' || v < 1 || v > 100000)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
valid_name (const char *s)
{
  return s[0] != '\0' && s[0] != '.' && strchr (s, '/') == NULL;
}

static gboolean
load_lfw_pairs (EvalSet     *set,
                const char  *images,
                const char  *pairs_path,
                GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *name = g_filename_display_name (pairs_path);
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) head = NULL;
  int folds, per_half, line = 1;

  if (!g_file_get_contents (pairs_path, &contents, NULL, error))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  head = g_strsplit_set (g_strstrip (lines[0]), " \t", -1);
  if (g_strv_length (head) != 2 || !parse_int (head[0], &folds) || !parse_int (head[1], &per_half) ||
      folds < 2 || folds > 100 || (gint64) folds * per_half * 2 > MAX_PAIRS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s:1: expected a header “FOLDS PAIRS-PER-HALF” (e.g. “10 300”)"), name);
      return FALSE;
    }
  set->k = folds;
  for (int f = 0; f < folds; f++)
    for (int i = 0; i < 2 * per_half; i++)
      {
        g_auto (GStrv) t = NULL;
        g_autofree char *pa = NULL, *pb = NULL;
        gboolean genuine = i < per_half;
        int n1, n2;

        line++;
        if (lines[line - 1] == NULL)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         _("%s: ends after %d lines; the header promises %d pairs"),
                         name, line - 1, folds * per_half * 2);
            return FALSE;
          }
        t = g_strsplit_set (g_strstrip (lines[line - 1]), " \t", -1);
        if (genuine && g_strv_length (t) == 3 && valid_name (t[0]) &&
            parse_int (t[1], &n1) && parse_int (t[2], &n2))
          {
            pa = lfw_path (images, t[0], n1);
            pb = lfw_path (images, t[0], n2);
          }
        else if (!genuine && g_strv_length (t) == 4 && valid_name (t[0]) && valid_name (t[2]) &&
                 parse_int (t[1], &n1) && parse_int (t[3], &n2))
          {
            pa = lfw_path (images, t[0], n1);
            pb = lfw_path (images, t[2], n2);
          }
        else
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         genuine ? _("%s:%d: expected a same-person pair “NAME N M”")
                                 : _("%s:%d: expected a different-people pair “NAME N NAME M”"),
                         name, line);
            return FALSE;
          }
        eval_set_pair (set, eval_set_image (set, pa), eval_set_image (set, pb), genuine, f);
      }
  return TRUE;
}

/* ---- folder-per-person sets ---------------------------------------------- */

static gboolean
is_image_name (const char *n)
{
  return g_str_has_suffix (n, ".jpg") || g_str_has_suffix (n, ".jpeg") ||
         g_str_has_suffix (n, ".png") || g_str_has_suffix (n, ".pgm") ||
         g_str_has_suffix (n, ".JPG") || g_str_has_suffix (n, ".PNG");
}

static int
compare_paths (gconstpointer x,
               gconstpointer y)
{
  return g_strcmp0 (*(char * const *) x, *(char * const *) y);
}

static GPtrArray *
sorted_entries (const char *dir,
                gboolean    want_dirs,
                GError    **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  GPtrArray *out;
  const char *n;

  if (d == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func (g_free);
  while ((n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      gboolean is_dir = g_file_test (p, G_FILE_TEST_IS_DIR);
      if (n[0] == '.')
        continue;
      if (want_dirs ? is_dir : (!is_dir && is_image_name (n)))
        g_ptr_array_add (out, g_steal_pointer (&p));
    }
  g_ptr_array_sort (out, compare_paths);
  return out;
}

/* All genuine pairs; as many impostor pairs (distinct, different people),
 * drawn with a fixed seed; up to 10 stratified folds. */
static gboolean
load_folders (EvalSet     *set,
              const char  *dir,
              guint        n_impostors,
              guint32      seed,
              GError     **error)
{
  g_autoptr (GPtrArray) people = sorted_entries (dir, TRUE, error);
  g_autoptr (GArray) owner = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree gint64 *keys = NULL;
  guint n_genuine = 0, tries = 0, added = 0;

  if (people == NULL)
    return FALSE;
  for (guint p = 0; p < people->len; p++)
    {
      g_autoptr (GPtrArray) files = sorted_entries (g_ptr_array_index (people, p), FALSE, error);
      guint first = set->paths->len;

      if (files == NULL)
        return FALSE;
      for (guint i = 0; i < files->len; i++)
        {
          eval_set_image (set, g_ptr_array_index (files, i));
          g_array_append_val (owner, p);
          if (set->paths->len > MAX_IMAGES)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("More than %d images under “%s”"), MAX_IMAGES, dir);
              return FALSE;
            }
        }
      for (guint i = first; i < set->paths->len; i++)
        for (guint j = i + 1; j < set->paths->len; j++)
          {
            eval_set_pair (set, i, j, TRUE, 0);
            if (++n_genuine > MAX_PAIRS)
              {
                g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             _("Too many same-person pairs under “%s”"), dir);
                return FALSE;
              }
          }
    }
  if (people->len < 2 || n_genuine == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” needs at least two person folders and one person with two images"), dir);
      return FALSE;
    }
  if (n_impostors == 0)
    n_impostors = n_genuine;
  keys = g_new (gint64, n_impostors);
  while (added < n_impostors && tries++ < 100 * (guint64) n_impostors + 1000)
    {
      guint i = g_rand_int_range (rand, 0, set->paths->len);
      guint j = g_rand_int_range (rand, 0, set->paths->len);
      gint64 key;

      if (g_array_index (owner, guint, i) == g_array_index (owner, guint, j))
        continue;
      if (i > j)
        {
          guint t = i; i = j; j = t;
        }
      key = (gint64) i * MAX_IMAGES + j;
      if (g_hash_table_contains (seen, &key))
        continue;
      keys[added] = key;
      g_hash_table_add (seen, &keys[added]);
      eval_set_pair (set, i, j, FALSE, 0);
      added++;
    }

  /* Stratified folds: each class dealt round-robin, so that every fold
   * and every training set holds both kinds of pair. */
  set->k = CLAMP (MIN (n_genuine, added), 2, 10);
  {
    guint next[2] = { 0, 0 };
    for (guint p = 0; p < set->folds->len; p++)
      {
        gboolean g = g_array_index (set->genuine, gboolean, p);
        g_array_index (set->folds, guint, p) = next[g]++ % set->k;
      }
  }
  if (added < 2 || n_genuine < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” gives too few pairs to evaluate (%u same-person, %u different)"),
                   dir, n_genuine, added);
      return FALSE;
    }
  return TRUE;
}

/* ---- embedding ------------------------------------------------------------ */

static void
progress (guint  done,
          guint  total,
          gint64 start)
{
  double elapsed = (g_get_monotonic_time () - start) / 1e6;
  double rate = elapsed > 0 ? done / elapsed : 0;
  int width = 30, filled = total ? (int) ((gint64) width * done / total) : width;
  char bar[64];

  for (int i = 0; i < width; i++)
    bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
  bar[width] = '\0';
  fputc ('\r', stderr);
  fprintf (stderr, _("[%s] %u/%u images  %.1f/s  ETA %.0f s  "), bar, done, total, rate,
           rate > 0 ? (total - done) / rate : 0.0);
  fflush (stderr);
}

/* Workers take the next image index from a shared counter; each has its
 * own pipeline (the networks keep per-instance buffers). */
typedef struct
{
  EvalSet    *set;
  TlFacePick  pick;
  double      min_score;
  int         detector_size;
  gboolean    mirror;
  gint        next;
  gint        done;
  gint        not_found;
  gint        unusable;
  GMutex      lock;
  GError     *error;
} EmbedJob;

static gpointer
embed_worker (gpointer data)
{
  EmbedJob *job = data;
  g_autoptr (GError) local = NULL;
  g_autoptr (TlFacePipeline) p = tl_face_pipeline_new (NULL, &local);

  if (p != NULL)
    {
      tl_face_pipeline_set_pick (p, job->pick);
      tl_face_pipeline_set_mirror_average (p, job->mirror);
      tl_face_detector_set_score_threshold (tl_face_pipeline_get_detector (p), job->min_score);
      if (job->detector_size > 0)
        tl_face_detector_set_input_size (tl_face_pipeline_get_detector (p), job->detector_size);
    }
  while (p != NULL)
    {
      guint i = (guint) g_atomic_int_add (&job->next, 1);
      g_autoptr (TlImage) image = NULL;
      TlFaceAnalysis a;

      if (i >= job->set->paths->len || g_atomic_pointer_get (&job->error) != NULL)
        break;
      image = tl_image_load (g_ptr_array_index (job->set->paths, i), &local);
      if (image == NULL)
        break;
      if (job->detector_size == 0)
        tl_face_detector_set_input_size (tl_face_pipeline_get_detector (p),
                                         tl_face_detector_size_for (image->width, image->height));
      if (!tl_face_pipeline_embed (p, image, TRUE, &a,
                                   job->set->embeddings + (gsize) i * TL_FACE_EMBEDDING_DIM, NULL))
        g_atomic_int_inc (&job->unusable);
      else if (!a.found)
        g_atomic_int_inc (&job->not_found);
      g_atomic_int_inc (&job->done);
    }
  if (local != NULL)
    {
      g_mutex_lock (&job->lock);
      if (job->error == NULL)
        job->error = g_steal_pointer (&local);
      g_mutex_unlock (&job->lock);
    }
  return NULL;
}

static gboolean
embed_all (EvalSet   *set,
           int        jobs,
           TlFacePick pick,
           double     min_score,
           int        detector_size,
           gboolean   mirror,
           gboolean   show_progress,
           GError   **error)
{
  EmbedJob job = { .set = set, .pick = pick, .min_score = min_score,
                   .detector_size = detector_size, .mirror = mirror };
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  gint64 start = g_get_monotonic_time ();
  guint total = set->paths->len;

  set->embeddings = g_new0 (float, (gsize) total * TL_FACE_EMBEDDING_DIM);
  g_mutex_init (&job.lock);
  for (int t = 0; t < jobs; t++)
    g_ptr_array_add (threads, g_thread_new ("eval", embed_worker, &job));
  while (show_progress)
    {
      guint done = (guint) g_atomic_int_get (&job.done);
      progress (done, total, start);
      if (done >= total || g_atomic_pointer_get (&job.error) != NULL)
        break;
      g_usleep (250000);
    }
  for (guint t = 0; t < threads->len; t++)
    g_thread_join (g_ptr_array_index (threads, t));
  if (show_progress)
    {
      progress ((guint) job.done, total, start);
      fputc ('\n', stderr);
    }
  g_mutex_clear (&job.lock);
  set->not_found = (guint) job.not_found;
  set->unreadable = (guint) job.unusable;
  if (job.error != NULL)
    {
      g_propagate_prefixed_error (error, job.error, _("Evaluation stopped: "));
      return FALSE;
    }
  return TRUE;
}

/* ---- report ---------------------------------------------------------------- */

/* One line per pair: fold, same person or not, distance, both images. */
static gboolean
write_scores (EvalSet      *set,
              const TlScore *scores,
              const char    *path,
              GError       **error)
{
  g_autoptr (GString) out = g_string_new ("fold,genuine,distance,image_a,image_b\n");

  for (guint i = 0; i < set->a->len; i++)
    g_string_append_printf (out, "%u,%d,%.6f,%s,%s\n", g_array_index (set->folds, guint, i),
                            scores[i].genuine ? 1 : 0, scores[i].score,
                            (const char *) g_ptr_array_index (set->paths, g_array_index (set->a, guint, i)),
                            (const char *) g_ptr_array_index (set->paths, g_array_index (set->b, guint, i)));
  return g_file_set_contents (path, out->str, out->len, error);
}

static gboolean
report (EvalSet     *set,
        const char  *title,
        gboolean     json,
        const char  *roc_png,
        const char  *scores_csv,
        GError     **error)
{
  guint n = set->a->len;
  g_autofree TlScore *scores = g_new (TlScore, n);
  g_autofree double *fold_acc = g_new (double, set->k);
  g_autofree double *fold_thr = g_new (double, set->k);
  g_autoptr (TlRoc) roc = NULL;
  double mean, std, eer, eer_thr, tar2, tar3, thr_sum = 0;
  guint n_genuine = 0;

  for (guint i = 0; i < n; i++)
    {
      guint a = g_array_index (set->a, guint, i), b = g_array_index (set->b, guint, i);
      scores[i].score = tl_face_distance (set->embeddings + (gsize) a * TL_FACE_EMBEDDING_DIM,
                                          set->embeddings + (gsize) b * TL_FACE_EMBEDDING_DIM);
      scores[i].genuine = g_array_index (set->genuine, gboolean, i);
      n_genuine += scores[i].genuine;
    }
  if (scores_csv != NULL && !write_scores (set, scores, scores_csv, error))
    return FALSE;
  roc = tl_roc_new (scores, n, TL_SCORE_LOWER_IS_GENUINE, error);
  if (roc == NULL ||
      !tl_kfold_accuracy (scores, n, (const guint *) set->folds->data, set->k,
                          TL_SCORE_LOWER_IS_GENUINE, &mean, &std, fold_acc, fold_thr, error))
    return FALSE;
  eer = tl_roc_eer (roc, &eer_thr);
  tar2 = tl_roc_tar_at_far (roc, 1e-2, NULL);
  tar3 = tl_roc_tar_at_far (roc, 1e-3, NULL);
  for (guint f = 0; f < set->k; f++)
    thr_sum += fold_thr[f];

  if (roc_png != NULL)
    {
      g_autofree char *heading = g_strdup_printf (_("ROC of %s: %u pairs, accuracy %.2f %%, EER %.2f %%"),
                                                  title, n, 100 * mean, 100 * eer);
      g_autoptr (TlPlot) plot = tl_plot_new (heading, _("false accept rate"), _("true accept rate"));
      g_autofree char *base = g_str_has_suffix (roc_png, ".png")
                              ? g_strndup (roc_png, strlen (roc_png) - 4) : g_strdup (roc_png);
      g_autofree char *csv = g_strconcat (base, ".csv", NULL);

      tl_plot_set_log_x (plot, TRUE);
      tl_plot_set_x_range (plot, 1e-4, 1);
      tl_plot_set_y_range (plot, 0, 1);
      tl_plot_set_legend (plot, TL_PLOT_LEGEND_BOTTOM_RIGHT);
      tl_plot_add_roc (plot, _("Twinlock face pipeline"), roc, FALSE);
      if (!tl_plot_write_png (plot, roc_png, 800, 600, error) ||
          !tl_roc_write_csv (roc, csv, error))
        return FALSE;
    }

  if (json)
    {
      g_print ("{\"set\": \"%s\", \"pairs\": %u, \"genuine_pairs\": %u, \"impostor_pairs\": %u, "
               "\"images\": %u, \"folds\": %u, \"accuracy\": %.6f, \"accuracy_std\": %.6f, "
               "\"threshold\": %.6f, \"eer\": %.6f, \"eer_threshold\": %.6f, "
               "\"tar_at_far_1e-2\": %.6f, \"tar_at_far_1e-3\": %.6f, "
               "\"faces_not_found\": %u, \"unusable_images\": %u}\n",
               title, n, n_genuine, n - n_genuine, set->paths->len, set->k, mean, std,
               thr_sum / set->k, eer, eer_thr, tar2, tar3, set->not_found, set->unreadable);
      return TRUE;
    }
  g_print ("%s\n", title);
  g_print (_("  pairs            %u (%u same person, %u different), %u images\n"),
           n, n_genuine, n - n_genuine, set->paths->len);
  g_print (_("  accuracy         %.2f %% ± %.2f (%u-fold, threshold from the other folds, mean %.3f)\n"),
           100 * mean, 100 * std, set->k, thr_sum / set->k);
  g_print (_("  EER              %.2f %% (distance %.3f)\n"), 100 * eer, eer_thr);
  g_print (_("  TAR at FAR 1e-2  %.2f %%\n"), 100 * tar2);
  g_print (_("  TAR at FAR 1e-3  %.2f %%\n"), 100 * tar3);
  g_print (_("  faces not found  %u (central region used instead)\n"), set->not_found);
  if (set->unreadable)
    g_print (_("  unusable images  %u\n"), set->unreadable);
  if (roc_png)
    g_print (_("  ROC              %s (and .csv)\n"), roc_png);
  return TRUE;
}

int
tl_ctl_eval (int    argc,
             char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (_("lfw|folders … — accuracy of the face pipeline"));
  g_autoptr (GError) error = NULL;
  g_autofree char *images = NULL, *pairs = NULL, *roc = NULL, *pick_name = NULL, *scores = NULL;
  double min_score = TL_FACE_EVAL_MIN_SCORE;
  int detector_size = 0;
  TlFacePick pick = TL_FACE_PICK_CENTRAL;
  gboolean json = FALSE, no_progress = FALSE, no_mirror = FALSE;
  int impostors = 0, seed = 1, jobs = (int) MIN (g_get_num_processors (), 8);
  EvalSet set;
  gboolean ok;
  const char *title;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_FILENAME, &images, N_("LFW image folder (lfw): NAME/NAME_000N.jpg"), N_("DIR") },
    { "pairs", 0, 0, G_OPTION_ARG_FILENAME, &pairs, N_("LFW pairs file (lfw)"), N_("FILE") },
    { "impostors", 0, 0, G_OPTION_ARG_INT, &impostors,
      N_("Different-people pairs to sample (folders; default: as many as same-person pairs)"), N_("N") },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, N_("Seed for the sampled pairs (folders; default 1)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { "roc", 0, 0, G_OPTION_ARG_FILENAME, &roc, N_("Draw the ROC curve to this PNG (and a CSV beside it)"), N_("OUT.png") },
    { "scores", 0, 0, G_OPTION_ARG_FILENAME, &scores,
      N_("Write every pair’s distance to this CSV file"), N_("FILE") },
    { "no-mirror", 0, 0, G_OPTION_ARG_NONE, &no_mirror,
      N_("Do not average each face’s embedding with its mirror image’s"), NULL },
    { "pick", 0, 0, G_OPTION_ARG_STRING, &pick_name,
      N_("Which detected face to use: central (default), largest or score"), N_("HOW") },
    { "min-score", 0, 0, G_OPTION_ARG_DOUBLE, &min_score,
      N_("Detector score a face needs (default 0.1)"), N_("S") },
    { "detector-size", 0, 0, G_OPTION_ARG_INT, &detector_size,
      N_("Detector input side, a multiple of 32 from 160 to 608 (default: from each image’s size)"), N_("PX") },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, N_("Images analysed in parallel (default: one per core)"), N_("N") },
    { "no-progress", 0, 0, G_OPTION_ARG_NONE, &no_progress, N_("No progress bar"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (ctx,
    _("twinlockctl eval lfw --images DIR --pairs pairs.txt [--json] [--roc OUT.png]\n"
      "twinlockctl eval folders DIR [--json] [--roc OUT.png]  (one folder per person)"));
  if (!tl_ctl_parse (ctx, &argc, &argv))
    return 2;
  if (impostors < 0 || impostors > MAX_PAIRS)
    return tl_ctl_fail (_("--impostors must be between 0 and %d"), MAX_PAIRS);
  if (jobs < 1 || jobs > 64)
    return tl_ctl_fail (_("--jobs must be between 1 and 64"));
  if (detector_size != 0 &&
      (detector_size < TL_FACE_DETECTOR_MIN_SIZE || detector_size > TL_FACE_DETECTOR_MAX_SIZE ||
       detector_size % 32 != 0))
    return tl_ctl_fail (_("--detector-size must be a multiple of 32 from %d to %d"),
                        TL_FACE_DETECTOR_MIN_SIZE, TL_FACE_DETECTOR_MAX_SIZE);
  if (!(min_score > 0 && min_score < 1))
    return tl_ctl_fail (_("--min-score must be between 0 and 1"));
  if (pick_name == NULL || g_str_equal (pick_name, "central"))
    pick = TL_FACE_PICK_CENTRAL;
  else if (g_str_equal (pick_name, "largest"))
    pick = TL_FACE_PICK_LARGEST;
  else if (g_str_equal (pick_name, "score"))
    pick = TL_FACE_PICK_SCORE;
  else
    return tl_ctl_fail (_("--pick must be central, largest or score"));
  /* Parallel over images, one GEMM thread each: no thread waits for another. */
  tl_nn_set_threads (1);

  eval_set_init (&set);
  if (argc == 2 && g_str_equal (argv[1], "lfw"))
    {
      if (images == NULL || pairs == NULL)
        {
          eval_set_clear (&set);
          return tl_ctl_fail (_("usage: twinlockctl eval lfw --images DIR --pairs FILE"));
        }
      title = "lfw";
      ok = load_lfw_pairs (&set, images, pairs, &error);
    }
  else if (argc == 3 && g_str_equal (argv[1], "folders"))
    {
      title = "folders";
      ok = load_folders (&set, argv[2], impostors, (guint32) seed, &error);
    }
  else
    {
      eval_set_clear (&set);
      return tl_ctl_fail (_("usage: twinlockctl eval lfw --images DIR --pairs FILE | eval folders DIR"));
    }

  ok = ok && embed_all (&set, jobs, pick, min_score, detector_size, !no_mirror, !no_progress && isatty (STDERR_FILENO), &error)
          && report (&set, title, json, roc, scores, &error);
  eval_set_clear (&set);
  if (!ok)
    return tl_ctl_fail ("%s", error->message);
  return 0;
}
