/* tl-kws-verifier.c — the keyword spotter's neural second stage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-kws-verifier.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "tl-kws-features.h"
#include "tl-model.h"

G_STATIC_ASSERT (TL_KWS_VERIFIER_INPUT == TL_KWS_VERIFIER_FRAMES * TL_KWS_MEL_BANDS);

/* The default verifier's members, in the model directory. */
static const char * const default_files[] = { TL_KWS_VERIFIER_FILE, "kws-verifier-2.tlnn", NULL };

struct _TlKwsVerifier
{
  GPtrArray *nets;   /* TlNet */
  GArray    *after;  /* int per member: frames from the word's end to its window's end */
};

/* The name of the input node of a network for windows @after frames past
 * the word; "input" for TL_KWS_VERIFIER_AFTER, as files without it say. */
static char *
input_name (int after)
{
  return after == TL_KWS_VERIFIER_AFTER ? g_strdup ("input")
                                        : g_strdup_printf ("mel-after-%d", after);
}

TlKwsClass
tl_kws_class_from_phrase (const char *phrase)
{
  if (g_strcmp0 (phrase, "unlock") == 0)
    return TL_KWS_CLASS_UNLOCK;
  if (g_strcmp0 (phrase, "lock") == 0)
    return TL_KWS_CLASS_LOCK;
  return TL_KWS_CLASS_OTHER;
}

const char *
tl_kws_class_phrase (TlKwsClass klass)
{
  switch (klass)
    {
    case TL_KWS_CLASS_UNLOCK:
      return "unlock";
    case TL_KWS_CLASS_LOCK:
      return "lock";
    case TL_KWS_CLASS_OTHER:
    case TL_KWS_N_CLASSES:
    default:
      return "other";
    }
}

TlNet *
tl_kws_verifier_net_new_full (int      width,
                              int      after,
                              GError **error)
{
  g_autofree char *name = NULL;
  TlNet *net;
  TlNnError err = { 0 };
  int x;

  if (width < TL_KWS_VERIFIER_MIN_WIDTH || width > TL_KWS_VERIFIER_MAX_WIDTH)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The keyword verifier's width must be %d…%d, not %d"),
                   TL_KWS_VERIFIER_MIN_WIDTH, TL_KWS_VERIFIER_MAX_WIDTH, width);
      return NULL;
    }
  if (after < 0 || after > TL_KWS_VERIFIER_MAX_AFTER)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The keyword verifier's window must end 0…%d frames after the word, not %d"),
                   TL_KWS_VERIFIER_MAX_AFTER, after);
      return NULL;
    }
  name = input_name (after);
  net = tl_net_new_named (TL_KWS_VERIFIER_FRAMES, TL_KWS_MEL_BANDS, 1, name);
  x = tl_net_conv2d (net, 0, "conv1", width, 3, 3, 2, TL_PAD_SAME, 1, true);
  x = tl_net_batchnorm (net, x, "bn1", 1e-5f, 0.1f);
  x = tl_net_relu (net, x);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_conv2d (net, x, "conv2", 2 * width, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_batchnorm (net, x, "bn2", 1e-5f, 0.1f);
  x = tl_net_relu (net, x);
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_conv2d (net, x, "conv3", 4 * width, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_batchnorm (net, x, "bn3", 1e-5f, 0.1f);
  x = tl_net_relu (net, x);
  /* Where a sound lies in the window matters ("lock" at its end after
   * "un", or alone): a dense layer over the whole map, not an average. */
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_VALID);
  x = tl_net_dense (net, x, "hidden", 4 * width, true);
  x = tl_net_relu (net, x);
  tl_net_dense (net, x, "logits", TL_KWS_N_CLASSES, true);
  if (!tl_net_build (net, &err))
    {
      tl_model_set_error (error, &err, _("Cannot build the keyword verifier"));
      tl_net_free (net);
      return NULL;
    }
  return net;
}

TlNet *
tl_kws_verifier_net_new_width (int      width,
                               GError **error)
{
  return tl_kws_verifier_net_new_full (width, TL_KWS_VERIFIER_AFTER, error);
}

TlNet *
tl_kws_verifier_net_new (GError **error)
{
  return tl_kws_verifier_net_new_width (TL_KWS_VERIFIER_WIDTH, error);
}

static char *
model_path (const char *file)
{
  const char *env = g_getenv ("TWINLOCK_MODELDIR");
  g_autofree char *installed = g_build_filename (TL_MODELDIR, file, NULL);

  if (env != NULL && env[0] != '\0')
    return g_build_filename (env, file, NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&installed);
  return g_build_filename (TL_SOURCE_MODELDIR, file, NULL);
}

char *
tl_kws_verifier_default_path (void)
{
  return model_path (default_files[0]);
}

char **
tl_kws_verifier_default_paths (void)
{
  GStrvBuilder *b = g_strv_builder_new ();
  char **paths;

  for (guint i = 0; default_files[i] != NULL; i++)
    {
      g_autofree char *path = model_path (default_files[i]);
      g_strv_builder_add (b, path);
    }
  paths = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return paths;
}

