/* tl-nn-net.c — networks as lists of nodes: shapes, parameters, workspace,
 * forward and backward
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl-nn-fast.h"
#include "tl-nn-fused.h"
#include "tl-nn-net.h"
#include "tl-nn-optim.h"
#include "tl-nn-private.h"
#include "tl-nn-quant.h"
#include "tl-nn-winograd.h"

/* Sizes past these are refused: they guard the int arithmetic of the
 * layers and keep a hostile model file from asking for absurd memory. */
#define MAX_SIDE        16384
#define MAX_CHANNELS    65536
#define MAX_KERNEL      64
#define MAX_IMAGE_FLOATS ((int64_t) 1 << 28)
#define MAX_PARAM_FLOATS ((int64_t) 1 << 27)     /* 512 MiB, the largest model file */

/* Inference: a chain of layers run as one from a node (tl-nn-fused.h). */
typedef struct
{
  int       end;               /* its last node (whose output it writes), 0: none */
  int       conv;              /* the convolution (after the depthwise, if any) */
  int       residual;          /* the node added to the conv's output, or 0 */
  int       second;            /* the node given the second output, or 0 */
  int       members[6];        /* the nodes after the first that it runs */
  int       n_members;
  TlNnChain c;
} ChainPlan;

struct _TlNet
{
  TlNetNode  *nodes;
  int         n_nodes, cap_nodes;
  int         output;
  bool        built;
  bool        failed;
  TlNnError   error;

  TlNnTensor *tensors;
  int         n_tensors;
  int        *first_tensor;    /* per node */
  float      *params, *grads;
  size_t      n_floats;

  int         max_batch;
  bool        training;
  float      *ws;
  float     **act, **dact;
  float     **stat;            /* per batch-norm node: 2·c floats */
  float      *scratch;
  int        *sole_user;       /* per node: the only node reading it, or 0 */
  bool       *fused;           /* inference: activation done by its producer */
  ChainPlan  *chains;          /* per node */
  float      *chain_ws;
  const float *input;
  int         batch;
  bool        forward_training;
  /* per node, after tl_net_freeze (): weights laid out for inference */
  void      **frozen;
  int        *frozen_kind;     /* FROZEN_* or a Winograd tile size */
  size_t     *frozen_bytes;
  char       *frozen_arena;    /* holds them all, or NULL (pack_frozen ()) */
};

static int
net_fail (TlNet         *net,
          TlNnErrorCode  code,
          const char    *what)
{
  if (!net->failed)
    {
      net->failed = true;
      net->error.code = code;
      snprintf (net->error.message, sizeof net->error.message, "%s", what);
    }
  return -1;
}

TlNet *
tl_net_new (int h,
            int w,
            int c)
{
  return tl_net_new_named (h, w, c, "input");
}

TlNet *
tl_net_new_named (int         h,
                  int         w,
                  int         c,
                  const char *input_name)
{
  TlNet *net;
  TlNetNode input = { .op = TL_OP_INPUT };

  if (input_name == NULL || strlen (input_name) >= TL_NET_NAME_MAX)
    return NULL;
  net = calloc (1, sizeof *net);
  if (net == NULL)
    return NULL;
  strcpy (input.name, input_name);
  input.h = h; input.w = w; input.c = c;
  tl_net_add_node (net, &input);
  return net;
}

/* frozen_kind: 2 and 4 (and 6, should tl_winograd_choose () ever give it)
 * are Winograd tile sizes; the other kinds take numbers no tile size has */
#define FROZEN_TRANSPOSED 1
#define FROZEN_CODES      3    /* 8-bit codes, tl-nn-quant.h */
#define FROZEN_WINOGRAD_CODES 5  /* F(2×2, 3×3) on 16-bit codes */
#define FROZEN_WINOGRAD_TAPS 7   /* F(4×4) or F(6×6, 3×3) from the taps */

/* How far from a 256-level grid weights may lie and still be taken for
 * codes on it, relative to their column's largest magnitude: a few float
 * roundings (folding a scale into quantised weights leaves about one). */
#define GRID_MAX_ERR (1.0 / (1 << 20))

static void
drop_frozen (TlNet *net)
{
  for (int i = 0; net->frozen != NULL && net->frozen_arena == NULL && i < net->n_nodes; i++)
    tl_nn_free (net->frozen[i]);
  tl_nn_free (net->frozen_arena);
  net->frozen_arena = NULL;
  free (net->frozen);
  free (net->frozen_kind);
  free (net->frozen_bytes);
  net->frozen = NULL;
  net->frozen_kind = NULL;
  net->frozen_bytes = NULL;
}

void
tl_net_free (TlNet *net)
{
  if (net == NULL)
    return;
  free (net->nodes);
  free (net->tensors);
  free (net->first_tensor);
  tl_nn_free (net->params);
  tl_nn_free (net->grads);
  tl_nn_free (net->ws);
  free (net->act);
  free (net->dact);
  free (net->stat);
  free (net->sole_user);
  free (net->fused);
  free (net->chains);
  drop_frozen (net);
  free (net);
}

static bool
has_params (TlOp op)
{
  return op == TL_OP_CONV2D || op == TL_OP_BATCHNORM ||
         op == TL_OP_SCALE_BIAS || op == TL_OP_PRELU || op == TL_OP_DENSE;
}

static bool
conv_shape_of (const TlNetNode     *node,
               const TlNetNode     *in,
               int                  n,
               TlConv2dShape       *s)
{
  return tl_conv2d_shape (s, n, in->h, in->w, in->c, node->ip[0], node->ip[1],
                          node->ip[2], node->ip[3], node->ip[4], node->ip[5]);
}

static bool
pool_shape_of (const TlNetNode *node,
               const TlNetNode *in,
               int              n,
               TlPoolShape     *s)
{
  return tl_pool_shape (s, n, in->h, in->w, in->c, node->ip[0], node->ip[1],
                        node->ip[2]);
}

/* Checks a node against the nodes before it and sets its output shape. */
static bool
infer (TlNet     *net,
       TlNetNode *node,
       char      *why,
       size_t     why_size)
{
  const TlNetNode *in = node->n_inputs > 0 ? &net->nodes[node->inputs[0]] : NULL;
  TlConv2dShape cs;
  TlPoolShape ps;

  if (in == NULL && node->op != TL_OP_INPUT)
    return snprintf (why, why_size, "a layer has no input"), false;
  if (in == NULL)
    {
      if (net->n_nodes != 0)
        return snprintf (why, why_size, "only the first node is the input"), false;
      return true;
    }

  switch (node->op)
    {
    case TL_OP_INPUT:
      return snprintf (why, why_size, "only the first node is the input"), false;
    case TL_OP_CONV2D:
      if (node->ip[1] > MAX_KERNEL || node->ip[2] > MAX_KERNEL ||
          node->ip[0] > MAX_CHANNELS || node->ip[3] > MAX_KERNEL ||
          !conv_shape_of (node, in, 1, &cs))
        return snprintf (why, why_size,
                         "convolution “%s” (%d×%d/%d, %d→%d channels, %d groups) does not fit its %d×%d input",
                         node->name, node->ip[1], node->ip[2], node->ip[3], in->c,
                         node->ip[0], node->ip[5], in->h, in->w), false;
      node->h = cs.oh; node->w = cs.ow; node->c = cs.oc;
      return true;
    case TL_OP_MAXPOOL:
    case TL_OP_AVGPOOL:
      if (node->ip[0] > MAX_KERNEL || node->ip[1] > MAX_KERNEL ||
          !pool_shape_of (node, in, 1, &ps))
        return snprintf (why, why_size, "pooling %d/%d does not fit its %d×%d input",
                         node->ip[0], node->ip[1], in->h, in->w), false;
      node->h = ps.oh; node->w = ps.ow; node->c = in->c;
      return true;
    case TL_OP_GLOBAL_AVGPOOL:
      node->h = 1; node->w = 1; node->c = in->c;
      return true;
    case TL_OP_DENSE:
      if (node->ip[0] <= 0 || node->ip[0] > MAX_CHANNELS ||
          (int64_t) in->h * in->w * in->c > MAX_CHANNELS * 64)
        return snprintf (why, why_size, "dense layer “%s” has a bad size", node->name), false;
      node->h = 1; node->w = 1; node->c = node->ip[0];
      return true;
    case TL_OP_ADD:
      if (node->n_inputs != 2)
        return snprintf (why, why_size, "an addition takes two inputs"), false;
      {
        const TlNetNode *b = &net->nodes[node->inputs[1]];
        if (b->h != in->h || b->w != in->w || b->c != in->c)
          return snprintf (why, why_size, "cannot add a %d×%d×%d tensor to a %d×%d×%d one",
                           b->h, b->w, b->c, in->h, in->w, in->c), false;
      }
      break;
    case TL_OP_CONCAT:
      {
        int64_t c = 0;

        for (int k = 0; k < node->n_inputs; k++)
          {
            const TlNetNode *b = &net->nodes[node->inputs[k]];
            if (b->h != in->h || b->w != in->w)
              return snprintf (why, why_size, "concatenated tensors differ in height or width"), false;
            c += b->c;
          }
        if (c > MAX_CHANNELS)
          return snprintf (why, why_size, "too many channels"), false;
        node->h = in->h; node->w = in->w; node->c = (int) c;
        return true;
      }
    case TL_OP_PAD:
      if (node->ip[0] < in->h || node->ip[1] < in->w || node->ip[2] < in->c ||
          node->ip[0] > MAX_SIDE || node->ip[1] > MAX_SIDE || node->ip[2] > MAX_CHANNELS)
        return snprintf (why, why_size, "padding to %d×%d×%d would shrink a %d×%d×%d tensor",
                         node->ip[0], node->ip[1], node->ip[2], in->h, in->w, in->c), false;
      node->h = node->ip[0]; node->w = node->ip[1]; node->c = node->ip[2];
      return true;
    case TL_OP_BATCHNORM:
    case TL_OP_L2NORM:
      if (!(node->fp[0] >= 0.0f && node->fp[0] < 1.0f) ||
          (node->op == TL_OP_BATCHNORM && !(node->fp[1] >= 0.0f && node->fp[1] <= 1.0f)))
        return snprintf (why, why_size, "bad epsilon or momentum"), false;
      break;
    case TL_OP_LEAKY_RELU:
      if (!isfinite (node->fp[0]))
        return snprintf (why, why_size, "bad slope"), false;
      break;
    case TL_OP_SCALE_BIAS:
    case TL_OP_RELU:
    case TL_OP_PRELU:
      break;
    default:
      return snprintf (why, why_size, "unknown layer type %d", (int) node->op), false;
    }
  node->h = in->h; node->w = in->w; node->c = in->c;
  return true;
}

