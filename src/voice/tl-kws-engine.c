/* tl-kws-engine.c — synchronous keyword spotting core (PocketSphinx)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-kws-engine.h"
#include "tl-kws-features.h"
#include "tl-kws-verifier.h"

#include <glib/gi18n.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>

#define DEFAULT_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"

/* PocketSphinx keeps search scores shifted right by this many bits, and
 * reports a keyphrase's score offset by a constant (KWS_MAX) so that it
 * reads as a log probability. */
#define SENSCR_SHIFT 10
#define KWS_OFFSET   1500

#define RING_SECONDS     6
#define RING_SAMPLES     (RING_SECONDS * TL_KWS_SAMPLE_RATE)
#define SAMPLES_PER_FRAME (TL_KWS_SAMPLE_RATE / 100)
#define RING_FRAMES      (RING_SAMPLES / SAMPLES_PER_FRAME)
/* Audio around the candidate the second pass also sees. */
#define MARGIN_FRAMES    5
/* The verifier also sees its window shifted by these many frames (the
 * trainer shifts by up to ±3); with the default window (ending
 * TL_KWS_VERIFIER_AFTER frames after the word) the latest ends no later
 * than the search settles (TL_KWS_SETTLE_FRAMES), so deciding waits no longer;
 * later windows make their candidates wait for their audio. */
static const int verify_offsets[] = TL_KWS_VERIFY_OFFSETS;
/* Restart the keyphrase search's utterance after this long (bounded
 * memory), preferably in a pause. */
#define UTT_SOFT_FRAMES  2000
#define UTT_HARD_FRAMES  6000

/* Words that sound like the keyphrases: the second pass's grammar must
 * prefer the spotted phrase over all of them.  Every word is in the
 * en-us dictionary. */
static const char * const competitors[] = {
  "unlock", "lock", "and lock", "on lock", "in luck", "a lock", "unload",
  "clock", "a lot", "block", "look", "luck", "alarm", "online", "hello",
  "allow", "i'll look", "o'clock", "unlike", "unless", "knock", "lot",
  NULL
};

typedef struct
{
  const char *phrase;   /* owned by the Phrase */
  int         sf, ef;
} Span;

/* Candidates proposed together (their overlaps are resolved together),
 * waiting until the verifier can see all their windows. */
typedef struct
{
  GPtrArray *cands;    /* TlKwsCandidate */
  GArray    *verify;   /* gboolean per candidate: it goes to the verifier
                          (decided when proposed, whatever the stages are
                          by the time its audio is in) */
  gint64     need;     /* samples fed by then */
  gint64     us;       /* wall and CPU time spent on them so far */
  gint64     cpu_us;
} Batch;

static void
batch_free (gpointer data)
{
  Batch *b = data;

  g_ptr_array_unref (b->cands);
  g_array_unref (b->verify);
  g_free (b);
}

typedef struct
{
  char   *phrase;
  double  threshold;
  double  min_dur_s;
  double  max_dur_s;
} Phrase;

struct _TlKwsEngine
{
  ps_decoder_t *ps;        /* continuous keyphrase search */
  ps_decoder_t *verifier;  /* second pass: grammar and phone loop */
  TlKwsVerifier *net;      /* the neural verifier, or NULL */
  TlKwsMel     *mel;
  /* The verifier's windows of a candidate: each member's window (ending
   * its tl_kws_verifier_member_after () frames after the word) shifted by
   * verify_offsets, each distinct window once. */
  int           n_windows;
  int          *window_ends;    /* [n_windows]: frames from the word's end to the window's */
  int          *member_window;  /* [member][verify_offsets]: index into window_ends */
  int           window_lo;      /* the earliest and latest of window_ends */
  int           window_hi;
  float        *features;       /* [n_windows][TL_KWS_VERIFIER_FRAMES][TL_KWS_MEL_BANDS] */
  GQueue       *pending;        /* Batch: proposed, waiting for the verifier's audio */
  /* A candidate is proposed once the search is this many frames past its
   * end (TL_KWS_SETTLE_FRAMES unless set): late enough for the search to
   * settle on the best end frame.  The verifier may then wait longer for
   * its windows (pending). */
  int           settle_frames;
  cmd_ln_t     *config;
  cmd_ln_t     *vconfig;
  GArray       *phrases;   /* Phrase */
  TlKwsStages   stages;
  TlKwsCombine  combine;
  float         warps[TL_KWS_VERIFIER_MAX_WARPS];  /* the verifier's views */
  guint         n_warps;
  double        candidate_floor;
  char         *model_dir;

  /* stream */
  gint64        n_fed;          /* samples fed since reset */
  gint64        utt_start;      /* sample index where the utterance began */
  gboolean      in_utt;
  GArray       *handled;        /* Span: detections decided in this utterance */

  gint16       *ring;           /* last RING_SAMPLES samples */
  float        *frame_db;       /* per 10 ms frame energy, dBFS */
  float        *frame_floor;    /* running noise floor per frame */
  gint64        n_frames;       /* complete energy frames so far */
  double        acc;            /* energy accumulator for the open frame */
  int           acc_n;
  double        floor_db;
};

void
tl_kws_candidate_free (TlKwsCandidate *candidate)
{
  if (candidate == NULL)
    return;
  g_free (candidate->phrase);
  g_free (candidate->search_phrase);
  g_free (candidate->verified_phrase);
  g_free (candidate->winner);
  g_free (candidate);
}

gboolean
tl_kws_stages_parse (const char   *list,
                     TlKwsStages  *stages,
                     GError      **error)
{
  static const struct { const char *name; TlKwsStages flag; } names[] = {
    { "gate", TL_KWS_STAGE_GATE },
    { "competitors", TL_KWS_STAGE_COMPETITORS },
    { "llr", TL_KWS_STAGE_LLR },
    { "verifier", TL_KWS_STAGE_VERIFIER },
  };
  g_auto (GStrv) parts = g_strsplit (list, ",", -1);
  TlKwsStages out = 0;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *w = g_strstrip (parts[i]);
      gboolean found = FALSE;

      if (*w == '\0' || g_str_equal (w, "none"))
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (names); k++)
        if (g_str_equal (w, names[k].name))
          {
            out |= names[k].flag;
            found = TRUE;
          }
      if (!found)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Unknown keyword-spotting stage “%s” (known: gate, competitors, llr, verifier)"), w);
          return FALSE;
        }
    }
  *stages = out;
  return TRUE;
}

