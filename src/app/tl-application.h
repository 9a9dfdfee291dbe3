/* tl-application.h — the GUI application: actions, settings, windows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tl-settings.h"

G_BEGIN_DECLS

#define TL_TYPE_APPLICATION (tl_application_get_type ())

G_DECLARE_FINAL_TYPE (TlApplication, tl_application, TL, APPLICATION, AdwApplication)

TlApplication *tl_application_new                 (void);
TlSettings    *tl_application_get_settings        (TlApplication *self);

/* The source given with --camera for this run, or NULL: it wins over the
 * camera-source setting until a source is chosen in Preferences. */
const char    *tl_application_get_camera_override (TlApplication *self);
void           tl_application_set_camera_override (TlApplication *self,
                                                   const char    *source);

G_END_DECLS
