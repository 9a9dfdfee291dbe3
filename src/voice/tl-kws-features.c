/* tl-kws-features.c — log-mel features of speech for the keyword verifier
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tl-kws-features.h"

#include <math.h>
#include <string.h>

#define N_BINS (TL_KWS_MEL_FFT / 2 + 1)

struct _TlKwsMel
{
  float window[TL_KWS_MEL_WIN];
  /* Each band's non-zero weights: bins [first, first + count). */
  int   first[TL_KWS_MEL_BANDS];
  int   count[TL_KWS_MEL_BANDS];
  float weight[TL_KWS_MEL_BANDS][N_BINS];
  float cos_t[TL_KWS_MEL_FFT / 2];
  float sin_t[TL_KWS_MEL_FFT / 2];
  int   bitrev[TL_KWS_MEL_FFT];
};

static double
hz_to_mel (double hz)
{
  return 2595.0 * log10 (1.0 + hz / 700.0);
}

static double
mel_to_hz (double mel)
{
  return 700.0 * (pow (10.0, mel / 2595.0) - 1.0);
}

static double
hamming (int i)
{
  return 0.54 - 0.46 * cos (2.0 * G_PI * i / (TL_KWS_MEL_WIN - 1));
}

/* Triangle of band b at frequency hz: rises from the band's lower edge to
 * its centre, falls to its upper edge (edges are the neighbours' centres). */
static double
triangle (int    b,
          double hz)
{
  double lo_mel = hz_to_mel (TL_KWS_MEL_FMIN), hi_mel = hz_to_mel (TL_KWS_MEL_FMAX);
  double step = (hi_mel - lo_mel) / (TL_KWS_MEL_BANDS + 1);
  double l = mel_to_hz (lo_mel + b * step);
  double c = mel_to_hz (lo_mel + (b + 1) * step);
  double r = mel_to_hz (lo_mel + (b + 2) * step);

  if (hz <= l || hz >= r)
    return 0.0;
  return hz <= c ? (hz - l) / (c - l) : (r - hz) / (r - c);
}

static double
bin_hz (int k)
{
  return k * 16000.0 / TL_KWS_MEL_FFT;
}

TlKwsMel *
tl_kws_mel_new (void)
{
  TlKwsMel *mel = g_new0 (TlKwsMel, 1);
  int bits = 0;

  for (int i = 0; i < TL_KWS_MEL_WIN; i++)
    mel->window[i] = hamming (i);
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    {
      mel->first[b] = -1;
      for (int k = 0; k < N_BINS; k++)
        {
          mel->weight[b][k] = triangle (b, bin_hz (k));
          if (mel->weight[b][k] > 0)
            {
              if (mel->first[b] < 0)
                mel->first[b] = k;
              mel->count[b] = k - mel->first[b] + 1;
            }
        }
      if (mel->first[b] < 0)
        mel->first[b] = 0;
    }
  for (int i = 0; i < TL_KWS_MEL_FFT / 2; i++)
    {
      mel->cos_t[i] = cos (2.0 * G_PI * i / TL_KWS_MEL_FFT);
      mel->sin_t[i] = -sin (2.0 * G_PI * i / TL_KWS_MEL_FFT);
    }
  while ((1 << bits) < TL_KWS_MEL_FFT)
    bits++;
  for (int i = 0; i < TL_KWS_MEL_FFT; i++)
    {
      int r = 0;
      for (int j = 0; j < bits; j++)
        r |= ((i >> j) & 1) << (bits - 1 - j);
      mel->bitrev[i] = r;
    }
  return mel;
}

void
tl_kws_mel_free (TlKwsMel *mel)
{
  g_free (mel);
}

static void
bands_from_power (const TlKwsMel *mel,
                  float          *out,
                  const float    *power)
{
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    {
      const float *w = mel->weight[b] + mel->first[b];
      const float *p = power + mel->first[b];
      float e = 0;

      for (int k = 0; k < mel->count[b]; k++)
        e += w[k] * p[k];
      out[b] = logf (e + (float) TL_KWS_MEL_FLOOR);
    }
}