static void
silence_sphinx_log (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      /* PocketSphinx logs to stderr by default; our own g_debug lines say
       * what matters.  TL_SPHINX_LOG=1 keeps its log for debugging. */
      if (g_getenv ("TL_SPHINX_LOG") == NULL)
        err_set_logfp (NULL);
      g_once_init_leave (&once, 1);
    }
}

double
tl_kws_default_threshold (const char  *phrase,
                          TlKwsStages  stages)
{
  /* Calibrated on a training corpus of tests/make-kws-corpus.py (the
   * verifier's, by `twinlockctl kws train`) or on the evaluation corpus
   * (the older stages): see README "Voice". */
  if ((stages & TL_KWS_STAGE_VERIFIER) &&
      tl_kws_class_from_phrase (phrase) != TL_KWS_CLASS_OTHER)
    return g_str_equal (phrase, "lock") ? TL_KWS_VERIFIER_LOCK_THRESHOLD
                                        : TL_KWS_VERIFIER_UNLOCK_THRESHOLD;
  if (stages & TL_KWS_STAGE_LLR)
    return g_str_equal (phrase, "lock") ? 0.7 : 0.2;
  return g_str_equal (phrase, "lock") ? 11.0 : 15.0;
}

static Phrase *
find_phrase (TlKwsEngine *self,
             const char  *phrase)
{
  for (guint i = 0; i < self->phrases->len; i++)
    {
      Phrase *p = &g_array_index (self->phrases, Phrase, i);
      if (g_str_equal (p->phrase, phrase))
        return p;
    }
  return NULL;
}

static gboolean
check_words (ps_decoder_t  *ps,
             const char    *phrase,
             GError       **error)
{
  g_auto (GStrv) words = g_strsplit (phrase, " ", -1);

  if (words[0] == NULL || *phrase == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("An empty keyphrase cannot be spotted"));
      return FALSE;
    }
  for (guint i = 0; words[i] != NULL; i++)
    {
      char *pron;

      if (*words[i] == '\0')
        continue;
      pron = ps_lookup_word (ps, words[i]);
      if (pron == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("The word “%s” of the keyphrase “%s” is not in the pronunciation dictionary"),
                       words[i], phrase);
          return FALSE;
        }
      ckd_free (pron);
    }
  return TRUE;
}

static gboolean
setup_searches (TlKwsEngine  *self,
                GError      **error)
{
  g_autoptr (GString) list = g_string_new (NULL);
  g_autoptr (GString) grammar = g_string_new ("#JSGF V1.0;\ngrammar tlkws;\npublic <s> = ");
  g_autofree char *tmp = NULL;
  g_autofree char *phone_lm = NULL;
  g_autoptr (GError) local = NULL;
  gboolean first = TRUE;
  int fd;
  int rc;

  for (guint i = 0; i < self->phrases->len; i++)
    {
      Phrase *p = &g_array_index (self->phrases, Phrase, i);
      g_string_append_printf (list, "%s /1e%d/\n", p->phrase,
                              (int) floor (self->candidate_floor));
      g_string_append_printf (grammar, "%s%s", first ? "" : " | ", p->phrase);
      first = FALSE;
    }
  for (guint i = 0; competitors[i] != NULL; i++)
    if (find_phrase (self, competitors[i]) == NULL &&
        check_words (self->verifier, competitors[i], NULL))
      g_string_append_printf (grammar, " | %s", competitors[i]);
  g_string_append (grammar, ";\n");

  /* The 5prealpha API reads a keyphrase list with per-phrase thresholds
   * only from a file. */
  fd = g_file_open_tmp ("twinlock-kws-XXXXXX.txt", &tmp, &local);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot write the keyphrase list: %s"), local->message);
      return FALSE;
    }
  close (fd);
  if (!g_file_set_contents (tmp, list->str, list->len, &local))
    {
      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot write the keyphrase list: %s"), local->message);
      return FALSE;
    }
  rc = ps_set_kws (self->ps, "kws", tmp);
  g_unlink (tmp);
  if (rc < 0 || ps_set_search (self->ps, "kws") < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("PocketSphinx refused the keyphrase list"));
      return FALSE;
    }

  if (ps_set_jsgf_string (self->verifier, "grammar", grammar->str) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("PocketSphinx refused the verification grammar"));
      return FALSE;
    }
  for (guint i = 0; i < self->phrases->len; i++)
    {
      Phrase *p = &g_array_index (self->phrases, Phrase, i);
      g_autofree char *name = g_strconcat ("kw:", p->phrase, NULL);
      g_autofree char *jsgf = g_strdup_printf ("#JSGF V1.0;\ngrammar tlkw;\npublic <s> = %s;\n",
                                               p->phrase);
      if (ps_set_jsgf_string (self->verifier, name, jsgf) < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _("PocketSphinx refused the grammar for “%s”"), p->phrase);
          return FALSE;
        }
    }
  phone_lm = g_build_filename (self->model_dir, "en-us-phone.lm.bin", NULL);
  if (ps_set_allphone_file (self->verifier, "phones", phone_lm) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("Cannot load the phone language model “%s”"), phone_lm);
      return FALSE;
    }
  return TRUE;
}

static cmd_ln_t *
make_config (const char *model_dir,
             gboolean    second_pass,
             GError    **error)
{
  g_autofree char *hmm = g_build_filename (model_dir, "en-us", NULL);
  g_autofree char *dict = g_build_filename (model_dir, "cmudict-en-us.dict", NULL);
  cmd_ln_t *config;

  if (!g_file_test (hmm, G_FILE_TEST_IS_DIR) ||
      !g_file_test (dict, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("No PocketSphinx en-us model in “%s” (install the pocketsphinx-en-us package)"),
                   model_dir);
      return NULL;
    }
  /* remove_silence off: frame numbers must stay sample-exact stream time;
   * Twinlock gates on energy itself. */
  config = cmd_ln_init (NULL, ps_args (), TRUE,
                        "-hmm", hmm,
                        "-dict", dict,
                        "-remove_silence", "no",
                        "-kws_delay", "2",
                        /* the verifier's free phone loop: context-independent
                         * phones keep its network small enough to restart
                         * for every candidate */
                        "-allphone_ci", "yes",
                        /* PocketSphinx normalises each frame's scores by the
                         * best active senone; scoring all of them makes the
                         * second pass's searches comparable with each
                         * other.  The keyphrase search does without: the
                         * same candidates (420 keyword clips at the floor
                         * 10^-45) for 58 % of the CPU time. */
                        "-compallsen", second_pass ? "yes" : "no",
                        "-samprate", "16000",
                        /* The second pass without noise removal: its noise
                         * estimate would carry from one candidate's audio
                         * to the next and make a word's scores depend on
                         * what was verified before it. */
                        "-remove_noise", second_pass ? "no" : "yes",
                        NULL);
  if (config == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _("PocketSphinx refused its configuration"));
  return config;
}