/* The width of the verifier in @file, a model file read from @path. */
static int
net_width (TlNet       *file,
           const char  *path,
           GError     **error)
{
  /* conv1's weights: [3][3][1][width] */
  TlNnTensor *t = tl_net_find_tensor (file, "conv1.weight");
  int width = t != NULL && t->ndim == 4 ? t->dims[3] : 0;

  if (t == NULL || t->ndim != 4 || t->dims[0] != 3 || t->dims[1] != 3 || t->dims[2] != 1 ||
      width < TL_KWS_VERIFIER_MIN_WIDTH || width > TL_KWS_VERIFIER_MAX_WIDTH)
    {
      g_set_error (error, TL_MODEL_ERROR, TL_MODEL_ERROR_SHAPE,
                   _("“%s” holds no keyword verifier: its first convolution (conv1) is not "
                     "3×3 over one channel with %d…%d outputs"),
                   path, TL_KWS_VERIFIER_MIN_WIDTH, TL_KWS_VERIFIER_MAX_WIDTH);
      return 0;
    }
  return width;
}

/* Where the window of the verifier in @file ends, from the name of its
 * input node. */
static int
net_after (TlNet       *file,
           const char  *path,
           GError     **error)
{
  const TlNetNode *input = tl_net_node (file, 0);
  const char *name = input != NULL && input->op == TL_OP_INPUT ? input->name : "";
  guint64 after = 0;

  g_autofree char *canonical = NULL;
  g_autofree char *shown = NULL;

  if (g_str_equal (name, "input"))
    return TL_KWS_VERIFIER_AFTER;
  /* digits as written by this code only: no sign, no leading zero */
  if (g_str_has_prefix (name, "mel-after-") &&
      g_ascii_string_to_unsigned (name + strlen ("mel-after-"), 10, 0,
                                  TL_KWS_VERIFIER_MAX_AFTER, &after, NULL))
    canonical = g_strdup_printf ("mel-after-%d", (int) after);
  if (canonical == NULL || !g_str_equal (name, canonical))
    {
      shown = g_utf8_make_valid (name, -1);
      g_set_error (error, TL_MODEL_ERROR, TL_MODEL_ERROR_SHAPE,
                   _("“%s” holds no keyword verifier: its input is “%s”, not a window that ends "
                     "0…%d frames after the word (“mel-after-N”)"),
                   path, shown, TL_KWS_VERIFIER_MAX_AFTER);
      return -1;
    }
  return (int) after;
}

int
tl_kws_verifier_file_width (const char  *path,
                            GError     **error)
{
  g_autoptr (TlNet) file = tl_model_load (path, error);

  return file != NULL ? net_width (file, path, error) : 0;
}

static TlNet *
load_net (const char  *path,
          int         *after,
          GError     **error)
{
  g_autoptr (TlNet) file = tl_model_load (path, error);
  g_autoptr (TlNet) net = NULL;
  TlNnError err = { 0 };
  int width = file != NULL ? net_width (file, path, error) : 0;

  *after = width > 0 ? net_after (file, path, error) : -1;
  /* the file is read once: its width and window, then its weights into
   * the verifier's own architecture at that width */
  if (*after >= 0)
    net = tl_kws_verifier_net_new_full (width, *after, error);
  if (net == NULL || !tl_model_copy_params (net, file, path, error))
    {
      g_prefix_error (error, _("The keyword verifier cannot start (retrain it with “twinlockctl kws train”, see README): "));
      return NULL;
    }
  g_clear_pointer (&file, tl_net_free);
  tl_net_fold (net);
  if (!tl_net_prepare (net, 1, false, &err))
    {
      tl_model_set_error (error, &err, _("Cannot prepare the keyword verifier"));
      return NULL;
    }
  return g_steal_pointer (&net);
}

TlKwsVerifier *
tl_kws_verifier_load_ensemble (const char * const  *paths,
                               GError             **error)
{
  g_autoptr (GPtrArray) nets = g_ptr_array_new_with_free_func ((GDestroyNotify) tl_net_free);
  g_autoptr (GArray) afters = g_array_new (FALSE, FALSE, sizeof (int));
  TlKwsVerifier *self;

  g_return_val_if_fail (paths != NULL, NULL);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      int after;
      TlNet *net;

      if (i == TL_KWS_VERIFIER_MAX_MEMBERS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("The keyword verifier takes at most %d model files"),
                       TL_KWS_VERIFIER_MAX_MEMBERS);
          return NULL;
        }
      net = load_net (paths[i], &after, error);

      if (net == NULL)
        return NULL;
      g_ptr_array_add (nets, net);
      g_array_append_val (afters, after);
    }
  if (nets->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The keyword verifier needs at least one model file"));
      return NULL;
    }
  self = g_new0 (TlKwsVerifier, 1);
  self->nets = g_steal_pointer (&nets);
  self->after = g_steal_pointer (&afters);
  return self;
}

