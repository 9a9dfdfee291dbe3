/* test-voice-settings.c — the voice keys of the GSettings schema round-trip
 * through TlSettings both ways
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <math.h>

#include "tl-kws-engine.h"
#include "tl-settings.h"

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           guint      *count)
{
  (*count)++;
}

/* The defaults the schema promises: the engine's own (calibrated) ones. */
static void
test_defaults (void)
{
  g_autoptr (TlSettings) settings = NULL;

  g_assert_true (tl_settings_schema_installed ());
  settings = tl_settings_new ();
  g_assert_true (tl_settings_get_voice_enabled (settings));
  g_assert_cmpstr (tl_settings_get_microphone_source (settings), ==, "");
  g_assert_cmpfloat (tl_settings_get_keyword_threshold (settings, "unlock"), ==,
                     tl_kws_default_threshold ("unlock", TL_KWS_STAGE_DEFAULT));
  g_assert_cmpfloat (tl_settings_get_keyword_threshold (settings, "lock"), ==,
                     tl_kws_default_threshold ("lock", TL_KWS_STAGE_DEFAULT));
  g_assert_true (isnan (tl_settings_get_keyword_threshold (settings, "open sesame")));
}

/* Setters reach GSettings; GSettings changes reach the properties. */
static void
test_round_trip (void)
{
  g_autoptr (TlSettings) settings = tl_settings_new ();
  g_autoptr (GSettings) gsettings = g_settings_new (TL_SETTINGS_SCHEMA_ID);
  g_autoptr (GVariant) stored = NULL;
  g_autofree char *mic = NULL;
  GVariantBuilder b;
  guint notified = 0;

  g_signal_connect (settings, "notify::keyword-thresholds", G_CALLBACK (on_notify), &notified);

  /* object → GSettings */
  tl_settings_set_voice_enabled (settings, FALSE);
  g_assert_false (g_settings_get_boolean (gsettings, "voice-enabled"));
  tl_settings_set_microphone_source (settings, "  pulsesrc device=mic0 \n");
  mic = g_settings_get_string (gsettings, "microphone-source");
  g_assert_cmpstr (mic, ==, "pulsesrc device=mic0");
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sd}"));
  g_variant_builder_add (&b, "{sd}", "unlock", 0.45);
  tl_settings_set_keyword_thresholds (settings, g_variant_builder_end (&b));
  g_assert_cmpuint (notified, ==, 1);
  stored = g_settings_get_value (gsettings, "keyword-thresholds");
  g_assert_cmpstr (g_variant_get_type_string (stored), ==, "a{sd}");
  g_assert_cmpuint (g_variant_n_children (stored), ==, 1);
  g_assert_cmpfloat (tl_settings_get_keyword_threshold (settings, "unlock"), ==, 0.45);
  g_assert_true (isnan (tl_settings_get_keyword_threshold (settings, "lock")));

  /* the same value again notifies nobody */
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sd}"));
  g_variant_builder_add (&b, "{sd}", "unlock", 0.45);
  tl_settings_set_keyword_thresholds (settings, g_variant_builder_end (&b));
  g_assert_cmpuint (notified, ==, 1);

  /* GSettings → object */
  g_settings_set_boolean (gsettings, "voice-enabled", TRUE);
  g_assert_true (tl_settings_get_voice_enabled (settings));
  g_settings_set_string (gsettings, "microphone-source", "");
  g_assert_cmpstr (tl_settings_get_microphone_source (settings), ==, "");
  g_settings_set_value (gsettings, "keyword-thresholds",
                        g_variant_new_parsed ("{'unlock': 0.3, 'lock': 1.25}"));
  g_assert_cmpuint (notified, ==, 2);
  g_assert_cmpfloat (tl_settings_get_keyword_threshold (settings, "unlock"), ==, 0.3);
  g_assert_cmpfloat (tl_settings_get_keyword_threshold (settings, "lock"), ==, 1.25);

  /* NULL empties the table; reset brings the defaults back */
  tl_settings_set_keyword_thresholds (settings, NULL);
  g_clear_pointer (&stored, g_variant_unref);
  stored = g_settings_get_value (gsettings, "keyword-thresholds");
  g_assert_cmpuint (g_variant_n_children (stored), ==, 0);
  g_settings_reset (gsettings, "keyword-thresholds");
  g_assert_cmpfloat (tl_settings_get_keyword_threshold (settings, "unlock"), ==,
                     tl_kws_default_threshold ("unlock", TL_KWS_STAGE_DEFAULT));
  g_signal_handlers_disconnect_by_data (settings, &notified);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twinlock/settings/voice/defaults", test_defaults);
  g_test_add_func ("/twinlock/settings/voice/round-trip", test_round_trip);
  return g_test_run ();
}