TlKwsEngine *
tl_kws_engine_new (const char          *model_dir,
                   const char * const  *phrases,
                   GError             **error)
{
  g_auto (GStrv) paths = tl_kws_verifier_default_paths ();

  return tl_kws_engine_new_full (model_dir, phrases, (const char * const *) paths, error);
}

gboolean
tl_kws_engine_has_verifier (TlKwsEngine *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->net != NULL;
}

/* The verifier's windows (TlKwsEngine.window_ends …). */
static void
plan_windows (TlKwsEngine *self)
{
  guint n_members = tl_kws_verifier_n_members (self->net);
  guint n_offsets = G_N_ELEMENTS (verify_offsets);

  self->window_ends = g_new (int, n_members * n_offsets);
  self->member_window = g_new (int, n_members * n_offsets);
  self->n_windows = (int) tl_kws_verifier_plan_windows (self->net, verify_offsets, n_offsets,
                                                        self->window_ends, self->member_window);
  self->window_lo = self->window_hi = self->window_ends[0];
  for (int w = 1; w < self->n_windows; w++)
    {
      self->window_lo = MIN (self->window_lo, self->window_ends[w]);
      self->window_hi = MAX (self->window_hi, self->window_ends[w]);
    }
  self->features = g_new (float, (gsize) self->n_windows * TL_KWS_VERIFIER_INPUT);
}

TlKwsEngine *
tl_kws_engine_new_full (const char          *model_dir,
                        const char * const  *phrases,
                        const char * const  *verifier_paths,
                        GError             **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  TlKwsEngine *self;

  silence_sphinx_log ();
  if (phrases == NULL)
    {
      g_ptr_array_add (list, (gpointer) "unlock");
      g_ptr_array_add (list, (gpointer) "lock");
    }
  else
    for (guint i = 0; phrases[i] != NULL; i++)
      g_ptr_array_add (list, (gpointer) phrases[i]);
  if (list->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("No keyphrase to spot"));
      return NULL;
    }

  self = g_new0 (TlKwsEngine, 1);
  self->model_dir = g_strdup (model_dir ? model_dir : DEFAULT_MODEL_DIR);
  self->candidate_floor = TL_KWS_DEFAULT_FLOOR;
  self->settle_frames = TL_KWS_SETTLE_FRAMES;
  if (verifier_paths != NULL)
    {
      self->net = tl_kws_verifier_load_ensemble (verifier_paths, error);
      if (self->net == NULL)
        goto fail;
      self->mel = tl_kws_mel_new ();
      plan_windows (self);
    }
  self->stages = self->net ? TL_KWS_STAGE_DEFAULT
                           : TL_KWS_STAGE_ALL & ~TL_KWS_STAGE_VERIFIER;
  self->phrases = g_array_new (FALSE, TRUE, sizeof (Phrase));
  self->handled = g_array_new (FALSE, FALSE, sizeof (Span));
  self->pending = g_queue_new ();
  self->ring = g_new0 (gint16, RING_SAMPLES);
  self->frame_db = g_new0 (float, RING_FRAMES);
  self->frame_floor = g_new0 (float, RING_FRAMES);

  self->config = make_config (self->model_dir, FALSE, error);
  if (self->config == NULL)
    goto fail;
  self->vconfig = make_config (self->model_dir, TRUE, error);
  if (self->vconfig == NULL)
    goto fail;
  self->ps = ps_init (self->config);
  self->verifier = ps_init (self->vconfig);
  if (self->ps == NULL || self->verifier == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("PocketSphinx could not load its model from “%s”"),
                   self->model_dir);
      goto fail;
    }

  for (guint i = 0; i < list->len; i++)
    {
      g_autofree char *norm = g_strstrip (g_ascii_strdown (list->pdata[i], -1));
      Phrase p = { 0 };

      if (!check_words (self->ps, norm, error))
        goto fail;
      if (find_phrase (self, norm) != NULL)
        continue;
      p.phrase = g_steal_pointer (&norm);
      p.threshold = tl_kws_default_threshold (p.phrase, self->stages);
      /* A spoken keyphrase of n syllables: plausible durations. */
      p.min_dur_s = 0.12;
      p.max_dur_s = 1.6;
      g_array_append_val (self->phrases, p);
    }

  if (!tl_kws_engine_reset (self, error))
    goto fail;
  return self;

fail:
  tl_kws_engine_free (self);
  return NULL;
}

void
tl_kws_engine_free (TlKwsEngine *self)
{
  if (self == NULL)
    return;
  if (self->ps && self->in_utt)
    ps_end_utt (self->ps);
  g_clear_pointer (&self->ps, ps_free);
  g_clear_pointer (&self->verifier, ps_free);
  g_clear_pointer (&self->net, tl_kws_verifier_free);
  g_clear_pointer (&self->mel, tl_kws_mel_free);
  g_free (self->features);
  g_free (self->window_ends);
  g_free (self->member_window);
  g_clear_pointer (&self->config, cmd_ln_free_r);
  g_clear_pointer (&self->vconfig, cmd_ln_free_r);
  for (guint i = 0; self->phrases && i < self->phrases->len; i++)
    g_free (g_array_index (self->phrases, Phrase, i).phrase);
  g_clear_pointer (&self->phrases, g_array_unref);
  g_clear_pointer (&self->handled, g_array_unref);
  if (self->pending)
    g_queue_free_full (g_steal_pointer (&self->pending), batch_free);
  g_free (self->ring);
  g_free (self->frame_db);
  g_free (self->frame_floor);
  g_free (self->model_dir);
  g_free (self);
}

