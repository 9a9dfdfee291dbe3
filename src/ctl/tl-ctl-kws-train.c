/* tl-ctl-kws-train.c — `twinlockctl kws train`: the keyword verifier,
 * trained on the keyphrase search's own candidates over a training corpus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every candidate the search proposes (at the engine's candidate floor,
 * no gate) over a corpus of tests/make-kws-corpus.py becomes an example:
 * the window of log-mel features the engine would give the verifier, with
 * a few frames more on each side for random shifts.  Its label is the
 * keyphrase of a positive file when the candidate ends inside the spoken
 * extent, else "other" — so the negatives are exactly the hard ones the
 * search confuses.  Every fifth file of each corpus is held out: it picks
 * the epoch whose weights are saved and calibrates the thresholds.
 *
 * Augmentation in training (--augment; without it only shift and masking,
 * as the committed model was trained), on the cached
 * features, each example its own random draw: a shift of the window, a
 * stretch of time about the candidate's end (0.85–1.15), a warp of the mel
 * axis (0.9–1.1, as a longer or shorter vocal tract moves the formants), a
 * floor raised in every band (stationary noise shaped like the window's
 * own spectrum, −30…+3 dB against the band's mean) and masking.
 *
 * Oversampling (--confusable-repeat, --noisy-repeat): the examples of
 * confusable files ("on lock", "unlike" …), and the keyphrase examples of
 * positive files at 10 dB SNR or less, appear several times per epoch,
 * each time with its own random draw.  The class weights count the
 * repeats, so each class still weighs as much as the others; what moves
 * is the weight of these examples within their class.
 *
 * --width trains a wider or narrower network (tl-kws-verifier.h); the
 * example caches hold features only, so they serve any width.  --after
 * moves the window: it ends that many frames after the candidate (the
 * saved model says so, and the engine cuts its windows there); a cache
 * holds the windows of one such position.  --settle-frames trains on the
 * candidates the search proposes that much later (kws eval's option of
 * the same name); a cache holds the candidates of one settle time.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-ctl.h"
#include "tl-ctl-kws.h"
#include "tl-ctl-kws-corpus.h"
#include "tl-kws-engine.h"
#include "tl-kws-features.h"
#include "tl-kws-verifier.h"
#include "tl-model.h"
#include "tl-nn-loss.h"
#include "tl-nn-optim.h"
#include "tl-nn.h"
#include "tl-wav.h"

/* Random shift of the window in training, frames either way. */
#define SHIFT     3
#define EX_FRAMES (TL_KWS_VERIFIER_FRAMES + 2 * SHIFT)
#define EX_FLOATS (EX_FRAMES * TL_KWS_MEL_BANDS)
/* Every fifth file of a corpus is held out. */
#define HELD_OUT_EVERY 5
/* A positive file is noisy for --noisy-repeat at this SNR or less. */
#define NOISY_DB 10

typedef struct
{
  guint32 item;      /* index into the corpus */
  gint32  label;     /* TlKwsClass */
  gint32  held_out;
  gint32  excluded;  /* its voice is left out of this run */
} Example;

typedef struct
{
  GArray *examples;   /* Example */
  GArray *features;   /* float, EX_FLOATS per example */
} Data;

/* Frames from the end of the candidate to the end of the window
 * (--after); fixed for a run. */
static int window_after = TL_KWS_VERIFIER_AFTER;
/* Frames the search settles before it proposes a candidate
 * (--settle-frames); fixed for a run. */
static int search_settle = TL_KWS_SETTLE_FRAMES;

/* The window the engine sees, cropped from an example at @shift frames
 * (SHIFT = the engine's own), each band minus its mean again: the same
 * numbers tl_kws_mel_window() gives for that window. */
static void
crop (float       *out,
      const float *ex,
      int          shift)
{
  memcpy (out, ex + (gsize) shift * TL_KWS_MEL_BANDS, sizeof (float) * TL_KWS_VERIFIER_INPUT);
  tl_kws_mel_centre (out, TL_KWS_VERIFIER_FRAMES);
}

/* The window at @shift frames, stretched in time by @stretch about the
 * candidate's end and warped along the mel axis by @warp, recentred: an
 * unwarped, unstretched draw is crop()'s window. */
