/* fuzz-model.c — libFuzzer harness for the model file reader
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Build and run (clang; see tests/fuzz/README.md):
 *   CC=clang meson setup _fuzz -Dfuzzers=true && ninja -C _fuzz tests/fuzz/fuzz-model
 *   _fuzz/tests/fuzz/fuzz-model -max_total_time=600 tests/fuzz/model-corpus
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tl-nn-model.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
load (const uint8_t *data,
      size_t         size)
{
  TlNnError err;
  TlNet *net = tl_nn_model_load_memory (data, size, &err);

  if (net != NULL)
    {
      /* A file that loads must also run: a batch of one through it, when
       * it is small enough to run within the fuzzer's time and memory. */
      const TlNetNode *in = tl_net_node (net, 0);
      size_t n = (size_t) in->h * in->w * in->c, floats = 0;

      for (int i = 0; i < tl_net_n_nodes (net); i++)
        {
          const TlNetNode *node = tl_net_node (net, i);
          floats += (size_t) node->h * node->w * node->c;
        }
      if (n <= ((size_t) 1 << 16) && floats <= ((size_t) 1 << 22) &&
          tl_net_flops (net) <= 100000000 && tl_net_prepare (net, 1, false, &err))
        {
          float *x = tl_nn_alloc (n * sizeof (float));

          if (x != NULL)
            tl_net_forward (net, x, 1, false);
          tl_nn_free (x);
        }
      tl_net_free (net);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static bool once;

  if (!once)
    {
      tl_nn_set_threads (1);      /* one core, as the run is reported */
      once = true;
    }
  /* As given (the checksum check), and with the checksum made right, so
   * that mutations reach the structural checks behind it. */
  load (data, size);
  if (size >= 128)
    {
      uint8_t *copy = malloc (size);
      uint64_t sum = tl_nn_model_checksum (data, size);

      memcpy (copy, data, size);
      for (int i = 0; i < 8; i++)
        copy[80 + i] = (uint8_t) (sum >> (8 * i));
      load (copy, size);
      free (copy);
    }
  return 0;
}
