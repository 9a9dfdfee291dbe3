/* tl-wav.h — reading 16-bit PCM WAV files, defensively
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gint16 *samples;      /* interleaved */
  gsize   n_frames;     /* samples per channel */
  guint   rate;
  guint   channels;
} TlWav;

void   tl_wav_free (TlWav *wav);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlWav, tl_wav_free)

/* Reads a RIFF/WAVE file of 16-bit PCM.  Anything else — other encodings,
 * truncated or oversized chunks, files over @max_bytes — is a GError. */
TlWav *tl_wav_load  (const char *path,
                     gsize       max_bytes,
                     GError    **error);

/* Loads and insists on 16 kHz mono, the spotter's input. */
TlWav *tl_wav_load_16k_mono (const char *path,
                             GError    **error);

/* Writes 16-bit PCM mono. */
gboolean tl_wav_save_mono (const char   *path,
                           const gint16 *samples,
                           gsize         n,
                           guint         rate,
                           GError      **error);

G_END_DECLS