void
tl_kws_engine_set_stages (TlKwsEngine *self,
                          TlKwsStages  stages)
{
  g_return_if_fail (self != NULL);
  self->stages = stages & TL_KWS_STAGE_ALL;
  if (self->net == NULL)
    self->stages &= ~TL_KWS_STAGE_VERIFIER;
  for (guint i = 0; i < self->phrases->len; i++)
    {
      Phrase *p = &g_array_index (self->phrases, Phrase, i);
      p->threshold = tl_kws_default_threshold (p->phrase, self->stages);
    }
}

TlKwsStages
tl_kws_engine_get_stages (TlKwsEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->stages;
}

gboolean
tl_kws_engine_set_threshold (TlKwsEngine *self,
                             const char  *phrase,
                             double       threshold)
{
  Phrase *p;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (phrase != NULL, FALSE);
  p = find_phrase (self, phrase);
  if (p == NULL || !isfinite (threshold))
    return FALSE;
  p->threshold = threshold;
  return TRUE;
}

double
tl_kws_engine_get_threshold (TlKwsEngine *self,
                             const char  *phrase)
{
  Phrase *p;

  g_return_val_if_fail (self != NULL, NAN);
  p = find_phrase (self, phrase);
  return p ? p->threshold : NAN;
}

void
tl_kws_engine_set_combine (TlKwsEngine  *self,
                           TlKwsCombine  combine)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (combine == TL_KWS_COMBINE_LOGITS || combine == TL_KWS_COMBINE_AFTER_WINDOWS);
  self->combine = combine;
}

gboolean
tl_kws_engine_set_warps (TlKwsEngine  *self,
                         const float  *warps,
                         guint         n_warps,
                         GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (warps != NULL || n_warps == 0, FALSE);

  if (n_warps > TL_KWS_VERIFIER_MAX_WARPS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The verifier takes at most %d warped views, not %u"),
                   TL_KWS_VERIFIER_MAX_WARPS, n_warps);
      return FALSE;
    }
  for (guint i = 0; i < n_warps; i++)
    if (!(warps[i] >= TL_KWS_VERIFIER_MIN_WARP && warps[i] <= TL_KWS_VERIFIER_MAX_WARP))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     _("A warp of the verifier's view must lie between %.2f and %.2f, not %g"),
                     TL_KWS_VERIFIER_MIN_WARP, TL_KWS_VERIFIER_MAX_WARP, warps[i]);
        return FALSE;
      }
  if (n_warps > 0)
    memcpy (self->warps, warps, n_warps * sizeof *warps);
  self->n_warps = n_warps;
  return TRUE;
}

gboolean
tl_kws_engine_set_warps_list (TlKwsEngine  *self,
                              const char   *list,
                              GError      **error)
{
  g_auto (GStrv) parts = NULL;
  float warps[TL_KWS_VERIFIER_MAX_WARPS];
  guint n = 0;

  g_return_val_if_fail (self != NULL && list != NULL, FALSE);

  parts = g_strsplit (list, ",", -1);
  if (parts[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("No warp given: give numbers like 0.94,1.06, or none"));
      return FALSE;
    }
  if (g_strv_length (parts) == 1 && g_str_equal (g_strstrip (parts[0]), "none"))
    return tl_kws_engine_set_warps (self, NULL, 0, error);
  if (g_strv_length (parts) > TL_KWS_VERIFIER_MAX_WARPS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The verifier takes at most %d warped views, not %u"),
                   TL_KWS_VERIFIER_MAX_WARPS, g_strv_length (parts));
      return FALSE;
    }
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *w = g_strstrip (parts[i]);
      char *end = NULL;
      double v = g_ascii_strtod (w, &end);

      if (*w == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("The warps “%s” have an empty entry: give numbers like 0.94,1.06, or none"), list);
          return FALSE;
        }
      if (end == NULL || *end != '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s” is no warp: give numbers like 0.94,1.06, or none"), w);
          return FALSE;
        }
      /* checked before rounding to float, as written */
      if (!(v >= TL_KWS_VERIFIER_MIN_WARP && v <= TL_KWS_VERIFIER_MAX_WARP))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("The warp “%s” is out of range: a warp of the verifier's view lies between %.2f and %.2f"),
                       w, TL_KWS_VERIFIER_MIN_WARP, TL_KWS_VERIFIER_MAX_WARP);
          return FALSE;
        }
      warps[n++] = (float) v;
    }
  return tl_kws_engine_set_warps (self, warps, n, error);
}

void
tl_kws_engine_set_candidate_floor (TlKwsEngine *self,
                                   double       log10_floor)
{
  g_return_if_fail (self != NULL);
  self->candidate_floor = CLAMP (log10_floor, -80, 0);
}

gboolean
tl_kws_engine_set_settle_frames (TlKwsEngine *self,
                                 int          frames)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (frames < TL_KWS_MIN_SETTLE_FRAMES || frames > TL_KWS_MAX_SETTLE_FRAMES)
    return FALSE;
  self->settle_frames = frames;
  return TRUE;
}

gint64
tl_kws_engine_get_stream_time (TlKwsEngine *self)
{
  return self->n_fed * G_USEC_PER_SEC / TL_KWS_SAMPLE_RATE;
}

gboolean
tl_kws_engine_reset (TlKwsEngine  *self,
                     GError      **error)
{
  if (self->in_utt)
    ps_end_utt (self->ps);
  self->in_utt = FALSE;
  if (!setup_searches (self, error))
    return FALSE;
  self->n_fed = 0;
  self->utt_start = 0;
  self->n_frames = 0;
  self->acc = 0;
  self->acc_n = 0;
  self->floor_db = NAN;
  memset (self->ring, 0, RING_SAMPLES * sizeof (gint16));
  g_array_set_size (self->handled, 0);
  /* what was still waiting belonged to the old stream */
  g_queue_clear_full (self->pending, batch_free);
  /* Frame numbers count from the start of the stream, not the utterance. */
  if (ps_start_stream (self->ps) < 0 || ps_start_utt (self->ps) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("PocketSphinx could not start listening"));
      return FALSE;
    }
  self->in_utt = TRUE;
  return TRUE;
}

