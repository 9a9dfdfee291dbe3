/* tl-nn-layers.h — layers of the engine, each a forward/backward pair
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions (llm.c style):
 *  - outputs first, then inputs, then weights, then dimensions;
 *  - plain float * and int; nothing allocates; scratch memory, where a
 *    kernel needs it, is passed in (`ws`, sized by the *_workspace ()
 *    functions, in floats);
 *  - backward ACCUMULATES (+=) into din, dw, db …; any of those gradient
 *    pointers may be NULL when that gradient is not wanted;
 *  - a *_ref () beside every fast kernel is the naive reference the tests
 *    compare against.
 *
 * Layout: activations are NHWC, a tensor [n][h][w][c].  NHWC because it
 * makes convolution cheapest with BLIS: the GEMM is
 *   out[n·oh·ow][oc] = patches[n·oh·ow][kh·kw·c] × w[kh·kw·c][oc]
 * so (1) a whole batch folds into the GEMM's M dimension (one call, no
 * per-image loop), (2) a 1×1 stride-1 convolution *is* that GEMM on the
 * input as it lies, with no im2col copy, (3) im2col copies contiguous runs
 * of c channels per kernel tap instead of gathering single floats, and
 * (4) depthwise convolution vectorises across the contiguous channels.
 * Weights are HWIO: w[kh][kw][c/groups][oc] (TensorFlow's order, so
 * face-api's weights need no transposition); dense weights are [in][out].
 *
 * Shape legend: n batch, h/w input height/width, c input channels,
 * oh/ow/oc output height/width/channels, m = n·h·w rows of a per-channel op.
 */
#pragma once

#include "tl-nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Padding: TL_PAD_SAME is TensorFlow's "same" (oh = ceil(h / stride), the
 * odd pixel of padding goes after); TL_PAD_VALID is none; any p >= 0 is p
 * pixels on every side. */
#define TL_PAD_VALID 0
#define TL_PAD_SAME  (-1)

/* ---- conv2d -------------------------------------------------------------
 * in [n][h][w][c], w [kh][kw][c/groups][oc], b [oc] or NULL,
 * out [n][oh][ow][oc].  groups divides c and oc; groups == c is depthwise
 * (channel multiplier oc / c).  Paths: 1×1 stride 1 unpadded → one GEMM;
 * depthwise → direct loop vectorised over channels; otherwise im2col + one
 * GEMM per group. */
typedef struct
{
  int n, h, w, c;
  int oc, kh, kw, stride, groups;
  int pad_t, pad_l;           /* zeros before the first row / column */
  int oh, ow;
  /* Inference only: an activation applied to the output as it is written
   * (tl_conv2d_shape sets none; the backward pass ignores it). */
  int act;                    /* TL_CONV_ACT_* */
  float slope;                /* of TL_CONV_ACT_LEAKY, in [0, 1] */
} TlConv2dShape;

enum
{
  TL_CONV_ACT_NONE,
  TL_CONV_ACT_RELU,
  TL_CONV_ACT_LEAKY,          /* max (x, slope·x) */
};

/* Fills s; returns false (and leaves s unusable) for impossible shapes. */
bool   tl_conv2d_shape              (TlConv2dShape *s, int n, int h, int w,
                                     int c, int oc, int kh, int kw,
                                     int stride, int pad, int groups);
size_t tl_conv2d_workspace          (const TlConv2dShape *s);
size_t tl_conv2d_backward_workspace (const TlConv2dShape *s);
int64_t tl_conv2d_flops             (const TlConv2dShape *s);
/* Inference with few output pixels and many weights (the deep layers of an
 * encoder at batch 1): the weights are the big operand of the GEMM, which
 * streams them once when they are stored transposed, wt [oc][kh][kw][c].
 * Groups 1 only; ws as tl_conv2d_workspace (). */
bool   tl_conv2d_transposed_applies (const TlConv2dShape *s);
/* Whether s is one GEMM over its patches (im2col): groups 1, neither a
 * pointwise convolution nor one whose only live tap makes it one. */
bool   tl_conv2d_patches_apply      (const TlConv2dShape *s);
/* The floats [*from, *from + *count) of w [kh][kw][c][oc] that
 * tl_conv2d_forward () reads: one tap's block when only that tap ever
 * meets the image (a "same" convolution of a 1×1 map), else all of w. */
void   tl_conv2d_weights_read       (const TlConv2dShape *s, size_t *from,
                                     size_t *count);
void   tl_conv2d_transpose_weights  (float *wt, const float *w,
                                     const TlConv2dShape *s);
void   tl_conv2d_forward_transposed (float *out, const float *in,
                                     const float *wt, const float *b,
                                     const TlConv2dShape *s, float *ws);

void tl_conv2d_forward      (float *out, const float *in, const float *w,
                             const float *b, const TlConv2dShape *s,
                             float *ws);
void tl_conv2d_backward     (float *din, float *dw, float *db,
                             const float *dout, const float *in,
                             const float *w, const TlConv2dShape *s,
                             float *ws);
void tl_conv2d_forward_ref  (float *out, const float *in, const float *w,
                             const float *b, const TlConv2dShape *s);
void tl_conv2d_backward_ref (float *din, float *dw, float *db,
                             const float *dout, const float *in,
                             const float *w, const TlConv2dShape *s);

/* ---- batch normalisation (training mode) --------------------------------
 * in/out [m][c]; gamma, beta [c].  Forward uses the batch's statistics and
 * stores mean[c] and rstd[c] = 1/sqrt(var + eps) (biased variance) for
 * backward. */