static void
crop_warped (float       *out,
             const float *ex,
             float        shift,
             float        stretch,
             float        warp)
{
  /* the frame where the candidate ends, in the window */
  const float anchor = TL_KWS_VERIFIER_FRAMES - 1 - window_after;

  tl_kws_mel_resample (out, TL_KWS_VERIFIER_FRAMES, ex, EX_FRAMES, anchor, shift, stretch, warp);
}

/* Stationary noise at @level (natural log, against each band's mean) added
 * to the energies: log (e^x + e^level), recentred. */
static void
add_floor (float *x,
           float  level)
{
  for (int i = 0; i < TL_KWS_VERIFIER_INPUT; i++)
    {
      float hi = MAX (x[i], level), lo = MIN (x[i], level);
      x[i] = hi + log1pf (expf (lo - hi));
    }
  tl_kws_mel_centre (x, TL_KWS_VERIFIER_FRAMES);
}

/* Masking in training: a random run of up to 6 bands and one of up to 10
 * frames set to their mean (0), so that no single band or instant can
 * decide alone. */
static void
mask (float *x,
      GRand *rng)
{
  int nb = g_rand_int_range (rng, 0, 7), b0 = g_rand_int_range (rng, 0, TL_KWS_MEL_BANDS - nb + 1);
  int nf = g_rand_int_range (rng, 0, 11), f0 = g_rand_int_range (rng, 0, TL_KWS_VERIFIER_FRAMES - nf + 1);

  for (int f = 0; f < TL_KWS_VERIFIER_FRAMES; f++)
    for (int b = b0; b < b0 + nb; b++)
      x[f * TL_KWS_MEL_BANDS + b] = 0;
  for (int f = f0; f < f0 + nf; f++)
    for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
      x[f * TL_KWS_MEL_BANDS + b] = 0;
}

/* One training input from example @ex: shift, stretch, warp, floor, mask
 * (shift and mask only when @augment is off). */
static void
augment_example (float       *out,
                 const float *ex,
                 gboolean     augment,
                 GRand       *rng)
{
  if (!augment)
    {
      crop (out, ex, g_rand_int_range (rng, 0, 2 * SHIFT + 1));
      mask (out, rng);
      return;
    }
  crop_warped (out, ex, (float) g_rand_double_range (rng, 0, 2 * SHIFT),
               (float) g_rand_double_range (rng, 0.85, 1.15),
               (float) g_rand_double_range (rng, 0.9, 1.1));
  /* half the examples get a floor: −30…+3 dB is ln −6.9…0.7 */
  if (g_rand_boolean (rng))
    add_floor (out, (float) g_rand_double_range (rng, -6.9, 0.7));
  mask (out, rng);
}

static gboolean
voice_excluded (const Item  *it,
                char       **exclude)
{
  for (guint i = 0; exclude != NULL && exclude[i] != NULL; i++)
    if (g_str_has_prefix (it->voice, exclude[i]))
      return TRUE;
  return FALSE;
}

/* Whether @ex is a keyphrase example of a positive file mixed with noise
 * at NOISY_DB or less (condition "10dB", "5dB"; "clean" is not). */
static gboolean
noisy_keyphrase (const Item    *it,
                 const Example *ex)
{
  char *end = NULL;
  gint64 db;

  if (it->klass != CLASS_POSITIVE || ex->label == TL_KWS_CLASS_OTHER)
    return FALSE;
  db = g_ascii_strtoll (it->condition, &end, 10);
  return end != it->condition && g_str_equal (end, "dB") && db <= NOISY_DB;
}

static int
label_of (const Item           *it,
          const TlKwsCandidate *c)
{
  double end = c->end_us / 1e6;

  if (it->klass == CLASS_POSITIVE &&
      end > it->word_start - 0.1 && end < it->word_end + 0.15)
    return tl_kws_class_from_phrase (it->phrase);
  return TL_KWS_CLASS_OTHER;
}