/* Energy per 10 ms frame and a noise floor that falls fast and rises
 * slowly (≈ 5 s time constant), so speech barely lifts it. */
static void
track_energy (TlKwsEngine  *self,
              const gint16 *samples,
              gsize         n)
{
  for (gsize i = 0; i < n; i++)
    {
      double x = samples[i] / 32768.0;

      self->acc += x * x;
      if (++self->acc_n == SAMPLES_PER_FRAME)
        {
          double db = 10.0 * log10 (self->acc / SAMPLES_PER_FRAME + 1e-10);
          gsize slot = self->n_frames % RING_FRAMES;

          if (isnan (self->floor_db))
            self->floor_db = db;
          else if (db < self->floor_db)
            self->floor_db += 0.3 * (db - self->floor_db);
          else
            self->floor_db += 0.002 * (db - self->floor_db);
          self->frame_db[slot] = db;
          self->frame_floor[slot] = self->floor_db;
          self->n_frames++;
          self->acc = 0;
          self->acc_n = 0;
        }
    }
}

static int
compare_float (gconstpointer a,
               gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* Loudest 10 % of the frames in [f0, f1) (stream frames), and the noise
 * floor just before them. */
static void
segment_energy (TlKwsEngine *self,
                gint64       f0,
                gint64       f1,
                double      *peak_db,
                double      *floor_db)
{
  g_autofree float *v = NULL;
  gint64 oldest = MAX (0, self->n_frames - RING_FRAMES);
  int n = 0;

  f0 = CLAMP (f0, oldest, self->n_frames);
  f1 = CLAMP (f1, f0, self->n_frames);
  *floor_db = f0 > oldest ? self->frame_floor[(f0 - 1) % RING_FRAMES]
                          : (isnan (self->floor_db) ? -100 : self->floor_db);
  if (f1 <= f0)
    {
      *peak_db = -100;
      return;
    }
  v = g_new (float, f1 - f0);
  for (gint64 f = f0; f < f1; f++)
    v[n++] = self->frame_db[f % RING_FRAMES];
  qsort (v, n, sizeof (float), compare_float);
  *peak_db = v[(int) (0.9 * (n - 1))];
}

/* Copies [s0, s1) stream samples out of the ring. */
static gint16 *
ring_copy (TlKwsEngine *self,
           gint64       s0,
           gint64       s1,
           gsize       *n_out)
{
  gint64 oldest = MAX (0, self->n_fed - RING_SAMPLES);
  gint16 *out;

  s0 = CLAMP (s0, oldest, self->n_fed);
  s1 = CLAMP (s1, s0, self->n_fed);
  out = g_new (gint16, MAX (s1 - s0, 1));
  for (gint64 s = s0; s < s1; s++)
    out[s - s0] = self->ring[s % RING_SAMPLES];
  *n_out = s1 - s0;
  return out;
}

/* Decodes @samples with the verifier's search @name; returns the total
 * acoustic score (log base of the decoder) and the hypothesis. */
static gboolean
decode_segment (TlKwsEngine  *self,
                const char   *name,
                const gint16 *samples,
                gsize         n,
                double       *ascr_ln,
                int          *n_frames,
                char        **hyp_out)
{
  logmath_t *lmath = ps_get_logmath (self->verifier);
  const char *hyp;
  gint64 total = 0;

  if (ps_set_search (self->verifier, name) < 0)
    return FALSE;
  if (ps_start_utt (self->verifier) < 0)
    return FALSE;
  ps_process_raw (self->verifier, samples, n, FALSE, TRUE);
  ps_end_utt (self->verifier);
  hyp = ps_get_hyp (self->verifier, NULL);
  for (ps_seg_t *seg = ps_seg_iter (self->verifier); seg; seg = ps_seg_next (seg))
    {
      int32 ascr = 0, lscr = 0, lback = 0;
      ps_seg_prob (seg, &ascr, &lscr, &lback);
      total += ascr;
    }
  *ascr_ln = logmath_log_to_ln (lmath, 1) * (double) (total << SENSCR_SHIFT);
  *n_frames = ps_get_n_frames (self->verifier);
  if (hyp_out)
    *hyp_out = g_strdup (hyp ? hyp : "");
  return TRUE;
}

static void
second_pass (TlKwsEngine    *self,
             TlKwsCandidate *c,
             gint64          s0,
             gint64          s1)
{
  g_autofree gint16 *audio = NULL;
  g_autofree char *kw_search = g_strconcat ("kw:", c->search_phrase, NULL);
  double a_grammar = 0, a_phones = 0, a_kw = 0;
  int nf_grammar = 0, nf_phones = 0, nf_kw = 0;
  gint64 t0 = g_get_monotonic_time ();
  gsize n;

  audio = ring_copy (self, s0 - MARGIN_FRAMES * SAMPLES_PER_FRAME,
                     s1 + MARGIN_FRAMES * SAMPLES_PER_FRAME, &n);
  /* When the confusable grammar itself prefers the phrase, its best path
   * is the phrase's own (the grammar's alternatives all weigh the same):
   * the phrase-only decode would find the same acoustic score, so it runs
   * only when another phrase won. */
  if (n < 10 * SAMPLES_PER_FRAME ||
      !decode_segment (self, "grammar", audio, n, &a_grammar, &nf_grammar, &c->winner))
    nf_kw = 0;
  else if (g_strcmp0 (c->winner, c->search_phrase) == 0)
    {
      a_kw = a_grammar;
      nf_kw = nf_grammar;
    }
  else if (!decode_segment (self, kw_search, audio, n, &a_kw, &nf_kw, NULL))
    nf_kw = 0;
  if (nf_kw <= 0 || a_kw == 0 ||
      !decode_segment (self, "phones", audio, n, &a_phones, &nf_phones, NULL))
    {
      g_free (c->winner);
      c->winner = g_strdup ("");
      c->llr = -INFINITY;
      c->margin = -INFINITY;
    }
  else
    {
      c->llr = (a_kw - a_phones) / nf_kw;
      c->margin = MIN (0.0, (a_kw - a_grammar) / nf_kw);
    }
  c->verify_us = g_get_monotonic_time () - t0;
}

/* The verifier: probabilities of the classes from the features of the
 * window that ends TL_KWS_VERIFIER_AFTER frames after the word (or each
 * member's own, tl_kws_verifier_member_after ()), and of the windows
 * shifted by verify_offsets; the keyphrases keep their
 * lowest probability over the windows, "other" its highest (a keyword
 * must convince the network wherever the window sits; its saturated
 * probabilities on a single window let confusable words through; an
 * ensemble's members are combined per window, or with
 * TL_KWS_COMBINE_AFTER_WINDOWS each member over the windows first).  If
 * tl_kws_engine_set_warps () asked for them, each window is also seen
 * warped along the mel axis, its views' logits averaged with its own.  The
 * more likely of the spotted keyphrases becomes the candidate's phrase. */
static void
verify (TlKwsEngine    *self,
        TlKwsCandidate *c)
{
  int lo = self->window_lo, hi = self->window_hi;
  gint64 len, last;
  gint64 oldest = MAX (0, self->n_fed - RING_SAMPLES);
  g_autofree gint16 *audio = NULL;
  double probs[TL_KWS_N_CLASSES];
  double best = -1;
  gint64 t0 = g_get_monotonic_time ();
  guint n_members = tl_kws_verifier_n_members (self->net);
  gboolean after = self->combine == TL_KWS_COMBINE_AFTER_WINDOWS && n_members > 1;
  /* [member][class]: each member's minimum/maximum over the windows */
  g_autofree double *member_probs = NULL;

  if (tl_kws_class_from_phrase (c->search_phrase) == TL_KWS_CLASS_OTHER)
    return;
  if (after)
    member_probs = g_new (double, n_members * TL_KWS_N_CLASSES);
  /* The audio of all the windows at once, their features computed once
   * per frame: exactly the audio the trainer cuts from the file, samples
   * outside the stream (before its start) silence. */
  last = c->end_sample + (gint64) hi * TL_KWS_MEL_HOP;
  len = TL_KWS_MEL_WIN + (gint64) (TL_KWS_VERIFIER_FRAMES - 1 + hi - lo) * TL_KWS_MEL_HOP;
  audio = g_new (gint16, len);
  for (gint64 i = 0; i < len; i++)
    {
      gint64 s = last - len + i;
      audio[i] = s >= oldest && s < self->n_fed ? self->ring[s % RING_SAMPLES] : 0;
    }
  tl_kws_mel_windows (self->mel, self->features, audio, len, len - (gint64) hi * TL_KWS_MEL_HOP,
                      self->window_ends, self->n_windows, TL_KWS_VERIFIER_FRAMES);
  for (guint o = 0; o < G_N_ELEMENTS (verify_offsets); o++)
    {
      /* each member's window at this offset */
      const float *features[TL_KWS_VERIFIER_MAX_MEMBERS];
      double p[TL_KWS_N_CLASSES];

      for (guint m = 0; m < n_members; m++)
        features[m] = self->features +
                      (gsize) self->member_window[m * G_N_ELEMENTS (verify_offsets) + o] *
                      TL_KWS_VERIFIER_INPUT;
      if (after)
        {
          for (guint m = 0; m < n_members; m++)
            {
              double *q = member_probs + m * TL_KWS_N_CLASSES;

              tl_kws_verifier_classify_views (self->net, (int) m, features[m],
                                              self->warps, self->n_warps, p);
              for (guint k = 0; k < TL_KWS_N_CLASSES; k++)
                q[k] = o == 0 ? p[k]
                       : k == TL_KWS_CLASS_OTHER ? MAX (q[k], p[k]) : MIN (q[k], p[k]);
            }
          continue;
        }
      tl_kws_verifier_classify_windows (self->net, features, self->warps, self->n_warps, p);
      for (guint k = 0; k < TL_KWS_N_CLASSES; k++)
        probs[k] = o == 0 ? p[k]
                   : k == TL_KWS_CLASS_OTHER ? MAX (probs[k], p[k]) : MIN (probs[k], p[k]);
    }
  if (after)
    {
      float mean_log[TL_KWS_N_CLASSES] = { 0 };

      /* A member's probability can underflow to 0: its logarithm is
       * floored at that of the smallest normal double. */
      for (guint m = 0; m < n_members; m++)
        for (guint k = 0; k < TL_KWS_N_CLASSES; k++)
          mean_log[k] += log (MAX (member_probs[m * TL_KWS_N_CLASSES + k], DBL_MIN)) / n_members;
      tl_kws_softmax (probs, mean_log, TL_KWS_N_CLASSES);
    }
  c->p_other = probs[TL_KWS_CLASS_OTHER];
  c->p_unlock = probs[TL_KWS_CLASS_UNLOCK];
  c->p_lock = probs[TL_KWS_CLASS_LOCK];
  for (guint i = 0; i < self->phrases->len; i++)
    {
      const char *phrase = g_array_index (self->phrases, Phrase, i).phrase;
      TlKwsClass k = tl_kws_class_from_phrase (phrase);

      if (k != TL_KWS_CLASS_OTHER && probs[k] > best)
        {
          best = probs[k];
          g_free (c->verified_phrase);
          c->verified_phrase = g_strdup (phrase);
        }
    }
  c->verified = c->verified_phrase != NULL;
  c->verify_us += g_get_monotonic_time () - t0;
}

const char *
tl_kws_candidate_phrase (const TlKwsCandidate *c,
                         TlKwsStages           stages)
{
  if ((stages & TL_KWS_STAGE_VERIFIER) && c->verified)
    return c->verified_phrase;
  return c->search_phrase;
}

double
tl_kws_candidate_score (const TlKwsCandidate *c,
                        TlKwsStages           stages)
{
  double score = c->kws_score;

  if ((stages & TL_KWS_STAGE_VERIFIER) && c->verified)
    return g_str_equal (c->verified_phrase, "lock") ? c->p_lock : c->p_unlock;

  /* Each stage adds its evidence to the keyphrase search's: weights chosen
   * on a third of the measurement corpus (README, "Voice"). */
  if (!(stages & TL_KWS_STAGE_LLR))
    return score;
  score = score * TL_KWS_WEIGHT_KWS + TL_KWS_WEIGHT_LLR * c->llr;
  if (stages & TL_KWS_STAGE_COMPETITORS)
    score += TL_KWS_WEIGHT_MARGIN * c->margin;
  return score;
}

gboolean
tl_kws_candidate_passes (const TlKwsCandidate *c,
                         TlKwsStages           stages,
                         double                threshold,
                         const char          **reason)
{
  const char *why = "accepted";
  gboolean ok = FALSE;

  if ((stages & TL_KWS_STAGE_GATE) && !c->gate_ok)
    why = "gate: implausible duration or too quiet";
  else if (!(tl_kws_candidate_score (c, stages) >= threshold))
    why = (stages & TL_KWS_STAGE_COMPETITORS) && c->margin < 0
            ? "score below threshold (a confusable phrase fits better)"
            : "score below threshold";
  else
    ok = TRUE;
  if (reason)
    *reason = why;
  return ok;
}

static void
decide (TlKwsEngine    *self,
        TlKwsCandidate *c,
        const Phrase   *p)
{
  double dur = (c->end_us - c->start_us) / (double) G_USEC_PER_SEC;
  const Phrase *decided;

  /* The threshold and the duration limits are the decided phrase's. */
  g_free (c->phrase);
  c->phrase = g_strdup (tl_kws_candidate_phrase (c, self->stages));
  decided = find_phrase (self, c->phrase);
  if (decided != NULL)
    p = decided;
  c->gate_ok = dur >= p->min_dur_s && dur <= p->max_dur_s &&
               c->peak_db >= -60.0 && c->peak_db - c->floor_db >= 9.0;
  c->score = tl_kws_candidate_score (c, self->stages);
  c->accepted = tl_kws_candidate_passes (c, self->stages, p->threshold, &c->reason);
}

void
tl_kws_resolve_overlaps (GPtrArray *candidates)
{
  for (guint i = 0; i < candidates->len; i++)
    {
      TlKwsCandidate *a = candidates->pdata[i];
      if (!a->accepted)
        continue;
      for (guint j = 0; j < candidates->len; j++)
        {
          TlKwsCandidate *b = candidates->pdata[j];
          gint64 la = a->end_us - a->start_us, lb = b->end_us - b->start_us;

          if (i == j || !b->accepted)
            continue;
          if (b->start_us < a->end_us && a->start_us < b->end_us &&
              (lb > la || (lb == la && j < i)))
            {
              a->accepted = FALSE;
              a->reason = "inside a longer accepted phrase";
              break;
            }
        }
    }
}

static void
log_candidate (const TlKwsCandidate *c)
{
  g_debug ("kws %s “%s” (search: “%s”) %.2f–%.2f s: kws %.1f, "
           "verifier p(unlock) %.3f p(lock) %.3f p(other) %.3f, "
           "second pass llr %.3f, margin %.3f (grammar heard “%s”), "
           "peak %.1f dB over floor %.1f dB, score %.3f: %s",
           c->accepted ? "ACCEPT" : "reject", c->phrase, c->search_phrase,
           c->start_us / 1e6, c->end_us / 1e6, c->kws_score,
           c->verified ? c->p_unlock : NAN, c->verified ? c->p_lock : NAN,
           c->verified ? c->p_other : NAN, c->llr,
           c->margin, c->winner ? c->winner : "", c->peak_db, c->floor_db,
           c->score, c->reason);
}

typedef struct
{
  char  *word;
  int    sf, ef;
  int32  prob;
} Detection;

/* CPU time of this thread: what deciding costs without other load. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
detection_clear (gpointer data)
{
  g_free (((Detection *) data)->word);
}

/* A detection the search later widens or improves overlaps the span it
 * had when we decided it: it is the same word, not a new one. */
static gboolean
already_handled (TlKwsEngine *self,
                 const char  *word,
                 int          sf,
                 int          ef)
{
  for (guint i = 0; i < self->handled->len; i++)
    {
      Span *h = &g_array_index (self->handled, Span, i);
      if (g_str_equal (h->phrase, word) && h->sf <= ef && sf <= h->ef)
        return TRUE;
    }
  return FALSE;
}

/* Whether @c goes to the verifier: it is on, and the gate (if on) let @c by. */
static gboolean
needs_verifier (TlKwsEngine          *self,
                const TlKwsCandidate *c)
{
  return self->net != NULL && (self->stages & TL_KWS_STAGE_VERIFIER) &&
         (c->gate_ok || !(self->stages & TL_KWS_STAGE_GATE));
}

/* Verifies and decides the batches whose windows' audio has arrived (all
 * of them with @all: the stream ended; what it lacks is silence), oldest
 * first, and hands their candidates to @decided. */
static void
finish_ready (TlKwsEngine *self,
              gboolean     all,
              GPtrArray   *decided)
{
  gint64 t0 = g_get_monotonic_time ();
  gint64 cpu0 = thread_cpu_us ();

  while (!g_queue_is_empty (self->pending))
    {
      Batch *b = g_queue_peek_head (self->pending);

      if (!all && b->need > self->n_fed)
        return;
      g_queue_pop_head (self->pending);
      for (guint i = 0; i < b->cands->len; i++)
        {
          TlKwsCandidate *c = b->cands->pdata[i];
          const Phrase *p = find_phrase (self, c->search_phrase);

          if (p != NULL && g_array_index (b->verify, gboolean, i))
            {
              verify (self, c);
              decide (self, c, p);
            }
        }
      tl_kws_resolve_overlaps (b->cands);
      for (guint i = 0; i < b->cands->len; i++)
        {
          TlKwsCandidate *c = b->cands->pdata[i];

          c->decided_at_us = tl_kws_engine_get_stream_time (self);
          c->decide_us = b->us + g_get_monotonic_time () - t0;
          c->decide_cpu_us = b->cpu_us + thread_cpu_us () - cpu0;
          log_candidate (c);
          g_ptr_array_add (decided, c);
        }
      /* the candidates are @decided's now */
      g_ptr_array_set_free_func (b->cands, NULL);
      batch_free (b);
    }
}

/* Looks at the keyphrase search's detections; proposes those that have
 * settled (and anything overlapping them) once, and decides them as soon
 * as the verifier can see their windows. */
static void
collect (TlKwsEngine *self,
         gboolean     final,
         GPtrArray   *decided)
{
  g_autoptr (GArray) fresh = g_array_new (FALSE, TRUE, sizeof (Detection));
  Batch *batch;
  logmath_t *lmath = ps_get_logmath (self->ps);
  int n_frames = ps_get_n_frames (self->ps);
  int settled_lo = G_MAXINT, settled_hi = G_MININT;
  gint64 t0 = g_get_monotonic_time ();
  gint64 cpu0 = thread_cpu_us ();

  g_array_set_clear_func (fresh, detection_clear);
  ps_get_hyp (self->ps, NULL);
  for (ps_seg_t *seg = ps_seg_iter (self->ps); seg; seg = ps_seg_next (seg))
    {
      Detection d = { 0 };

      ps_seg_frames (seg, &d.sf, &d.ef);
      /* The keyphrase list parser leaves the blank before "/threshold/". */
      d.word = g_strstrip (g_strdup (ps_seg_word (seg)));
      if (already_handled (self, d.word, d.sf, d.ef))
        {
          g_free (d.word);
          continue;
        }
      d.prob = ps_seg_prob (seg, NULL, NULL, NULL);
      g_array_append_val (fresh, d);
      if (final || d.ef + self->settle_frames <= n_frames)
        {
          settled_lo = MIN (settled_lo, d.sf);
          settled_hi = MAX (settled_hi, d.ef);
        }
    }
  if (settled_lo > settled_hi)
    {
      finish_ready (self, FALSE, decided);
      return;
    }
  batch = g_new0 (Batch, 1);
  batch->cands = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_kws_candidate_free);
  batch->verify = g_array_new (FALSE, FALSE, sizeof (gboolean));

  for (guint i = 0; i < fresh->len; i++)
    {
      Detection *d = &g_array_index (fresh, Detection, i);
      const Phrase *p = find_phrase (self, d->word);
      TlKwsCandidate *c;
      Span span;
      gint64 s0, s1;
      gboolean verify_it;

      if (d->ef < settled_lo || d->sf > settled_hi || p == NULL)
        continue;
      span.phrase = p->phrase;
      span.sf = d->sf;
      span.ef = d->ef;
      g_array_append_val (self->handled, span);
      s0 = self->utt_start + (gint64) d->sf * SAMPLES_PER_FRAME;
      s1 = self->utt_start + (gint64) (d->ef + 1) * SAMPLES_PER_FRAME;
      c = g_new0 (TlKwsCandidate, 1);
      c->search_phrase = g_strdup (d->word);
      c->end_sample = s1;
      c->start_us = s0 * G_USEC_PER_SEC / TL_KWS_SAMPLE_RATE;
      c->end_us = s1 * G_USEC_PER_SEC / TL_KWS_SAMPLE_RATE;
      c->kws_score = logmath_log_to_ln (lmath, d->prob + KWS_OFFSET) * (1 << SENSCR_SHIFT) / G_LN10;
      segment_energy (self, s0 / SAMPLES_PER_FRAME, s1 / SAMPLES_PER_FRAME,
                      &c->peak_db, &c->floor_db);
      c->llr = -INFINITY;
      c->margin = -INFINITY;
      c->p_other = c->p_unlock = c->p_lock = NAN;
      decide (self, c, p);
      /* The later stages are the costly part: only for what the gate lets by. */
      if (c->gate_ok || !(self->stages & TL_KWS_STAGE_GATE))
        {
          if (self->stages & (TL_KWS_STAGE_COMPETITORS | TL_KWS_STAGE_LLR))
            second_pass (self, c, s0, s1);
          decide (self, c, p);
        }
      /* the verifier's latest window ends window_hi frames after the word */
      verify_it = needs_verifier (self, c);
      if (verify_it)
        batch->need = MAX (batch->need, s1 + (gint64) self->window_hi * TL_KWS_MEL_HOP);
      g_ptr_array_add (batch->cands, c);
      g_array_append_val (batch->verify, verify_it);
    }
  batch->us = g_get_monotonic_time () - t0;
  batch->cpu_us = thread_cpu_us () - cpu0;
  g_queue_push_tail (self->pending, g_steal_pointer (&batch));
  finish_ready (self, FALSE, decided);
}

