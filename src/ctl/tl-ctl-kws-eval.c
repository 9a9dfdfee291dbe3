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
#include "tl-ctl-kws-corpus.h"
#include "tl-plot.h"
#include "tl-kws-engine.h"
#include "tl-wav.h"

/* Who spoke the positives (tl_kws_voice_source ()), in the order the
 * detection is broken down by; past MAX_SOURCES - 1 of them, the rest
 * share the last entry, "other". */
#define MAX_SOURCES 8

typedef struct
{
  const char *name[MAX_SOURCES];  /* interned */
  guint       n;
} Sources;

typedef struct
{
  int    n_pos, n_hit;        /* positives of the phrase, detected */
  int    n_pos_s[MAX_SOURCES], n_hit_s[MAX_SOURCES]; /* the same per source */
  int    n_pos_p[N_PLACES], n_hit_p[N_PLACES];       /* and per place in what was said */
  int    fa_ord, fa_conf;     /* false alarms of the phrase */
  int    fa_pos;              /* false alarms inside positive files (other phrase / wrong place) */
} Tally;

static guint
source_index (const Sources *sources,
              const char    *source)
{
  for (guint i = 0; i < sources->n; i++)
    if (sources->name[i] == source)
      return i;
  return MAX_SOURCES - 1;
}

/* The sources of @items' positives: Festival, Flite and espeak-ng first
 * (in that order), then any other in the order they come. */
static void
find_sources (GPtrArray *items,
              Sources   *sources)
{
  const char * const first[] = { "festival", "flite", "espeak-ng" };

  memset (sources, 0, sizeof *sources);
  for (guint k = 0; k <= G_N_ELEMENTS (first); k++)
    for (guint i = 0; i < items->len; i++)
      {
        const Item *it = items->pdata[i];

        if (it->klass != CLASS_POSITIVE ||
            (k < G_N_ELEMENTS (first) && it->source != g_intern_static_string (first[k])) ||
            source_index (sources, it->source) < MAX_SOURCES - 1)
          continue;
        if (sources->n == MAX_SOURCES - 1)
          {
            sources->name[sources->n++] = g_intern_static_string ("other");
            return;
          }
        sources->name[sources->n++] = it->source;
      }
}

/* Applies a decision (stages, threshold per phrase) to every file's
 * candidates, as the engine would have decided them. */