static gboolean
collect_examples (GPtrArray   *items,
                  int          held_out_every,
                  double       floor_log10,
                  Data        *data,
                  GError     **error)
{
  TlKwsEngine *engine = tl_kws_engine_new_full (NULL, NULL, NULL, error);
  g_autoptr (TlKwsMel) mel = tl_kws_mel_new ();
  int n_pos = 0, n_found = 0;
  gboolean found;

  if (engine == NULL)
    return FALSE;
  tl_kws_engine_set_stages (engine, 0);
  tl_kws_engine_set_candidate_floor (engine, floor_log10);
  tl_kws_engine_set_settle_frames (engine, search_settle);  /* in range: checked by the caller */
  for (guint i = 0; i < items->len; i++)
    {
      Item *it = items->pdata[i];
      g_autoptr (TlWav) wav = NULL;
      g_autoptr (GPtrArray) cands = NULL;
      gboolean held_out = held_out_every > 0 && i % held_out_every == 0;

      /* A negative file that speaks a keyphrase ("and lock the door") has
       * no label for its candidates. */
      if (it->klass != CLASS_POSITIVE && !g_str_equal (it->phrase, "-"))
        continue;
      wav = tl_wav_load_16k_mono (it->path, error);
      if (wav == NULL)
        {
          tl_kws_engine_free (engine);
          return FALSE;
        }
      it->duration = wav->n_frames / (double) TL_KWS_SAMPLE_RATE;
      cands = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_kws_candidate_free);
      if (!tl_kws_engine_reset (engine, error) ||
          !tl_kws_engine_process (engine, wav->samples, wav->n_frames, cands, error) ||
          !tl_kws_engine_finish (engine, cands, error))
        {
          g_prefix_error (error, "%s: ", it->path);
          tl_kws_engine_free (engine);
          return FALSE;
        }
      n_pos += it->klass == CLASS_POSITIVE;
      /* Stage 1's recall: some candidate (of either phrase) ends in the word. */
      found = FALSE;
      for (guint j = 0; j < cands->len; j++)
        {
          TlKwsCandidate *c = cands->pdata[j];
          Example ex = { i, label_of (it, c), held_out, FALSE };
          gsize at = data->features->len;

          found |= ex.label != TL_KWS_CLASS_OTHER;

          g_array_set_size (data->features, at + EX_FLOATS);
          tl_kws_mel_window (mel, &g_array_index (data->features, float, at),
                             wav->samples, wav->n_frames,
                             c->end_sample + (window_after + SHIFT) * TL_KWS_MEL_HOP,
                             EX_FRAMES);
          g_array_append_val (data->examples, ex);
        }
      n_found += found;
      if ((i + 1) % 50 == 0 || i + 1 == items->len)
        {
          g_printerr ("\r");
          g_printerr (_("candidates: %u/%u files, %u examples"), i + 1, items->len,
                      data->examples->len);
        }
    }
  g_printerr ("\n");
  g_printerr (_("keyphrase search: a candidate ends inside the spoken keyphrase in %d of %d positive files (%.1f %%)\n"),
              n_found, n_pos, n_pos ? 100.0 * n_found / n_pos : NAN);
  tl_kws_engine_free (engine);
  return TRUE;
}

/* Leaves out the examples of excluded voices and counts what is left. */
static gboolean
select_examples (GPtrArray  *items,
                 char      **exclude,
                 Data       *data,
                 GError    **error)
{
  int counts[2][TL_KWS_N_CLASSES] = { { 0 } };

  for (guint i = 0; i < data->examples->len; i++)
    {
      Example *ex = &g_array_index (data->examples, Example, i);

      if (ex->item >= items->len || ex->label < 0 || ex->label >= TL_KWS_N_CLASSES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The example cache does not belong to this corpus; delete it to have it made again"));
          return FALSE;
        }
      ex->excluded = voice_excluded (items->pdata[ex->item], exclude);
      if (!ex->excluded)
        counts[ex->held_out != 0][ex->label]++;
    }
  for (int h = 0; h < 2; h++)
    g_printerr (_("%s: %d “unlock”, %d “lock”, %d other\n"),
                h ? _("held out") : _("training"), counts[h][TL_KWS_CLASS_UNLOCK],
                counts[h][TL_KWS_CLASS_LOCK], counts[h][TL_KWS_CLASS_OTHER]);
  if (counts[0][TL_KWS_CLASS_UNLOCK] == 0 || counts[0][TL_KWS_CLASS_OTHER] == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The corpus gives no “unlock” or no other candidates to learn from"));
      return FALSE;
    }
  return TRUE;
}

/* TLKWSEX1 caches (before --after) hold windows at TL_KWS_VERIFIER_AFTER,
 * with the header up to floor_x1000; TLKWSEX2 (before --settle-frames) the
 * candidates of TL_KWS_SETTLE_FRAMES, with the header up to after. */
#define CACHE_MAGIC_1 "TLKWSEX1"
#define CACHE_MAGIC_2 "TLKWSEX2"
#define CACHE_MAGIC   "TLKWSEX3"

