/* tl-window.h — the main window: the live camera, or what keeps it from showing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tl-application.h"
#include "tl-camera.h"
#include "tl-camera-view.h"

G_BEGIN_DECLS

#define TL_TYPE_WINDOW (tl_window_get_type ())

G_DECLARE_FINAL_TYPE (TlWindow, tl_window, TL, WINDOW, AdwApplicationWindow)

TlWindow     *tl_window_new             (TlApplication *application);

/* The camera this window runs and shows; analysis code may take frames
 * from it (tl_camera_get_latest_frame()). */
TlCamera     *tl_window_get_camera      (TlWindow      *self);
/* The view showing it, for drawing face overlays. */
TlCameraView *tl_window_get_camera_view (TlWindow      *self);
/* "starting", "camera" or "error": which page is shown. */
const char   *tl_window_get_page        (TlWindow      *self);

G_END_DECLS
