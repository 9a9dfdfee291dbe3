/* tl-nn-model.h — Twinlock's model files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layout (all integers little-endian):
 *
 *   header        128 bytes: magic "TLNNMODL", format version, the offsets
 *                 and sizes of the sections below, the file size, the input
 *                 shape, and a checksum over everything after the header
 *   architecture  one fixed-size record per node (op, name, inputs,
 *                 parameters), in order
 *   tensor table  one fixed-size record per tensor: name, dims, offset and
 *                 size of its data
 *   data          float32, every tensor starting 64-byte aligned (the file
 *                 can be mapped and used in place)
 *
 * Readers treat every file as hostile: sizes, offsets, counts, names, ops,
 * node inputs and shapes are all checked before use; any violation is a
 * TL_NN_ERROR_* with a message that says what is wrong.
 */
#pragma once

#include "tl-nn-net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_NN_MODEL_VERSION   1
#define TL_NN_MODEL_MAX_BYTES ((size_t) 512 << 20)

/* Writes the net (architecture and parameters) to path, atomically (a
 * temporary file renamed into place). */
bool   tl_nn_model_save        (TlNet *net, const char *path, TlNnError *err);
/* Reads a model file into a new, built network (not yet prepared). */
TlNet *tl_nn_model_load        (const char *path, TlNnError *err);
/* The same from memory (what the fuzzer drives). */
TlNet *tl_nn_model_load_memory (const void *data, size_t size, TlNnError *err);
/* Copies the parameters of a model file into an existing, built net: every
 * tensor of net must be in the file with the same shape. */
bool   tl_nn_model_load_params (TlNet *net, const char *path, TlNnError *err);
/* The same from a net already read (tl_nn_model_load), which @source
 * names in errors. */
bool   tl_nn_net_copy_params   (TlNet *net, TlNet *from, const char *source, TlNnError *err);

/* The checksum a file of `size` bytes must carry in its header (the
 * checksum covers everything after the 128-byte header).  For tools and
 * tests that build or edit files on purpose. */
uint64_t tl_nn_model_checksum  (const void *file, size_t size);

#ifdef __cplusplus
}
#endif
