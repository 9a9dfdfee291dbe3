/* tl-camera-monitor.h — the cameras plugged in, kept up to date as they come and go
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TL_TYPE_CAMERA_DEVICE (tl_camera_device_get_type ())
#define TL_TYPE_CAMERA_MONITOR (tl_camera_monitor_get_type ())

G_DECLARE_FINAL_TYPE (TlCameraDevice, tl_camera_device, TL, CAMERA_DEVICE, GObject)
G_DECLARE_FINAL_TYPE (TlCameraMonitor, tl_camera_monitor, TL, CAMERA_MONITOR, GObject)

/* A person-readable name ("Integrated Camera"). */
const char      *tl_camera_device_get_name    (TlCameraDevice  *self);
/* The GStreamer source description that opens this device, for
 * tl_camera_set_source() and `--camera`. */
const char      *tl_camera_device_get_source  (TlCameraDevice  *self);
/* The formats it offers, one per line ("YUY2 640×480 30 fps"). */
const char      *tl_camera_device_get_formats (TlCameraDevice  *self);

/* A GListModel of TlCameraDevice, in the order GStreamer reports them.
 * It starts probing at once and follows hot-plug on the thread-default
 * main context of the caller. */
TlCameraMonitor *tl_camera_monitor_new        (void);

G_END_DECLS
