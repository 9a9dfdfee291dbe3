/* tl-settings.h — the GSettings keys as properties of one object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TL_SETTINGS_SCHEMA_ID "io.github.twinlock.Twinlock"

#define TL_TYPE_SETTINGS (tl_settings_get_type ())

G_DECLARE_FINAL_TYPE (TlSettings, tl_settings, TL, SETTINGS, GObject)

/* Each key of the schema is a property of the same name, kept in sync
 * both ways: bind widgets to these properties, not to GSettings. */
TlSettings *tl_settings_new                (void);

const char *tl_settings_get_camera_source  (TlSettings *self);
void        tl_settings_set_camera_source  (TlSettings *self,
                                            const char *source);
gboolean    tl_settings_get_mirror_preview (TlSettings *self);
void        tl_settings_set_mirror_preview (TlSettings *self,
                                            gboolean    mirror);

G_END_DECLS
