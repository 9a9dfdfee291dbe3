/* tl-nn-winograd.h — 3×3 stride-1 convolutions by Winograd's minimal
 * filtering, F(m×m, 3×3)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The output is cut into m×m tiles.  Each tile comes from an α×α block of
 * input (α = m + 2) through α² independent mixes of channels, one per
 * position ξ of the transformed block:
 *
 *   V[ξ][tile][c]  = (Bᵀ d B)[ξ]       input transform, per tile and channel
 *   U[ξ][c][oc]    = (G g Gᵀ)[ξ]       filter transform, once per weight set
 *   M[ξ][tile][oc] = V[ξ] × U[ξ]       α² GEMMs (tiles × c by c × oc)
 *   out tile       = Aᵀ M A            output transform, bias, activation
 *
 * So a tile costs α²·c·oc multiply-adds instead of 9·m²·c·oc: 2.25× fewer
 * for m = 2 (α² = 16), 4× for m = 4 (α² = 36), 5.06× for m = 6 (α² =
 * 64), plus transforms that grow with the channels only.  Tiles hanging
 * over the output's edge compute pixels that are thrown away, so small
 * maps favour m = 2, or no Winograd at all.  The results equal the direct
 * convolution's up to float rounding (larger for m = 4, whose transforms
 * have entries up to 8 and 1/24, and again for m = 6, up to 32 and 1/180;
 * see the tests for the measured differences).
 */
#pragma once

#include <stdint.h>

#include "tl-nn-layers.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether s can run by Winograd: 3×3, stride 1, groups 1 (any padding
 * and batch). */
bool   tl_winograd_applies        (const TlConv2dShape *s);
/* The tile size (2 or 4) that runs s fastest on this engine, or 0 when
 * the engine's other paths beat both (or s does not apply).  Decided by
 * the shape alone, from measurements on the face encoder's layers. */
int    tl_winograd_choose         (const TlConv2dShape *s);

/* Transformed filters: u [α²][c][oc] from w [3][3][c][oc]. */
size_t tl_winograd_filter_floats  (const TlConv2dShape *s, int m);
void   tl_winograd_filter         (float *u, const float *w,
                                   const TlConv2dShape *s, int m);

/* out [n][oh][ow][oc] = act (conv (in, w) + b), with u the transformed w;
 * b may be NULL; ws holds tl_winograd_workspace () floats. */
size_t tl_winograd_workspace      (const TlConv2dShape *s, int m);
void   tl_winograd_forward        (float *out, const float *in, const float *u,
                                   const float *b, const TlConv2dShape *s,
                                   int m, float *ws);
/* The same with a residual sum before the activation: out = act ((conv
 * (in, w) + b) + res), res [n][oh][ow][oc] (not out), the bits of the
 * convolution followed by tl_add_forward () and the activation, without
 * the second pass over the map. */
void   tl_winograd_forward_sum    (float *out, const float *in, const float *u,
                                   const float *b, const float *res,
                                   const TlConv2dShape *s, int m, float *ws);

/* F(2×2, 3×3) on weights that lie on a 256-level grid per output channel
 * (tl-nn-quant.h; oc a multiple of 16): the transformed filters are then
 * exactly (a / 4)·Q + (b / 4)·S with integer Q of 16 bits (2·G has
 * integer entries), half the bytes of floats to read.  u holds
 * tl_winograd_codes_bytes () bytes; false when w is on no grid. */
size_t tl_winograd_codes_bytes    (const TlConv2dShape *s);
bool   tl_winograd_filter_codes   (uint8_t *u, const float *w,
                                   const TlConv2dShape *s, double max_err_rel);
void   tl_winograd_forward_codes  (float *out, const float *in, const uint8_t *u,
                                   const float *b, const TlConv2dShape *s,
                                   float *ws);

/* F(4×4, 3×3) or F(6×6, 3×3) on float filters kept as their taps, in
 * panels of 16 outputs (u [oc / 16][c][9][16], tl_winograd_taps_floats
 * () floats), and transformed as the products need them, a row of
 * positions for 64 channels of a panel at a time: a quarter (m = 4) or
 * a seventh (m = 6) of the
 * bytes of transformed filters to read, for maps where F(2×2) would run
 * only because larger tiles' filters cost more to read than their
 * products save (the 17×17 maps; oc a multiple of 16).
 * tl_winograd_taps_choose () gives the tile size m that runs s fastest
 * this way, or 0; ws holds tl_winograd_workspace (s, m) floats (m 4 or
 * 6: the forward functions take any other m for 4). */
int    tl_winograd_taps_choose    (const TlConv2dShape *s);
size_t tl_winograd_taps_floats    (const TlConv2dShape *s);
void   tl_winograd_taps           (float *u, const float *w, const TlConv2dShape *s);
void   tl_winograd_forward_taps   (float *out, const float *in, const float *u,
                                   const float *b, const TlConv2dShape *s, int m,
                                   float *ws);
void   tl_winograd_forward_taps_sum (float *out, const float *in, const float *u,
                                     const float *b, const float *res,
                                     const TlConv2dShape *s, int m, float *ws);

#ifdef __cplusplus
}
#endif