TlKwsVerifier *
tl_kws_verifier_load (const char  *path,
                      GError     **error)
{
  const char *paths[] = { path, NULL };

  g_return_val_if_fail (path != NULL, NULL);
  return tl_kws_verifier_load_ensemble (paths, error);
}

guint
tl_kws_verifier_n_members (TlKwsVerifier *self)
{
  return self->nets->len;
}

int
tl_kws_verifier_member_after (TlKwsVerifier *self,
                              guint          member)
{
  g_return_val_if_fail (member < self->after->len, TL_KWS_VERIFIER_AFTER);
  return g_array_index (self->after, int, member);
}

guint
tl_kws_verifier_plan_windows (TlKwsVerifier *self,
                              const int     *offsets,
                              guint          n_offsets,
                              int           *ends,
                              int           *index)
{
  guint n = 0;

  for (guint m = 0; m < self->after->len; m++)
    for (guint o = 0; o < n_offsets; o++)
      {
        int end = g_array_index (self->after, int, m) + offsets[o];
        guint w = 0;

        while (w < n && ends[w] != end)
          w++;
        if (w == n)
          ends[n++] = end;
        index[m * n_offsets + o] = (int) w;
      }
  return n;
}

TlNet *
tl_kws_verifier_member_net (TlKwsVerifier *self,
                            guint          member)
{
  g_return_val_if_fail (member < self->nets->len, NULL);
  return self->nets->pdata[member];
}

void
tl_kws_verifier_free (TlKwsVerifier *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->nets, g_ptr_array_unref);
  g_clear_pointer (&self->after, g_array_unref);
  g_free (self);
}

void
tl_kws_softmax (double      *probs,
                const float *logits,
                int          k)
{
  double mx = logits[0], sum = 0;

  for (int i = 1; i < k; i++)
    mx = MAX (mx, logits[i]);
  for (int i = 0; i < k; i++)
    sum += probs[i] = exp (logits[i] - mx);
  for (int i = 0; i < k; i++)
    probs[i] /= sum;
}

void
tl_kws_verifier_classify (TlKwsVerifier *self,
                          const float   *features,
                          double        *probs)
{
  tl_kws_verifier_classify_views (self, -1, features, NULL, 0, probs);
}

void
tl_kws_verifier_classify_member (TlKwsVerifier *self,
                                 guint          member,
                                 const float   *features,
                                 double        *probs)
{
  g_return_if_fail (member < self->nets->len);
  tl_kws_verifier_classify_views (self, (int) member, features, NULL, 0, probs);
}

/* Members @first…@end - 1, member m on @features[m - @first], each
 * window also warped by @warps: the softmax of their mean logits. */
static void
classify (TlKwsVerifier       *self,
          guint                first,
          guint                end,
          const float * const *features,
          const float         *warps,
          guint                n_warps,
          double              *probs)
{
  float view[TL_KWS_VERIFIER_INPUT];
  float mean[TL_KWS_N_CLASSES] = { 0 };
  guint n = (end - first) * (n_warps + 1);

  g_return_if_fail (n_warps <= TL_KWS_VERIFIER_MAX_WARPS);
  g_return_if_fail (warps != NULL || n_warps == 0);

  /* views outer, members inner: the members' sums in the order they had
   * when all the members saw one window */
  for (guint v = 0; v <= n_warps; v++)
    for (guint m = first; m < end; m++)
      {
        const float *x = features[m - first];
        const float *logits;

        /* members on one window share its warped views */
        if (v > 0 && (m == first || features[m - first] != features[m - first - 1]))
          tl_kws_mel_resample (view, TL_KWS_VERIFIER_FRAMES, x, TL_KWS_VERIFIER_FRAMES,
                               0, 0, 1, warps[v - 1]);
        if (v > 0)
          x = view;
        logits = tl_net_forward (self->nets->pdata[m], x, 1, false);
        for (int k = 0; k < TL_KWS_N_CLASSES; k++)
          mean[k] += logits[k] / n;
      }
  tl_kws_softmax (probs, mean, TL_KWS_N_CLASSES);
}

void
tl_kws_verifier_classify_views (TlKwsVerifier *self,
                                int            member,
                                const float   *features,
                                const float   *warps,
                                guint          n_warps,
                                double        *probs)
{
  const float *same[TL_KWS_VERIFIER_MAX_MEMBERS];
  guint first, end;

  g_return_if_fail (member >= -1 && member < (int) self->nets->len);
  g_return_if_fail (self->nets->len <= G_N_ELEMENTS (same));

  first = member < 0 ? 0 : (guint) member;
  end = member < 0 ? self->nets->len : first + 1;
  for (guint m = 0; m < end - first; m++)
    same[m] = features;
  classify (self, first, end, same, warps, n_warps, probs);
}

void
tl_kws_verifier_classify_windows (TlKwsVerifier       *self,
                                  const float * const *features,
                                  const float         *warps,
                                  guint                n_warps,
                                  double              *probs)
{
  classify (self, 0, self->nets->len, features, warps, n_warps, probs);
}