typedef struct
{
  char    magic[8];
  guint32 n_items;
  guint32 n_examples;
  guint32 ex_floats;
  gint32  floor_x1000;
  gint32  after;
  gint32  settle;
} CacheHeader;

#define CACHE_HEADER_1 G_STRUCT_OFFSET (CacheHeader, after)
#define CACHE_HEADER_2 G_STRUCT_OFFSET (CacheHeader, settle)

/* The examples of a corpus, to train again without running the search:
 * a header, the Example records, the features. */
static gboolean
cache_save (const char  *path,
            GPtrArray   *items,
            double       floor_log10,
            Data        *data,
            GError     **error)
{
  CacheHeader h = { CACHE_MAGIC, items->len, data->examples->len, EX_FLOATS,
                    (gint32) lround (floor_log10 * 1000), window_after,
                    search_settle };
  g_autoptr (GByteArray) bytes = g_byte_array_new ();

  g_byte_array_append (bytes, (const guint8 *) &h, sizeof h);
  g_byte_array_append (bytes, (const guint8 *) data->examples->data,
                       data->examples->len * sizeof (Example));
  g_byte_array_append (bytes, (const guint8 *) data->features->data,
                       data->features->len * sizeof (float));
  return g_file_set_contents (path, (const char *) bytes->data, bytes->len, error);
}

static gboolean
cache_load (const char  *path,
            GPtrArray   *items,
            double       floor_log10,
            Data        *data,
            GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0, header = sizeof (CacheHeader);
  CacheHeader h;

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  if (len < CACHE_HEADER_1)
    goto bad;
  memcpy (&h, contents, CACHE_HEADER_1);
  h.after = TL_KWS_VERIFIER_AFTER;
  h.settle = TL_KWS_SETTLE_FRAMES;
  if (memcmp (h.magic, CACHE_MAGIC_1, 8) == 0)
    header = CACHE_HEADER_1;
  else if (memcmp (h.magic, CACHE_MAGIC_2, 8) == 0 && len >= CACHE_HEADER_2)
    {
      header = CACHE_HEADER_2;
      memcpy (&h, contents, CACHE_HEADER_2);
    }
  else if (memcmp (h.magic, CACHE_MAGIC, 8) != 0 || len < sizeof h)
    goto bad;
  else
    memcpy (&h, contents, sizeof h);
  if (h.n_items != items->len ||
      h.ex_floats != EX_FLOATS || h.floor_x1000 != (gint32) lround (floor_log10 * 1000) ||
      h.after != window_after || h.settle != search_settle ||
      len != header + (gsize) h.n_examples * (sizeof (Example) + EX_FLOATS * sizeof (float)))
    goto bad;
  g_array_append_vals (data->examples, contents + header, h.n_examples);
  g_array_append_vals (data->features, contents + header + (gsize) h.n_examples * sizeof (Example),
                       (gsize) h.n_examples * EX_FLOATS);
  g_printerr (_("%u examples from the cache %s\n"), h.n_examples, path);
  return TRUE;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("“%s” is not an example cache of this corpus with this candidate floor, window "
                 "(--after) and settle time (--settle-frames); give another --cache file, or delete "
                 "this one to have it made again"), path);
  return FALSE;
}

/* Probabilities of every example (held-out ones, or all) at shift SHIFT. */
static double
evaluate (TlNet      *net,
          Data       *data,
          gboolean    held_out,
          int         batch,
          float      *probs,
          double     *accuracy)
{
  g_autofree float *input = g_new (float, (gsize) batch * TL_KWS_VERIFIER_INPUT);
  g_autofree int *labels = g_new (int, batch);
  g_autofree guint *index = g_new (guint, batch);
  double loss = 0;
  int n = 0, correct = 0, b = 0;

  for (guint i = 0; i <= data->examples->len; i++)
    {
      if (i < data->examples->len)
        {
          Example *ex = &g_array_index (data->examples, Example, i);
          if ((ex->held_out != 0) != held_out || ex->excluded)
            continue;
          crop (input + (gsize) b * TL_KWS_VERIFIER_INPUT,
                &g_array_index (data->features, float, (gsize) i * EX_FLOATS), SHIFT);
          labels[b] = ex->label;
          index[b++] = i;
        }
      if (b == batch || (i == data->examples->len && b > 0))
        {
          const float *logits = tl_net_forward (net, input, b, false);
          float p[TL_KWS_N_CLASSES];

          loss += b * tl_softmax_xent_forward (NULL, logits, labels, NULL, b, TL_KWS_N_CLASSES);
          for (int k = 0; k < b; k++)
            {
              int best = 0;
              tl_softmax_xent_forward (p, logits + k * TL_KWS_N_CLASSES, labels + k, NULL, 1,
                                       TL_KWS_N_CLASSES);
              for (int j = 1; j < TL_KWS_N_CLASSES; j++)
                if (p[j] > p[best])
                  best = j;
              correct += best == labels[k];
              if (probs)
                memcpy (probs + (gsize) index[k] * TL_KWS_N_CLASSES, p, sizeof p);
            }
          n += b;
          b = 0;
        }
    }
  *accuracy = n ? (double) correct / n : NAN;
  return n ? loss / n : NAN;
}

