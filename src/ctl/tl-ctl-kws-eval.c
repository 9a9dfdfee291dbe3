/* tl-ctl-kws-eval.c — `twinlockctl kws eval`: detection and false alarms
 * on a corpus made by tests/make-kws-corpus.py
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tl-ctl.h"
#include "tl-ctl-kws.h"
#include "tl-plot.h"
#include "tl-kws-engine.h"
#include "tl-wav.h"

typedef enum { CLASS_POSITIVE, CLASS_ORDINARY, CLASS_CONFUSABLE } FileClass;

typedef struct
{
  char      *path;
  FileClass  klass;
  char      *phrase;      /* positive: the spoken keyphrase; negative: allowed ones or "-" */
  double     duration;
  double     word_start;
  double     word_end;
  char      *condition;
  gboolean   festival;    /* spoken by Festival, not espeak-ng */
  char      *text;
  GPtrArray *candidates;  /* TlKwsCandidate */
} Item;

static void
item_free (gpointer data)
{
  Item *it = data;
  g_free (it->path);
  g_free (it->phrase);
  g_free (it->condition);
  g_free (it->text);
  g_clear_pointer (&it->candidates, g_ptr_array_unref);
  g_free (it);
}

static GPtrArray *
load_manifest (const char  *dir,
               GError     **error)
{
  g_autofree char *path = g_build_filename (dir, "manifest.tsv", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (item_free);
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error))
    {
      g_prefix_error (error, _("No corpus manifest (make one with tests/make-kws-corpus.py): "));
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = NULL;
      Item *it;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      f = g_strsplit (lines[i], "\t", -1);
      if (g_strv_length (f) < 9)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s:%u: expected 9 tab-separated fields"), path, i + 1);
          return NULL;
        }
      it = g_new0 (Item, 1);
      it->path = g_build_filename (dir, f[0], NULL);
      if (g_str_equal (f[1], "positive"))
        it->klass = CLASS_POSITIVE;
      else if (g_str_equal (f[1], "ordinary"))
        it->klass = CLASS_ORDINARY;
      else if (g_str_equal (f[1], "confusable"))
        it->klass = CLASS_CONFUSABLE;
      else
        {
          item_free (it);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s:%u: unknown class “%s”"), path, i + 1, f[1]);
          return NULL;
        }
      it->phrase = g_strdup (f[2]);
      it->duration = g_ascii_strtod (f[3], NULL);
      it->word_start = g_ascii_strtod (f[4], NULL);
      it->word_end = g_ascii_strtod (f[5], NULL);
      it->condition = g_strdup (f[6]);
      it->festival = g_str_has_prefix (f[7], "festival:");
      it->text = g_strdup (f[8]);
      g_ptr_array_add (items, it);
    }
  if (items->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s lists no files"), path);
      return NULL;
    }
  return g_steal_pointer (&items);
}

static gboolean
allowed (const Item *it,
         const char *phrase)
{
  g_auto (GStrv) list = g_strsplit (it->phrase, ",", -1);
  return g_strv_contains ((const char * const *) list, phrase);
}

typedef struct
{
  int    n_pos, n_hit;        /* positives of the phrase, detected */
  int    n_pos_f, n_hit_f;    /* the same, Festival's voices only */
  int    fa_ord, fa_conf;     /* false alarms of the phrase */
  int    fa_pos;              /* false alarms inside positive files (other phrase / wrong place) */
} Tally;

/* Applies a decision (stages, threshold per phrase) to every file's
 * candidates, as the engine would have decided them. */