int
tl_net_add_node (TlNet           *net,
                 const TlNetNode *desc)
{
  TlNetNode node = *desc;
  char why[200];

  if (net == NULL || net->failed)
    return -1;
  if (net->built)
    return net_fail (net, TL_NN_ERROR_INVALID, "the network is already built");
  if (net->n_nodes >= TL_NET_MAX_NODES)
    return net_fail (net, TL_NN_ERROR_LIMIT, "too many layers");
  if ((int) node.op < 0 || node.op >= TL_OP_N_OPS)
    return net_fail (net, TL_NN_ERROR_FORMAT, "unknown layer type");
  if (memchr (node.name, '\0', sizeof node.name) == NULL)
    return net_fail (net, TL_NN_ERROR_FORMAT, "a layer name is too long");
  if (node.n_inputs < (node.op == TL_OP_INPUT ? 0 : 1) ||
      node.n_inputs > TL_NET_MAX_INPUTS)
    return net_fail (net, TL_NN_ERROR_FORMAT, "a layer has a bad number of inputs");
  if (node.op != TL_OP_CONCAT && node.op != TL_OP_ADD && node.n_inputs > 1)
    return net_fail (net, TL_NN_ERROR_FORMAT, "a layer has too many inputs");
  for (int k = 0; k < node.n_inputs; k++)
    if (node.inputs[k] < 0 || node.inputs[k] >= net->n_nodes)
      return net_fail (net, TL_NN_ERROR_FORMAT,
                       "a layer takes an input that does not come before it");
  if (node.op == TL_OP_INPUT &&
      (node.h <= 0 || node.w <= 0 || node.c <= 0 || node.h > MAX_SIDE ||
       node.w > MAX_SIDE || node.c > MAX_CHANNELS))
    return net_fail (net, TL_NN_ERROR_SHAPE, "bad input shape");
  if (has_params (node.op))
    {
      if (node.name[0] == '\0' || strlen (node.name) > TL_TENSOR_NAME_MAX - 8)
        return net_fail (net, TL_NN_ERROR_FORMAT, "a layer with parameters needs a name");
      for (int k = 0; k < net->n_nodes; k++)
        if (has_params (net->nodes[k].op) && strcmp (net->nodes[k].name, node.name) == 0)
          {
            snprintf (why, sizeof why, "two layers are called “%s”", node.name);
            return net_fail (net, TL_NN_ERROR_FORMAT, why);
          }
    }
  if (!infer (net, &node, why, sizeof why))
    return net_fail (net, TL_NN_ERROR_SHAPE, why);
  if (node.h > MAX_SIDE || node.w > MAX_SIDE || node.c > MAX_CHANNELS ||
      (int64_t) node.h * node.w * node.c > MAX_IMAGE_FLOATS)
    return net_fail (net, TL_NN_ERROR_LIMIT, "a layer's output is too large");

  if (net->n_nodes == net->cap_nodes)
    {
      int cap = net->cap_nodes ? 2 * net->cap_nodes : 32;
      TlNetNode *nodes = realloc (net->nodes, cap * sizeof *nodes);

      if (nodes == NULL)
        return net_fail (net, TL_NN_ERROR_NOMEM, "out of memory");
      net->nodes = nodes;
      net->cap_nodes = cap;
    }
  if (node.name[0] == '\0' && node.op != TL_OP_INPUT)
    snprintf (node.name, sizeof node.name, "#%d", net->n_nodes);
  net->nodes[net->n_nodes] = node;
  net->output = net->n_nodes;
  return net->n_nodes++;
}

static int
add_simple (TlNet      *net,
            TlOp        op,
            int         in,
            const char *name)
{
  TlNetNode node = { .op = op, .n_inputs = 1, .inputs = { in } };

  if (name != NULL)
    {
      if (strlen (name) >= sizeof node.name)
        return net_fail (net, TL_NN_ERROR_INVALID, "a layer name is too long");
      strcpy (node.name, name);
    }
  return tl_net_add_node (net, &node);
}

/* The builders below fill a node and go through tl_net_add_node (), which
 * checks everything, so that files and code are held to the same rules. */
#define BUILD(net_, op_, in_, name_, fill)                       \
  do {                                                            \
    TlNetNode node_ = { .op = (op_), .n_inputs = 1, .inputs = { (in_) } }; \
    const char *name__ = (name_);                                 \
    if (name__ != NULL)                                           \
      {                                                           \
        if (strlen (name__) >= sizeof node_.name)                 \
          return net_fail ((net_), TL_NN_ERROR_INVALID, "a layer name is too long"); \
        strcpy (node_.name, name__);                              \
      }                                                           \
    fill;                                                         \
    return tl_net_add_node ((net_), &node_);                      \
  } while (0)

int
tl_net_conv2d (TlNet      *net,
               int         in,
               const char *name,
               int         oc,
               int         kh,
               int         kw,
               int         stride,
               int         pad,
               int         groups,
               bool        bias)
{
  BUILD (net, TL_OP_CONV2D, in, name,
         (node_.ip[0] = oc, node_.ip[1] = kh, node_.ip[2] = kw,
          node_.ip[3] = stride, node_.ip[4] = pad, node_.ip[5] = groups,
          node_.ip[6] = bias));
}

int
tl_net_batchnorm (TlNet      *net,
                  int         in,
                  const char *name,
                  float       eps,
                  float       momentum)
{
  BUILD (net, TL_OP_BATCHNORM, in, name,
         (node_.fp[0] = eps, node_.fp[1] = momentum));
}

int
tl_net_scale_bias (TlNet      *net,
                   int         in,
                   const char *name)
{
  return add_simple (net, TL_OP_SCALE_BIAS, in, name);
}

int
tl_net_relu (TlNet *net,
             int    in)
{
  return add_simple (net, TL_OP_RELU, in, NULL);
}

int
tl_net_leaky_relu (TlNet *net,
                   int    in,
                   float  slope)
{
  BUILD (net, TL_OP_LEAKY_RELU, in, (const char *) NULL, node_.fp[0] = slope);
}

int
tl_net_prelu (TlNet      *net,
              int         in,
              const char *name)
{
  return add_simple (net, TL_OP_PRELU, in, name);
}

int
tl_net_maxpool (TlNet *net,
                int    in,
                int    k,
                int    stride,
                int    pad)
{
  BUILD (net, TL_OP_MAXPOOL, in, (const char *) NULL,
         (node_.ip[0] = k, node_.ip[1] = stride, node_.ip[2] = pad));
}

int
tl_net_avgpool (TlNet *net,
                int    in,
                int    k,
                int    stride,
                int    pad)
{
  BUILD (net, TL_OP_AVGPOOL, in, (const char *) NULL,
         (node_.ip[0] = k, node_.ip[1] = stride, node_.ip[2] = pad));
}

int
tl_net_global_avgpool (TlNet *net,
                       int    in)
{
  return add_simple (net, TL_OP_GLOBAL_AVGPOOL, in, NULL);
}

int
tl_net_dense (TlNet      *net,
              int         in,
              const char *name,
              int         out,
              bool        bias)
{
  BUILD (net, TL_OP_DENSE, in, name, (node_.ip[0] = out, node_.ip[1] = bias));
}

int
tl_net_add (TlNet *net,
            int    a,
            int    b)
{
  BUILD (net, TL_OP_ADD, a, (const char *) NULL,
         (node_.n_inputs = 2, node_.inputs[1] = b));
}

