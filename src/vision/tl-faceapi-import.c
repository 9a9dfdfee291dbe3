/* tl-faceapi-import.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tl-faceapi-import.h"
#include "tl-faceapi-nets.h"
#include "tl-model.h"

#define MAX_SHARD_SIZE (256 * 1024 * 1024)

const TlFaceapiModel tl_faceapi_models[3] = {
  { "tiny_face_detector_model", "face-detector",    "face-detector.tlnn" },
  { "face_landmark_68_model",   "face-landmarks68", "face-landmarks68.tlnn" },
  { "face_recognition_model",   "face-encoder",     "face-encoder.tlnn" },
};

static gboolean
malformed (GError    **error,
           const char *name,
           const char *what)
{
  g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
               _("Malformed weights manifest “%s”: %s"), name, what);
  return FALSE;
}

/* One group: concatenated shards, then the weights in order. */
static gboolean
import_group (TlFaceWeights *w,
              JsonObject    *group,
              const char    *dir,
              const char    *name,
              GError       **error)
{
  JsonNode *paths_node = json_object_get_member (group, "paths");
  JsonNode *weights_node = json_object_get_member (group, "weights");
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  JsonArray *paths, *specs;
  gsize pos = 0;

  if (paths_node == NULL || !JSON_NODE_HOLDS_ARRAY (paths_node) ||
      weights_node == NULL || !JSON_NODE_HOLDS_ARRAY (weights_node))
    return malformed (error, name, _("a group lacks “paths” or “weights” arrays"));
  paths = json_node_get_array (paths_node);
  specs = json_node_get_array (weights_node);

  for (guint i = 0; i < json_array_get_length (paths); i++)
    {
      JsonNode *p = json_array_get_element (paths, i);
      const char *rel;
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;
      gsize len;

      if (!JSON_NODE_HOLDS_VALUE (p) || json_node_get_value_type (p) != G_TYPE_STRING)
        return malformed (error, name, _("a shard path is not a string"));
      rel = json_node_get_string (p);
      if (rel[0] == '\0' || strchr (rel, '/') != NULL || strstr (rel, "..") != NULL)
        return malformed (error, name, _("a shard path leaves the model folder"));
      path = g_build_filename (dir, rel, NULL);
      if (!g_file_get_contents (path, &contents, &len, error))
        return FALSE;
      if (len > MAX_SHARD_SIZE || buf->len + len > MAX_SHARD_SIZE)
        return malformed (error, name, _("the shards are implausibly large"));
      g_byte_array_append (buf, (const guint8 *) contents, len);
    }

  for (guint i = 0; i < json_array_get_length (specs); i++)
    {
      JsonNode *node = json_array_get_element (specs, i);
      JsonObject *spec, *quant = NULL;
      JsonArray *shape;
      const char *wname, *dtype, *qdtype = NULL;
      int dims[TL_FACE_WEIGHTS_MAX_DIMS];
      int n_dims;
      gsize count = 1, bytes;
      double scale = 1, min = 0;
      TlFaceTensor *t;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return malformed (error, name, _("a weight entry is not an object"));
      spec = json_node_get_object (node);
      wname = json_object_get_string_member_with_default (spec, "name", NULL);
      dtype = json_object_get_string_member_with_default (spec, "dtype", NULL);
      if (wname == NULL || dtype == NULL || !json_object_has_member (spec, "shape") ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (spec, "shape")))
        return malformed (error, name, _("a weight lacks name, dtype or shape"));
      if (!g_str_equal (dtype, "float32"))
        {
          g_autofree char *msg = g_strdup_printf (_("weight “%s” has unsupported dtype “%s”"), wname, dtype);
          return malformed (error, name, msg);
        }
      shape = json_object_get_array_member (spec, "shape");
      n_dims = json_array_get_length (shape);
      if (n_dims < 1 || n_dims > TL_FACE_WEIGHTS_MAX_DIMS)
        {
          g_autofree char *msg = g_strdup_printf (_("weight “%s” has %d dimensions"), wname, n_dims);
          return malformed (error, name, msg);
        }
      for (int d = 0; d < n_dims; d++)
        {
          JsonNode *dn = json_array_get_element (shape, d);
          gint64 v = JSON_NODE_HOLDS_VALUE (dn) && json_node_get_value_type (dn) == G_TYPE_INT64
                     ? json_node_get_int (dn) : -1;
          if (v <= 0 || v > 1 << 24 || count * v > (1u << 26))
            {
              g_autofree char *msg = g_strdup_printf (_("weight “%s” has an invalid shape"), wname);
              return malformed (error, name, msg);
            }
          dims[d] = (int) v;
          count *= v;
        }
      if (json_object_has_member (spec, "quantization"))
        {
          JsonNode *qn = json_object_get_member (spec, "quantization");
          if (!JSON_NODE_HOLDS_OBJECT (qn))
            return malformed (error, name, _("a quantization entry is not an object"));
          quant = json_node_get_object (qn);
          qdtype = json_object_get_string_member_with_default (quant, "dtype", NULL);
          if (qdtype == NULL || !g_str_equal (qdtype, "uint8") ||
              !json_object_has_member (quant, "scale") || !json_object_has_member (quant, "min"))
            {
              g_autofree char *msg = g_strdup_printf (_("weight “%s” has an unsupported quantization (only uint8 with scale and min is known)"), wname);
              return malformed (error, name, msg);
            }
          scale = json_object_get_double_member (quant, "scale");
          min = json_object_get_double_member (quant, "min");
        }
      bytes = count * (quant ? 1 : 4);
      if (buf->len - pos < bytes)
        {
          g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
                       _("The shards of “%s” are too short: weight “%s” needs %zu bytes at offset %zu but only %u bytes are there"),
                       name, wname, bytes, pos, buf->len);
          return FALSE;
        }
      for (guint k = 0; k < tl_face_weights_count (w); k++)
        if (g_str_equal (tl_face_weights_nth (w, k)->name, wname))
          {
            g_autofree char *msg = g_strdup_printf (_("weight “%s” appears twice"), wname);
            return malformed (error, name, msg);
          }

      t = tl_face_weights_add (w, wname, n_dims, dims);
      if (quant)
        {
          /* Computed in double and rounded once, as the original loader does. */
          for (gsize k = 0; k < count; k++)
            t->data[k] = (float) (buf->data[pos + k] * scale + min);
        }
      else
        memcpy (t->data, buf->data + pos, bytes);
      pos += bytes;
    }
  if (pos != buf->len)
    {
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
                   _("The shards of “%s” hold %u bytes but the manifest describes %zu"),
                   name, buf->len, pos);
      return FALSE;
    }
  return TRUE;
}

