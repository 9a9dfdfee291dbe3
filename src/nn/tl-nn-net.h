/* tl-nn-net.h — networks: describe a graph of layers, run it forward and
 * backward over a batch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A network is a list of nodes in topological order; each node takes the
 * outputs of earlier nodes (so residual blocks and branches are just nodes
 * with two inputs) and produces one NHWC tensor per image.  Building:
 *
 *   TlNet *net = tl_net_new (150, 150, 3);            // node 0: the input
 *   int x = tl_net_conv2d (net, 0, "conv1", 32, 7, 7, 2, TL_PAD_VALID, 1, true);
 *   x = tl_net_relu (net, x);
 *   int y = tl_net_conv2d (net, x, "res1.conv", 32, 3, 3, 1, TL_PAD_SAME, 1, true);
 *   x = tl_net_add (net, x, y);                        // a residual join
 *   …
 *   if (!tl_net_build (net, &err)) …                   // shapes, parameters
 *   if (!tl_net_prepare (net, max_batch, training, &err)) …   // workspace
 *   const float *emb = tl_net_forward (net, images, batch, false);
 *
 * A net runs one pass at a time: give each thread that runs networks its
 * own TlNet (they may share nothing but the engine's worker threads).
 *
 * Builder calls return the new node's index, or -1 after an error, which
 * is kept (the first one wins) and reported by tl_net_build (); so they
 * can be chained without checking each one.
 *
 * Memory: all parameters live in ONE allocation; tl_net_tensors () is the
 * table of named tensors pointing into it (and, once training is prepared,
 * into the gradient allocation of the same layout).  tl_net_prepare ()
 * allocates ONE workspace for every activation, scratch buffer and, for
 * training, activation gradient and saved batch statistic; forward and
 * backward allocate nothing.
 *
 * Parameter names: "<node>.weight" [kh][kw][c/groups][oc] (conv) or
 * [in][out] (dense), "<node>.bias" [oc], batch norm "<node>.gamma",
 * "<node>.beta", "<node>.mean", "<node>.var" (the last two are running
 * statistics, not trained), scale+bias "<node>.scale", "<node>.bias",
 * PReLU "<node>.alpha".
 */
#pragma once

#include "tl-nn-layers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum
{
  TL_OP_INPUT = 0,
  TL_OP_CONV2D,          /* ip: oc kh kw stride pad groups has_bias */
  TL_OP_BATCHNORM,       /* fp: eps momentum; ip[7] = 1: folded */
  TL_OP_SCALE_BIAS,      /* ip[7] = 1: folded into the convolution before */
  TL_OP_RELU,
  TL_OP_LEAKY_RELU,      /* fp: slope */
  TL_OP_PRELU,
  TL_OP_MAXPOOL,         /* ip: k stride pad */
  TL_OP_AVGPOOL,         /* ip: k stride pad */
  TL_OP_GLOBAL_AVGPOOL,
  TL_OP_DENSE,           /* ip: out has_bias */
  TL_OP_ADD,
  TL_OP_CONCAT,
  TL_OP_PAD,             /* ip: oh ow oc */
  TL_OP_L2NORM,          /* fp: eps */
  TL_OP_N_OPS
} TlOp;

#define TL_NET_MAX_INPUTS 8
#define TL_NET_NAME_MAX   48
#define TL_NET_MAX_NODES  4096

typedef struct
{
  TlOp  op;
  char  name[TL_NET_NAME_MAX];
  int   n_inputs;
  int   inputs[TL_NET_MAX_INPUTS];
  int   ip[8];                 /* integer parameters, see TlOp */
  float fp[2];                 /* float parameters, see TlOp */
  int   h, w, c;               /* output shape of one image (after build) */
} TlNetNode;

#define TL_TENSOR_NAME_MAX 64

typedef struct
{
  char   name[TL_TENSOR_NAME_MAX];
  int    ndim;
  int    dims[4];
  size_t count;                /* product of dims */
  bool   trainable;            /* false for batch norm running statistics */
  float *data;                 /* into the one parameter allocation */
  float *grad;                 /* same layout, NULL until training is prepared */
} TlNnTensor;

typedef struct _TlNet TlNet;

TlNet *tl_net_new      (int h, int w, int c);
/* The same with the input node named @input_name (shorter than
 * TL_NET_NAME_MAX; NULL if it is not): a model file keeps the name, so
 * it can say how its input is made. */
TlNet *tl_net_new_named (int h, int w, int c, const char *input_name);
void   tl_net_free     (TlNet *net);

/* ---- building (returns the node index or -1) ---------------------------- */
int tl_net_conv2d         (TlNet *net, int in, const char *name, int oc,
                           int kh, int kw, int stride, int pad, int groups,
                           bool bias);
int tl_net_batchnorm      (TlNet *net, int in, const char *name, float eps,
                           float momentum);
int tl_net_scale_bias     (TlNet *net, int in, const char *name);
int tl_net_relu           (TlNet *net, int in);
int tl_net_leaky_relu     (TlNet *net, int in, float slope);
int tl_net_prelu          (TlNet *net, int in, const char *name);
int tl_net_maxpool        (TlNet *net, int in, int k, int stride, int pad);
int tl_net_avgpool        (TlNet *net, int in, int k, int stride, int pad);
int tl_net_global_avgpool (TlNet *net, int in);
/* Flattens its input per image in NHWC order ([h][w][c], as TensorFlow). */
int tl_net_dense          (TlNet *net, int in, const char *name, int out,
                           bool bias);
