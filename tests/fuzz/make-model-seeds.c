/* make-model-seeds.c — writes the valid seeds of tests/fuzz/model-corpus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: make-model-seeds DIR   (built with -Dfuzzers=true)
 */
#include <stdio.h>

#include "tl-nn-model.h"

static int
save (TlNet      *net,
      const char *dir,
      const char *name)
{
  TlNnError err;
  char path[4096];
  int ok;

  snprintf (path, sizeof path, "%s/%s", dir, name);
  ok = tl_net_build (net, &err);
  if (ok)
    {
      tl_net_init_params (net, 3);
      ok = tl_nn_model_save (net, path, &err);
    }
  if (!ok)
    fprintf (stderr, "%s: %s\n", path, err.message);
  tl_net_free (net);
  return ok ? 0 : 1;
}

int
main (int   argc,
      char *argv[])
{
  TlNet *net;
  int x, a, b, status = 0;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR\n", argv[0]);
      return 2;
    }

  /* every layer type once */
  net = tl_net_new (6, 6, 2);
  x = tl_net_conv2d (net, 0, "c1", 4, 3, 3, 1, TL_PAD_SAME, 1, true);
  x = tl_net_batchnorm (net, x, "bn", 1e-3f, 0.1f);
  x = tl_net_relu (net, x);
  a = tl_net_conv2d (net, x, "dw", 4, 3, 3, 1, TL_PAD_SAME, 4, false);
  a = tl_net_leaky_relu (net, a, 0.1f);
  b = tl_net_conv2d (net, x, "pw", 4, 1, 1, 1, TL_PAD_VALID, 1, true);
  b = tl_net_prelu (net, b, "pr");
  x = tl_net_add (net, a, b);
  x = tl_net_concat (net, 2, (int[]) { x, a });
  x = tl_net_maxpool (net, x, 2, 2, TL_PAD_SAME);
  x = tl_net_avgpool (net, x, 2, 1, TL_PAD_VALID);
  x = tl_net_pad (net, x, 3, 3, 9);
  x = tl_net_scale_bias (net, x, "sb");
  x = tl_net_global_avgpool (net, x);
  x = tl_net_dense (net, x, "fc", 3, true);
  tl_net_l2norm (net, x, 1e-6f);
  status |= save (net, argv[1], "valid-graph.tlnn");

  net = tl_net_new (1, 1, 4);
  tl_net_dense (net, 0, "fc", 2, false);
  status |= save (net, argv[1], "valid-dense.tlnn");
  return status;
}
