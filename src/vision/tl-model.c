/* tl-model.c — GError face of the engine's model files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tl-model.h"

G_DEFINE_QUARK (tl-model-error-quark, tl_model_error)

void
tl_model_set_error (GError          **error,
                    const TlNnError  *nn_error,
                    const char       *context)
{
  int code = nn_error->code >= TL_NN_ERROR_IO && nn_error->code <= TL_NN_ERROR_INVALID ?
             (int) nn_error->code : TL_MODEL_ERROR_INVALID;

  /* the engine's codes and ours are the same numbers */
  G_STATIC_ASSERT ((int) TL_MODEL_ERROR_INVALID == (int) TL_NN_ERROR_INVALID);
  g_set_error (error, TL_MODEL_ERROR, code, "%s: %s", context, nn_error->message);
}

TlNet *
tl_model_load (const char  *path,
               GError     **error)
{
  TlNnError err = { 0 };
  TlNet *net;

  g_return_val_if_fail (path != NULL, NULL);

  net = tl_nn_model_load (path, &err);
  if (net == NULL)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_autofree char *context = g_strdup_printf (_("Cannot load model “%s”"), display);

      tl_model_set_error (error, &err, context);
    }
  return net;
}

static void
params_error (GError          **error,
              const TlNnError  *err,
              const char       *path)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *context = g_strdup_printf (_("Cannot load weights from “%s”"), display);

  tl_model_set_error (error, err, context);
}

gboolean
tl_model_load_params (TlNet       *net,
                      const char  *path,
                      GError     **error)
{
  TlNnError err = { 0 };

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!tl_nn_model_load_params (net, path, &err))
    {
      params_error (error, &err, path);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_model_copy_params (TlNet       *net,
                      TlNet       *from,
                      const char  *path,
                      GError     **error)
{
  TlNnError err = { 0 };

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (from != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!tl_nn_net_copy_params (net, from, path, &err))
    {
      params_error (error, &err, path);
      return FALSE;
    }
  return TRUE;
}

gboolean
tl_model_save (TlNet       *net,
               const char  *path,
               GError     **error)
{
  TlNnError err = { 0 };

  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!tl_nn_model_save (net, path, &err))
    {
      g_autofree char *display = g_filename_display_name (path);
      g_autofree char *context = g_strdup_printf (_("Cannot save model “%s”"), display);

      tl_model_set_error (error, &err, context);
      return FALSE;
    }
  return TRUE;
}
