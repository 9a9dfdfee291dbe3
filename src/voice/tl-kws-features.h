/* tl-kws-features.h — log-mel features of speech for the keyword verifier
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * 16 kHz samples → frames of 25 ms (400 samples) every 10 ms, Hamming
 * window, 512-point power spectrum, 40 triangular filters evenly spaced on
 * the mel scale (HTK's 2595·log10(1 + f/700)) from 20 Hz to 8 kHz, natural
 * log of each filter's energy (plus a floor of TL_KWS_MEL_FLOOR, far below
 * a real microphone's noise).
 *
 * Shape legend: a frame is TL_KWS_MEL_BANDS floats; a window of n frames
 * is [n][TL_KWS_MEL_BANDS], time-major.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TL_KWS_MEL_BANDS   40
#define TL_KWS_MEL_WIN     400    /* samples per frame: 25 ms */
#define TL_KWS_MEL_HOP     160    /* 10 ms */
#define TL_KWS_MEL_FFT     512
#define TL_KWS_MEL_FMIN    20.0
#define TL_KWS_MEL_FMAX    8000.0
#define TL_KWS_MEL_FLOOR   1e-8

typedef struct _TlKwsMel TlKwsMel;

/* Window, filter bank and FFT tables, computed once. */
TlKwsMel *tl_kws_mel_new             (void);
void      tl_kws_mel_free            (TlKwsMel     *mel);

/* One frame: in [TL_KWS_MEL_WIN] samples scaled to [-1, 1] → out
 * [TL_KWS_MEL_BANDS] log energies.  Radix-2 FFT. */
void      tl_kws_mel_frame           (const TlKwsMel *mel,
                                      float          *out,
                                      const float    *in);
/* The same by a direct DFT in double and a filter bank evaluated bin by
 * bin from the mel formula: the reference the fast path is tested with. */
void      tl_kws_mel_frame_reference (float          *out,
                                      const float    *in);

/* Each band of x [n_frames][TL_KWS_MEL_BANDS] minus its mean over the
 * frames, in place. */
void      tl_kws_mel_centre          (float          *x,
                                      int             n_frames);

/* The windows of tl_kws_mel_window () ending at @end + @offsets[i] ·
 * TL_KWS_MEL_HOP for each of the @n_offsets offsets (whole frames, either
 * way), the same numbers, but each frame of their union computed once:
 * out [n_offsets][n_frames][TL_KWS_MEL_BANDS]. */
void      tl_kws_mel_windows         (const TlKwsMel *mel,
                                      float          *out,
                                      const gint16   *samples,
                                      gint64          n_samples,
                                      gint64          end,
                                      const int      *offsets,
                                      guint           n_offsets,
                                      int             n_frames);

/* @in [n_in][TL_KWS_MEL_BANDS] resampled into @out [n_out][…], each band
 * then centred (tl_kws_mel_centre ()): output frame f reads the input at
 * frame @shift + @anchor + (f − @anchor) · @stretch (a stretch of time
 * about frame @anchor), output band b reads band b · @warp (a warp of the
 * mel axis, as a longer or shorter vocal tract moves the formants), by
 * linear interpolation, positions clamped to the input.  With a whole
 * @shift, stretch 1 and warp 1 it copies frames @shift … @shift + n_out − 1. */
void      tl_kws_mel_resample        (float          *out,
                                      int             n_out,
                                      const float    *in,
                                      int             n_in,
                                      float           anchor,
                                      float           shift,
                                      float           stretch,
                                      float           warp);

/* The verifier's input: the n_frames frames whose last one ends at sample
 * @end of @samples (samples outside [0, n_samples) count as silence), each
 * band minus its mean over the window, so the level of the recording
 * drops out.  out: [n_frames][TL_KWS_MEL_BANDS]. */
void      tl_kws_mel_window          (const TlKwsMel *mel,
                                      float          *out,
                                      const gint16   *samples,
                                      gint64          n_samples,
                                      gint64          end,
                                      int             n_frames);
/* The same written plainly, apart from the fast window: each frame's
 * samples cut on their own, tl_kws_mel_frame_reference () (a direct DFT),
 * each band centred in double.  Its naive reference. */
void      tl_kws_mel_window_reference (float          *out,
                                       const gint16   *samples,
                                       gint64          n_samples,
                                       gint64          end,
                                       int             n_frames);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TlKwsMel, tl_kws_mel_free)

G_END_DECLS
