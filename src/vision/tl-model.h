/* tl-model.h — model files for the rest of the app: the engine's loader
 * with its errors as GError
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "tl-nn-model.h"

G_BEGIN_DECLS

#define TL_MODEL_ERROR (tl_model_error_quark ())

/* One code per TlNnErrorCode (same meaning). */
typedef enum
{
  TL_MODEL_ERROR_IO = 1,
  TL_MODEL_ERROR_FORMAT,
  TL_MODEL_ERROR_VERSION,
  TL_MODEL_ERROR_CHECKSUM,
  TL_MODEL_ERROR_TRUNCATED,
  TL_MODEL_ERROR_LIMIT,
  TL_MODEL_ERROR_SHAPE,
  TL_MODEL_ERROR_MISSING,
  TL_MODEL_ERROR_NOMEM,
  TL_MODEL_ERROR_INVALID,
} TlModelError;

GQuark   tl_model_error_quark (void);

/* Sets *error from an engine error, prefixed with what was being done
 * ("Cannot load model “face.tlnn”: …"). */
void     tl_model_set_error   (GError          **error,
                               const TlNnError  *nn_error,
                               const char       *context);

TlNet   *tl_model_load        (const char  *path,
                               GError     **error);
gboolean tl_model_load_params (TlNet       *net,
                               const char  *path,
                               GError     **error);
/* The parameters of @from, a model file already read from @path
 * (tl_model_load), into @net: the same checks as tl_model_load_params. */
gboolean tl_model_copy_params (TlNet       *net,
                               TlNet       *from,
                               const char  *path,
                               GError     **error);
gboolean tl_model_save        (TlNet       *net,
                               const char  *path,
                               GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlNet, tl_net_free)

G_END_DECLS
