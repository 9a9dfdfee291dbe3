/* tl-faceapi-nets.h — the three face-api networks described on the engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Node names follow face-api's weight names, so a manifest tensor "P/filters"
 * becomes the engine tensor "P.weight", "P/depthwise_filter" →
 * "P/depthwise.weight", "P/pointwise_filter" → "P/pointwise.weight",
 * "P/bias" → "P/pointwise.bias" or "P.bias", "P/scale/weights" →
 * "P/scale.scale", "P/scale/biases" → "P/scale.bias", "P/weights" →
 * "P.weight" and "fc" → "fc.weight".
 */
#pragma once

#include <glib.h>

#include "tl-face-weights.h"
#include "tl-nn-net.h"

G_BEGIN_DECLS

/* Built (shapes inferred, parameters zero), not prepared.  The detector's
 * input is size × size × 3 (size a multiple of 32). */
TlNet   *tl_faceapi_detector_net   (int         size);
TlNet   *tl_faceapi_landmarks_net  (void);
TlNet   *tl_faceapi_encoder_net    (void);

/* The engine tensor name for a face-api weight name (newly allocated). */
char    *tl_faceapi_tensor_name    (TlNet      *net,
                                    const char *faceapi_name);

/* Copies every manifest tensor into the net; each net tensor must be
 * filled exactly once, with the same number of values. */
gboolean tl_faceapi_fill_net       (TlNet               *net,
                                    const TlFaceWeights *weights,
                                    GError             **error);

/* Copies the parameters of `from` into `to` (same tensor names/sizes). */
gboolean tl_faceapi_copy_params    (TlNet      *to,
                                    TlNet      *from,
                                    GError    **error);

G_END_DECLS
