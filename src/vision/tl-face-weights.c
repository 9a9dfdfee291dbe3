/* tl-face-weights.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tl-face-weights.h"

#define ALIGN 64

struct _TlFaceWeights
{
  char      *kind;
  GPtrArray *tensors;
};

G_DEFINE_QUARK (tl-face-weights-error-quark, tl_face_weights_error)

static void
tensor_free (gpointer data)
{
  TlFaceTensor *t = data;

  g_free (t->name);
  g_aligned_free (t->data);
  g_free (t);
}

TlFaceWeights *
tl_face_weights_new (const char *kind)
{
  TlFaceWeights *w = g_new0 (TlFaceWeights, 1);

  w->kind = g_strdup (kind ? kind : "");
  w->tensors = g_ptr_array_new_with_free_func (tensor_free);
  return w;
}

void
tl_face_weights_free (TlFaceWeights *weights)
{
  if (weights == NULL)
    return;
  g_ptr_array_unref (weights->tensors);
  g_free (weights->kind);
  g_free (weights);
}

const char *
tl_face_weights_kind (const TlFaceWeights *weights)
{
  return weights->kind;
}

TlFaceTensor *
tl_face_weights_add (TlFaceWeights *weights,
                     const char    *name,
                     int            n_dims,
                     const int     *dims)
{
  TlFaceTensor *t;

  g_return_val_if_fail (n_dims >= 1 && n_dims <= TL_FACE_WEIGHTS_MAX_DIMS, NULL);

  t = g_new0 (TlFaceTensor, 1);
  t->name = g_strdup (name);
  t->n_dims = n_dims;
  t->count = 1;
  for (int i = 0; i < n_dims; i++)
    {
      t->dims[i] = dims[i];
      t->count *= dims[i];
    }
  t->data = g_aligned_alloc0 (MAX (t->count, 1), sizeof (float), ALIGN);
  g_ptr_array_add (weights->tensors, t);
  return t;
}

guint
tl_face_weights_count (const TlFaceWeights *weights)
{
  return weights->tensors->len;
}

TlFaceTensor *
tl_face_weights_nth (const TlFaceWeights *weights,
                     guint                index)
{
  g_return_val_if_fail (index < weights->tensors->len, NULL);
  return g_ptr_array_index (weights->tensors, index);
}

static char *
shape_string (int        n_dims,
              const int *dims)
{
  GString *s = g_string_new ("[");

  for (int i = 0; i < n_dims; i++)
    g_string_append_printf (s, i ? ", %d" : "%d", dims[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

const TlFaceTensor *
tl_face_weights_get (const TlFaceWeights *weights,
                     const char          *name,
                     int                  n_dims,
                     const int           *dims,
                     GError             **error)
{
  for (guint i = 0; i < weights->tensors->len; i++)
    {
      const TlFaceTensor *t = g_ptr_array_index (weights->tensors, i);
      gboolean ok;

      if (!g_str_equal (t->name, name))
        continue;
      ok = dims == NULL || t->n_dims == n_dims;
      for (int d = 0; ok && dims && d < n_dims; d++)
        ok = t->dims[d] == dims[d];
      if (!ok)
        {
          g_autofree char *want = shape_string (n_dims, dims);
          g_autofree char *have = shape_string (t->n_dims, t->dims);
          g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_SHAPE,
                       _("The %s model's tensor “%s” has shape %s, expected %s"),
                       weights->kind, name, have, want);
          return NULL;
        }
      return t;
    }
  g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_MISSING,
               _("The %s model has no tensor “%s”; re-import it with “twinlockctl import faceapi”"),
               weights->kind, name);
  return NULL;
}

