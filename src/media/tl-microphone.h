/* tl-microphone.h — GStreamer audio capture as 16 kHz mono S16
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define TL_MICROPHONE_RATE 16000

typedef enum
{
  TL_MICROPHONE_STATE_STOPPED,   /* not started, or stopped */
  TL_MICROPHONE_STATE_LISTENING, /* delivering samples */
  TL_MICROPHONE_STATE_ENDED,     /* a finite source (file) reached its end */
  TL_MICROPHONE_STATE_ERROR,     /* no device, device lost, bad source: see error-message */
} TlMicrophoneState;

GType tl_microphone_state_get_type (void);
#define TL_TYPE_MICROPHONE_STATE (tl_microphone_state_get_type ())

/* Called on GStreamer's streaming thread for every buffer: @samples are
 * 16 kHz mono S16; @stream_us is the stream time of the first sample
 * (samples delivered so far), @monotonic_us its capture time on the
 * g_get_monotonic_time() clock. */
typedef void (*TlMicrophoneSampleFunc) (const gint16 *samples,
                                        gsize         n_samples,
                                        gint64        stream_us,
                                        gint64        monotonic_us,
                                        gpointer      user_data);

#define TL_TYPE_MICROPHONE (tl_microphone_get_type ())
G_DECLARE_FINAL_TYPE (TlMicrophone, tl_microphone, TL, MICROPHONE, GObject)

/* @source: a GStreamer source description ("filesrc location=a.wav !
 * decodebin", "pulsesrc device=…"), or NULL for the desktop's default
 * microphone (PipeWire, else PulseAudio, else ALSA). */
TlMicrophone      *tl_microphone_new              (const char             *source);

void               tl_microphone_set_sample_func  (TlMicrophone           *self,
                                                   TlMicrophoneSampleFunc  func,
                                                   gpointer                user_data,
                                                   GDestroyNotify          destroy);
/* Builds and starts the pipeline; a missing device or a bad description is
 * a GError here (and the state becomes ERROR).  Errors later on (device
 * unplugged) arrive on the main context as state ERROR + error-message. */
gboolean           tl_microphone_start            (TlMicrophone           *self,
                                                   GError                **error);
void               tl_microphone_stop             (TlMicrophone           *self);

TlMicrophoneState  tl_microphone_get_state        (TlMicrophone           *self);
const char        *tl_microphone_get_error_message (TlMicrophone          *self);
/* Loudness of the latest audio, 0 (silence, −60 dBFS or less) … 1 (0 dBFS),
 * updated on the main context about 20 times a second. */
double             tl_microphone_get_level        (TlMicrophone           *self);
const char        *tl_microphone_get_source       (TlMicrophone           *self);
/* Samples delivered since start. */
guint64            tl_microphone_get_n_samples    (TlMicrophone           *self);

G_END_DECLS