int
tl_net_concat (TlNet     *net,
               int        n_in,
               const int *in)
{
  TlNetNode node = { .op = TL_OP_CONCAT, .n_inputs = n_in };

  if (n_in < 1 || n_in > TL_NET_MAX_INPUTS)
    return net_fail (net, TL_NN_ERROR_INVALID, "a concatenation takes 1 to 8 inputs");
  memcpy (node.inputs, in, n_in * sizeof (int));
  return tl_net_add_node (net, &node);
}

int
tl_net_pad (TlNet *net,
            int    in,
            int    oh,
            int    ow,
            int    oc)
{
  BUILD (net, TL_OP_PAD, in, (const char *) NULL,
         (node_.ip[0] = oh, node_.ip[1] = ow, node_.ip[2] = oc));
}

int
tl_net_l2norm (TlNet *net,
               int    in,
               float  eps)
{
  BUILD (net, TL_OP_L2NORM, in, (const char *) NULL, node_.fp[0] = eps);
}

void
tl_net_set_output (TlNet *net,
                   int    node)
{
  if (node < 0 || node >= net->n_nodes)
    {
      net_fail (net, TL_NN_ERROR_INVALID, "no such output node");
      return;
    }
  net->output = node;
}

/* ---- parameters ---------------------------------------------------------- */

typedef struct
{
  const char *suffix;
  int         ndim;
  int         dims[4];
  bool        trainable;
} TensorSpec;

/* The tensors a node owns, in file and memory order. */
static int
node_tensors (const TlNet     *net,
              const TlNetNode *node,
              TensorSpec       spec[4])
{
  const TlNetNode *in = node->n_inputs ? &net->nodes[node->inputs[0]] : NULL;
  int c = in ? in->c : 0;

  switch (node->op)
    {
    case TL_OP_CONV2D:
      spec[0] = (TensorSpec) { "weight", 4,
                               { node->ip[1], node->ip[2], c / node->ip[5], node->ip[0] }, true };
      spec[1] = (TensorSpec) { "bias", 1, { node->ip[0] }, true };
      return node->ip[6] ? 2 : 1;
    case TL_OP_BATCHNORM:
      spec[0] = (TensorSpec) { "gamma", 1, { c }, true };
      spec[1] = (TensorSpec) { "beta", 1, { c }, true };
      spec[2] = (TensorSpec) { "mean", 1, { c }, false };
      spec[3] = (TensorSpec) { "var", 1, { c }, false };
      return 4;
    case TL_OP_SCALE_BIAS:
      spec[0] = (TensorSpec) { "scale", 1, { c }, true };
      spec[1] = (TensorSpec) { "bias", 1, { c }, true };
      return 2;
    case TL_OP_PRELU:
      spec[0] = (TensorSpec) { "alpha", 1, { c }, true };
      return 1;
    case TL_OP_DENSE:
      spec[0] = (TensorSpec) { "weight", 2, { in->h * in->w * c, node->ip[0] }, true };
      spec[1] = (TensorSpec) { "bias", 1, { node->ip[0] }, true };
      return node->ip[1] ? 2 : 1;
    default:
      return 0;
    }
}

static bool
ends_with (const char *s,
           const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);

  return a >= b && strcmp (s + a - b, suffix) == 0;
}

/* Values that make every layer start as the identity where it can. */
static void
set_defaults (TlNet *net)
{
  for (int i = 0; i < net->n_tensors; i++)
    {
      TlNnTensor *t = &net->tensors[i];
      float v = 0.0f;

      if (ends_with (t->name, ".gamma") || ends_with (t->name, ".var") ||
          ends_with (t->name, ".scale"))
        v = 1.0f;
      else if (ends_with (t->name, ".alpha"))
        v = 0.25f;
      for (size_t j = 0; j < t->count; j++)
        t->data[j] = v;
    }
}

bool
tl_net_build (TlNet     *net,
              TlNnError *err)
{
  int n_tensors = 0, k = 0;
  size_t total = 0;

  if (net == NULL)
    return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory");
  if (net->failed)
    {
      if (err)
        *err = net->error;
      return false;
    }
  if (net->built)
    return true;
  tl_nn_init ();

  for (int i = 0; i < net->n_nodes; i++)
    {
      TensorSpec spec[4];
      n_tensors += node_tensors (net, &net->nodes[i], spec);
    }
  net->tensors = calloc (n_tensors ? n_tensors : 1, sizeof *net->tensors);
  net->first_tensor = calloc (net->n_nodes, sizeof (int));
  if (net->tensors == NULL || net->first_tensor == NULL)
    return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory");

  for (int i = 0; i < net->n_nodes; i++)
    {
      TensorSpec spec[4];
      int n = node_tensors (net, &net->nodes[i], spec);

      net->first_tensor[i] = k;
      for (int j = 0; j < n; j++, k++)
        {
          TlNnTensor *t = &net->tensors[k];
          int64_t count = 1;

          snprintf (t->name, sizeof t->name, "%s.%s", net->nodes[i].name, spec[j].suffix);
          t->ndim = spec[j].ndim;
          for (int d = 0; d < t->ndim; d++)
            {
              t->dims[d] = spec[j].dims[d];
              count *= t->dims[d];
            }
          t->count = (size_t) count;
          t->trainable = spec[j].trainable;
          total += tl_nn_round16 (t->count);
          if ((int64_t) total > MAX_PARAM_FLOATS)
            return tl_nn_fail (err, TL_NN_ERROR_LIMIT, "the network has too many parameters");
        }
    }
  net->n_tensors = n_tensors;
  net->n_floats = total;
  net->params = tl_nn_alloc_huge (total * sizeof (float));
  if (net->params == NULL)
    return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory for %zu parameters", total);
  total = 0;
  for (int i = 0; i < n_tensors; i++)
    {
      TlNnTensor *t = &net->tensors[i];

      t->data = net->params + total;
      total += tl_nn_round16 (t->count);
    }
  set_defaults (net);
  net->built = true;
  return true;
}

