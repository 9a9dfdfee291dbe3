/* tl-version.h — build and component versions, for --version and the about window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *tl_version_string (void);

G_END_DECLS