int tl_net_add            (TlNet *net, int a, int b);
int tl_net_concat         (TlNet *net, int n_in, const int *in);
int tl_net_pad            (TlNet *net, int in, int oh, int ow, int oc);
int tl_net_l2norm         (TlNet *net, int in, float eps);
/* Generic form used by the model loader: node->op, name, inputs, ip, fp. */
int tl_net_add_node       (TlNet *net, const TlNetNode *node);

/* The node whose activation tl_net_forward () returns (default: the last). */
void tl_net_set_output    (TlNet *net, int node);

/* Infers shapes, checks them, allocates the parameters (zero) and the
 * tensor table.  No nodes can be added afterwards. */
bool tl_net_build         (TlNet *net, TlNnError *err);
/* Allocates the workspace for batches of up to max_batch images; with
 * training also the gradients (parameters and activations).  May be called
 * again to change either. */
bool tl_net_prepare       (TlNet *net, int max_batch, bool training,
                           TlNnError *err);

/* Fills trainable weights for training from scratch (He-normal for conv
 * and dense weights, biases 0, gamma/scale 1, PReLU alpha 0.25, running
 * variance 1), deterministic for a seed. */
void tl_net_init_params   (TlNet *net, uint64_t seed);

/* For inference only: folds every batch norm and scale+bias whose input
 * is a convolution with a bias (used by nothing else) into that
 * convolution's weights, so that it costs nothing at run time.  The folded
 * nodes stay in the graph as pass-throughs (and say so in model files).
 * Returns how many were folded.  Do not train a folded net. */
int  tl_net_fold          (TlNet *net);

/* For inference only, once the weights are final (after tl_net_fold ()):
 * lays out once the weights of the convolutions that run faster on
 * another layout, so that inference passes only reuse them: transformed
 * filters for Winograd (3×3 stride 1: tl-nn-winograd.h), and for few
 * output pixels and many weights (tl_conv2d_transposed_applies ()) 8-bit
 * codes when the weights lie on a 256-level grid per output channel, as
 * those of a uint8-quantised model file do (tl-nn-quant.h), or else
 * transposed weights.  Weights changed later
 * are not seen by those convolutions until tl_net_freeze () runs again;
 * tl_net_prepare () for training drops the transformed filters.  Also
 * lets the activations share buffers: a node's buffer is taken over by
 * one that runs after all its readers, so that a pass keeps rewriting a
 * little memory that stays in cache (tl_net_activation () then holds a
 * node's activation only until that happens; the output's always).
 * tl_net_prepare () gives each its own again.  Returns how many
 * convolutions use the other layouts, or -1 (out of memory). */
int  tl_net_freeze        (TlNet *net, TlNnError *err);

/* How tl_net_freeze () laid out node i's weights: "F(2x2,3x3)" or
 * "F(4x4,3x3)" (Winograd), "codes" (8-bit codes on the grid the weights
 * lie on, tl-nn-quant.h), "transposed", or NULL (as they are). */
const char *tl_net_frozen_layout (const TlNet *net, int node);

/* ---- running ------------------------------------------------------------
 * input [batch][h][w][c] must stay valid until backward has run (it is not
 * copied).  training = true uses batch statistics in batch norm (and
 * updates the running ones); false uses the running statistics.  Returns
 * the output node's activation [batch][h][w][c], owned by the net, valid
 * until the next forward; NULL when batch is not in 1..max_batch or a
 * training pass is asked of a net not prepared for training. */
const float *tl_net_forward  (TlNet *net, const float *input, int batch,
                              bool training);
/* After a forward with training = true: back-propagates dout (shape of the
 * output) and ACCUMULATES parameter gradients into the tensors' grad. */
void         tl_net_backward (TlNet *net, const float *dout);
void         tl_net_zero_grads (TlNet *net);

/* ---- inspection ---------------------------------------------------------- */
int               tl_net_n_nodes     (const TlNet *net);
const TlNetNode  *tl_net_node        (const TlNet *net, int i);
int               tl_net_output      (const TlNet *net);
/* Activation of any node from the last forward, [batch][h][w][c].  (In a
 * net prepared for inference, an activation whose only consumer is an
 * element-wise layer — ReLU, leaky ReLU, PReLU, scale+bias, batch norm —
 * holds that layer's output: it ran in place.  The activations inside a
 * chain of layers run as one, tl-nn-fused.h, are not written at all:
 * only the chain's last node's and its second output's.  After
 * tl_net_freeze (), a later node may have written over it.) */
float            *tl_net_activation  (TlNet *net, int node);
/* Gradient of the loss with respect to a node's activation, after backward
 * (NULL without training). */
float            *tl_net_activation_grad (TlNet *net, int node);
int               tl_net_n_tensors   (const TlNet *net);
TlNnTensor       *tl_net_tensor      (TlNet *net, int i);
TlNnTensor       *tl_net_find_tensor (TlNet *net, const char *name);
/* The whole parameter / gradient allocation (what optimizers step over):
 * n floats; tensors start 64-byte aligned with zero padding between them.
 * Running statistics are included; their grad stays zero. */
float            *tl_net_params      (TlNet *net, size_t *n);
float            *tl_net_grads       (TlNet *net, size_t *n);
size_t            tl_net_n_params    (const TlNet *net);  /* trainable floats */
/* FLOPs of one image's forward pass (multiply-add = 2). */
int64_t           tl_net_flops       (const TlNet *net);
/* One AdamW step (betas 0.9 / 0.999, eps 1e-8) over every trainable tensor
 * from its grad; m and v are moment buffers laid out like tl_net_params ().
 * Weight decay applies to tensors of two or more dimensions only (weights,
 * not biases or batch-norm parameters); t counts steps from 1. */
void              tl_net_adam_step   (TlNet *net,
                                      float *m,
                                      float *v,
                                      float  lr,
                                      float  weight_decay,
                                      int    t);

#ifdef __cplusplus
}
#endif