/* splitmix64 → uniform → Box-Muller: deterministic across platforms. */
static uint64_t
next_u64 (uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double
next_normal (uint64_t *state)
{
  double u1 = ((next_u64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  double u2 = ((next_u64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);

  return sqrt (-2.0 * log (u1)) * cos (6.283185307179586 * u2);
}

void
tl_net_init_params (TlNet    *net,
                    uint64_t  seed)
{
  uint64_t state = seed;

  if (net == NULL || !net->built)
    return;
  set_defaults (net);
  for (int i = 0; i < net->n_tensors; i++)
    {
      TlNnTensor *t = &net->tensors[i];
      double fan_in;

      if (!ends_with (t->name, ".weight"))
        continue;
      /* fan-in: every dimension but the last (out channels) */
      fan_in = (double) t->count / t->dims[t->ndim - 1];
      for (size_t j = 0; j < t->count; j++)
        t->data[j] = (float) (next_normal (&state) * sqrt (2.0 / fan_in));
    }
}

/* ---- workspace ----------------------------------------------------------- */

static size_t
node_floats (const TlNetNode *node,
             int              batch)
{
  return tl_nn_round16 ((size_t) batch * node->h * node->w * node->c);
}

static void
noop_chunk (void *ctx,
            int   i)
{
}

/* In inference, an element-wise layer whose input feeds nothing else
 * writes over that input instead of a buffer of its own. */
static bool
runs_in_place (const TlNet *net,
               int          i,
               bool         training)
{
  const TlNetNode *node = &net->nodes[i];
  int src = node->n_inputs > 0 ? node->inputs[0] : 0, users = 0;

  if (training || src == 0 || src == net->output ||
      (node->op != TL_OP_RELU && node->op != TL_OP_LEAKY_RELU &&
       node->op != TL_OP_PRELU && node->op != TL_OP_SCALE_BIAS &&
       node->op != TL_OP_BATCHNORM))
    return false;
  for (int j = 1; j < net->n_nodes; j++)
    for (int k = 0; k < net->nodes[j].n_inputs; k++)
      users += net->nodes[j].inputs[k] == src;
  return users == 1;
}

static bool is_folded (const TlNetNode *node);

/* Whether node a's activation is node p's buffer: a runs in place on it,
 * directly or through other in-place layers. */
static bool
same_buffer (const TlNet *net,
             int          a,
             int          p)
{
  while (a != p && a > 0 && runs_in_place (net, a, false))
    a = net->nodes[a].inputs[0];
  return a == p;
}

static bool
is_act (const TlNetNode *node)
{
  return node->op == TL_OP_RELU ||
         (node->op == TL_OP_LEAKY_RELU && node->fp[0] >= 0.0f && node->fp[0] <= 1.0f);
}

static void
set_act (int             *act,
         float           *slope,
         const TlNetNode *node)
{
  *act = node->op == TL_OP_RELU ? TL_CONV_ACT_RELU : TL_CONV_ACT_LEAKY;
  *slope = node->fp[0];
}

/* Inference: the chain tl_nn_chain_forward () can run from convolution i
 * on (tl-nn-fused.h).  Its first part is a depthwise 3×3 into the
 * pointwise convolution that alone reads it, or a few-channel first
 * layer; then, after a pointwise one, the sum with a tensor computed
 * before the chain that alone reads its output; then the activation that
 * runs in place after that, or else an activation beside another reader
 * (the second output); then the 2×2 max pool that alone reads that.
 * Fills plan and returns true when there is a chain worth running. */
static bool
find_chain (const TlNet *net,
            int          i,
            int          batch,
            ChainPlan   *plan)
{
  const TlNetNode *node = &net->nodes[i];
  TlNnChain *c = &plan->c;
  int p = i, k, last, q;

  memset (plan, 0, sizeof *plan);
  if (node->op != TL_OP_CONV2D || !conv_shape_of (node, &net->nodes[node->inputs[0]], batch, &c->conv))
    return false;
  if (c->conv.groups == c->conv.c && c->conv.groups > 1)
    {
      p = net->sole_user[i];
      if (p <= 0 || i == net->output || net->nodes[p].op != TL_OP_CONV2D)
        return false;
      c->has_dw = true;
      c->dw = c->conv;
      conv_shape_of (&net->nodes[p], node, batch, &c->conv);
      plan->members[plan->n_members++] = p;
    }
  plan->conv = last = p;
  k = net->sole_user[p];
  if (c->has_dw && k > 0 && p != net->output && net->nodes[k].op == TL_OP_ADD)
    {
      const TlNetNode *add = &net->nodes[k];
      int r = add->inputs[0] == p ? add->inputs[1] : add->inputs[0];

      if (r < i)
        {
          c->has_residual = true;
          plan->residual = r;
          plan->members[plan->n_members++] = last = k;
        }
    }
  k = net->sole_user[last];
  if (k > 0 && is_folded (&net->nodes[k]))
    k = net->sole_user[k];
  if (k > 0 && last != net->output && same_buffer (net, k, last) && is_act (&net->nodes[k]))
    {
      set_act (&c->conv.act, &c->conv.slope, &net->nodes[k]);
      plan->members[plan->n_members++] = last = k;
    }
  else if (c->has_residual && last != net->output)
    /* the sum read by an activation (of its own) and something else */
    for (int j = last + 1; j < net->n_nodes; j++)
      if (net->nodes[j].inputs[0] == last && net->nodes[j].n_inputs == 1 &&
          is_act (&net->nodes[j]) && !same_buffer (net, j, last))
        {
          set_act (&c->act2, &c->slope2, &net->nodes[j]);
          plan->second = j;
          plan->members[plan->n_members++] = j;
          break;
        }
  q = net->sole_user[last];
  if (q > 0 && last != net->output && net->nodes[q].op == TL_OP_MAXPOOL &&
      pool_shape_of (&net->nodes[q], &net->nodes[last], batch, &c->pool))
    {
      c->has_pool = true;
      plan->members[plan->n_members++] = last = q;
    }
  plan->end = last;
  if (!tl_nn_chain_plan (c, tl_nn_get_threads ()))
    plan->end = 0;
  return plan->end > 0;
}

bool
tl_net_prepare (TlNet     *net,
                int        max_batch,
                bool       training,
                TlNnError *err)
{
  size_t total = 0, scratch = 0;

  if (net == NULL || !net->built)
    return tl_nn_fail (err, TL_NN_ERROR_INVALID, "the network is not built");
  if (max_batch <= 0 || max_batch > 65536)
    return tl_nn_fail (err, TL_NN_ERROR_INVALID, "bad batch size %d", max_batch);

  tl_nn_free (net->ws);
  net->ws = NULL;
  if (training)
    drop_frozen (net);
  free (net->act);
  free (net->dact);
  free (net->stat);
  free (net->sole_user);
  free (net->fused);
  free (net->chains);
  net->sole_user = calloc (net->n_nodes, sizeof (int));
  net->fused = calloc (net->n_nodes, sizeof (bool));
  net->chains = calloc (net->n_nodes, sizeof (ChainPlan));
  net->act = calloc (net->n_nodes, sizeof (float *));
  net->dact = calloc (net->n_nodes, sizeof (float *));
  net->stat = calloc (net->n_nodes, sizeof (float *));
  if (net->act == NULL || net->dact == NULL || net->stat == NULL ||
      net->sole_user == NULL || net->fused == NULL || net->chains == NULL)
    return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory");
  for (int j = 1; j < net->n_nodes; j++)
    for (int k = 0; k < net->nodes[j].n_inputs; k++)
      {
        int src = net->nodes[j].inputs[k];
        /* -1: read by more than one node (or twice by one) */
        net->sole_user[src] = net->sole_user[src] == 0 ? j : -1;
      }

  for (int i = 0; i < net->n_nodes; i++)
    {
      const TlNetNode *node = &net->nodes[i];

      if (i > 0 && !runs_in_place (net, i, training))
        total += node_floats (node, max_batch) * (training ? 2 : 1);
      if (node->op == TL_OP_BATCHNORM)
        total += tl_nn_round16 (2 * (size_t) node->c);
      if (node->op == TL_OP_CONV2D)
        {
          TlConv2dShape s;
          size_t need;
          int m;

          conv_shape_of (node, &net->nodes[node->inputs[0]], max_batch, &s);
          need = training ? tl_conv2d_backward_workspace (&s) : tl_conv2d_workspace (&s);
          if (need > scratch)
            scratch = need;
          /* room for a Winograd pass, should the net be frozen */
          if (!training && (m = tl_winograd_choose (&s)) > 0 &&
              tl_winograd_workspace (&s, m) > scratch)
            scratch = tl_winograd_workspace (&s, m);
          if (!training && (m = tl_winograd_taps_choose (&s)) > 0 &&
              tl_winograd_workspace (&s, m) > scratch)
            scratch = tl_winograd_workspace (&s, m);
        }
    }
  total += tl_nn_round16 (scratch);
  if (!training)
    {
      size_t chain = 0;

      for (int i = 1; i < net->n_nodes; i++)
        {
          if (find_chain (net, i, max_batch, &net->chains[i]) &&
              tl_nn_chain_workspace (&net->chains[i].c) > chain)
            chain = tl_nn_chain_workspace (&net->chains[i].c);
        }
      total += tl_nn_round16 (chain);
    }
  /* The largest real network here (a 416×416 detector) needs ~32 MiB an
   * image; 2 GiB leaves room for big batches and refuses absurd files. */
  if ((double) total * sizeof (float) > (double) ((size_t) 2 << 30))
    return tl_nn_fail (err, TL_NN_ERROR_LIMIT,
                       "batches of %d need too much memory (%zu MiB)", max_batch,
                       total * sizeof (float) >> 20);
  net->ws = tl_nn_alloc (total * sizeof (float));
  if (net->ws == NULL)
    return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory for the workspace (%zu MiB)",
                       total * sizeof (float) >> 20);

  total = 0;
  for (int i = 0; i < net->n_nodes; i++)
    {
      const TlNetNode *node = &net->nodes[i];

      if (i > 0 && runs_in_place (net, i, training))
        net->act[i] = net->act[node->inputs[0]];
      else if (i > 0)
        {
          net->act[i] = net->ws + total;
          total += node_floats (node, max_batch);
          if (training)
            {
              net->dact[i] = net->ws + total;
              total += node_floats (node, max_batch);
            }
        }
      if (node->op == TL_OP_BATCHNORM)
        {
          net->stat[i] = net->ws + total;
          total += tl_nn_round16 (2 * (size_t) node->c);
        }
    }
  net->scratch = net->ws + total;
  net->chain_ws = net->scratch + tl_nn_round16 (scratch);

  if (training && net->grads == NULL)
    {
      net->grads = tl_nn_alloc (net->n_floats * sizeof (float));
      if (net->grads == NULL)
        return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory for gradients");
      for (int i = 0; i < net->n_tensors; i++)
        net->tensors[i].grad = net->grads + (net->tensors[i].data - net->params);
    }
  net->max_batch = max_batch;
  net->training = training;
  /* start the worker threads now, so that no forward creates them */
  tl_nn_parallel (tl_nn_get_threads (), noop_chunk, NULL);
  return true;
}

/* ---- forward ------------------------------------------------------------- */

static float *
param (TlNet *net,
       int    node,
       int    j)
{
  return net->tensors[net->first_tensor[node] + j].data;
}

static float *
grad (TlNet *net,
      int    node,
      int    j)
{
  TlNnTensor *t = &net->tensors[net->first_tensor[node] + j];

  return t->trainable ? t->grad : NULL;
}

static bool
is_folded (const TlNetNode *node)
{
  return (node->op == TL_OP_SCALE_BIAS || node->op == TL_OP_BATCHNORM) && node->ip[7] == 1;
}

int
tl_net_fold (TlNet *net)
{
  int folded = 0;

  if (net == NULL || !net->built)
    return 0;
  for (int i = 1; i < net->n_nodes; i++)
    {
      TlNetNode *node = &net->nodes[i];
      int src = node->inputs[0], users = 0;
      const TlNetNode *conv = &net->nodes[src];
      float *scale, *bias, *w, *b;
      TlNnTensor *wt;

      if ((node->op != TL_OP_SCALE_BIAS && node->op != TL_OP_BATCHNORM) ||
          is_folded (node) || conv->op != TL_OP_CONV2D || !conv->ip[6] ||
          src == net->output)
        continue;
      for (int j = 1; j < net->n_nodes; j++)
        for (int k = 0; k < net->nodes[j].n_inputs; k++)
          users += net->nodes[j].inputs[k] == src;
      if (users != 1)
        continue;

      wt = &net->tensors[net->first_tensor[src]];
      w = wt->data;
      b = net->tensors[net->first_tensor[src] + 1].data;
      scale = malloc (2 * node->c * sizeof (float));
      if (scale == NULL)
        break;
      bias = scale + node->c;
      if (node->op == TL_OP_BATCHNORM)
        tl_batchnorm_to_scale_bias (scale, bias, param (net, i, 0), param (net, i, 1),
                                    param (net, i, 2), param (net, i, 3), node->c,
                                    node->fp[0]);
      else
        {
          memcpy (scale, param (net, i, 0), node->c * sizeof (float));
          memcpy (bias, param (net, i, 1), node->c * sizeof (float));
        }
      tl_fold_scale_bias (w, b, scale, bias, (int) (wt->count / node->c), node->c);
      free (scale);
      node->ip[7] = 1;
      folded++;
    }
  return folded;
}

/* Whether conv i runs by Winograd from float filters (transformed or
 * taps), whose output transform can add a tensor (tl_winograd_forward_sum ()). */
static bool
sums_in_transform (const TlNet *net,
                   int          i)
{
  return net->nodes[i].op == TL_OP_CONV2D && net->frozen != NULL && net->frozen[i] != NULL &&
         (net->frozen_kind[i] == FROZEN_WINOGRAD_TAPS || net->frozen_kind[i] == 2 ||
          net->frozen_kind[i] == 4 || net->frozen_kind[i] == 6) && net->chains[i].end == 0;
}

/* For a frozen net's sum node k: its input f that is the output of such
 * a convolution (directly or through a folded scale layer) read by k
 * alone, the other input computed before the convolution; or 0.  The
 * sum then takes over f's buffer, and the convolution computes the sum
 * in its output transform (tl_net_forward ()): the residual joins of
 * the face encoder's 32- and 64-channel blocks. */
static int
sum_input (const TlNet *net,
           int          k)
{
  const TlNetNode *add = &net->nodes[k];

  if (add->op != TL_OP_ADD || add->n_inputs != 2 || add->inputs[0] == add->inputs[1])
    return 0;
  for (int q = 0; q < 2; q++)
    {
      int f = add->inputs[q], r = add->inputs[1 - q], i = f;

      if (f <= 0 || f == net->output || net->sole_user[f] != k)
        continue;
      if (is_folded (&net->nodes[f]))
        i = net->nodes[f].inputs[0];
      if (i > 0 && i != net->output && (i == f || net->sole_user[i] == f) && r < i &&
          sums_in_transform (net, i))
        return f;
    }
  return 0;
}

/* Inference: points the activations at fewer buffers, each taken over by
 * a node that runs after every reader of the one before.  A pass then
 * writes a few hundred kilobytes again and again, which stay in cache,
 * instead of megabytes of fresh memory that other work (the weights, other
 * programs) pushes out between passes.  Reuses the buffers prepare carved
 * out; in-place and folded layers keep sharing their input's.  False when
 * out of memory (the activations are left as they were). */
static bool
share_activations (TlNet *net)
{
  const int n = net->n_nodes;
  int *owner = calloc (n, sizeof (int)), *first = calloc (n, sizeof (int));
  int *last = calloc (n, sizeof (int)), *order = calloc (n, sizeof (int));
  int *slot_free = calloc (n, sizeof (int)), n_order = 0, n_slots = 0;
  float **slot_at = calloc (n, sizeof (float *));
  size_t *slot_size = calloc (n, sizeof (size_t));
  bool ok = owner && first && last && order && slot_free && slot_at && slot_size;

  for (int i = 1; ok && i < n; i++)
    {
      /* the node whose buffer holds node i's activation */
      int f = sum_input (net, i);

      owner[i] = f > 0 ? owner[f] :
                 is_folded (&net->nodes[i]) || runs_in_place (net, i, false) ?
                 owner[net->nodes[i].inputs[0]] : i;
      first[i] = last[i] = i;
    }
  for (int i = 1; ok && i < n; i++)
    {
      const ChainPlan *plan = &net->chains[i];

      /* a chain writes its outputs when its first node runs */
      if (plan->end > 0 && owner[plan->end] > 0 && first[owner[plan->end]] > i)
        first[owner[plan->end]] = i;
      if (plan->end > 0 && plan->second > 0 && owner[plan->second] > 0 &&
          first[owner[plan->second]] > i)
        first[owner[plan->second]] = i;
      for (int k = 0; k < net->nodes[i].n_inputs; k++)
        {
          int b = owner[net->nodes[i].inputs[k]];

          if (b > 0 && last[b] < i)
            last[b] = i;
        }
    }
  if (ok && owner[net->output] > 0)
    last[owner[net->output]] = INT_MAX;

  /* buffers by the time they are first written (insertion sort: a chain's
   * outputs move up to its start) */
  for (int i = 1; ok && i < n; i++)
    if (owner[i] == i)
      {
        int j = n_order++;

        while (j > 0 && first[order[j - 1]] > first[i])
          {
            order[j] = order[j - 1];
            j--;
          }
        order[j] = i;
      }
  for (int o = 0; ok && o < n_order; o++)
    {
      int b = order[o], best = -1;
      size_t size = node_floats (&net->nodes[b], net->max_batch);

      /* the smallest free buffer that fits, or b's own as a new one */
      for (int k = 0; k < n_slots; k++)
        if (slot_free[k] < first[b] && slot_size[k] >= size &&
            (best < 0 || slot_size[k] < slot_size[best]))
          best = k;
      if (best < 0)
        {
          best = n_slots++;
          slot_at[best] = net->act[b];
          slot_size[best] = size;
        }
      net->act[b] = slot_at[best];
      slot_free[best] = last[b];
    }
  for (int i = 1; ok && i < n; i++)
    if (owner[i] != i && owner[i] > 0)
      net->act[i] = net->act[owner[i]];
  free (owner);
  free (first);
  free (last);
  free (order);
  free (slot_free);
  free (slot_at);
  free (slot_size);
  return ok;
}

/* Moves the frozen weights into one block of huge pages, in the order
 * the nodes run: a pass streams them from memory (9.7 MB for the face
 * encoder), which then needs a few TLB entries instead of thousands.
 * Where the block cannot be had, they stay where they are. */
static void
pack_frozen (TlNet *net)
{
  size_t total = 0, at = 0;

  for (int i = 0; i < net->n_nodes; i++)
    if (net->frozen[i] != NULL)
      total += (net->frozen_bytes[i] + 63) & ~(size_t) 63;
  if (total == 0 || (net->frozen_arena = tl_nn_alloc_huge (total)) == NULL)
    return;
  for (int i = 0; i < net->n_nodes; i++)
    if (net->frozen[i] != NULL)
      {
        memcpy (net->frozen_arena + at, net->frozen[i], net->frozen_bytes[i]);
        tl_nn_free (net->frozen[i]);
        net->frozen[i] = net->frozen_arena + at;
        at += (net->frozen_bytes[i] + 63) & ~(size_t) 63;
      }
}

int
tl_net_freeze (TlNet     *net,
               TlNnError *err)
{
  int n = 0;

  if (net == NULL || !net->built || net->training)
    {
      tl_nn_fail (err, TL_NN_ERROR_INVALID, "only a built net prepared for inference can be frozen");
      return -1;
    }
  drop_frozen (net);
  net->frozen = calloc (net->n_nodes, sizeof (void *));
  net->frozen_kind = calloc (net->n_nodes, sizeof (int));
  net->frozen_bytes = calloc (net->n_nodes, sizeof (size_t));
  if (net->frozen == NULL || net->frozen_kind == NULL || net->frozen_bytes == NULL)
    goto nomem;
  for (int i = 1; i < net->n_nodes; i++)
    {
      const TlNetNode *node = &net->nodes[i];
      TlConv2dShape s;
      size_t from;
      int m, k;

      if (node->op != TL_OP_CONV2D ||
          !conv_shape_of (node, &net->nodes[node->inputs[0]], 1, &s))
        continue;
      if ((m = tl_winograd_choose (&s)) == 2 &&
          (net->frozen[i] = tl_nn_alloc (tl_winograd_codes_bytes (&s))) != NULL &&
          tl_winograd_filter_codes (net->frozen[i], param (net, i, 0), &s, GRID_MAX_ERR))
        {
          net->frozen_kind[i] = FROZEN_WINOGRAD_CODES;
          net->frozen_bytes[i] = tl_winograd_codes_bytes (&s);
        }
      else if (m == 2 && tl_winograd_taps_choose (&s) > 0)
        {
          /* (weights on no grid, or no memory for their codes) */
          tl_nn_free (net->frozen[i]);
          net->frozen[i] = tl_nn_alloc (tl_winograd_taps_floats (&s) * sizeof (float));
          if (net->frozen[i] == NULL)
            goto nomem;
          tl_winograd_taps (net->frozen[i], param (net, i, 0), &s);
          net->frozen_kind[i] = FROZEN_WINOGRAD_TAPS;
          net->frozen_bytes[i] = tl_winograd_taps_floats (&s) * sizeof (float);
        }
      else if (m > 0)
        {
          /* (weights on no grid, or no memory for their codes) */
          tl_nn_free (net->frozen[i]);
          net->frozen[i] = tl_nn_alloc (tl_winograd_filter_floats (&s, m) * sizeof (float));
          if (net->frozen[i] == NULL)
            goto nomem;
          tl_winograd_filter (net->frozen[i], param (net, i, 0), &s, m);
          net->frozen_kind[i] = m;
          net->frozen_bytes[i] = tl_winograd_filter_floats (&s, m) * sizeof (float);
        }
      else if (tl_quant_conv2d_applies (&s) && (k = tl_quant_conv2d_rows (&s, &from)) > 0 &&
               (net->frozen[i] = tl_nn_alloc (tl_quant_weights_bytes (k, s.oc))) != NULL &&
               tl_quant_weights_find (net->frozen[i], param (net, i, 0) + from, k, s.oc,
                                      GRID_MAX_ERR, NULL))
        {
          net->frozen_kind[i] = FROZEN_CODES;
          net->frozen_bytes[i] = tl_quant_weights_bytes (k, s.oc);
        }
      else if (tl_conv2d_transposed_applies (&s))
        {
          /* (weights on no grid, or no memory for their codes) */
          tl_nn_free (net->frozen[i]);
          net->frozen[i] = tl_nn_alloc ((size_t) s.kh * s.kw * s.c * s.oc * sizeof (float));
          if (net->frozen[i] == NULL)
            goto nomem;
          tl_conv2d_transpose_weights (net->frozen[i], param (net, i, 0), &s);
          net->frozen_kind[i] = FROZEN_TRANSPOSED;
          net->frozen_bytes[i] = (size_t) s.kh * s.kw * s.c * s.oc * sizeof (float);
        }
      else
        {
          tl_nn_free (net->frozen[i]);
          net->frozen[i] = NULL;
          continue;
        }
      n++;
    }
  pack_frozen (net);
  if (!share_activations (net))
    goto nomem;
  return n;

nomem:
  drop_frozen (net);
  tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory for the transformed filters");
  return -1;
}

const char *
tl_net_frozen_layout (const TlNet *net,
                      int          node)
{
  TlConv2dShape s;

  if (net->frozen == NULL || node < 0 || node >= net->n_nodes || net->frozen[node] == NULL)
    return NULL;
  if (net->frozen_kind[node] == FROZEN_WINOGRAD_TAPS &&
      conv_shape_of (&net->nodes[node], &net->nodes[net->nodes[node].inputs[0]], 1, &s) &&
      tl_winograd_taps_choose (&s) == 6)
    return "F(6x6,3x3) taps";
  switch (net->frozen_kind[node])
    {
    case 2: return "F(2x2,3x3)";
    case 4: return "F(4x4,3x3)";
    case 6: return "F(6x6,3x3)";
    case FROZEN_CODES: return "codes";
    case FROZEN_WINOGRAD_CODES: return "F(2x2,3x3) codes";
    case FROZEN_WINOGRAD_TAPS: return "F(4x4,3x3) taps";
    default: return "transposed";
    }
}

/* In inference, the ReLU or leaky ReLU that runs in place on node i's
 * output — directly or through a folded scale layer — and that nothing
 * else reads before it, or 0.  Its producer can apply it as it writes. */
static int
fusable_act (const TlNet *net,
             int          i)
{
  int k = net->sole_user[i];
  const TlNetNode *node;

  if (k > 0 && is_folded (&net->nodes[k]))
    k = net->sole_user[k];
  if (k <= 0)
    return 0;
  node = &net->nodes[k];
  if (node->op == TL_OP_RELU ||
      (node->op == TL_OP_LEAKY_RELU && node->fp[0] >= 0.0f && node->fp[0] <= 1.0f))
    return net->act[k] == net->act[i] ? k : 0;
  return 0;
}

static const float *
input_of (TlNet *net,
          int    i,
          int    k)
{
  int j = net->nodes[i].inputs[k];

  return j == 0 ? net->input : net->act[j];
}

/* In inference, the sum node that takes over conv i's output buffer
 * (sum_input ()), with its other input in *res; or 0. */
static int
fusable_sum (TlNet        *net,
             int           i,
             const float **res)
{
  int f = i, k = net->sole_user[i];

  if (k > 0 && is_folded (&net->nodes[k]))
    {
      f = k;
      k = net->sole_user[k];
    }
  if (k <= 0 || sum_input (net, k) != f || net->act[k] != net->act[i])
    return 0;
  *res = input_of (net, k, net->nodes[k].inputs[0] == f ? 1 : 0);
  return *res == net->act[i] ? 0 : k;
}

/* In inference, the residual join of a down block from its 2×2/2 average
 * pool i on: the pool, the zero channels padded to it, the other branch
 * padded at the bottom and right, their sum (and a ReLU after it) as one
 * pass, tl_nn_fast_down_join ().  Returns the sum node, *other the other
 * branch's node before its padding; 0 unless the nodes from i to the
 * sum are just those and only the sum reads them. */
static int
fusable_join (TlNet *net,
              int    i,
              int   *other)
{
  const TlNetNode *pool = &net->nodes[i], *sum;
  int a = i, k = net->sole_user[i], b, side;

  if (pool->op != TL_OP_AVGPOOL || pool->ip[0] != 2 || pool->ip[1] != 2 ||
      pool->ip[2] != TL_PAD_VALID || i == net->output)
    return 0;
  if (k > 0 && net->nodes[k].op == TL_OP_PAD && k != net->output && net->nodes[k].h == pool->h &&
      net->nodes[k].w == pool->w)
    {
      a = k;
      k = net->sole_user[k];
    }
  if (k <= 0 || net->nodes[k].op != TL_OP_ADD || net->nodes[k].n_inputs != 2)
    return 0;
  sum = &net->nodes[k];
  side = sum->inputs[0] == a ? 1 : 0;
  if (sum->inputs[1 - side] != a)
    return 0;
  b = *other = sum->inputs[side];
  if (b == a)
    return 0;
  /* a pad on the other branch must run between the pool and the sum, so
   * that nothing else takes its input's buffer before the join reads it */
  if (b > i && net->nodes[b].op == TL_OP_PAD && net->sole_user[b] == k && b != net->output &&
      net->nodes[net->nodes[b].inputs[0]].c == sum->c)
    *other = net->nodes[b].inputs[0];
  else if (net->nodes[b].c != sum->c || net->nodes[b].h != sum->h || net->nodes[b].w != sum->w)
    return 0;
  else
    b = -1;
  for (int j = i + 1; j < k; j++)
    if (j != a && j != b)
      return 0;
  return pool->c <= sum->c && pool->h == sum->h && pool->w == sum->w ? k : 0;
}

/* Inference sums of at least this many floats are split over the
 * threads: the encoder's 35×35×32 and 17×17×64 residual joins (15–37 µs
 * and 4–16 µs a join on one thread, within passes), not the smaller ones;
 * with the pool held a call costs about a µs. */
#define ADD_SPLIT_MIN 16384

typedef struct
{
  float       *out;
  const float *a, *b;
  size_t       count, step;
  bool         relu;
} AddJob;

static void
add_chunk (void *ctx,
           int   i)
{
  const AddJob *j = ctx;
  size_t at = (size_t) i * j->step, n = j->count - at < j->step ? j->count - at : j->step;

  if (j->relu)
    tl_nn_fast_add_relu (j->out + at, j->a + at, j->b + at, n);
  else
    tl_add_forward (j->out + at, j->a + at, j->b + at, n);
}

/* out = a + b, then a ReLU when relu, in slices of whole cache lines
 * over the threads. */
static void
add_forward (float       *out,
             const float *a,
             const float *b,
             size_t       count,
             bool         relu)
{
  int threads = count >= ADD_SPLIT_MIN ? tl_nn_get_threads () : 1;
  AddJob j = { out, a, b, count, (count + threads - 1) / threads, relu };

  j.step = tl_nn_round16 (j.step);
  tl_nn_parallel ((int) ((count + j.step - 1) / j.step), add_chunk, &j);
}

/* Posts the weights that the first convolution or dense layer after
 * node i's (and after its chain's) will read, for the pool's waiting
 * threads to prefetch while node i runs (tl_nn_pool_prefetch ()). */
static void
post_next_weights (TlNet *net,
                   int    i)
{
  int j = net->chains[i].end > i ? net->chains[i].end + 1 : i + 1;
  TlConv2dShape s;
  size_t from, count;

  while (j < net->n_nodes && net->nodes[j].op != TL_OP_CONV2D &&
         net->nodes[j].op != TL_OP_DENSE)
    j++;
  if (j >= net->n_nodes)
    tl_nn_pool_prefetch (NULL, 0);
  else if (net->frozen != NULL && net->frozen[j] != NULL)
    tl_nn_pool_prefetch (net->frozen[j], net->frozen_bytes[j]);
  else if (net->nodes[j].op == TL_OP_CONV2D &&
           conv_shape_of (&net->nodes[j], &net->nodes[net->nodes[j].inputs[0]], net->batch, &s))
    {
      tl_conv2d_weights_read (&s, &from, &count);
      tl_nn_pool_prefetch (param (net, j, 0) + from, count * sizeof (float));
    }
  else
    tl_nn_pool_prefetch (param (net, j, 0),
                         net->tensors[net->first_tensor[j]].count * sizeof (float));
}

/* Runs the chain from node i (find_chain ()) and marks the nodes it ran
 * for the loop in tl_net_forward () to pass over. */
static void
run_chain (TlNet *net,
           int    i,
           int    batch)
{
  const ChainPlan *plan = &net->chains[i];
  TlNnChain c = plan->c;
  int p = plan->conv;
  TlNnChainArgs a = {
    .out = net->act[plan->end],
    .out2 = plan->second ? net->act[plan->second] : NULL,
    .in = input_of (net, i, 0),
    .residual = plan->residual ? tl_net_activation (net, plan->residual) : NULL,
    .w = param (net, p, 0),
    .b = net->nodes[p].ip[6] ? param (net, p, 1) : NULL,
  };

  if (c.has_dw)
    {
      a.dw_w = param (net, i, 0);
      a.dw_b = net->nodes[i].ip[6] ? param (net, i, 1) : NULL;
    }
  c.dw.n = c.conv.n = c.pool.n = batch;
  tl_nn_chain_forward (&a, &c, net->chain_ws);
  for (int k = 0; k < plan->n_members; k++)
    if (!is_folded (&net->nodes[plan->members[k]]))
      net->fused[plan->members[k]] = true;
}

const float *
tl_net_forward (TlNet       *net,
                const float *input,
                int          batch,
                bool         training)
{
  if (net == NULL || net->ws == NULL || batch <= 0 || batch > net->max_batch ||
      (training && !net->training))
    return NULL;
  net->input = input;
  net->batch = batch;
  net->forward_training = training;
  /* the layers' parallel calls follow each other closely */
  tl_nn_pool_hold ();

  for (int i = 1; i < net->n_nodes; i++)
    {
      const TlNetNode *node = &net->nodes[i];
      const TlNetNode *src = &net->nodes[node->inputs[0]];
      const float *in = input_of (net, i, 0);
      float *out = net->act[i];
      int m = batch * node->h * node->w;
      size_t count = (size_t) m * node->c;

      if (is_folded (node))
        {
          net->act[i] = (float *) in;
          continue;
        }
      if (net->fused[i])
        {
          net->fused[i] = false;
          continue;
        }
      switch (node->op)
        {
        case TL_OP_CONV2D:
          if (!training)
            post_next_weights (net, i);
          if (!training && net->chains[i].end > 0 &&
              (!net->chains[i].c.split || tl_nn_get_threads () <= net->chains[i].c.slots))
            {
              run_chain (net, i, batch);
              break;
            }
          {
            TlConv2dShape s;
            int a = training ? 0 : fusable_act (net, i), k;
            const float *res;

            conv_shape_of (node, src, batch, &s);
            if (a > 0)
              {
                s.act = net->nodes[a].op == TL_OP_RELU ? TL_CONV_ACT_RELU : TL_CONV_ACT_LEAKY;
                s.slope = net->nodes[a].fp[0];
                net->fused[a] = true;
              }
            if (!training && net->frozen != NULL && net->frozen[i] != NULL &&
                net->frozen_kind[i] == FROZEN_CODES)
              tl_quant_conv2d_forward (out, in, net->frozen[i],
                                       node->ip[6] ? param (net, i, 1) : NULL, &s,
                                       net->scratch);
            else if (!training && net->frozen != NULL && net->frozen[i] != NULL &&
                     net->frozen_kind[i] == FROZEN_WINOGRAD_CODES)
              tl_winograd_forward_codes (out, in, net->frozen[i],
                                         node->ip[6] ? param (net, i, 1) : NULL, &s,
                                         net->scratch);
            else if (!training && a == 0 && sums_in_transform (net, i) &&
                     (k = fusable_sum (net, i, &res)) > 0)
              {
                /* conv → sum (→ ReLU) in one pass */
                int a2 = fusable_act (net, k);

                if (a2 > 0 && net->nodes[a2].op == TL_OP_RELU)
                  {
                    s.act = TL_CONV_ACT_RELU;
                    net->fused[a2] = true;
                  }
                net->fused[k] = true;
                if (net->frozen_kind[i] == FROZEN_WINOGRAD_TAPS)
                  tl_winograd_forward_taps_sum (out, in, net->frozen[i],
                                                node->ip[6] ? param (net, i, 1) : NULL, res,
                                                &s, tl_winograd_taps_choose (&s), net->scratch);
                else
                  tl_winograd_forward_sum (out, in, net->frozen[i],
                                           node->ip[6] ? param (net, i, 1) : NULL, res,
                                           &s, net->frozen_kind[i], net->scratch);
              }
            else if (!training && net->frozen != NULL && net->frozen[i] != NULL &&
                     net->frozen_kind[i] == FROZEN_WINOGRAD_TAPS)
              tl_winograd_forward_taps (out, in, net->frozen[i],
                                        node->ip[6] ? param (net, i, 1) : NULL, &s,
                                        tl_winograd_taps_choose (&s), net->scratch);
            else if (!training && net->frozen != NULL && net->frozen[i] != NULL &&
                     net->frozen_kind[i] == FROZEN_TRANSPOSED)
              tl_conv2d_forward_transposed (out, in, net->frozen[i],
                                            node->ip[6] ? param (net, i, 1) : NULL, &s,
                                            net->scratch);
            else if (!training && net->frozen != NULL && net->frozen[i] != NULL)
              tl_winograd_forward (out, in, net->frozen[i],
                                   node->ip[6] ? param (net, i, 1) : NULL, &s,
                                   net->frozen_kind[i], net->scratch);
            else
              tl_conv2d_forward (out, in, param (net, i, 0),
                                 node->ip[6] ? param (net, i, 1) : NULL, &s, net->scratch);
          }
          break;
        case TL_OP_BATCHNORM:
          if (training)
            {
              float *mean = net->stat[i], *rstd = net->stat[i] + node->c;

              tl_batchnorm_forward (out, mean, rstd, in, param (net, i, 0),
                                    param (net, i, 1), m, node->c, node->fp[0]);
              tl_batchnorm_update_running (param (net, i, 2), param (net, i, 3),
                                           mean, rstd, m, node->c, node->fp[1],
                                           node->fp[0]);
            }
          else
            {
              float *scale = net->stat[i], *bias = net->stat[i] + node->c;

              tl_batchnorm_to_scale_bias (scale, bias, param (net, i, 0),
                                          param (net, i, 1), param (net, i, 2),
                                          param (net, i, 3), node->c, node->fp[0]);
              tl_scale_bias_forward (out, in, scale, bias, m, node->c);
            }
          break;
        case TL_OP_SCALE_BIAS:
          tl_scale_bias_forward (out, in, param (net, i, 0), param (net, i, 1), m, node->c);
          break;
        case TL_OP_RELU:
          tl_relu_forward (out, in, count);
          break;
        case TL_OP_LEAKY_RELU:
          tl_leaky_relu_forward (out, in, node->fp[0], count);
          break;
        case TL_OP_PRELU:
          tl_prelu_forward (out, in, param (net, i, 0), m, node->c);
          break;
        case TL_OP_MAXPOOL:
        case TL_OP_AVGPOOL:
          {
            TlPoolShape s;
            int k, y, a;

            /* (the sum's buffer may be the other branch's, not x's) */
            if (!training && (k = fusable_join (net, i, &y)) > 0 && net->act[k] != in)
              {
                const TlNetNode *o = &net->nodes[y];

                a = fusable_act (net, k);
                tl_nn_fast_down_join (net->act[k], in, y == 0 ? net->input : net->act[y], batch,
                                      src->h, src->w, src->c, o->h, o->w, node->h, node->w,
                                      net->nodes[k].c, a > 0 && net->nodes[a].op == TL_OP_RELU);
                for (int j = i + 1; j <= k; j++)
                  net->fused[j] = true;
                if (a > 0 && net->nodes[a].op == TL_OP_RELU)
                  net->fused[a] = true;
                break;
              }

            pool_shape_of (node, src, batch, &s);
            if (node->op == TL_OP_MAXPOOL)
              tl_maxpool_forward (out, in, &s);
            else
              tl_avgpool_forward (out, in, &s);
          }
          break;
        case TL_OP_GLOBAL_AVGPOOL:
          tl_global_avgpool_forward (out, in, batch, src->h * src->w, src->c);
          break;
        case TL_OP_DENSE:
          tl_dense_forward (out, in, param (net, i, 0),
                            node->ip[1] ? param (net, i, 1) : NULL, batch,
                            src->h * src->w * src->c, node->c);
          break;
        case TL_OP_ADD:
          {
            int a = training ? 0 : fusable_act (net, i);

            if (a > 0 && net->nodes[a].op == TL_OP_RELU)
              {
                add_forward (out, in, input_of (net, i, 1), count, true);
                net->fused[a] = true;
              }
            else if (!training)
              add_forward (out, in, input_of (net, i, 1), count, false);
            else
              tl_add_forward (out, in, input_of (net, i, 1), count);
          }
          break;
        case TL_OP_CONCAT:
          {
            const float *ins[TL_NET_MAX_INPUTS];
            int cs[TL_NET_MAX_INPUTS];

            for (int k = 0; k < node->n_inputs; k++)
              {
                ins[k] = input_of (net, i, k);
                cs[k] = net->nodes[node->inputs[k]].c;
              }
            tl_concat_forward (out, ins, cs, node->n_inputs, m);
          }
          break;
        case TL_OP_PAD:
          tl_pad_forward (out, in, batch, src->h, src->w, src->c, node->h, node->w, node->c);
          break;
        case TL_OP_L2NORM:
          tl_l2norm_forward (out, in, batch, node->h * node->w * node->c, node->fp[0]);
          break;
        case TL_OP_INPUT:
        case TL_OP_N_OPS:
          break;
        }
    }
  if (!training)
    tl_nn_pool_prefetch (NULL, 0);
  tl_nn_pool_release ();
  return net->output == 0 ? net->input : net->act[net->output];
}

/* ---- backward ------------------------------------------------------------ */

void
tl_net_zero_grads (TlNet *net)
{
  if (net != NULL && net->grads != NULL)
    memset (net->grads, 0, net->n_floats * sizeof (float));
}

void
tl_net_backward (TlNet       *net,
                 const float *dout)
{
  int batch;

  if (net == NULL || !net->training || !net->forward_training || net->output == 0)
    return;
  batch = net->batch;
  for (int i = 1; i < net->n_nodes; i++)
    memset (net->dact[i], 0, node_floats (&net->nodes[i], batch) * sizeof (float));
  memcpy (net->dact[net->output], dout,
          (size_t) batch * net->nodes[net->output].h * net->nodes[net->output].w *
          net->nodes[net->output].c * sizeof (float));

  for (int i = net->output; i >= 1; i--)
    {
      const TlNetNode *node = &net->nodes[i];
      const TlNetNode *src = &net->nodes[node->inputs[0]];
      const float *in = input_of (net, i, 0);
      const float *d = net->dact[i];
      float *din = net->dact[node->inputs[0]];   /* NULL for the input node */
      int m = batch * node->h * node->w;
      size_t count = (size_t) m * node->c;

      if (is_folded (node))
        {
          if (din)
            tl_add_backward (din, NULL, d, count);
          continue;
        }
      switch (node->op)
        {
        case TL_OP_CONV2D:
          {
            TlConv2dShape s;

            conv_shape_of (node, src, batch, &s);
            tl_conv2d_backward (din, grad (net, i, 0), node->ip[6] ? grad (net, i, 1) : NULL,
                                d, in, param (net, i, 0), &s, net->scratch);
          }
          break;
        case TL_OP_BATCHNORM:
          tl_batchnorm_backward (din, grad (net, i, 0), grad (net, i, 1), d, in,
                                 net->stat[i], net->stat[i] + node->c,
                                 param (net, i, 0), m, node->c);
          break;
        case TL_OP_SCALE_BIAS:
          tl_scale_bias_backward (din, grad (net, i, 0), grad (net, i, 1), d, in,
                                  param (net, i, 0), m, node->c);
          break;
        case TL_OP_RELU:
          if (din)
            tl_relu_backward (din, d, net->act[i], count);
          break;
        case TL_OP_LEAKY_RELU:
          if (din)
            tl_leaky_relu_backward (din, d, in, node->fp[0], count);
          break;
        case TL_OP_PRELU:
          tl_prelu_backward (din, grad (net, i, 0), d, in, param (net, i, 0), m, node->c);
          break;
        case TL_OP_MAXPOOL:
        case TL_OP_AVGPOOL:
          if (din)
            {
              TlPoolShape s;

              pool_shape_of (node, src, batch, &s);
              if (node->op == TL_OP_MAXPOOL)
                tl_maxpool_backward (din, d, in, &s);
              else
                tl_avgpool_backward (din, d, &s);
            }
          break;
        case TL_OP_GLOBAL_AVGPOOL:
          if (din)
            tl_global_avgpool_backward (din, d, batch, src->h * src->w, src->c);
          break;
        case TL_OP_DENSE:
          tl_dense_backward (din, grad (net, i, 0), node->ip[1] ? grad (net, i, 1) : NULL,
                             d, in, param (net, i, 0), batch,
                             src->h * src->w * src->c, node->c);
          break;
        case TL_OP_ADD:
          tl_add_backward (din, net->dact[node->inputs[1]], d, count);
          break;
        case TL_OP_CONCAT:
          {
            float *dins[TL_NET_MAX_INPUTS];
            int cs[TL_NET_MAX_INPUTS];

            for (int k = 0; k < node->n_inputs; k++)
              {
                dins[k] = net->dact[node->inputs[k]];
                cs[k] = net->nodes[node->inputs[k]].c;
              }
            tl_concat_backward (dins, d, cs, node->n_inputs, m);
          }
          break;
        case TL_OP_PAD:
          if (din)
            tl_pad_backward (din, d, batch, src->h, src->w, src->c, node->h, node->w, node->c);
          break;
        case TL_OP_L2NORM:
          if (din)
            tl_l2norm_backward (din, d, in, batch, node->h * node->w * node->c, node->fp[0]);
          break;
        case TL_OP_INPUT:
        case TL_OP_N_OPS:
          break;
        }
    }
}

/* ---- inspection ---------------------------------------------------------- */

int
tl_net_n_nodes (const TlNet *net)
{
  return net->n_nodes;
}

const TlNetNode *
tl_net_node (const TlNet *net,
             int          i)
{
  return i >= 0 && i < net->n_nodes ? &net->nodes[i] : NULL;
}

int
tl_net_output (const TlNet *net)
{
  return net->output;
}

float *
tl_net_activation (TlNet *net,
                   int    node)
{
  if (net->act == NULL || node < 0 || node >= net->n_nodes)
    return NULL;
  return node == 0 ? (float *) net->input : net->act[node];
}

float *
tl_net_activation_grad (TlNet *net,
                        int    node)
{
  if (net->dact == NULL || node < 0 || node >= net->n_nodes)
    return NULL;
  return net->dact[node];
}

int
tl_net_n_tensors (const TlNet *net)
{
  return net->n_tensors;
}

TlNnTensor *
tl_net_tensor (TlNet *net,
               int    i)
{
  return i >= 0 && i < net->n_tensors ? &net->tensors[i] : NULL;
}

TlNnTensor *
tl_net_find_tensor (TlNet      *net,
                    const char *name)
{
  for (int i = 0; i < net->n_tensors; i++)
    if (strcmp (net->tensors[i].name, name) == 0)
      return &net->tensors[i];
  return NULL;
}

float *
tl_net_params (TlNet  *net,
               size_t *n)
{
  if (n)
    *n = net->n_floats;
  return net->params;
}

float *
tl_net_grads (TlNet  *net,
              size_t *n)
{
  if (n)
    *n = net->grads ? net->n_floats : 0;
  return net->grads;
}

size_t
tl_net_n_params (const TlNet *net)
{
  size_t n = 0;

  for (int i = 0; i < net->n_tensors; i++)
    if (net->tensors[i].trainable)
      n += net->tensors[i].count;
  return n;
}

int64_t
tl_net_flops (const TlNet *net)
{
  int64_t flops = 0;

  for (int i = 1; i < net->n_nodes; i++)
    {
      const TlNetNode *node = &net->nodes[i];
      const TlNetNode *src = &net->nodes[node->inputs[0]];
      TlConv2dShape s;

      if (node->op == TL_OP_CONV2D && conv_shape_of (node, src, 1, &s))
        flops += tl_conv2d_flops (&s);
      else if (node->op == TL_OP_DENSE)
        flops += (int64_t) 2 * src->h * src->w * src->c * node->c;
    }
  return flops;
}

void
tl_net_adam_step (TlNet *net,
                  float *m,
                  float *v,
                  float  lr,
                  float  weight_decay,
                  int    t)
{
  float *base = tl_net_params (net, NULL);

  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *tensor = tl_net_tensor (net, i);
      size_t off = (size_t) (tensor->data - base);

      if (tensor->trainable)
        tl_adam_step (tensor->data, m + off, v + off, tensor->grad, tensor->count,
                      lr, 0.9f, 0.999f, 1e-8f,
                      tensor->ndim >= 2 ? weight_decay : 0.0f, t);
    }
}