void
tl_kws_mel_frame (const TlKwsMel *mel,
                  float          *out,
                  const float    *in)
{
  float re[TL_KWS_MEL_FFT], im[TL_KWS_MEL_FFT], power[N_BINS];

  /* Iterative radix-2 decimation in time, input in bit-reversed order. */
  for (int i = 0; i < TL_KWS_MEL_FFT; i++)
    {
      int j = mel->bitrev[i];
      re[i] = j < TL_KWS_MEL_WIN ? in[j] * mel->window[j] : 0.0f;
      im[i] = 0.0f;
    }
  for (int len = 2; len <= TL_KWS_MEL_FFT; len <<= 1)
    {
      int half = len / 2, tstep = TL_KWS_MEL_FFT / len;

      for (int s = 0; s < TL_KWS_MEL_FFT; s += len)
        for (int k = 0; k < half; k++)
          {
            float wr = mel->cos_t[k * tstep], wi = mel->sin_t[k * tstep];
            int a = s + k, b = a + half;
            float xr = re[b] * wr - im[b] * wi;
            float xi = re[b] * wi + im[b] * wr;

            re[b] = re[a] - xr;
            im[b] = im[a] - xi;
            re[a] += xr;
            im[a] += xi;
          }
    }
  for (int k = 0; k < N_BINS; k++)
    power[k] = re[k] * re[k] + im[k] * im[k];
  bands_from_power (mel, out, power);
}

void
tl_kws_mel_frame_reference (float       *out,
                            const float *in)
{
  double power[N_BINS];

  for (int k = 0; k < N_BINS; k++)
    {
      double sr = 0, si = 0;

      for (int n = 0; n < TL_KWS_MEL_WIN; n++)
        {
          double x = in[n] * hamming (n);
          double a = -2.0 * G_PI * (double) k * n / TL_KWS_MEL_FFT;
          sr += x * cos (a);
          si += x * sin (a);
        }
      power[k] = sr * sr + si * si;
    }
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    {
      double e = 0;

      for (int k = 0; k < N_BINS; k++)
        e += triangle (b, bin_hz (k)) * power[k];
      out[b] = log (e + TL_KWS_MEL_FLOOR);
    }
}

void
tl_kws_mel_centre (float *x,
                   int    n_frames)
{
  double mean[TL_KWS_MEL_BANDS] = { 0 };

  for (int f = 0; f < n_frames; f++)
    for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
      mean[b] += x[(gsize) f * TL_KWS_MEL_BANDS + b];
  for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
    mean[b] /= MAX (n_frames, 1);
  for (int f = 0; f < n_frames; f++)
    for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
      x[(gsize) f * TL_KWS_MEL_BANDS + b] -= mean[b];
}

/* Row @x [n] (elements @stride apart) at position @pos, linearly
 * interpolated, clamped to the row. */
static inline float
interp (const float *x,
        int          n,
        int          stride,
        float        pos)
{
  int i;
  float t;

  if (pos <= 0)
    return x[0];
  if (pos >= n - 1)
    return x[(gsize) (n - 1) * stride];
  i = (int) pos;
  t = pos - i;
  return x[(gsize) i * stride] * (1 - t) + x[(gsize) (i + 1) * stride] * t;
}

void
tl_kws_mel_resample (float       *out,
                     int          n_out,
                     const float *in,
                     int          n_in,
                     float        anchor,
                     float        shift,
                     float        stretch,
                     float        warp)
{
  float tmp[TL_KWS_MEL_BANDS];

  for (int f = 0; f < n_out; f++)
    {
      float src = shift + anchor + (f - anchor) * stretch;

      for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
        tmp[b] = interp (in + b, n_in, TL_KWS_MEL_BANDS, src);
      for (int b = 0; b < TL_KWS_MEL_BANDS; b++)
        out[(gsize) f * TL_KWS_MEL_BANDS + b] = interp (tmp, TL_KWS_MEL_BANDS, 1, b * warp);
    }
  tl_kws_mel_centre (out, n_out);
}

