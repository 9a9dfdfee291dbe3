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
/* Whether the schema can be found (an uninstalled twinlockctl may run
 * without it); tl_settings_new() aborts otherwise, as GSettings does. */
gboolean    tl_settings_schema_installed   (void);

const char *tl_settings_get_camera_source  (TlSettings *self);
void        tl_settings_set_camera_source  (TlSettings *self,
                                            const char *source);
gboolean    tl_settings_get_mirror_preview (TlSettings *self);
void        tl_settings_set_mirror_preview (TlSettings *self,
                                            gboolean    mirror);
gboolean    tl_settings_get_voice_enabled  (TlSettings *self);
void        tl_settings_set_voice_enabled  (TlSettings *self,
                                            gboolean    enabled);
/* "" = automatic; else a GStreamer source description (stripped) */
const char *tl_settings_get_microphone_source (TlSettings *self);
void        tl_settings_set_microphone_source (TlSettings *self,
                                               const char *source);
/* a{sd}: phrase → threshold; not NULL.  Setting NULL empties it. */
GVariant   *tl_settings_get_keyword_thresholds (TlSettings *self);
void        tl_settings_set_keyword_thresholds (TlSettings *self,
                                                GVariant   *thresholds);
/* That phrase's threshold, or NAN if the key does not list it. */
double      tl_settings_get_keyword_threshold  (TlSettings *self,
                                                const char *phrase);

G_END_DECLS
