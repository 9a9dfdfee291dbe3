/* tl-ctl-kws-corpus.c — the manifest of a keyword-spotting corpus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "tl-ctl-kws-corpus.h"

void
tl_kws_item_free (gpointer data)
{
  Item *it = data;
  g_free (it->path);
  g_free (it->phrase);
  g_free (it->condition);
  g_free (it->text);
  g_free (it->voice);
  g_clear_pointer (&it->candidates, g_ptr_array_unref);
  g_free (it);
}

const char *
tl_kws_voice_source (const char *voice)
{
  const char *colon = strchr (voice, ':');
  const char *slash = strchr (voice, '/');
  g_autofree char *prefix = NULL;

  if (colon != NULL && colon > voice && (slash == NULL || colon < slash))
    {
      prefix = g_strndup (voice, colon - voice);
      for (const char *c = prefix; *c; c++)
        if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
          return g_intern_static_string ("unknown");
      return g_intern_string (prefix);
    }
  if (g_str_equal (voice, "librivox"))
    return g_intern_static_string ("librivox");
  return g_intern_static_string ("espeak-ng");
}

GPtrArray *
tl_kws_corpus_load (const char  *dir,
               GError     **error)
{
  g_autofree char *path = g_build_filename (dir, "manifest.tsv", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (tl_kws_item_free);
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
          tl_kws_item_free (it);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("%s:%u: unknown class “%s”"), path, i + 1, f[1]);
          return NULL;
        }
      it->phrase = g_strdup (f[2]);
      it->duration = g_ascii_strtod (f[3], NULL);
      it->word_start = g_ascii_strtod (f[4], NULL);
      it->word_end = g_ascii_strtod (f[5], NULL);
      it->condition = g_strdup (f[6]);
      it->source = tl_kws_voice_source (f[7]);
      it->voice = g_strdup (f[7]);
      it->text = g_strdup (f[8]);
      it->place = it->klass == CLASS_POSITIVE ? tl_kws_keyphrase_place (it->text, it->phrase) : PLACE_UNKNOWN;
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

gboolean
tl_kws_item_allows (const Item *it,
                    const char *phrase)
{
  g_auto (GStrv) list = g_strsplit (it->phrase, ",", -1);
  return g_strv_contains ((const char * const *) list, phrase);
}


/* Whether the character at @p (UTF-8; invalid bytes are no character)
 * belongs to a word: a letter or a digit. */
static gboolean
word_char_at (const char *p)
{
  gunichar c = g_utf8_get_char_validated (p, -1);

  return c != (gunichar) -1 && c != (gunichar) -2 && g_unichar_isalnum (c);
}

/* Whether [@p, @end) holds a word character. */
static gboolean
has_word (const char *p,
          const char *end)
{
  for (; p < end; p = g_utf8_next_char (p))
    if (word_char_at (p))
      return TRUE;
  return FALSE;
}

KeyphrasePlace
tl_kws_keyphrase_place (const char *text,
                        const char *phrase)
{
  g_autofree char *t = NULL, *key = NULL;
  const char *end;
  gsize n;

  if (!g_utf8_validate (text, -1, NULL) || !g_utf8_validate (phrase, -1, NULL))
    return PLACE_UNKNOWN;
  t = g_utf8_strdown (text, -1);
  key = g_utf8_strdown (phrase, -1);
  n = strlen (key);
  end = t + strlen (t);
  if (n == 0)
    return PLACE_UNKNOWN;
  for (const char *at = strstr (t, key); at != NULL; at = strstr (at + 1, key))
    {
      /* a word of its own: "unlock" is not in "unlocked", "lock" not in "unlock" */
      if ((at > t && word_char_at (g_utf8_find_prev_char (t, at))) || word_char_at (at + n))
        continue;
      if (has_word (t, at))
        return PLACE_WORDS_BEFORE;
      return has_word (at + n, end) ? PLACE_WORDS_AFTER : PLACE_ALONE;
    }
  return PLACE_UNKNOWN;
}

const char *
tl_kws_place_name (KeyphrasePlace place)
{
  switch (place)
    {
    case PLACE_ALONE:
      return "alone";
    case PLACE_WORDS_AFTER:
      return "words after";
    case PLACE_WORDS_BEFORE:
      return "words before";
    case PLACE_UNKNOWN:
    case N_PLACES:
    default:
      return "not in the text";
    }
}
