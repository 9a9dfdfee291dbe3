/* tl-faceapi-import.h — converts face-api weight manifests + shards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-face-weights.h"

G_BEGIN_DECLS

/* The three networks Twinlock takes from face-api's model/ folder:
 * manifest base name → Twinlock model file name. */
typedef struct
{
  const char *manifest;   /* "tiny_face_detector_model" */
  const char *kind;       /* "face-detector" */
  const char *file;       /* "face-detector.tlnn" */
} TlFaceapiModel;

extern const TlFaceapiModel tl_faceapi_models[3];

/* Reads a "<name>-weights_manifest.json" (the TensorFlow.js weights
 * manifest: groups of shard paths and weight specs) and the shards beside
 * it; float32 tensors are copied, uint8-quantised ones dequantised as
 * q · scale + min. */
TlFaceWeights *tl_faceapi_import_manifest (const char  *manifest_path,
                                           const char  *kind,
                                           GError     **error);

/* Converts the three networks of `model_dir` into `out_dir`. */
gboolean       tl_faceapi_import_dir      (const char  *model_dir,
                                           const char  *out_dir,
                                           GError     **error);

G_END_DECLS
