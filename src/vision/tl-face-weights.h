/* tl-face-weights.h — named float32 tensors of a face network as read from
 * face-api's weight manifests (in memory; model files are the engine's)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TL_FACE_WEIGHTS_ERROR (tl_face_weights_error_quark ())

typedef enum
{
  TL_FACE_WEIGHTS_ERROR_FORMAT,    /* malformed manifest or shard */
  TL_FACE_WEIGHTS_ERROR_MISSING,   /* a tensor the network needs is absent */
  TL_FACE_WEIGHTS_ERROR_SHAPE,     /* a tensor has an unexpected shape */
  TL_FACE_WEIGHTS_ERROR_IO,
} TlFaceWeightsError;

#define TL_FACE_WEIGHTS_MAX_DIMS 4

typedef struct
{
  char  *name;
  int    n_dims;
  int    dims[TL_FACE_WEIGHTS_MAX_DIMS];
  gsize  count;
  float *data;         /* 64-byte aligned, owned by the TlFaceWeights */
} TlFaceTensor;

typedef struct _TlFaceWeights TlFaceWeights;

GQuark         tl_face_weights_error_quark (void);

TlFaceWeights *tl_face_weights_new     (const char          *kind);
void           tl_face_weights_free    (TlFaceWeights       *weights);
const char    *tl_face_weights_kind    (const TlFaceWeights *weights);

/* Adds a zero-filled tensor and returns it for filling. */
TlFaceTensor  *tl_face_weights_add     (TlFaceWeights       *weights,
                                        const char          *name,
                                        int                  n_dims,
                                        const int           *dims);
guint          tl_face_weights_count   (const TlFaceWeights *weights);
TlFaceTensor  *tl_face_weights_nth     (const TlFaceWeights *weights,
                                        guint                index);

/* Looks a tensor up and checks its shape (dims may be NULL to skip). */
const TlFaceTensor *tl_face_weights_get (const TlFaceWeights *weights,
                                         const char          *name,
                                         int                  n_dims,
                                         const int           *dims,
                                         GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlFaceWeights, tl_face_weights_free)

G_END_DECLS
