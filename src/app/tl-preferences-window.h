/* tl-preferences-window.h — camera chooser and picture options
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tl-application.h"

G_BEGIN_DECLS

#define TL_TYPE_PREFERENCES_WINDOW (tl_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (TlPreferencesWindow, tl_preferences_window, TL, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

TlPreferencesWindow *tl_preferences_window_new (TlApplication *application);

G_END_DECLS