/* The frames of tl_kws_mel_window (), not centred. */
static void
mel_frames (const TlKwsMel *mel,
            float          *out,
            const gint16   *samples,
            gint64          n_samples,
            gint64          end,
            int             n_frames)
{
  float frame[TL_KWS_MEL_WIN];

  for (int f = 0; f < n_frames; f++)
    {
      gint64 s0 = end - TL_KWS_MEL_WIN - (gint64) (n_frames - 1 - f) * TL_KWS_MEL_HOP;

      for (int i = 0; i < TL_KWS_MEL_WIN; i++)
        {
          gint64 s = s0 + i;
          frame[i] = s >= 0 && s < n_samples ? samples[s] / 32768.0f : 0.0f;
        }
      tl_kws_mel_frame (mel, out + (gsize) f * TL_KWS_MEL_BANDS, frame);
    }
}

void
tl_kws_mel_window (const TlKwsMel *mel,
                   float          *out,
                   const gint16   *samples,
                   gint64          n_samples,
                   gint64          end,
                   int             n_frames)
{
  mel_frames (mel, out, samples, n_samples, end, n_frames);
  tl_kws_mel_centre (out, n_frames);
}

void
tl_kws_mel_windows (const TlKwsMel *mel,
                    float          *out,
                    const gint16   *samples,
                    gint64          n_samples,
                    gint64          end,
                    const int      *offsets,
                    guint           n_offsets,
                    int             n_frames)
{
  int lo = 0, hi = 0, span;
  g_autofree float *frames = NULL;

  g_return_if_fail (n_offsets > 0);

  lo = hi = offsets[0];
  for (guint i = 1; i < n_offsets; i++)
    {
      lo = MIN (lo, offsets[i]);
      hi = MAX (hi, offsets[i]);
    }
  /* the union of the windows: frame k starts where the window at
   * offset lo has its frame k */
  span = n_frames + hi - lo;
  frames = g_new (float, (gsize) span * TL_KWS_MEL_BANDS);
  mel_frames (mel, frames, samples, n_samples, end + (gint64) hi * TL_KWS_MEL_HOP, span);
  for (guint i = 0; i < n_offsets; i++)
    {
      float *w = out + (gsize) i * n_frames * TL_KWS_MEL_BANDS;

      memcpy (w, frames + (gsize) (offsets[i] - lo) * TL_KWS_MEL_BANDS,
              sizeof (float) * n_frames * TL_KWS_MEL_BANDS);
      tl_kws_mel_centre (w, n_frames);
    }
}

/* Written apart from the fast window, framing and centring included, so
 * that the test compares two ways of cutting the window, not one. */
void
tl_kws_mel_window_reference (float        *out,
                             const gint16 *samples,
                             gint64        n_samples,
                             gint64        end,
                             int           n_frames)
{
  /* the window spans (n_frames - 1) hops and one frame, ending at @end */
  gint64 window_start = end - (gint64) (n_frames - 1) * TL_KWS_MEL_HOP - TL_KWS_MEL_WIN;

  for (int f = 0; f < n_frames; f++)
    {
      float frame[TL_KWS_MEL_WIN];

      for (int i = 0; i < TL_KWS_MEL_WIN; i++)
        {
          gint64 at = window_start + (gint64) f * TL_KWS_MEL_HOP + i;

          if (at < 0 || at >= n_samples)
            frame[i] = 0.0f;  /* before or after the stream: silence */
          else
            frame[i] = (float) (samples[at] / 32768.0);
        }
      tl_kws_mel_frame_reference (out + (gsize) f * TL_KWS_MEL_BANDS, frame);
    }

  /* each band minus its mean over the frames, band by band in double */
  for (int b = 0; b < TL_KWS_MEL_BANDS && n_frames > 0; b++)
    {
      double sum = 0.0, mean;

      for (int f = 0; f < n_frames; f++)
        sum += out[(gsize) f * TL_KWS_MEL_BANDS + b];
      mean = sum / n_frames;
      for (int f = 0; f < n_frames; f++)
        out[(gsize) f * TL_KWS_MEL_BANDS + b] = (float) (out[(gsize) f * TL_KWS_MEL_BANDS + b] - mean);
    }
}