/* Thresholds from the held-out files: for each keyphrase the lowest
 * probability at which no held-out non-keyword speech (ordinary or
 * confusable) is taken for it, and what that detects. */
static void
calibrate (GPtrArray     *items,
           Data          *data,
           const guint8  *held,
           char         **exclude,
           float         *probs)
{
  for (int k = TL_KWS_CLASS_UNLOCK; k < TL_KWS_N_CLASSES; k++)
    {
      int other = k == TL_KWS_CLASS_UNLOCK ? TL_KWS_CLASS_LOCK : TL_KWS_CLASS_UNLOCK;
      g_autoptr (GHashTable) best = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      double max_neg = 0, h_neg = 0;
      int n_pos = 0, n_hit = 0, n_fa_pos = 0;
      g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

      for (guint i = 0; i < data->examples->len; i++)
        {
          Example *ex = &g_array_index (data->examples, Example, i);
          Item *it = items->pdata[ex->item];
          float *p = probs + (gsize) i * TL_KWS_N_CLASSES;
          int decided = p[TL_KWS_CLASS_UNLOCK] >= p[TL_KWS_CLASS_LOCK] ? TL_KWS_CLASS_UNLOCK
                                                                        : TL_KWS_CLASS_LOCK;
          double score = decided == k ? p[k] : 0;

          if (!ex->held_out || ex->excluded)
            continue;
          if (it->klass != CLASS_POSITIVE)
            {
              max_neg = MAX (max_neg, score);
              if (!g_hash_table_contains (seen, it))
                h_neg += it->duration / 3600;
              g_hash_table_add (seen, it);
            }
          else if (ex->label == k)
            {
              double *prev = g_hash_table_lookup (best, it);
              if (prev == NULL || *prev < score)
                {
                  double *s = g_new (double, 1);
                  *s = score;
                  g_hash_table_insert (best, it, s);
                }
            }
        }
      /* Just above the highest held-out false alarm, on a 0.0001 grid. */
      max_neg = ceil (max_neg * 10000 + 1e-9) / 10000;
      for (guint i = 0; i < items->len; i++)
        {
          Item *it = items->pdata[i];
          double *s;

          if (it->klass != CLASS_POSITIVE || (int) tl_kws_class_from_phrase (it->phrase) != k ||
              !held[i] || voice_excluded (it, exclude))
            continue;
          n_pos++;
          s = g_hash_table_lookup (best, it);
          n_hit += s != NULL && *s >= max_neg;
        }
      for (guint i = 0; i < data->examples->len; i++)
        {
          Example *ex = &g_array_index (data->examples, Example, i);
          float *p = probs + (gsize) i * TL_KWS_N_CLASSES;
          Item *it = items->pdata[ex->item];

          if (ex->held_out && !ex->excluded && it->klass == CLASS_POSITIVE && ex->label != k &&
              p[k] >= max_neg && p[k] >= p[other])
            n_fa_pos++;
        }
      g_print (_("“%s”: threshold %.4f (no false alarm in %.1f min of held-out speech): "
                 "%d of %d held-out positives detected (%.1f %%), %d false alarms in positive files\n"),
               tl_kws_class_phrase (k), max_neg, h_neg * 60, n_hit, n_pos,
               n_pos ? 100.0 * n_hit / n_pos : NAN, n_fa_pos);
    }
}