static void
tally (GPtrArray         *items,
       const Sources     *sources,
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
          double thr = g_str_equal (tl_kws_candidate_phrase (c, stages), phrase)
                         ? threshold : other_threshold;
          c->accepted = tl_kws_candidate_passes (c, stages, thr, &c->reason);
          g_ptr_array_add (acc, c);
        }
      tl_kws_resolve_overlaps (acc);
      for (guint j = 0; j < acc->len; j++)
        {
          TlKwsCandidate *c = acc->pdata[j];
          if (!c->accepted || !g_str_equal (tl_kws_candidate_phrase (c, stages), phrase))
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
          else if (!tl_kws_item_allows (it, phrase))
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
          t->n_pos_s[source_index (sources, it->source)]++;
          t->n_hit_s[source_index (sources, it->source)] += hit;
          t->n_pos_p[it->place]++;
          t->n_hit_p[it->place] += hit;
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

/* Rows whose stages the engine did not run are left out. */
static const Stage stage_table[] = {
  { "raw",         0,                                            -45, 40,  0.5 },
  { "gate",        TL_KWS_STAGE_GATE,                            -45, 40,  0.5 },
  { "gate+llr",    TL_KWS_STAGE_GATE | TL_KWS_STAGE_LLR,         -4,  5,   0.05 },
  { "gate+llr+competitors", TL_KWS_STAGE_GATE | TL_KWS_STAGE_LLR | TL_KWS_STAGE_COMPETITORS, -4, 5, 0.05 },
  { "gate+verifier", TL_KWS_STAGE_GATE | TL_KWS_STAGE_VERIFIER,  0,   0.99999, 0.01 },
};

/* The verifier's probabilities crowd near 1: finer steps there, down to
 * 0.00001 above 0.9999. */
static double
next_threshold (const Stage *st,
                double       x)
{
  if ((st->stages & TL_KWS_STAGE_VERIFIER) && x >= 0.9 - 1e-9)
    {
      if (x >= 0.9999 - 1e-9)
        return x + 0.00001;
      if (x >= 0.999 - 1e-9)
        return x + 0.0001;
      return x + (x >= 0.99 - 1e-9 ? 0.0005 : 0.001);
    }
  return x + st->step;
}

static gboolean
stage_was_run (const Stage *st,
               TlKwsStages  run)
{
  return (st->stages & ~run & ~TL_KWS_STAGE_GATE) == 0;
}

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
               TlKwsStages  run,
               GError     **error)
{
  g_autoptr (TlPlot) plot = tl_plot_new (_("Keyword spotting: DET curves (threshold sweep)"),
                                         _("false alarms per hour of speech"),
                                         _("missed keywords (%)"));

  tl_plot_set_x_range (plot, 0, 40);
  tl_plot_set_y_range (plot, 0, 100);
  tl_plot_set_legend (plot, TL_PLOT_LEGEND_TOP_RIGHT);
  for (guint s = 0; s < G_N_ELEMENTS (stage_table); s++)
    for (guint k = 0; eval_phrases[k] != NULL && stage_was_run (&stage_table[s], run); k++)
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

/* Detection (%) of the positives spoken by @source, NAN without any. */
static double
source_detection (const Sources *sources,
                  const Tally   *t,
                  const char    *source)
{
  guint i = source_index (sources, g_intern_static_string (source));

  return sources->name[i] == g_intern_static_string (source) && t->n_pos_s[i] > 0
           ? 100.0 * t->n_hit_s[i] / t->n_pos_s[i] : NAN;
}

/* A source as the text names it. */
static const char *
source_label (const char *name)
{
  if (g_str_equal (name, "festival"))
    return "Festival";
  if (g_str_equal (name, "flite"))
    return "Flite";
  return name;
}

/* "(Festival 53.4%, Flite 50.0%, espeak-ng 68.8%)": the sources that
 * spoke positives of the phrase; empty where there are none. */
static char *
text_by_source (const Sources *sources,
                const Tally   *t)
{
  GString *out = g_string_new ("(");

  for (guint i = 0; i < sources->n; i++)
    if (t->n_pos_s[i] > 0)
      g_string_append_printf (out, "%s%s %5.1f%%", out->len > 1 ? ", " : "",
                              source_label (sources->name[i]), 100.0 * t->n_hit_s[i] / t->n_pos_s[i]);
  if (out->len == 1)
    g_string_truncate (out, 0);  /* no positives: nothing to break down */
  else
    g_string_append_c (out, ')');
  return g_string_free (out, FALSE);
}

/* The widest text_by_source () can be, all the sources in it: the width
 * of its column, so that the columns after it line up.  The names are
 * ASCII (tl_kws_voice_source ()): bytes are columns. */
static int
by_source_width (const Sources *sources)
{
  int width = 2;

  for (guint i = 0; i < sources->n; i++)
    width += (int) ((i > 0 ? strlen (", ") : 0) + strlen (source_label (sources->name[i])) +
                    strlen (" 100.0%"));
  return width;
}

/* "alone 81.6% (80 of 98), words after 78.8% (82 of 104), …": the
 * detection by where the keyphrase sits in what was said, the places
 * that have positives. */
static char *
text_by_place (const Tally *t)
{
  GString *out = g_string_new (NULL);

  for (int k = 0; k < N_PLACES; k++)
    if (t->n_pos_p[k] > 0)
      g_string_append_printf (out, "%s%s %.1f%% (%d of %d)", out->len > 0 ? ", " : "",
                              tl_kws_place_name (k), 100.0 * t->n_hit_p[k] / t->n_pos_p[k],
                              t->n_hit_p[k], t->n_pos_p[k]);
  return g_string_free (out, FALSE);
}

/* The same as JSON objects: place, positives, detection. */
static char *
json_by_place (const Tally *t)
{
  GString *out = g_string_new (NULL);

  for (int k = 0; k < N_PLACES; k++)
    if (t->n_pos_p[k] > 0)
      g_string_append_printf (out, "%s{\"place\": \"%s\", \"positives\": %d, \"detection\": %.2f}",
                              out->len > 0 ? ", " : "", tl_kws_place_name (k), t->n_pos_p[k],
                              100.0 * t->n_hit_p[k] / t->n_pos_p[k]);
  return g_string_free (out, FALSE);
}

/* The same as JSON objects: source, positives, detection. */
static char *
json_by_source (const Sources *sources,
                const Tally   *t)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < sources->n; i++)
    if (t->n_pos_s[i] > 0)
      g_string_append_printf (out, "%s{\"source\": \"%s\", \"positives\": %d, \"detection\": %.2f}",
                              out->len > 0 ? ", " : "", sources->name[i], t->n_pos_s[i],
                              100.0 * t->n_hit_s[i] / t->n_pos_s[i]);
  return g_string_free (out, FALSE);
}