static void
tally (GPtrArray         *items,
       TlKwsStages        stages,
       const char        *phrase,
       double             threshold,
       double             other_threshold,
       Tally             *t)
{
  memset (t, 0, sizeof *t);
  for (guint i = 0; i < items->len; i++)
    {
      Item *it = items->pdata[i];
      g_autoptr (GPtrArray) acc = g_ptr_array_new ();
      gboolean hit = FALSE;

      for (guint j = 0; j < it->candidates->len; j++)
        {
          TlKwsCandidate *c = it->candidates->pdata[j];
          double thr = g_str_equal (c->phrase, phrase) ? threshold : other_threshold;
          c->accepted = tl_kws_candidate_passes (c, stages, thr, &c->reason);
          g_ptr_array_add (acc, c);
        }
      tl_kws_resolve_overlaps (acc);
      for (guint j = 0; j < acc->len; j++)
        {
          TlKwsCandidate *c = acc->pdata[j];
          if (!c->accepted || !g_str_equal (c->phrase, phrase))
            continue;
          if (it->klass == CLASS_POSITIVE)
            {
              if (g_str_equal (it->phrase, phrase) &&
                  c->end_us / 1e6 > it->word_start - 0.1 &&
                  c->start_us / 1e6 < it->word_end + 0.1)
                hit = TRUE;
              else
                t->fa_pos++;
            }
          else if (!allowed (it, phrase))
            {
              if (it->klass == CLASS_ORDINARY)
                t->fa_ord++;
              else
                t->fa_conf++;
            }
        }
      if (it->klass == CLASS_POSITIVE && g_str_equal (it->phrase, phrase))
        {
          t->n_pos++;
          t->n_hit += hit;
          t->n_pos_f += it->festival;
          t->n_hit_f += it->festival && hit;
        }
    }
}

typedef struct
{
  const char  *name;
  TlKwsStages  stages;
  double       lo, hi, step;
} Stage;

typedef struct
{
  guint  stage, phrase;
  double detection;
  int    fa_ord, fa_conf;
} DetPoint;

static const char * const eval_phrases[] = { "unlock", "lock", NULL };

static const Stage stage_table[] = {
  { "raw",         0,                                            -15, 40,  0.5 },
  { "gate",        TL_KWS_STAGE_GATE,                            -15, 40,  0.5 },
  { "gate+llr",    TL_KWS_STAGE_GATE | TL_KWS_STAGE_LLR,         -4,  5,   0.05 },
  { "all",         TL_KWS_STAGE_ALL,                             -4,  5,   0.05 },
};

static int
compare_double (const double *a,
                const double *b)
{
  return (*a > *b) - (*a < *b);
}

/* Draws the DET curves (miss rate against false alarms per hour of
 * non-keyword speech, ordinary and confusable pooled) from the sweep. */
static gboolean
write_det_png (const char  *path,
               GArray      *points,
               double       h_neg,
               GError     **error)
{
  g_autoptr (TlPlot) plot = tl_plot_new (_("Keyword spotting: DET curves (threshold sweep)"),
                                         _("false alarms per hour of speech"),
                                         _("missed keywords (%)"));

  tl_plot_set_x_range (plot, 0, 40);
  tl_plot_set_y_range (plot, 0, 100);
  tl_plot_set_legend (plot, TL_PLOT_LEGEND_TOP_RIGHT);
  for (guint s = 0; s < G_N_ELEMENTS (stage_table); s++)
    for (guint k = 0; eval_phrases[k] != NULL; k++)
      {
        g_autoptr (GArray) x = g_array_new (FALSE, FALSE, sizeof (double));
        g_autoptr (GArray) y = g_array_new (FALSE, FALSE, sizeof (double));
        g_autofree char *label = g_strdup_printf ("%s: %s", eval_phrases[k], stage_table[s].name);

        for (guint i = 0; i < points->len; i++)
          {
            DetPoint *p = &g_array_index (points, DetPoint, i);
            double fx, fy;

            if (p->stage != s || p->phrase != k)
              continue;
            fx = (p->fa_ord + p->fa_conf) / h_neg;
            fy = 100.0 - p->detection;
            g_array_append_val (x, fx);
            g_array_append_val (y, fy);
          }
        tl_plot_add_curve (plot, label, (double *) x->data, (double *) y->data, x->len);
      }
  return tl_plot_write_png (plot, path, 1200, 800, error);
}

static double
hours (GPtrArray *items,
       FileClass  klass)
{
  double s = 0;
  for (guint i = 0; i < items->len; i++)
    if (((Item *) items->pdata[i])->klass == klass)
      s += ((Item *) items->pdata[i])->duration;
  return s / 3600.0;
}

static double
median (GArray *a)
{
  if (a->len == 0)
    return NAN;
  g_array_sort (a, (GCompareFunc) compare_double);
  return g_array_index (a, double, a->len / 2);
}

static double
percentile (GArray *a,
            double  p)
{
  if (a->len == 0)
    return NAN;
  g_array_sort (a, (GCompareFunc) compare_double);
  return g_array_index (a, double, (guint) ceil (p * (a->len - 1)));
}

