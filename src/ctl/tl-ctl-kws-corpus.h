/* tl-ctl-kws-corpus.h — the manifest of a corpus made by
 * tests/make-kws-corpus.py, for `twinlockctl kws eval` and `kws train`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum { CLASS_POSITIVE, CLASS_ORDINARY, CLASS_CONFUSABLE } FileClass;

/* Where a positive's keyphrase sits in what was said (its text): alone
 * ("unlock"), followed by words only ("unlock it"), after a word ("please
 * unlock"; also with words after it), or not found in the text. */
typedef enum { PLACE_ALONE, PLACE_WORDS_AFTER, PLACE_WORDS_BEFORE, PLACE_UNKNOWN, N_PLACES } KeyphrasePlace;

typedef struct
{
  char      *path;
  FileClass  klass;
  char      *phrase;      /* positive: the spoken keyphrase; negative: allowed ones or "-" */
  double     duration;
  double     word_start;
  double     word_end;
  char      *condition;
  const char *source;     /* who spoke it: tl_kws_voice_source () of voice */
  char      *voice;       /* e.g. "festival:slt/s100/p0", "flite:awb/s120/p0",
                             "en-us+m3/s150/p50", "librivox" */
  char      *text;
  KeyphrasePlace place;   /* positives: tl_kws_keyphrase_place () of text and phrase */
  GPtrArray *candidates;  /* TlKwsCandidate */
} Item;

void       tl_kws_item_free   (gpointer     data);
/* Items of dir/manifest.tsv (element free func: tl_kws_item_free). */
GPtrArray *tl_kws_corpus_load (const char  *dir,
                               GError     **error);
/* Who spoke a file, from its voice column (tests/make-kws-corpus.py):
 * "festival" and "flite" for "festival:…" and "flite:…", "librivox" for
 * the recorded clips, "espeak-ng" for espeak-ng's voices (no prefix); any
 * other "NAME:…" gives NAME (letters, digits, '-' and '_'; else
 * "unknown").  Interned: compare pointers. */
const char *tl_kws_voice_source (const char *voice);
/* Where @phrase first occurs in @text as a word of its own (case and
 * punctuation aside): see KeyphrasePlace. */
KeyphrasePlace tl_kws_keyphrase_place (const char *text,
                                       const char *phrase);
/* "alone", "words after", "words before", "not in the text". */
const char *tl_kws_place_name (KeyphrasePlace place);
/* Whether a negative file legitimately speaks @phrase ("and lock the door"). */
gboolean   tl_kws_item_allows (const Item  *it,
                               const char  *phrase);

G_END_DECLS
