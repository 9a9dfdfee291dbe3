/* tl-kws-engine.h — synchronous keyword spotting core (PocketSphinx)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine eats 16 kHz mono S16 samples and decides, for every keyphrase
 * candidate PocketSphinx's keyphrase search proposes, whether it is the
 * word.  It owns no thread and no main context: TlKeywordSpotter runs it on
 * a worker thread, `twinlockctl kws eval` runs it directly over files.
 *
 * Decision cascade for a candidate (each stage can be switched off to
 * measure what it buys):
 *   1. keyphrase search at a permissive floor proposes [start, end] and the
 *      search's own log ratio against its phone loop ("kws score");
 *   2. gate: the word's duration must be plausible and its loudest frames
 *      must stand above the running noise floor;
 *   3. second pass over the buffered audio of the segment: how far the
 *      phrase falls behind the best of a grammar of the keyphrases and their
 *      confusable neighbours ("and lock", "clock", "unload" …), per frame
 *      ("margin", ≤ 0; stage "competitors");
 *   4. the phrase's acoustic score against a free phone loop over the same
 *      frames, per frame ("LLR");
 *   5. the verifier (tl-kws-verifier.h): a small network trained on
 *      candidates of the keyphrase search gives the probabilities of
 *      "unlock", "lock" and anything else from the log-mel features of the
 *      buffered audio around the candidate; the more likely keyphrase is
 *      the candidate's phrase, its probability the score.
 * By default the engine runs stages 1, 2 and 5 (TL_KWS_STAGE_DEFAULT);
 * without the verifier the final score adds the evidence of stages 3 and
 * 4 (see tl_kws_candidate_score()).  The score is compared with the
 * phrase's threshold.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TL_KWS_SAMPLE_RATE 16000
#define TL_KWS_FRAME_US    10000    /* one PocketSphinx frame: 10 ms */

/* Stages of the decision cascade, as flags. */
typedef enum
{
  TL_KWS_STAGE_GATE        = 1 << 0,
  TL_KWS_STAGE_COMPETITORS = 1 << 1,
  TL_KWS_STAGE_LLR         = 1 << 2,
  TL_KWS_STAGE_VERIFIER    = 1 << 3,
  TL_KWS_STAGE_ALL         = 0xF,
  TL_KWS_STAGE_DEFAULT     = TL_KWS_STAGE_GATE | TL_KWS_STAGE_VERIFIER,
} TlKwsStages;

/* The keyphrase search's default floor (log10): low enough that it
 * proposes nearly every spoken keyphrase (README, "Voice"). */
#define TL_KWS_DEFAULT_FLOOR (-45.0)

/* The verifier's windows around a candidate: shifts in frames of the
 * window after the word (`static const int o[] = TL_KWS_VERIFY_OFFSETS;`). */
#define TL_KWS_VERIFY_OFFSETS { 0, -3, 2 }

/* One proposed detection and everything that decided its fate. */
typedef struct
{
  char    *phrase;        /* what was decided: the verifier's keyphrase when
                             it ran, else the search's */
  char    *search_phrase; /* what the keyphrase search proposed */
  gint64   start_us;      /* stream time of the word's first frame */
  gint64   end_us;        /* stream time just past the word's last frame */
  double   kws_score;     /* keyphrase search: log10 p(phrase)/p(phone loop) */
  double   llr;           /* second pass: nats/frame, phrase − free phone loop */
  double   margin;        /* second pass: nats/frame, phrase − best of the
                             phrase and its confusables (≤ 0) */
  char    *winner;        /* second pass: what the confusable grammar heard */
  double   peak_db;       /* loudest 10 % of the word's frames, dBFS */
  double   floor_db;      /* running noise floor at that time, dBFS */
  gboolean verified;      /* the verifier ran */
  double   p_other, p_unlock, p_lock; /* verifier: class probabilities */
  char    *verified_phrase; /* verifier: the more likely keyphrase */
  gint64   end_sample;    /* stream sample just past the word */
  gboolean gate_ok;
  gboolean accepted;
  const char *reason;     /* static string: why accepted or rejected */
  double   score;         /* the score the threshold was compared with */
  gint64   decided_at_us; /* stream time of the audio consumed at decision */
  gint64   verify_us;     /* wall time of the second pass */
  gint64   decide_us;     /* wall time of the work of deciding it (its batch's
                             share of proposing and verifying, and what was
                             finished before it in the same call; a wait for
                             the verifier's audio shows in decided_at_us) */
  gint64   decide_cpu_us; /* the same in CPU time of the deciding thread */
} TlKwsCandidate;

/* The phrase a candidate carries under @stages. */
const char *tl_kws_candidate_phrase (const TlKwsCandidate *candidate,
                                     TlKwsStages           stages);

/* The final score with the verifier: its probability of the phrase;
 * without: kws score × WEIGHT_KWS + LLR × WEIGHT_LLR (stage LLR)
 * + margin × WEIGHT_MARGIN (stage COMPETITORS). */
#define TL_KWS_WEIGHT_KWS    0.1
#define TL_KWS_WEIGHT_LLR    0.5
#define TL_KWS_WEIGHT_MARGIN 1.0

/* "gate,llr,…" (or "none") → stages; an unknown name is a GError. */
gboolean tl_kws_stages_parse     (const char           *list,
                                  TlKwsStages          *stages,
                                  GError              **error);

void     tl_kws_candidate_free   (TlKwsCandidate       *candidate);
/* The score that @stages compare with the threshold. */
double   tl_kws_candidate_score  (const TlKwsCandidate *candidate,
                                  TlKwsStages           stages);