static int
report (GPtrArray  *items,
        gboolean    json,
        const char *det_png,
        double      audio_s,
        double      wall_s,
        double      cpu_s,
        double      h_ord,
        double      h_conf,
        GArray     *latency_end,
        GArray     *latency_word,
        GArray     *latency_cpu)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) csv = g_string_new ("stage,phrase,threshold,detection,fa_per_hour_ordinary,fa_per_hour_confusable,fa_in_positives\n");
  double p50_end = median (latency_end), p95_end = percentile (latency_end, 0.95);
  double p50_word = median (latency_word), p95_word = percentile (latency_word, 0.95);
  double p50_cpu = median (latency_cpu), p95_cpu = percentile (latency_cpu, 0.95);
  g_autoptr (GArray) points = g_array_new (FALSE, FALSE, sizeof (DetPoint));

  if (json)
    g_string_append_printf (out, "{\n  \"files\": %u, \"audio_s\": %.1f, \"ordinary_h\": %.4f, \"confusable_h\": %.4f,\n"
                            "  \"rtf_wall\": %.4f, \"rtf_cpu\": %.4f,\n"
                            "  \"latency_ms_after_detected_end\": {\"median\": %.0f, \"p95\": %.0f, \"n\": %u},\n"
                            "  \"latency_ms_after_spoken_word\": {\"median\": %.0f, \"p95\": %.0f, \"n\": %u},\n"
                            "  \"latency_ms_after_spoken_word_cpu\": {\"median\": %.0f, \"p95\": %.0f},\n"
                            "  \"stages\": [\n",
                            items->len, audio_s, h_ord, h_conf, wall_s / audio_s, cpu_s / audio_s,
                            p50_end, p95_end, latency_end->len, p50_word, p95_word, latency_word->len,
                            p50_cpu, p95_cpu);
  else
    g_string_append_printf (out, "corpus: %u files, %.1f min audio; ordinary speech %.1f min, confusable %.1f min\n"
                            "real-time factor: %.4f (wall), %.4f (CPU)\n"
                            "latency, event after the detected word end: median %.0f ms, 95%% %.0f ms (n=%u)\n"
                            "latency, event after the spoken word (bare-word clips): median %.0f ms, 95%% %.0f ms (n=%u)\n"
                            "  the same with the deciding thread's CPU time instead of wall time: median %.0f ms, 95%% %.0f ms\n\n"
                            "%-9s %-7s %9s %8s %-38s %9s %9s %7s   %s\n",
                            items->len, audio_s / 60, h_ord * 60, h_conf * 60,
                            wall_s / audio_s, cpu_s / audio_s,
                            p50_end, p95_end, latency_end->len, p50_word, p95_word, latency_word->len,
                            p50_cpu, p95_cpu,
                            "stage", "phrase", "threshold", "detect%", "", "FA/h ord", "FA/h conf", "FA pos",
                            "best threshold with ≤1 FA/h ordinary, ≤5 FA/h confusable");

  for (guint s = 0; s < G_N_ELEMENTS (stage_table); s++)
    for (guint k = 0; eval_phrases[k] != NULL; k++)
      {
        const Stage *st = &stage_table[s];
        const char *phrase = eval_phrases[k];
        const char *other = eval_phrases[k == 0 ? 1 : 0];
        double thr = tl_kws_default_threshold (phrase, st->stages);
        double other_thr = tl_kws_default_threshold (other, st->stages);
        double best_thr = NAN, best_det = -1;
        Tally t, bt = { 0 };

        for (double x = st->lo; x <= st->hi + 1e-9; x += st->step)
          {
            Tally u;
            double det, fo, fc;

            tally (items, st->stages, phrase, x, other_thr, &u);
            det = u.n_pos ? 100.0 * u.n_hit / u.n_pos : NAN;
            fo = h_ord > 0 ? u.fa_ord / h_ord : NAN;
            fc = h_conf > 0 ? u.fa_conf / h_conf : NAN;
            g_string_append_printf (csv, "%s,%s,%.3f,%.2f,%.2f,%.2f,%d\n",
                                    st->name, phrase, x, det, fo, fc, u.fa_pos);
            {
              DetPoint dp = { s, k, det, u.fa_ord, u.fa_conf };
              g_array_append_val (points, dp);
            }
            if (fo <= 1.0 && fc <= 5.0 && det > best_det)
              {
                best_det = det;
                best_thr = x;
                bt = u;
              }
          }
        tally (items, st->stages, phrase, thr, other_thr, &t);
        if (json)
          g_string_append_printf (out, "    {\"stage\": \"%s\", \"phrase\": \"%s\", \"threshold\": %.3f, "
                                  "\"positives\": %d, \"detection\": %.2f, \"detection_festival\": %.2f, "
                                  "\"detection_espeak\": %.2f, \"fa_per_hour_ordinary\": %.2f, "
                                  "\"fa_per_hour_confusable\": %.2f, \"fa_in_positives\": %d, "
                                  "\"best_threshold\": %.3f, \"best_detection\": %.2f}%s\n",
                                  st->name, phrase, thr, t.n_pos,
                                  t.n_pos ? 100.0 * t.n_hit / t.n_pos : NAN,
                                  t.n_pos_f ? 100.0 * t.n_hit_f / t.n_pos_f : NAN,
                                  t.n_pos > t.n_pos_f ? 100.0 * (t.n_hit - t.n_hit_f) / (t.n_pos - t.n_pos_f) : NAN,
                                  h_ord > 0 ? t.fa_ord / h_ord : NAN,
                                  h_conf > 0 ? t.fa_conf / h_conf : NAN, t.fa_pos,
                                  best_thr, best_det,
                                  (s + 1 == G_N_ELEMENTS (stage_table) && eval_phrases[k + 1] == NULL) ? "" : ",");
        else
          {
            g_string_append_printf (out, "%-9s %-7s %9.2f %7.1f%% (Festival %5.1f%%, espeak-ng %5.1f%%) %9.2f %9.2f %7d   ",
                                    st->name, phrase, thr,
                                    t.n_pos ? 100.0 * t.n_hit / t.n_pos : NAN,
                                    t.n_pos_f ? 100.0 * t.n_hit_f / t.n_pos_f : NAN,
                                    t.n_pos > t.n_pos_f ? 100.0 * (t.n_hit - t.n_hit_f) / (t.n_pos - t.n_pos_f) : NAN,
                                    h_ord > 0 ? t.fa_ord / h_ord : NAN,
                                    h_conf > 0 ? t.fa_conf / h_conf : NAN, t.fa_pos);
            if (best_det >= 0)
              g_string_append_printf (out, "%.2f: %.1f%%, %.2f / %.2f FA/h\n", best_thr, best_det,
                                      bt.fa_ord / h_ord, bt.fa_conf / h_conf);
            else
              g_string_append (out, "none reaches it\n");
          }
      }
  if (json)
    {
      g_string_append (out, "  ]\n}\n");
      /* No measurement (no positives, no latency) is null in JSON. */
      g_string_replace (out, "-nan", "null", 0);
      g_string_replace (out, "nan", "null", 0);
    }
  g_print ("%s", out->str);

  if (det_png)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *base = g_str_has_suffix (det_png, ".png")
                                ? g_strndup (det_png, strlen (det_png) - 4) : g_strdup (det_png);
      g_autofree char *csv_path = g_strconcat (base, ".csv", NULL);

      if (!g_file_set_contents (csv_path, csv->str, csv->len, &error))
        return tl_ctl_fail ("%s", error->message);
      if (!write_det_png (det_png, points, h_ord + h_conf, &error))
        return tl_ctl_fail ("%s", error->message);
    }
  return 0;
}

