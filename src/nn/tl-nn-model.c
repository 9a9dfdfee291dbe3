/* tl-nn-model.c — reading and writing model files (layout in tl-nn-model.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tl-nn-model.h"

#define MAGIC            "TLNNMODL"
#define HEADER_SIZE      128
#define NODE_RECORD      160
#define TENSOR_RECORD    128
#define MAX_TENSORS      (4 * TL_NET_MAX_NODES)

/* ---- little-endian fields ------------------------------------------------- */

static uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
         (uint32_t) p[3] << 24;
}

static uint64_t
get_u64 (const uint8_t *p)
{
  return (uint64_t) get_u32 (p) | (uint64_t) get_u32 (p + 4) << 32;
}

static float
get_f32 (const uint8_t *p)
{
  uint32_t u = get_u32 (p);
  float f;

  memcpy (&f, &u, 4);
  return f;
}

static void
put_u32 (uint8_t  *p,
         uint32_t  v)
{
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void
put_u64 (uint8_t  *p,
         uint64_t  v)
{
  put_u32 (p, (uint32_t) v);
  put_u32 (p + 4, (uint32_t) (v >> 32));
}

static void
put_f32 (uint8_t *p,
         float    f)
{
  uint32_t u;

  memcpy (&u, &f, 4);
  put_u32 (p, u);
}

/* FNV-1a over little-endian 64-bit words (then the tail bytes): catches
 * corruption, not tampering; it is fast enough to run on every load. */
static uint64_t
checksum (const uint8_t *p,
          size_t         n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    h = (h ^ get_u64 (p + i)) * 0x100000001b3ull;
  for (; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

uint64_t
tl_nn_model_checksum (const void *file,
                      size_t      size)
{
  return size < HEADER_SIZE ? 0 : checksum ((const uint8_t *) file + HEADER_SIZE,
                                            size - HEADER_SIZE);
}

/* ---- writing ---------------------------------------------------------------- */

static size_t
align64 (size_t n)
{
  return (n + 63) & ~(size_t) 63;
}

bool
tl_nn_model_save (TlNet      *net,
                  const char *path,
                  TlNnError  *err)
{
  int n_nodes = tl_net_n_nodes (net), n_tensors = tl_net_n_tensors (net);
  size_t nodes_off = HEADER_SIZE;
  size_t tensors_off = nodes_off + (size_t) n_nodes * NODE_RECORD;
  size_t data_off = align64 (tensors_off + (size_t) n_tensors * TENSOR_RECORD);
  size_t data_size = 0, file_size, written = 0;
  uint8_t *buf;
  char *tmp;
  int fd;

  for (int i = 0; i < n_tensors; i++)
    data_size = align64 (data_size + tl_net_tensor (net, i)->count * sizeof (float));
  file_size = data_off + data_size;
  if (file_size > TL_NN_MODEL_MAX_BYTES)
    return tl_nn_fail (err, TL_NN_ERROR_LIMIT, "the model is too large to save (%zu MiB)",
                       file_size >> 20);
  buf = calloc (1, file_size);
  if (buf == NULL)
    return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory");

  for (int i = 0; i < n_nodes; i++)
    {
      const TlNetNode *node = tl_net_node (net, i);
      uint8_t *r = buf + nodes_off + (size_t) i * NODE_RECORD;

      put_u32 (r + 0, node->op);
      put_u32 (r + 4, node->n_inputs);
      for (int k = 0; k < TL_NET_MAX_INPUTS; k++)
        put_u32 (r + 8 + 4 * k, (uint32_t) node->inputs[k]);
      for (int k = 0; k < 8; k++)
        put_u32 (r + 40 + 4 * k, (uint32_t) node->ip[k]);
      put_f32 (r + 72, node->fp[0]);
      put_f32 (r + 76, node->fp[1]);
      put_u32 (r + 80, node->h);
      put_u32 (r + 84, node->w);
      put_u32 (r + 88, node->c);
      memcpy (r + 112, node->name, TL_NET_NAME_MAX);
    }
  for (size_t i = 0, off = 0; i < (size_t) n_tensors; i++)
    {
      const TlNnTensor *t = tl_net_tensor (net, (int) i);
      uint8_t *r = buf + tensors_off + (size_t) i * TENSOR_RECORD;

      memcpy (r, t->name, TL_TENSOR_NAME_MAX);
      put_u32 (r + 64, t->ndim);
      for (int d = 0; d < 4; d++)
        put_u32 (r + 68 + 4 * d, d < t->ndim ? t->dims[d] : 0);
      put_u64 (r + 88, off);
      put_u64 (r + 96, t->count);
      for (size_t j = 0; j < t->count; j++)
        put_f32 (buf + data_off + off + 4 * j, t->data[j]);
      off = align64 (off + t->count * sizeof (float));
    }

  memcpy (buf, MAGIC, 8);
  put_u32 (buf + 8, TL_NN_MODEL_VERSION);
  put_u32 (buf + 12, HEADER_SIZE);
  put_u64 (buf + 16, file_size);
  put_u32 (buf + 24, n_nodes);
  put_u32 (buf + 28, NODE_RECORD);
  put_u64 (buf + 32, nodes_off);
  put_u32 (buf + 40, n_tensors);
  put_u32 (buf + 44, TENSOR_RECORD);
  put_u64 (buf + 48, tensors_off);
  put_u64 (buf + 56, data_off);
  put_u64 (buf + 64, data_size);
  put_u32 (buf + 72, tl_net_output (net));
  put_u64 (buf + 80, checksum (buf + HEADER_SIZE, file_size - HEADER_SIZE));

  /* Written beside the target and renamed over it: readers see the old
   * file or the new one, never half of one. */
  if (asprintf (&tmp, "%s.XXXXXX", path) < 0)
    {
      free (buf);
      return tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory");
    }
  fd = mkstemp (tmp);
  if (fd < 0)
    {
      tl_nn_fail (err, TL_NN_ERROR_IO, "cannot create %s: %s", tmp, strerror (errno));
      free (tmp);
      free (buf);
      return false;
    }
  while (written < file_size)
    {
      ssize_t n = write (fd, buf + written, file_size - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      written += n;
    }
  free (buf);
  {
    bool ok = written == file_size && fchmod (fd, 0644) == 0 && fsync (fd) == 0;
    int saved = errno;

    if (close (fd) != 0 && ok)
      {
        ok = false;
        saved = errno;
      }
    if (ok && rename (tmp, path) != 0)
      {
        ok = false;
        saved = errno;
      }
    if (!ok)
      {
        tl_nn_fail (err, TL_NN_ERROR_IO, "cannot write %s: %s", path,
                    strerror (saved ? saved : EIO));
        unlink (tmp);
        free (tmp);
        return false;
      }
  }
  free (tmp);
  return true;
}

/* ---- reading ------------------------------------------------------------------ */

TlNet *
tl_nn_model_load_memory (const void *data,
                         size_t      size,
                         TlNnError  *err)
{
  const uint8_t *p = data;
  uint64_t file_size, nodes_off, tensors_off, data_off, data_size;
  uint32_t version, n_nodes, n_tensors, output;
  TlNet *net = NULL;
  TlNnError build_err;

  if (size < 8 || memcmp (p, MAGIC, 8) != 0)
    {
      tl_nn_fail (err, TL_NN_ERROR_FORMAT, "not a Twinlock model file");
      return NULL;
    }
  if (size < HEADER_SIZE)
    {
      tl_nn_fail (err, TL_NN_ERROR_TRUNCATED, "the file is truncated (%zu bytes, the header alone has %d)",
                  size, HEADER_SIZE);
      return NULL;
    }
  version = get_u32 (p + 8);
  if (version != TL_NN_MODEL_VERSION)
    {
      tl_nn_fail (err, TL_NN_ERROR_VERSION,
                  "model format version %u; this build reads version %d", version,
                  TL_NN_MODEL_VERSION);
      return NULL;
    }
  file_size = get_u64 (p + 16);
  if (file_size > size)
    {
      tl_nn_fail (err, TL_NN_ERROR_TRUNCATED, "the file is truncated (%zu of %llu bytes)",
                  size, (unsigned long long) file_size);
      return NULL;
    }
  if (file_size != size)
    {
      tl_nn_fail (err, TL_NN_ERROR_FORMAT, "the file has %zu bytes, its header says %llu",
                  size, (unsigned long long) file_size);
      return NULL;
    }
  if (size > TL_NN_MODEL_MAX_BYTES)
    {
      tl_nn_fail (err, TL_NN_ERROR_LIMIT, "the file is too large (%zu MiB)", size >> 20);
      return NULL;
    }
  if (get_u64 (p + 80) != checksum (p + HEADER_SIZE, size - HEADER_SIZE))
    {
      tl_nn_fail (err, TL_NN_ERROR_CHECKSUM, "the file is corrupt (checksum mismatch)");
      return NULL;
    }

  n_nodes = get_u32 (p + 24);
  n_tensors = get_u32 (p + 40);
  nodes_off = get_u64 (p + 32);
  tensors_off = get_u64 (p + 48);
  data_off = get_u64 (p + 56);
  data_size = get_u64 (p + 64);
  output = get_u32 (p + 72);
  /* Every count is bounded before it multiplies anything, so the sums below
   * cannot overflow. */
  if (get_u32 (p + 12) != HEADER_SIZE || get_u32 (p + 28) != NODE_RECORD ||
      get_u32 (p + 44) != TENSOR_RECORD || n_nodes < 1 ||
      n_nodes > TL_NET_MAX_NODES || n_tensors > MAX_TENSORS ||
      nodes_off != HEADER_SIZE ||
      tensors_off != nodes_off + (uint64_t) n_nodes * NODE_RECORD ||
      data_off < tensors_off + (uint64_t) n_tensors * TENSOR_RECORD ||
      data_off % 64 != 0 || data_off > size || data_size != size - data_off ||
      output >= n_nodes)
    {
      tl_nn_fail (err, TL_NN_ERROR_FORMAT, "the file's section table is malformed");
      return NULL;
    }

  for (uint32_t i = 0; i < n_nodes; i++)
    {
      const uint8_t *r = p + nodes_off + (size_t) i * NODE_RECORD;
      TlNetNode node;

      memset (&node, 0, sizeof node);
      node.op = (TlOp) get_u32 (r + 0);
      node.n_inputs = (int) get_u32 (r + 4);
      for (int k = 0; k < TL_NET_MAX_INPUTS; k++)
        node.inputs[k] = (int) get_u32 (r + 8 + 4 * k);
      for (int k = 0; k < 8; k++)
        node.ip[k] = (int) get_u32 (r + 40 + 4 * k);
      node.fp[0] = get_f32 (r + 72);
      node.fp[1] = get_f32 (r + 76);
      node.h = (int) get_u32 (r + 80);
      node.w = (int) get_u32 (r + 84);
      node.c = (int) get_u32 (r + 88);
      memcpy (node.name, r + 112, TL_NET_NAME_MAX);

      if (i == 0)
        {
          if (node.op != TL_OP_INPUT || node.n_inputs != 0 || node.h <= 0 ||
              node.w <= 0 || node.c <= 0 || node.h > 16384 || node.w > 16384 ||
              node.c > 65536)
            {
              tl_nn_fail (err, TL_NN_ERROR_FORMAT, "the first layer is not a valid input");
              return NULL;
            }
          if (memchr (node.name, 0, TL_NET_NAME_MAX) == NULL)
            {
              tl_nn_fail (err, TL_NN_ERROR_FORMAT, "the input layer's name is not terminated");
              return NULL;
            }
          /* its name says how the input is made (e.g. tl-kws-verifier.h) */
          net = tl_net_new_named (node.h, node.w, node.c, node.name);
          if (net == NULL)
            {
              tl_nn_fail (err, TL_NN_ERROR_NOMEM, "out of memory");
              return NULL;
            }
          continue;
        }
      if (node.n_inputs < 0 || node.n_inputs > TL_NET_MAX_INPUTS)
        node.n_inputs = -1;     /* let the net refuse it with its message */
      if (tl_net_add_node (net, &node) < 0)
        break;
    }
  tl_net_set_output (net, (int) output);
  if (!tl_net_build (net, &build_err))
    {
      tl_nn_fail (err, build_err.code, "layer %d of the architecture: %s",
                  tl_net_n_nodes (net), build_err.message);
      tl_net_free (net);
      return NULL;
    }

  if ((int) n_tensors != tl_net_n_tensors (net))
    {
      tl_nn_fail (err, TL_NN_ERROR_FORMAT, "the file has %u tensors, its architecture needs %d",
                  n_tensors, tl_net_n_tensors (net));
      tl_net_free (net);
      return NULL;
    }
  for (uint32_t i = 0; i < n_tensors; i++)
    {
      const uint8_t *r = p + tensors_off + (size_t) i * TENSOR_RECORD;
      TlNnTensor *t = tl_net_tensor (net, (int) i);
      uint64_t off = get_u64 (r + 88), count = get_u64 (r + 96);
      bool same = memcmp (r, t->name, TL_TENSOR_NAME_MAX) == 0 &&
                  get_u32 (r + 64) == (uint32_t) t->ndim && count == t->count;

      for (int d = 0; d < 4 && same; d++)
        same = get_u32 (r + 68 + 4 * d) == (uint32_t) (d < t->ndim ? t->dims[d] : 0);
      if (!same)
        {
          tl_nn_fail (err, TL_NN_ERROR_SHAPE,
                      "tensor %u of the file does not match “%s” of its architecture", i,
                      t->name);
          tl_net_free (net);
          return NULL;
        }
      if (off % 64 != 0 || off > data_size || count > (data_size - off) / sizeof (float))
        {
          tl_nn_fail (err, TL_NN_ERROR_FORMAT, "tensor “%s” lies outside the data section",
                      t->name);
          tl_net_free (net);
          return NULL;
        }
      for (size_t j = 0; j < t->count; j++)
        {
          float v = get_f32 (p + data_off + off + 4 * j);

          if (!isfinite (v))
            {
              tl_nn_fail (err, TL_NN_ERROR_FORMAT, "tensor “%s” holds a NaN or infinity",
                          t->name);
              tl_net_free (net);
              return NULL;
            }
          t->data[j] = v;
        }
    }
  return net;
}

TlNet *
tl_nn_model_load (const char *path,
                  TlNnError  *err)
{
  struct stat st;
  void *map;
  TlNet *net;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      tl_nn_fail (err, TL_NN_ERROR_IO, "cannot open %s: %s", path, strerror (errno));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      tl_nn_fail (err, TL_NN_ERROR_IO, "%s is not a regular file", path);
      close (fd);
      return NULL;
    }
  if ((uint64_t) st.st_size > TL_NN_MODEL_MAX_BYTES)
    {
      tl_nn_fail (err, TL_NN_ERROR_LIMIT, "%s is too large for a model (%lld MiB)", path,
                  (long long) st.st_size >> 20);
      close (fd);
      return NULL;
    }
  if (st.st_size < HEADER_SIZE)
    {
      uint8_t head[HEADER_SIZE];
      ssize_t n = read (fd, head, sizeof head);

      close (fd);
      return tl_nn_model_load_memory (head, n > 0 ? (size_t) n : 0, err);
    }
  map = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    {
      tl_nn_fail (err, TL_NN_ERROR_IO, "cannot map %s: %s", path, strerror (errno));
      return NULL;
    }
  net = tl_nn_model_load_memory (map, st.st_size, err);
  munmap (map, st.st_size);
  return net;
}

bool
tl_nn_net_copy_params (TlNet       *net,
                       TlNet       *from,
                       const char  *source,
                       TlNnError   *err)
{
  for (int i = 0; i < tl_net_n_tensors (net); i++)
    {
      TlNnTensor *t = tl_net_tensor (net, i);
      TlNnTensor *f = tl_net_find_tensor (from, t->name);
      bool same = f != NULL && f->ndim == t->ndim;

      for (int d = 0; same && d < t->ndim; d++)
        same = f->dims[d] == t->dims[d];
      if (!same)
        {
          tl_nn_fail (err, f ? TL_NN_ERROR_SHAPE : TL_NN_ERROR_MISSING,
                      f ? "tensor “%s” has another shape in %s" : "%s: no tensor “%s”",
                      f ? t->name : source, f ? source : t->name);
          return false;
        }
      memcpy (t->data, f->data, t->count * sizeof (float));
    }
  return true;
}

bool
tl_nn_model_load_params (TlNet      *net,
                         const char *path,
                         TlNnError  *err)
{
  TlNet *file = tl_nn_model_load (path, err);
  bool ok;

  if (file == NULL)
    return false;
  ok = tl_nn_net_copy_params (net, file, path, err);
  tl_net_free (file);
  return ok;
}