static gboolean
train (GPtrArray     *items,
       Data          *data,
       const guint8  *held,
       gboolean       augment,
       int            confusable_repeat,
       int            noisy_repeat,
       char         **exclude,
       const char    *out_path,
       int            epochs,
       int            batch,
       float          lr_max,
       guint32        seed,
       int            width,
       GError       **error)
{
  g_autoptr (TlNet) net = tl_kws_verifier_net_new_full (width, window_after, error);
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree float *input = NULL, *dlogits = NULL, *m = NULL, *v = NULL;
  g_autofree float *best_params = NULL, *probs = NULL;
  g_autofree int *labels = NULL;
  float weight[TL_KWS_N_CLASSES];
  int counts[TL_KWS_N_CLASSES] = { 0 };
  int n_confusable = 0, n_noisy = 0;
  double best_loss = INFINITY;
  int best_epoch = -1, step = 0, steps;
  size_t n_params;
  TlNnError err = { 0 };

  if (net == NULL)
    return FALSE;
  tl_net_init_params (net, seed);
  if (!tl_net_prepare (net, batch, true, &err))
    {
      tl_model_set_error (error, &err, _("Cannot prepare the verifier for training"));
      return FALSE;
    }
  tl_net_params (net, &n_params);
  m = g_new0 (float, n_params);
  v = g_new0 (float, n_params);
  best_params = g_new (float, n_params);
  input = g_new (float, (gsize) batch * TL_KWS_VERIFIER_INPUT);
  dlogits = g_new (float, (gsize) batch * TL_KWS_N_CLASSES);
  labels = g_new (int, batch);
  probs = g_new0 (float, (gsize) data->examples->len * TL_KWS_N_CLASSES);

  for (guint i = 0; i < data->examples->len; i++)
    {
      Example *ex = &g_array_index (data->examples, Example, i);
      const Item *it = items->pdata[ex->item];
      int r;

      if (ex->held_out || ex->excluded)
        continue;
      r = 1;
      if (it->klass == CLASS_CONFUSABLE)
        {
          r = confusable_repeat;
          n_confusable++;
        }
      else if (noisy_keyphrase (it, ex))
        {
          r = noisy_repeat;
          n_noisy++;
        }
      for (int k = 0; k < r; k++)
        {
          g_array_append_val (order, i);
          counts[ex->label]++;
        }
    }
  g_printerr (_("per epoch: %u examples (%d from confusable files, %d times each; "
                "%d noisy keyphrase examples, %d times each)\n"),
              order->len, n_confusable, confusable_repeat, n_noisy, noisy_repeat);
  /* Each class weighs as much as the others in the loss. */
  for (int k = 0; k < TL_KWS_N_CLASSES; k++)
    weight[k] = counts[k] ? (float) order->len / (TL_KWS_N_CLASSES * counts[k]) : 0.0f;
  steps = epochs * (int) ((order->len + batch - 1) / batch);

  for (int epoch = 0; epoch < epochs; epoch++)
    {
      double loss_sum = 0, acc = 0, held_loss;
      int n_batches = 0;

      /* Fisher–Yates with the seeded generator: the same seed, the same run. */
      for (guint i = order->len; i > 1; i--)
        {
          guint j = g_rand_int_range (rng, 0, i);
          guint t = g_array_index (order, guint, i - 1);
          g_array_index (order, guint, i - 1) = g_array_index (order, guint, j);
          g_array_index (order, guint, j) = t;
        }
      for (guint s = 0; s < order->len; s += batch)
        {
          int b = MIN ((guint) batch, order->len - s);
          float lr = tl_lr_cosine (lr_max, lr_max / 50, step, steps, steps / 20);
          const float *logits;
          double loss;

          if (b < 2)
            break;
          for (int k = 0; k < b; k++)
            {
              guint i = g_array_index (order, guint, s + k);
              augment_example (input + (gsize) k * TL_KWS_VERIFIER_INPUT,
                               &g_array_index (data->features, float, (gsize) i * EX_FLOATS),
                               augment, rng);
              labels[k] = g_array_index (data->examples, Example, i).label;
            }
          logits = tl_net_forward (net, input, b, true);
          loss = tl_softmax_xent_forward (NULL, logits, labels, weight, b, TL_KWS_N_CLASSES);
          if (!isfinite (loss))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _("Training diverged in epoch %d (the loss is not a number); "
                             "try a lower learning rate"), epoch + 1);
              return FALSE;
            }
          memset (dlogits, 0, sizeof (float) * b * TL_KWS_N_CLASSES);
          tl_softmax_xent_backward (dlogits, logits, labels, weight, b, TL_KWS_N_CLASSES, 1.0f);
          tl_net_zero_grads (net);
          tl_net_backward (net, dlogits);
          tl_net_adam_step (net, m, v, lr, 1e-4f, ++step);
          loss_sum += loss;
          n_batches++;
        }
      held_loss = evaluate (net, data, TRUE, batch, NULL, &acc);
      g_printerr (_("epoch %d/%d: training loss %.4f, held-out loss %.4f, accuracy %.2f %%\n"),
                  epoch + 1, epochs, loss_sum / MAX (n_batches, 1), held_loss, 100 * acc);
      if (!(held_loss >= best_loss))
        {
          best_loss = held_loss;
          best_epoch = epoch;
          memcpy (best_params, tl_net_params (net, NULL), sizeof (float) * n_params);
        }
    }
  memcpy (tl_net_params (net, NULL), best_params, sizeof (float) * n_params);
  g_printerr (_("keeping epoch %d (lowest held-out loss)\n"), best_epoch + 1);
  {
    double acc;
    evaluate (net, data, TRUE, batch, probs, &acc);
  }
  calibrate (items, data, held, exclude, probs);
  return tl_model_save (net, out_path, error);
}

