/* tl-nn-private.h — engine internals shared between its files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tl-nn.h"

/* Runs fn (ctx, i) for every i in [0, n) on up to tl_nn_get_threads ()
 * threads, the caller's included, and returns when all have run.  Chunks
 * are claimed one at a time, so a worker the OS does not schedule in time
 * (the machine is busy) costs only parallelism: the caller takes its
 * chunks.  Calls from several threads at once are safe; the later ones run
 * their chunks serially. */
void tl_nn_parallel (int    n,
                     void (*fn) (void *ctx, int i),
                     void  *ctx);
