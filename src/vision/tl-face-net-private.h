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

G_END_DECLS
