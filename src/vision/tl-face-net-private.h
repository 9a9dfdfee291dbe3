/* tl-face-net-private.h — shared by the three ported face networks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tl-nn-net.h"

G_BEGIN_DECLS

/* Loads a model file and moves its parameters into Twinlock's own
 * description of the network of that kind ("face-detector",
 * "face-landmarks68", "face-encoder"), so that a file can only bring
 * weights, never a different architecture.  Built, not prepared. */
TlNet *tl_face_net_load (const char  *path,
                         const char  *kind,
                         GError     **error);

/* Folds an input normalisation (x − mean[channel]) / 255 of a 3-channel
 * image into the first convolution `conv` (its "<conv>.weight" and
 * "<conv>.bias"), which must be unpadded ("valid") so that the folding
 * is exact: w' = w / 255, b' = b − Σ w·mean / 255.  The net then takes
 * the 0–255 image as it is, and no pass over it is needed. */
void tl_face_net_fold_input (TlNet       *net,
                             const char  *conv,
                             const float  mean[3]);

G_END_DECLS
