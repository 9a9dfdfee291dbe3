/* tl-face-weights.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tl-face-weights.h"

#define MAGIC        "TLFW"
#define VERSION      1
#define ALIGN        64
#define MAX_TENSORS  4096
#define MAX_NAME     256
#define MAX_ELEMENTS (64u * 1024 * 1024)

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

static void
put_u32 (GByteArray *b,
         guint32     v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (b, (guint8 *) &le, 4);
}

static void
put_u64 (GByteArray *b,
         guint64     v)
{
  guint64 le = GUINT64_TO_LE (v);
  g_byte_array_append (b, (guint8 *) &le, 8);
}

gboolean
tl_face_weights_save (const TlFaceWeights *weights,
                      const char          *path,
                      GError             **error)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize header = 16 + strlen (weights->kind);
  gsize offset;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autofree guint64 *offsets = g_new0 (guint64, weights->tensors->len + 1);

  for (guint i = 0; i < weights->tensors->len; i++)
    {
      const TlFaceTensor *t = g_ptr_array_index (weights->tensors, i);
      header += 4 + strlen (t->name) + 4 + 4 * t->n_dims + 8;
    }
  offset = header;
  for (guint i = 0; i < weights->tensors->len; i++)
    {
      const TlFaceTensor *t = g_ptr_array_index (weights->tensors, i);
      offset = (offset + ALIGN - 1) & ~(gsize) (ALIGN - 1);
      offsets[i] = offset;
      offset += t->count * sizeof (float);
    }

  g_byte_array_append (b, (const guint8 *) MAGIC, 4);
  put_u32 (b, VERSION);
  put_u32 (b, weights->tensors->len);
  put_u32 (b, strlen (weights->kind));
  g_byte_array_append (b, (const guint8 *) weights->kind, strlen (weights->kind));
  for (guint i = 0; i < weights->tensors->len; i++)
    {
      const TlFaceTensor *t = g_ptr_array_index (weights->tensors, i);
      put_u32 (b, strlen (t->name));
      g_byte_array_append (b, (const guint8 *) t->name, strlen (t->name));
      put_u32 (b, t->n_dims);
      for (int d = 0; d < t->n_dims; d++)
        put_u32 (b, t->dims[d]);
      put_u64 (b, offsets[i]);
    }
  g_assert (b->len == header);
  for (guint i = 0; i < weights->tensors->len; i++)
    {
      const TlFaceTensor *t = g_ptr_array_index (weights->tensors, i);
      static const guint8 zeros[ALIGN];
      g_byte_array_append (b, zeros, offsets[i] - b->len);
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      g_byte_array_append (b, (const guint8 *) t->data, t->count * sizeof (float));
#else
#error "big-endian hosts need a byte swap here"
#endif
    }
  g_checksum_update (sum, b->data, b->len);
  g_checksum_get_digest (sum, digest, &digest_len);
  g_byte_array_append (b, digest, sizeof digest);

  return g_file_set_contents (path, (const char *) b->data, b->len, error);
}

typedef struct
{
  const guint8 *data;
  gsize         len;
  gsize         pos;
} Reader;

static gboolean
get_u32 (Reader  *r,
         guint32 *v)
{
  guint32 le;

  if (r->len - r->pos < 4)
    return FALSE;
  memcpy (&le, r->data + r->pos, 4);
  r->pos += 4;
  *v = GUINT32_FROM_LE (le);
  return TRUE;
}

static gboolean
get_u64 (Reader  *r,
         guint64 *v)
{
  guint64 le;

  if (r->len - r->pos < 8)
    return FALSE;
  memcpy (&le, r->data + r->pos, 8);
  r->pos += 8;
  *v = GUINT64_FROM_LE (le);
  return TRUE;
}

static gboolean
get_string (Reader  *r,
            char   **out)
{
  guint32 n;

  if (!get_u32 (r, &n) || n > MAX_NAME || r->len - r->pos < n)
    return FALSE;
  *out = g_strndup ((const char *) r->data + r->pos, n);
  r->pos += n;
  return TRUE;
}

TlFaceWeights *
tl_face_weights_load (const char *path,
                      GError    **error)
{
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (TlFaceWeights) w = NULL;
  g_autofree char *name = g_filename_display_name (path);
  g_autofree char *kind = NULL;
  g_autoptr (GChecksum) sum = NULL;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  Reader r = { 0 };
  guint32 version, n;
  GError *local = NULL;

  file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_IO,
                   _("Could not open model file: %s"), local->message);
      g_error_free (local);
      return NULL;
    }
  r.data = (const guint8 *) g_mapped_file_get_contents (file);
  r.len = g_mapped_file_get_length (file);

  if (r.len < 16 + 32 || memcmp (r.data, MAGIC, 4) != 0)
    {
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
                   _("“%s” is not a Twinlock face model file"), name);
      return NULL;
    }
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, r.data, r.len - 32);
  g_checksum_get_digest (sum, digest, &digest_len);
  if (memcmp (digest, r.data + r.len - 32, 32) != 0)
    {
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_CHECKSUM,
                   _("“%s” is damaged (checksum mismatch); re-import it with “twinlockctl import faceapi”"),
                   name);
      return NULL;
    }
  r.len -= 32;
  r.pos = 4;
  if (!get_u32 (&r, &version) || version != VERSION)
    {
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
                   _("“%s” has format version %u; this Twinlock reads version %d"),
                   name, version, VERSION);
      return NULL;
    }
  if (!get_u32 (&r, &n) || n > MAX_TENSORS || !get_string (&r, &kind))
    goto malformed;

  w = tl_face_weights_new (kind);
  for (guint32 i = 0; i < n; i++)
    {
      g_autofree char *tname = NULL;
      guint32 nd;
      int dims[TL_FACE_WEIGHTS_MAX_DIMS];
      guint64 off, count = 1;
      TlFaceTensor *t;

      if (!get_string (&r, &tname) || !get_u32 (&r, &nd) ||
          nd < 1 || nd > TL_FACE_WEIGHTS_MAX_DIMS)
        goto malformed;
      for (guint32 d = 0; d < nd; d++)
        {
          guint32 v;
          if (!get_u32 (&r, &v) || v == 0 || v > MAX_ELEMENTS)
            goto malformed;
          dims[d] = (int) v;
          count *= v;
          if (count > MAX_ELEMENTS)
            goto malformed;
        }
      if (!get_u64 (&r, &off) || off % ALIGN != 0 || off > r.len ||
          (r.len - off) / sizeof (float) < count)
        goto malformed;
      t = tl_face_weights_add (w, tname, (int) nd, dims);
      memcpy (t->data, r.data + off, count * sizeof (float));
    }
  return g_steal_pointer (&w);

malformed:
  g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
               _("“%s” has a malformed tensor table"), name);
  return NULL;
}
