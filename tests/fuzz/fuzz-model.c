/* fuzz-model.c — libFuzzer harness for the model file reader
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Build and run (clang; see tests/fuzz/README.md):
 *   CC=clang meson setup _fuzz -Dfuzzers=true && ninja -C _fuzz tests/fuzz/fuzz-model
 *   _fuzz/tests/fuzz/fuzz-model -max_total_time=600 tests/fuzz/model-corpus
 */
#include <stddef.h>
#include <stdint.h>

#include "tl-nn-model.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  TlNnError err;
  TlNet *net = tl_nn_model_load_memory (data, size, &err);

  if (net != NULL)
    {
      /* A file that loads must also run: a batch of one through it. */
      const TlNetNode *in = tl_net_node (net, 0);
      size_t n = (size_t) in->h * in->w * in->c;

      if (n <= ((size_t) 1 << 16) && tl_net_prepare (net, 1, false, &err))
        {
          float *x = tl_nn_alloc (n * sizeof (float));

          if (x != NULL)
            tl_net_forward (net, x, 1, false);
          tl_nn_free (x);
        }
      tl_net_free (net);
    }
  return 0;
}