/* Whether @stages accept the candidate at @threshold (reason: static). */
gboolean tl_kws_candidate_passes (const TlKwsCandidate *candidate,
                                  TlKwsStages           stages,
                                  double                threshold,
                                  const char          **reason);
/* Among accepted candidates, un-accepts those inside a longer accepted
 * one ("lock" heard inside "unlock"). */
void     tl_kws_resolve_overlaps (GPtrArray            *candidates);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlKwsCandidate, tl_kws_candidate_free)

typedef struct _TlKwsEngine TlKwsEngine;

/* How an ensemble verifier's members are combined over the verifier's
 * windows: LOGITS averages their logits window by window, then takes the
 * keyphrases' minimum (and "other"'s maximum) over the windows; AFTER_WINDOWS
 * takes each member's minimum/maximum over the windows first, then the
 * mean of the members' log-probabilities, renormalised (for one window
 * the two agree; a verifier of one model is read as it is, whichever the
 * rule). */
typedef enum
{
  TL_KWS_COMBINE_LOGITS,
  TL_KWS_COMBINE_AFTER_WINDOWS,
} TlKwsCombine;

/* Model directory with the en-us acoustic model, dictionary and phone
 * language model; NULL picks the system's PocketSphinx model. */
TlKwsEngine *tl_kws_engine_new        (const char        *model_dir,
                                       const char * const *phrases,
                                       GError           **error);
/* The same with the verifier made of the models at @verifier_paths
 * (NULL-terminated; several: an ensemble; NULL: no verifier, the stages
 * default to gate and second pass); tl_kws_engine_new() loads
 * tl_kws_verifier_default_paths (). */
TlKwsEngine *tl_kws_engine_new_full   (const char        *model_dir,
                                       const char * const *phrases,
                                       const char * const *verifier_paths,
                                       GError           **error);
gboolean     tl_kws_engine_has_verifier (TlKwsEngine     *self);
void         tl_kws_engine_free       (TlKwsEngine       *self);

/* Which stages decide (default TL_KWS_STAGE_DEFAULT, or gate and second
 * pass without a verifier; VERIFIER is ignored without one); resets the thresholds to
 * the stages' defaults.  Without LLR the score compared with the threshold
 * is the kws score alone (COMPETITORS adds its margin to the LLR score
 * only). */
void         tl_kws_engine_set_stages (TlKwsEngine       *self,
                                       TlKwsStages        stages);
TlKwsStages  tl_kws_engine_get_stages (TlKwsEngine      *self);
/* Per-phrase threshold on the final score (LLR in nats/frame, or the kws
 * score's log10 when LLR is off).  FALSE if the phrase is not spotted. */
gboolean     tl_kws_engine_set_threshold (TlKwsEngine   *self,
                                          const char    *phrase,
                                          double         threshold);
double       tl_kws_engine_get_threshold (TlKwsEngine   *self,
                                          const char    *phrase);
/* The rule combining the verifier's members (default TL_KWS_COMBINE_LOGITS). */
void         tl_kws_engine_set_combine (TlKwsEngine     *self,
                                        TlKwsCombine     combine);
/* The verifier's views of each window besides the window itself: copies
 * warped along the mel axis by @warps (each TL_KWS_VERIFIER_MIN_WARP…
 * _MAX_WARP, at most TL_KWS_VERIFIER_MAX_WARPS; by default none: the
 * window alone), their logits averaged with the window's
 * (tl_kws_verifier_classify_views ()).  Measured, not adopted:
 * docs/voice-rounds.md, "Warped views".  FALSE with @error set for warps
 * out of range. */
gboolean     tl_kws_engine_set_warps  (TlKwsEngine       *self,
                                       const float       *warps,
                                       guint              n_warps,
                                       GError           **error);
/* The same from text: "0.94,1.06", or "none" for the window alone; a
 * word that is no number is a GError. */
gboolean     tl_kws_engine_set_warps_list (TlKwsEngine   *self,
                                           const char    *list,
                                           GError       **error);
/* The keyphrase search's floor (log10, default TL_KWS_DEFAULT_FLOOR): candidates below it
 * are never proposed.  Takes effect at the next reset. */
void         tl_kws_engine_set_candidate_floor (TlKwsEngine *self,
                                                double       log10_floor);

/* Frames past a detection's end before the search proposes it (default
 * TL_KWS_SETTLE_FRAMES; TL_KWS_MIN_SETTLE_FRAMES…TL_KWS_MAX_SETTLE_FRAMES):
 * later, the search has settled further on where the word ends, and the
 * event comes later.  FALSE, nothing changed, outside that range. */
#define TL_KWS_SETTLE_FRAMES     10
#define TL_KWS_MIN_SETTLE_FRAMES 5
#define TL_KWS_MAX_SETTLE_FRAMES 30
gboolean     tl_kws_engine_set_settle_frames (TlKwsEngine *self,
                                              int          frames);

/* Feeds samples; appends every candidate decided so far (accepted or not)
 * to @decided (element free func: tl_kws_candidate_free). */
gboolean     tl_kws_engine_process    (TlKwsEngine       *self,
                                       const gint16      *samples,
                                       gsize              n_samples,
                                       GPtrArray         *decided,
                                       GError           **error);
/* End of stream: decides what is still pending. */
gboolean     tl_kws_engine_finish     (TlKwsEngine       *self,
                                       GPtrArray         *decided,
                                       GError           **error);
/* Starts a new stream at time 0. */
gboolean     tl_kws_engine_reset      (TlKwsEngine       *self,
                                       GError           **error);

gint64       tl_kws_engine_get_stream_time (TlKwsEngine *self);
/* The model's default thresholds, calibrated by `twinlockctl kws eval`. */
double       tl_kws_default_threshold (const char        *phrase,
                                       TlKwsStages        stages);

G_END_DECLS
