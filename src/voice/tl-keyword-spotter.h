/* tl-keyword-spotter.h — keyword spotting on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* One spotted keyphrase.  Times are microseconds: stream time (since the
 * first sample pushed) and the same instants on the g_get_monotonic_time()
 * clock, so they can be matched with camera frames. */
typedef struct
{
  char   *phrase;
  gint64  start_us;
  gint64  end_us;
  gint64  start_monotonic_us;
  gint64  end_monotonic_us;
  gint64  decided_monotonic_us;  /* when the spotter decided (wall clock) */
  double  score;                 /* ≥ the phrase's threshold */
} TlKeywordEvent;

GType           tl_keyword_event_get_type (void);
#define TL_TYPE_KEYWORD_EVENT (tl_keyword_event_get_type ())
TlKeywordEvent *tl_keyword_event_copy     (const TlKeywordEvent *event);
void            tl_keyword_event_free     (TlKeywordEvent       *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlKeywordEvent, tl_keyword_event_free)

#define TL_TYPE_KEYWORD_SPOTTER (tl_keyword_spotter_get_type ())
G_DECLARE_FINAL_TYPE (TlKeywordSpotter, tl_keyword_spotter, TL, KEYWORD_SPOTTER, GObject)

/* Loads PocketSphinx's en-us model and starts the worker thread.
 * @phrases: NULL for "unlock" and "lock".  Signals are emitted on the
 * thread-default main context of the caller:
 *   ::detected (TlKeywordEvent *event)
 *   ::finished ()                after tl_keyword_spotter_finish()
 *   ::failed (const char *message) */
TlKeywordSpotter *tl_keyword_spotter_new           (const char * const *phrases,
                                                    GError            **error);

/* Thread-safe: queues 16 kHz mono S16 samples; @monotonic_us is the
 * capture time of the first one (or 0 if unknown). */
void              tl_keyword_spotter_push          (TlKeywordSpotter   *self,
                                                    const gint16       *samples,
                                                    gsize               n_samples,
                                                    gint64              monotonic_us);
/* End of stream: pending candidates are decided, then ::finished. */
void              tl_keyword_spotter_finish        (TlKeywordSpotter   *self);

/* Sensitivity: the final score a phrase must reach (see tl-kws-engine.h);
 * lower is more sensitive.  The defaults are calibrated. */
gboolean          tl_keyword_spotter_set_threshold (TlKeywordSpotter   *self,
                                                    const char         *phrase,
                                                    double              threshold);
double            tl_keyword_spotter_get_threshold (TlKeywordSpotter   *self,
                                                    const char         *phrase);
/* Sets thresholds from an a{sd} variant (the settings key's value);
 * unknown phrases are ignored. */
void              tl_keyword_spotter_apply_thresholds (TlKeywordSpotter *self,
                                                       GVariant         *thresholds);
const char * const *tl_keyword_spotter_get_phrases (TlKeywordSpotter   *self);

G_END_DECLS