static gboolean
maybe_restart (TlKwsEngine  *self,
               GPtrArray    *decided,
               GError      **error)
{
  int n = ps_get_n_frames (self->ps);
  gboolean quiet = TRUE;

  if (n < UTT_SOFT_FRAMES)
    return TRUE;
  for (gint64 f = MAX (0, self->n_frames - 30); f < self->n_frames; f++)
    if (self->frame_db[f % RING_FRAMES] > self->frame_floor[f % RING_FRAMES] + 6)
      quiet = FALSE;
  if (!quiet && n < UTT_HARD_FRAMES)
    return TRUE;

  ps_end_utt (self->ps);
  self->in_utt = FALSE;
  collect (self, TRUE, decided);
  g_array_set_size (self->handled, 0);
  /* The new utterance starts at the next sample fed; the search has
   * consumed whole frames only, the rest is dropped with the old one. */
  self->utt_start = self->n_fed;
  if (ps_start_stream (self->ps) < 0 || ps_start_utt (self->ps) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("PocketSphinx could not restart listening"));
      return FALSE;
    }
  self->in_utt = TRUE;
  return TRUE;
}

gboolean
tl_kws_engine_process (TlKwsEngine   *self,
                       const gint16  *samples,
                       gsize          n_samples,
                       GPtrArray     *decided,
                       GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (samples != NULL || n_samples == 0, FALSE);
  g_return_val_if_fail (decided != NULL, FALSE);

  while (n_samples > 0)
    {
      /* Small steps so a candidate is decided as soon as it settles. */
      gsize n = MIN (n_samples, (gsize) 320);

      for (gsize i = 0; i < n; i++)
        self->ring[(self->n_fed + i) % RING_SAMPLES] = samples[i];
      track_energy (self, samples, n);
      if (ps_process_raw (self->ps, samples, n, FALSE, FALSE) < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _("PocketSphinx failed to process audio"));
          return FALSE;
        }
      self->n_fed += n;
      samples += n;
      n_samples -= n;
      collect (self, FALSE, decided);
      if (!maybe_restart (self, decided, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
tl_kws_engine_finish (TlKwsEngine  *self,
                      GPtrArray    *decided,
                      GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->in_utt)
    {
      ps_end_utt (self->ps);
      self->in_utt = FALSE;
      collect (self, TRUE, decided);
    }
  finish_ready (self, TRUE, decided);
  return TRUE;
}
