/* tl-face-net-private.h — shared by the three ported face networks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-layers.h"
#include "tl-face-weights.h"

G_BEGIN_DECLS

/* Fetches a tensor of the given shape, or sets error and returns NULL. */
static inline const float *
tl_face_net_tensor (const TlFaceWeights *w,
                    const char          *name,
                    int                  n_dims,
                    const int           *dims,
                    GError             **error)
{
  const TlFaceTensor *t;

  if (error && *error)
    return NULL;
  t = tl_face_weights_get (w, name, n_dims, dims, error);
  return t ? t->data : NULL;
}

#define TL_DIMS(...) ((const int[]) { __VA_ARGS__ })
#define TL_NDIMS(...) (int) (sizeof ((const int[]) { __VA_ARGS__ }) / sizeof (int))
#define TL_TENSOR(w, name, err, ...) \
  tl_face_net_tensor ((w), (name), TL_NDIMS (__VA_ARGS__), TL_DIMS (__VA_ARGS__), (err))

/* Loads a model file and checks that it is of the expected kind. */
TlFaceWeights *tl_face_net_load (const char  *path,
                                 const char  *kind,
                                 GError     **error);

G_END_DECLS