/* The examples of one corpus (from its cache if there is one), appended
 * to @data with item indices counted from @offset. */
static gboolean
load_corpus (GPtrArray   *items,
             guint        offset,
             const char  *cache,
             double       floor_log10,
             Data        *data,
             GError     **error)
{
  Data one = { g_array_new (FALSE, FALSE, sizeof (Example)),
               g_array_new (FALSE, FALSE, sizeof (float)) };
  gboolean ok;

  if (cache && g_file_test (cache, G_FILE_TEST_EXISTS))
    ok = cache_load (cache, items, floor_log10, &one, error);
  else
    ok = collect_examples (items, HELD_OUT_EVERY, floor_log10, &one, error) &&
         (cache == NULL || cache_save (cache, items, floor_log10, &one, error));
  if (ok)
    {
      for (guint i = 0; i < one.examples->len; i++)
        g_array_index (one.examples, Example, i).item += offset;
      g_array_append_vals (data->examples, one.examples->data, one.examples->len);
      g_array_append_vals (data->features, one.features->data, one.features->len);
    }
  g_array_unref (one.examples);
  g_array_unref (one.features);
  return ok;
}

int
tl_ctl_kws_train (int    argc,
                  char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (_("CORPUS… -o MODEL"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (tl_kws_item_free);
  g_autoptr (GByteArray) held = g_byte_array_new ();
  g_autofree char *out = NULL;
  g_auto (GStrv) exclude = NULL;
  g_auto (GStrv) caches = NULL;
  int epochs = 25, batch = 64, seed = 1, confusable_repeat = 1, noisy_repeat = 1, threads = 0;
  int width = TL_KWS_VERIFIER_WIDTH, after = TL_KWS_VERIFIER_AFTER, settle = TL_KWS_SETTLE_FRAMES;
  double lr = 2e-3, floor_log10 = NAN;
  gboolean ok = TRUE, augment = FALSE;
  Data data;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Write the verifier model to MODEL"), N_("MODEL") },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, N_("Passes over the training examples (default 25)"), N_("N") },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, N_("Examples per step (default 64)"), N_("N") },
    { "learning-rate", 0, 0, G_OPTION_ARG_DOUBLE, &lr, N_("Peak learning rate of AdamW (default 0.002)"), N_("LR") },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, N_("Seed of the initial weights and the example order (default 1)"), N_("N") },
    { "candidate-floor", 0, 0, G_OPTION_ARG_DOUBLE, &floor_log10, N_("The keyphrase search proposes candidates above 10^EXP (default: the engine's)"), N_("EXP") },
    { "cache", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &caches, N_("Keep the examples in FILE and reuse them on the next run (one per CORPUS, in their order)"), N_("FILE") },
    { "augment", 0, 0, G_OPTION_ARG_NONE, &augment, N_("Stretch, warp and add a noise floor to the windows in training (default: shift and masking only)"), NULL },
    { "confusable-repeat", 0, 0, G_OPTION_ARG_INT, &confusable_repeat, N_("Show the examples of confusable files N times per epoch (default 1)"), N_("N") },
    { "noisy-repeat", 0, 0, G_OPTION_ARG_INT, &noisy_repeat, N_("Show the keyphrase examples of files at 10 dB SNR or less N times per epoch (default 1)"), N_("N") },
    { "exclude-voice", 0, 0, G_OPTION_ARG_STRING_ARRAY, &exclude, N_("Leave out files whose voice starts with PREFIX (repeatable)"), N_("PREFIX") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, N_("Threads of the network's arithmetic (default: all cores)"), N_("N") },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, N_("Channels of the first convolution; the others have 2 and 4 times as many (default 16)"), N_("N") },
    { "after", 0, 0, G_OPTION_ARG_INT, &after, N_("End the window N frames of 10 ms after the candidate's end (default 8)"), N_("N") },
    { "settle-frames", 0, 0, G_OPTION_ARG_INT, &settle, N_("The keyphrase search proposes a detection N frames of 10 ms after its end (default 10)"), N_("N") },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!tl_ctl_parse (context, &argc, &argv))
    return 2;
  if (argc < 2 || out == NULL)
    return tl_ctl_fail (_("give the training corpus folders (made by tests/make-kws-corpus.py) and -o MODEL"));
  if (epochs < 1 || batch < 2 || batch > 4096 || !(lr > 0 && lr < 1))
    return tl_ctl_fail (_("--epochs must be ≥ 1, --batch 2…4096 and --learning-rate in (0, 1)"));
  if (confusable_repeat < 1 || confusable_repeat > 100 || noisy_repeat < 1 || noisy_repeat > 100)
    return tl_ctl_fail (_("--confusable-repeat and --noisy-repeat must be 1…100"));
  if (threads < 0 || threads > 256)
    return tl_ctl_fail (_("--threads must be 1…256 (0: all cores)"));
  if (threads > 0)
    tl_nn_set_threads (threads);
  if (width < TL_KWS_VERIFIER_MIN_WIDTH || width > TL_KWS_VERIFIER_MAX_WIDTH)
    return tl_ctl_fail (_("--width must be %d…%d"), TL_KWS_VERIFIER_MIN_WIDTH,
                        TL_KWS_VERIFIER_MAX_WIDTH);
  if (after < 0 || after > TL_KWS_VERIFIER_MAX_AFTER)
    return tl_ctl_fail (_("--after must be 0…%d"), TL_KWS_VERIFIER_MAX_AFTER);
  window_after = after;
  if (settle < TL_KWS_MIN_SETTLE_FRAMES || settle > TL_KWS_MAX_SETTLE_FRAMES)
    return tl_ctl_fail (_("--settle-frames must be %d…%d"), TL_KWS_MIN_SETTLE_FRAMES,
                        TL_KWS_MAX_SETTLE_FRAMES);
  search_settle = settle;
  if (caches != NULL && g_strv_length (caches) != (guint) argc - 1)
    return tl_ctl_fail (_("give one --cache per corpus (%d corpora, %u caches)"),
                        argc - 1, g_strv_length (caches));

  data.examples = g_array_new (FALSE, FALSE, sizeof (Example));
  data.features = g_array_new (FALSE, FALSE, sizeof (float));
  if (isnan (floor_log10))
    floor_log10 = TL_KWS_DEFAULT_FLOOR;
  for (int c = 1; ok && c < argc; c++)
    {
      g_autoptr (GPtrArray) one = tl_kws_corpus_load (argv[c], &error);
      guint offset = items->len;

      ok = one != NULL &&
           load_corpus (one, offset, caches ? caches[c - 1] : NULL, floor_log10, &data, &error);
      if (!ok)
        break;
      /* the items move to @items, which frees them */
      for (guint i = 0; i < one->len; i++)
        {
          guint8 h = i % HELD_OUT_EVERY == 0;
          g_byte_array_append (held, &h, 1);
          g_ptr_array_add (items, one->pdata[i]);
        }
      g_ptr_array_set_free_func (one, NULL);
    }
  if (!ok || !select_examples (items, exclude, &data, &error) ||
      !train (items, &data, held->data, augment, confusable_repeat, noisy_repeat, exclude, out,
              epochs, batch, lr, seed, width, &error))
    {
      g_array_unref (data.examples);
      g_array_unref (data.features);
      return tl_ctl_fail ("%s", error->message);
    }
  g_array_unref (data.examples);
  g_array_unref (data.features);
  g_printerr (_("saved %s\n"), out);
  return 0;
}