void tl_batchnorm_forward  (float *out, float *mean, float *rstd,
                            const float *in, const float *gamma,
                            const float *beta, int m, int c, float eps);
void tl_batchnorm_backward (float *din, float *dgamma, float *dbeta,
                            const float *dout, const float *in,
                            const float *mean, const float *rstd,
                            const float *gamma, int m, int c);
/* run = (1 − momentum)·run + momentum·batch (variance unbiased by m/(m−1)). */
void tl_batchnorm_update_running (float *run_mean, float *run_var,
                                  const float *mean, const float *rstd,
                                  int m, int c, float momentum, float eps);
/* Inference: y = gamma·(x − mean)/sqrt(var + eps) + beta as scale + bias. */
void tl_batchnorm_to_scale_bias  (float *scale, float *bias,
                                  const float *gamma, const float *beta,
                                  const float *mean, const float *var,
                                  int c, float eps);
/* Folds a per-output-channel scale + bias into a convolution (or dense)
 * whose weights are w[rows][oc] and bias b[oc] (b must exist, zero if the
 * layer had none): w' = w·scale, b' = b·scale + bias. */
void tl_fold_scale_bias          (float *w, float *b, const float *scale,
                                  const float *bias, int rows, int oc);

/* ---- per-channel scale + bias: out = in·scale[c] + bias[c] --------------
 * scale or bias may be NULL (1 or 0). */
void tl_scale_bias_forward  (float *out, const float *in, const float *scale,
                             const float *bias, int m, int c);
void tl_scale_bias_backward (float *din, float *dscale, float *dbias,
                             const float *dout, const float *in,
                             const float *scale, int m, int c);

/* ---- activations (in-place forward allowed: out == in) ------------------
 * ReLU backward takes the forward OUTPUT (valid in place too); leaky and
 * PReLU take the input. */
void tl_relu_forward        (float *out, const float *in, size_t n);
void tl_relu_backward       (float *din, const float *dout, const float *out,
                             size_t n);
void tl_leaky_relu_forward  (float *out, const float *in, float slope,
                             size_t n);
void tl_leaky_relu_backward (float *din, const float *dout, const float *in,
                             float slope, size_t n);
/* PReLU: alpha [c] per channel, in [m][c]. */
void tl_prelu_forward       (float *out, const float *in, const float *alpha,
                             int m, int c);
void tl_prelu_backward      (float *din, float *dalpha, const float *dout,
                             const float *in, const float *alpha, int m,
                             int c);

/* ---- pooling ------------------------------------------------------------
 * in [n][h][w][c], out [n][oh][ow][c].  Padding never takes part: max
 * ignores it, average divides by the number of real pixels (TensorFlow's
 * behaviour). */
typedef struct
{
  int n, h, w, c;
  int k, stride;
  int pad_t, pad_l;
  int oh, ow;
} TlPoolShape;

bool tl_pool_shape            (TlPoolShape *s, int n, int h, int w, int c,
                               int k, int stride, int pad);
void tl_maxpool_forward       (float *out, const float *in,
                               const TlPoolShape *s);
void tl_maxpool_backward      (float *din, const float *dout,
                               const float *in, const TlPoolShape *s);
void tl_avgpool_forward       (float *out, const float *in,
                               const TlPoolShape *s);
void tl_avgpool_backward      (float *din, const float *dout,
                               const TlPoolShape *s);
/* in [n][hw][c] → out [n][c] */
void tl_global_avgpool_forward  (float *out, const float *in, int n, int hw,
                                 int c);
void tl_global_avgpool_backward (float *din, const float *dout, int n, int hw,
                                 int c);

/* ---- dense: out [n][oc] = in [n][ic] × w [ic][oc] + b [oc] (b may be NULL) */
void tl_dense_forward      (float *out, const float *in, const float *w,
                            const float *b, int n, int ic, int oc);
void tl_dense_backward     (float *din, float *dw, float *db,
                            const float *dout, const float *in,
                            const float *w, int n, int ic, int oc);
void tl_dense_forward_ref  (float *out, const float *in, const float *w,
                            const float *b, int n, int ic, int oc);
void tl_dense_backward_ref (float *din, float *dw, float *db,
                            const float *dout, const float *in,
                            const float *w, int n, int ic, int oc);

/* ---- residual add: out = a + b (out may alias a or b) -------------------- */
void tl_add_forward  (float *out, const float *a, const float *b, size_t n);
void tl_add_backward (float *da, float *db, const float *dout, size_t n);

/* ---- concat along channels: ins[i] [m][cs[i]] → out [m][Σ cs] ------------ */
void tl_concat_forward  (float *out, const float *const *ins, const int *cs,
                         int n_in, int m);
void tl_concat_backward (float *const *dins, const float *dout, const int *cs,
                         int n_in, int m);

/* ---- zero padding: in [n][h][w][c] placed at the top-left corner of
 * out [n][oh][ow][oc] (oh >= h, ow >= w, oc >= c), zeros elsewhere.  This is
 * how face-api's ResNet widens its shortcut and evens its shapes. */
void tl_pad_forward  (float *out, const float *in, int n, int h, int w, int c,
                      int oh, int ow, int oc);
void tl_pad_backward (float *din, const float *dout, int n, int h, int w,
                      int c, int oh, int ow, int oc);

/* ---- L2 normalisation of rows: out[i] = in[i] / sqrt(Σ in[i]² + eps) ----
 * in/out [n][d]. */
void tl_l2norm_forward  (float *out, const float *in, int n, int d,
                         float eps);
void tl_l2norm_backward (float *din, const float *dout, const float *in,
                         int n, int d, float eps);

#ifdef __cplusplus
}
#endif