TlFaceWeights *
tl_faceapi_import_manifest (const char  *manifest_path,
                            const char  *kind,
                            GError     **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (TlFaceWeights) w = NULL;
  g_autofree char *name = g_filename_display_name (manifest_path);
  g_autofree char *dir = g_path_get_dirname (manifest_path);
  JsonNode *root;
  JsonArray *groups;
  GError *local = NULL;

  if (!json_parser_load_from_mapped_file (parser, manifest_path, &local))
    {
      if (local->domain == JSON_PARSER_ERROR)
        g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_FORMAT,
                     _("Malformed weights manifest “%s”: %s"), name, local->message);
      else
        g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_IO,
                     _("Could not read weights manifest: %s"), local->message);
      g_error_free (local);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root) ||
      json_array_get_length (json_node_get_array (root)) == 0)
    {
      malformed (error, name, _("the top level is not a non-empty array of groups"));
      return NULL;
    }
  groups = json_node_get_array (root);
  w = tl_face_weights_new (kind);
  for (guint i = 0; i < json_array_get_length (groups); i++)
    {
      JsonNode *g = json_array_get_element (groups, i);
      if (!JSON_NODE_HOLDS_OBJECT (g))
        {
          malformed (error, name, _("a group is not an object"));
          return NULL;
        }
      if (!import_group (w, json_node_get_object (g), dir, name, error))
        return NULL;
    }
  return g_steal_pointer (&w);
}

gboolean
tl_faceapi_import_dir (const char  *model_dir,
                       const char  *out_dir,
                       GError     **error)
{
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      g_set_error (error, TL_FACE_WEIGHTS_ERROR, TL_FACE_WEIGHTS_ERROR_IO,
                   _("Could not create “%s”: %s"), out_dir, g_strerror (errno));
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (tl_faceapi_models); i++)
    {
      const TlFaceapiModel *m = &tl_faceapi_models[i];
      g_autofree char *base = g_strconcat (m->manifest, "-weights_manifest.json", NULL);
      g_autofree char *manifest = g_build_filename (model_dir, base, NULL);
      g_autofree char *out = g_build_filename (out_dir, m->file, NULL);
      g_autoptr (TlFaceWeights) w = tl_faceapi_import_manifest (manifest, m->kind, error);
      g_autoptr (TlNet) net = NULL;

      if (w == NULL)
        return FALSE;
      if (i == 0)
        net = tl_faceapi_detector_net (416);
      else if (i == 1)
        net = tl_faceapi_landmarks_net ();
      else
        net = tl_faceapi_encoder_net ();
      if (!tl_faceapi_fill_net (net, w, error) || !tl_model_save (net, out, error))
        return FALSE;
    }
  return TRUE;
}
