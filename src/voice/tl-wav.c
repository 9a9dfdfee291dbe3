/* tl-wav.c — reading 16-bit PCM WAV files, defensively
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-wav.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#define WAV_MAX_BYTES (512u * 1024 * 1024)

void
tl_wav_free (TlWav *wav)
{
  if (wav == NULL)
    return;
  g_free (wav->samples);
  g_free (wav);
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

TlWav *
tl_wav_load (const char  *path,
             gsize        max_bytes,
             GError     **error)
{
  g_autofree guint8 *data = NULL;
  g_autoptr (TlWav) wav = NULL;
  gsize len = 0, pos = 12;
  gboolean have_fmt = FALSE;
  guint16 format = 0, bits = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (max_bytes == 0)
    max_bytes = WAV_MAX_BYTES;
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                   _("“%s” is a folder, not a WAV file"), path);
      return NULL;
    }
  if (!g_file_get_contents (path, (char **) &data, &len, error))
    return NULL;
  if (len > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is larger than %zu bytes"), path, max_bytes);
      return NULL;
    }
  if (len < 12 || memcmp (data, "RIFF", 4) != 0 || memcmp (data + 8, "WAVE", 4) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is not a WAV file"), path);
      return NULL;
    }

  wav = g_new0 (TlWav, 1);
  while (pos + 8 <= len)
    {
      guint32 size = le32 (data + pos + 4);
      const guint8 *body = data + pos + 8;
      gsize avail = len - pos - 8;

      if (memcmp (data + pos, "fmt ", 4) == 0)
        {
          if (size < 16 || size > avail)
            break;
          format = le16 (body);
          wav->channels = le16 (body + 2);
          wav->rate = le32 (body + 4);
          bits = le16 (body + 14);
          /* WAVE_FORMAT_EXTENSIBLE: the subformat's first two bytes. */
          if (format == 0xfffe && size >= 26)
            format = le16 (body + 24);
          have_fmt = TRUE;
        }
      else if (memcmp (data + pos, "data", 4) == 0)
        {
          gsize frame_bytes;

          if (!have_fmt)
            break;
          if (format != 1 || bits != 16 || wav->channels == 0 ||
              wav->channels > 8 || wav->rate < 1000 || wav->rate > 384000)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("“%s” is not 16-bit PCM (format %u, %u bits, %u channels, %u Hz)"),
                           path, format, bits, wav->channels, wav->rate);
              return NULL;
            }
          /* Streamed WAVs may say "as much as there is". */
          if (size > avail)
            size = avail;
          frame_bytes = 2 * wav->channels;
          wav->n_frames = size / frame_bytes;
          wav->samples = g_new (gint16, MAX (wav->n_frames * wav->channels, 1));
          for (gsize i = 0; i < wav->n_frames * wav->channels; i++)
            wav->samples[i] = (gint16) le16 (body + 2 * i);
          return g_steal_pointer (&wav);
        }
      if (size > avail)
        break;
      pos += 8 + size + (size & 1);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("“%s” is a damaged WAV file (no complete fmt and data chunks)"), path);
  return NULL;
}

TlWav *
tl_wav_load_16k_mono (const char  *path,
                      GError     **error)
{
  g_autoptr (TlWav) wav = tl_wav_load (path, 0, error);

  if (wav == NULL)
    return NULL;
  if (wav->rate != 16000 || wav->channels != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("“%s” is %u Hz with %u channels; the spotter needs 16000 Hz mono "
                     "(convert it, e.g. “sox IN -r 16000 -c 1 OUT.wav”)"),
                   path, wav->rate, wav->channels);
      return NULL;
    }
  return g_steal_pointer (&wav);
}

gboolean
tl_wav_save_mono (const char   *path,
                  const gint16 *samples,
                  gsize         n,
                  guint         rate,
                  GError      **error)
{
  g_autofree guint8 *buf = g_malloc (44 + 2 * n);
  guint32 data_bytes = 2 * n;
  const guint32 header[] = { 36 + data_bytes, 16, rate, rate * 2, data_bytes };

  memcpy (buf, "RIFF", 4);
  buf[4] = header[0]; buf[5] = header[0] >> 8; buf[6] = header[0] >> 16; buf[7] = header[0] >> 24;
  memcpy (buf + 8, "WAVEfmt ", 8);
  buf[16] = 16; buf[17] = buf[18] = buf[19] = 0;
  buf[20] = 1; buf[21] = 0; buf[22] = 1; buf[23] = 0;
  for (int i = 0; i < 4; i++)
    {
      buf[24 + i] = header[2] >> (8 * i);
      buf[28 + i] = header[3] >> (8 * i);
      buf[40 + i] = header[4] >> (8 * i);
    }
  buf[32] = 2; buf[33] = 0; buf[34] = 16; buf[35] = 0;
  memcpy (buf + 36, "data", 4);
  for (gsize i = 0; i < n; i++)
    {
      buf[44 + 2 * i] = samples[i] & 0xff;
      buf[45 + 2 * i] = (samples[i] >> 8) & 0xff;
    }
  return g_file_set_contents (path, (const char *) buf, 44 + 2 * n, error);
}