/* @x with @digits decimals for JSON, where no measurement (NAN: no
 * positives, no latency) is null; the text lives as long as @keep. */
static const char *
json_number (GPtrArray *keep,
             double     x,
             int        digits)
{
  char *text = isfinite (x) ? g_strdup_printf ("%.*f", digits, x) : g_strdup ("null");

  g_ptr_array_add (keep, text);
  return text;
}

/* @x with @digits decimals and @unit for the text table, or "-" where
 * there is no measurement (NAN: no positives of the phrase, no speech of
 * a class); the text lives as long as @keep. */
static const char *
text_number (GPtrArray  *keep,
             double      x,
             int         digits,
             const char *unit)
{
  char *text = isfinite (x) ? g_strdup_printf ("%.*f%s", digits, x, unit) : g_strdup ("-");

  g_ptr_array_add (keep, text);
  return text;
}

static int
report (GPtrArray  *items,
        TlKwsStages run,
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
  g_autoptr (GString) places = g_string_new (NULL);
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) csv = g_string_new ("stage,phrase,threshold,detection,fa_per_hour_ordinary,fa_per_hour_confusable,fa_in_positives\n");
  double p50_end = median (latency_end), p95_end = percentile (latency_end, 0.95);
  double p50_word = median (latency_word), p95_word = percentile (latency_word, 0.95);
  double p50_cpu = median (latency_cpu), p95_cpu = percentile (latency_cpu, 0.95);
  g_autoptr (GArray) points = g_array_new (FALSE, FALSE, sizeof (DetPoint));
  guint last_stage = 0;
  Sources sources;
  double p90_word = percentile (latency_word, 0.90), p90_cpu = percentile (latency_cpu, 0.90);

  for (guint s = 0; s < G_N_ELEMENTS (stage_table); s++)
    if (stage_was_run (&stage_table[s], run))
      last_stage = s;
  find_sources (items, &sources);

  if (json)
    g_string_append_printf (out, "{\n  \"files\": %u, \"audio_s\": %s, \"ordinary_h\": %s, \"confusable_h\": %s,\n"
                            "  \"rtf_wall\": %s, \"rtf_cpu\": %s,\n"
                            "  \"latency_ms_after_detected_end\": {\"median\": %s, \"p95\": %s, \"n\": %u},\n"
                            "  \"latency_ms_after_spoken_word\": {\"median\": %s, \"p90\": %s, \"p95\": %s, \"n\": %u},\n"
                            "  \"latency_ms_after_spoken_word_cpu\": {\"median\": %s, \"p90\": %s, \"p95\": %s},\n"
                            "  \"stages\": [\n",
                            items->len, json_number (keep, audio_s, 1), json_number (keep, h_ord, 4),
                            json_number (keep, h_conf, 4), json_number (keep, wall_s / audio_s, 4),
                            json_number (keep, cpu_s / audio_s, 4), json_number (keep, p50_end, 0),
                            json_number (keep, p95_end, 0), latency_end->len,
                            json_number (keep, p50_word, 0), json_number (keep, p90_word, 0),
                            json_number (keep, p95_word, 0), latency_word->len,
                            json_number (keep, p50_cpu, 0), json_number (keep, p90_cpu, 0),
                            json_number (keep, p95_cpu, 0));
  else
    g_string_append_printf (out, "corpus: %u files, %.1f min audio; ordinary speech %.1f min, confusable %.1f min\n"
                            "real-time factor: %.4f (wall), %.4f (CPU)\n"
                            "latency, event after the detected word end: median %s, 95%% %s (n=%u)\n"
                            "latency, event after the spoken word (bare-word clips): median %s, 90%% %s, 95%% %s (n=%u)\n"
                            "  the same with the deciding thread's CPU time instead of wall time: median %s, 90%% %s, 95%% %s\n\n"
                            "%-20s %-7s %9s %8s %-*s %9s %9s %7s   %s\n",
                            items->len, audio_s / 60, h_ord * 60, h_conf * 60,
                            wall_s / audio_s, cpu_s / audio_s,
                            text_number (keep, p50_end, 0, " ms"), text_number (keep, p95_end, 0, " ms"),
                            latency_end->len, text_number (keep, p50_word, 0, " ms"),
                            text_number (keep, p90_word, 0, " ms"), text_number (keep, p95_word, 0, " ms"),
                            latency_word->len, text_number (keep, p50_cpu, 0, " ms"),
                            text_number (keep, p90_cpu, 0, " ms"), text_number (keep, p95_cpu, 0, " ms"),
                            "stage", "phrase", "threshold", "detect%", by_source_width (&sources), "",
                            "FA/h ord", "FA/h conf", "FA pos",
                            "best threshold with ≤1 FA/h ordinary, ≤5 FA/h confusable");

  for (guint s = 0; s < G_N_ELEMENTS (stage_table); s++)
    for (guint k = 0; eval_phrases[k] != NULL && stage_was_run (&stage_table[s], run); k++)
      {
        const Stage *st = &stage_table[s];
        const char *phrase = eval_phrases[k];
        const char *other = eval_phrases[k == 0 ? 1 : 0];
        double thr = tl_kws_default_threshold (phrase, st->stages);
        double other_thr = tl_kws_default_threshold (other, st->stages);
        double best_thr = NAN, best_det = -1;
        g_autofree char *by_source = NULL;
        g_autofree char *by_place = NULL;
        Tally t, bt = { 0 };

        for (double x = st->lo; x <= st->hi + 1e-9; x = next_threshold (st, x))
          {
            Tally u;
            double det, fo, fc;

            tally (items, &sources, st->stages, phrase, x, other_thr, &u);
            det = u.n_pos ? 100.0 * u.n_hit / u.n_pos : NAN;
            fo = h_ord > 0 ? u.fa_ord / h_ord : NAN;
            fc = h_conf > 0 ? u.fa_conf / h_conf : NAN;
            g_string_append_printf (csv, "%s,%s,%.5f,%.2f,%.2f,%.2f,%d\n",
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
        tally (items, &sources, st->stages, phrase, thr, other_thr, &t);
        if (json)
          g_string_append_printf (out, "    {\"stage\": \"%s\", \"phrase\": \"%s\", \"threshold\": %s, "
                                  "\"positives\": %d, \"detection\": %s, \"detection_festival\": %s, "
                                  "\"detection_espeak\": %s, \"detection_by_source\": [%s], "
                                  "\"detection_by_place\": [%s], "
                                  "\"fa_per_hour_ordinary\": %s, "
                                  "\"fa_per_hour_confusable\": %s, \"fa_in_positives\": %d, "
                                  "\"best_threshold\": %s, \"best_detection\": %s}%s\n",
                                  st->name, phrase, json_number (keep, thr, 5), t.n_pos,
                                  json_number (keep, t.n_pos ? 100.0 * t.n_hit / t.n_pos : NAN, 2),
                                  json_number (keep, source_detection (&sources, &t, "festival"), 2),
                                  json_number (keep, source_detection (&sources, &t, "espeak-ng"), 2),
                                  by_source = json_by_source (&sources, &t),
                                  by_place = json_by_place (&t),
                                  json_number (keep, h_ord > 0 ? t.fa_ord / h_ord : NAN, 2),
                                  json_number (keep, h_conf > 0 ? t.fa_conf / h_conf : NAN, 2), t.fa_pos,
                                  json_number (keep, best_thr, 5), json_number (keep, best_det, 2),
                                  (s == last_stage && eval_phrases[k + 1] == NULL) ? "" : ",");
        else
          {
            g_string_append_printf (out, "%-20s %-7s %9.5f %8s %-*s %9s %9s %7d   ",
                                    st->name, phrase, thr,
                                    text_number (keep, t.n_pos ? 100.0 * t.n_hit / t.n_pos : NAN, 1, "%"),
                                    by_source_width (&sources),
                                    by_source = text_by_source (&sources, &t),
                                    text_number (keep, h_ord > 0 ? t.fa_ord / h_ord : NAN, 2, ""),
                                    text_number (keep, h_conf > 0 ? t.fa_conf / h_conf : NAN, 2, ""),
                                    t.fa_pos);
            if (t.n_pos == 0)
              g_string_append (out, "no positives of this phrase\n");
            else if (h_ord <= 0 || h_conf <= 0)
              g_string_append_printf (out, "no %s speech to count false alarms in\n",
                                      h_ord <= 0 && h_conf <= 0 ? "ordinary or confusable"
                                      : h_ord <= 0 ? "ordinary" : "confusable");
            else if (best_det >= 0)
              g_string_append_printf (out, "%.5f: %.1f%%, %.2f / %.2f FA/h\n", best_thr, best_det,
                                      bt.fa_ord / h_ord, bt.fa_conf / h_conf);
            else
              g_string_append (out, "none reaches it\n");
            if (s == last_stage && t.n_pos > 0)
              g_string_append_printf (places, "  %s at %.5f: %s\n", phrase, thr,
                                      by_place = text_by_place (&t));
          }
      }
  if (json)
    g_string_append (out, "  ]\n}\n");
  else if (places->len > 0)
    g_string_append_printf (out, "\ndetection at the defaults of the last stage, by where the keyphrase sits in what was said:\n%s",
                            places->str);
  g_print ("%s", out->str);

  if (det_png)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *base = g_str_has_suffix (det_png, ".png")
                                ? g_strndup (det_png, strlen (det_png) - 4) : g_strdup (det_png);
      g_autofree char *csv_path = g_strconcat (base, ".csv", NULL);

      if (!g_file_set_contents (csv_path, csv->str, csv->len, &error))
        return tl_ctl_fail ("%s", error->message);
      if (!write_det_png (det_png, points, h_ord + h_conf, run, &error))
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
  int settle = TL_KWS_SETTLE_FRAMES;
  g_autofree char *stages_arg = NULL;
  g_auto (GStrv) verifier_paths = NULL;
  g_autofree char *only_voice = NULL;
  g_autofree char *combine_arg = NULL;
  g_autofree char *warps_arg = NULL;
  TlKwsCombine combine = TL_KWS_COMBINE_LOGITS;
  gboolean no_verifier = FALSE;
  TlKwsStages run;
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
    { "candidate-floor", 0, 0, G_OPTION_ARG_DOUBLE, &floor_log10, N_("The keyphrase search proposes candidates above 10^EXP (default −45)"), N_("EXP") },
    { "settle-frames", 0, 0, G_OPTION_ARG_INT, &settle, N_("The keyphrase search proposes a detection N frames of 10 ms after its end (default 10)"), N_("N") },
    { "stages", 0, 0, G_OPTION_ARG_STRING, &stages_arg, N_("Stages the engine runs, comma-separated: gate, competitors, llr, verifier (default: gate, verifier)"), N_("LIST") },
    { "verifier", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &verifier_paths, N_("The verifier model (default: the installed one; repeated: an ensemble, the models' logits averaged)"), N_("MODEL") },
    { "no-verifier", 0, 0, G_OPTION_ARG_NONE, &no_verifier, N_("Run without the verifier"), NULL },
    { "combine", 0, 0, G_OPTION_ARG_STRING, &combine_arg, N_("How an ensemble's members are combined: logits (averaged per window, the default) or after-windows (each member's lowest keyphrase probability over the windows, highest for “other”, then their mean log-probability)"), N_("RULE") },
    { "warps", 0, 0, G_OPTION_ARG_STRING, &warps_arg, N_("The verifier also sees each window warped along the mel axis by these factors, comma-separated (e.g. 0.94,1.06), their logits averaged (default: none, the window alone)"), N_("LIST") },
    { "only-voice", 0, 0, G_OPTION_ARG_STRING, &only_voice, N_("Measure only the files whose voice starts with PREFIX"), N_("PREFIX") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc != 2)
    return tl_ctl_fail (_("give the corpus folder (made by tests/make-kws-corpus.py)"));
  if (g_strcmp0 (combine_arg, "after-windows") == 0)
    combine = TL_KWS_COMBINE_AFTER_WINDOWS;
  else if (combine_arg != NULL && g_strcmp0 (combine_arg, "logits") != 0)
    return tl_ctl_fail (_("unknown --combine rule “%s”: use logits or after-windows"), combine_arg);
  if (combine == TL_KWS_COMBINE_AFTER_WINDOWS &&
      (no_verifier || (verifier_paths != NULL && g_strv_length (verifier_paths) < 2)))
    return tl_ctl_fail (_("--combine after-windows needs an ensemble: give two or more --verifier models, or none for the installed ones"));
  if (settle < TL_KWS_MIN_SETTLE_FRAMES || settle > TL_KWS_MAX_SETTLE_FRAMES)
    return tl_ctl_fail (_("--settle-frames must be %d…%d"), TL_KWS_MIN_SETTLE_FRAMES,
                        TL_KWS_MAX_SETTLE_FRAMES);
  if (warps_arg && no_verifier)
    return tl_ctl_fail (_("--warps needs the verifier: leave out --no-verifier"));
  items = tl_kws_corpus_load (argv[1], &error);
  if (items == NULL)
    return tl_ctl_fail ("%s", error->message);
  if (only_voice)
    {
      for (guint i = items->len; i-- > 0;)
        if (!g_str_has_prefix (((Item *) items->pdata[i])->voice, only_voice))
          g_ptr_array_remove_index (items, i);
      if (items->len == 0)
        return tl_ctl_fail (_("no file of the corpus has a voice starting with “%s”"), only_voice);
    }
  if (no_verifier)
    engine = tl_kws_engine_new_full (NULL, NULL, NULL, &error);
  else if (verifier_paths)
    engine = tl_kws_engine_new_full (NULL, NULL, (const char * const *) verifier_paths, &error);
  else
    engine = tl_kws_engine_new (NULL, NULL, &error);
  if (engine == NULL)
    return tl_ctl_fail ("%s", error->message);
  tl_kws_engine_set_combine (engine, combine);
  if (warps_arg && !tl_kws_engine_set_warps_list (engine, warps_arg, &error))
    {
      tl_kws_engine_free (engine);
      return tl_ctl_fail ("%s", error->message);
    }
  if (!isnan (floor_log10))
    tl_kws_engine_set_candidate_floor (engine, floor_log10);
  tl_kws_engine_set_settle_frames (engine, settle);  /* in range: checked above */
  if (stages_arg)
    {
      TlKwsStages stages;

      if (!tl_kws_stages_parse (stages_arg, &stages, &error))
        {
          tl_kws_engine_free (engine);
          return tl_ctl_fail ("%s", error->message);
        }
      tl_kws_engine_set_stages (engine, stages);
    }
  run = tl_kws_engine_get_stages (engine);
  if (dump)
    {
      dump_fp = fopen (dump, "w");
      if (dump_fp == NULL)
        return tl_ctl_fail (_("cannot write “%s”"), dump);
      fprintf (dump_fp, "path\tclass\tphrase_spoken\tword_start\tword_end\tcondition\tphrase\tstart\tend\tkws\tllr\tmargin\twinner\tpeak_db\tfloor_db\tgate_ok\tdecided_at\tverify_us\tsearch_phrase\tp_unlock\tp_lock\tp_other\tvoice\n");
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
            fprintf (dump_fp, "%s\t%d\t%s\t%.3f\t%.3f\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%s\t%.1f\t%.1f\t%d\t%.3f\t%" G_GINT64_FORMAT "\t%s\t%.5f\t%.5f\t%.5f\t%s\n",
                     it->path, it->klass, it->phrase, it->word_start, it->word_end,
                     it->condition, c->phrase, c->start_us / 1e6, c->end_us / 1e6,
                     c->kws_score, c->llr, c->margin, c->winner ? c->winner : "",
                     c->peak_db, c->floor_db, c->gate_ok, c->decided_at_us / 1e6,
                     c->verify_us, c->search_phrase, c->p_unlock, c->p_lock, c->p_other,
                     it->voice);
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
  return report (items, run, json, det_png, audio_s, wall_s, cpu_s,
                            h_ord, h_conf, latency_end, latency_word, latency_cpu);
}