int
tl_ctl_kws_eval (int    argc,
                 char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (_("CORPUS"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = NULL;
  g_autofree char *det_png = NULL;
  g_autofree char *dump = NULL;
  gboolean json = FALSE;
  double floor_log10 = NAN;
  FILE *dump_fp = NULL;
  TlKwsEngine *engine;
  double audio_s = 0, wall_s = 0, cpu_s = 0;
  double h_ord, h_conf;
  g_autoptr (GArray) latency_end = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) latency_word = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) latency_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the results as JSON"), NULL },
    { "det", 0, 0, G_OPTION_ARG_FILENAME, &det_png, N_("Write the DET curves to OUT.png (and OUT.csv)"), N_("OUT.png") },
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &dump, N_("Write every candidate with its scores to a TSV file"), N_("FILE") },
    { "candidate-floor", 0, 0, G_OPTION_ARG_DOUBLE, &floor_log10, N_("The keyphrase search proposes candidates above 10^EXP (default −15)"), N_("EXP") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc != 2)
    return tl_ctl_fail (_("give the corpus folder (made by tests/make-kws-corpus.py)"));
  items = load_manifest (argv[1], &error);
  if (items == NULL)
    return tl_ctl_fail ("%s", error->message);
  engine = tl_kws_engine_new (NULL, NULL, &error);
  if (engine == NULL)
    return tl_ctl_fail ("%s", error->message);
  if (!isnan (floor_log10))
    tl_kws_engine_set_candidate_floor (engine, floor_log10);
  if (dump)
    {
      dump_fp = fopen (dump, "w");
      if (dump_fp == NULL)
        return tl_ctl_fail (_("cannot write “%s”"), dump);
      fprintf (dump_fp, "path\tclass\tphrase_spoken\tword_start\tword_end\tcondition\tphrase\tstart\tend\tkws\tllr\tmargin\twinner\tpeak_db\tfloor_db\tgate_ok\tdecided_at\tverify_us\n");
    }

  for (guint i = 0; i < items->len; i++)
    {
      Item *it = items->pdata[i];
      g_autoptr (TlWav) wav = tl_wav_load_16k_mono (it->path, &error);
      gint64 t0;
      clock_t c0;

      if (wav == NULL)
        {
          tl_kws_engine_free (engine);
          return tl_ctl_fail ("%s", error->message);
        }
      it->candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_kws_candidate_free);
      t0 = g_get_monotonic_time ();
      c0 = clock ();
      if (!tl_kws_engine_reset (engine, &error) ||
          !tl_kws_engine_process (engine, wav->samples, wav->n_frames, it->candidates, &error) ||
          !tl_kws_engine_finish (engine, it->candidates, &error))
        {
          tl_kws_engine_free (engine);
          return tl_ctl_fail ("%s: %s", it->path, error->message);
        }
      wall_s += (g_get_monotonic_time () - t0) / 1e6;
      cpu_s += (double) (clock () - c0) / CLOCKS_PER_SEC;
      audio_s += wav->n_frames / (double) TL_KWS_SAMPLE_RATE;
      it->duration = wav->n_frames / (double) TL_KWS_SAMPLE_RATE;

      for (guint j = 0; j < it->candidates->len; j++)
        {
          TlKwsCandidate *c = it->candidates->pdata[j];
          if (dump_fp)
            fprintf (dump_fp, "%s\t%d\t%s\t%.3f\t%.3f\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%s\t%.1f\t%.1f\t%d\t%.3f\t%" G_GINT64_FORMAT "\n",
                     it->path, it->klass, it->phrase, it->word_start, it->word_end,
                     it->condition, c->phrase, c->start_us / 1e6, c->end_us / 1e6,
                     c->kws_score, c->llr, c->margin, c->winner ? c->winner : "",
                     c->peak_db, c->floor_db, c->gate_ok, c->decided_at_us / 1e6,
                     c->verify_us);
          /* Latency of accepted true detections at the default settings. */
          if (c->accepted && it->klass == CLASS_POSITIVE &&
              g_str_equal (c->phrase, it->phrase))
            {
              double l_end = (c->decided_at_us - c->end_us) / 1e3 + c->decide_us / 1e3;
              double l_word = (c->decided_at_us / 1e6 - it->word_end) * 1e3 + c->decide_us / 1e3;
              double l_cpu = (c->decided_at_us / 1e6 - it->word_end) * 1e3 + c->decide_cpu_us / 1e3;
              g_array_append_val (latency_end, l_end);
              /* The spoken extent is the keyphrase itself only for bare words. */
              if (g_str_equal (it->text, it->phrase))
                {
                  g_array_append_val (latency_word, l_word);
                  g_array_append_val (latency_cpu, l_cpu);
                }
            }
        }
      if (!json && (i + 1) % 50 == 0)
        g_printerr ("\r%u/%u files", i + 1, items->len);
    }
  if (!json)
    g_printerr ("\r");
  if (dump_fp)
    fclose (dump_fp);
  tl_kws_engine_free (engine);

  h_ord = hours (items, CLASS_ORDINARY);
  h_conf = hours (items, CLASS_CONFUSABLE);
  return report (items, json, det_png, audio_s, wall_s, cpu_s,
                            h_ord, h_conf, latency_end, latency_word, latency_cpu);
}
