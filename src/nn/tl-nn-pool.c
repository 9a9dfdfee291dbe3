/* tl-nn-pool.c — the engine's worker threads
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Why not BLIS's own threading: at batch 1 the GEMMs of a face encoder are
 * small (0.1–0.5 ms), and with BLIS's threads a call waits for every
 * thread of its team, so one that the OS schedules late stalls the whole
 * call; on a busy machine that made a 2-thread GEMM slower than a 1-thread
 * one.  Here each chunk is a single-threaded BLIS call, claimed by whoever
 * is free.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tl-nn-private.h"

typedef struct
{
  void (*fn) (void *ctx, int i);
  void  *ctx;
  int    n;
  uint32_t gen;
} Job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static Job job;
static uint32_t generation;
static int n_workers, n_active;
/* (generation << 32) | next chunk: a worker that is late for a job can
 * never claim a chunk of the next one */
static _Atomic uint64_t next_chunk;
static atomic_int chunks_done;

static void
run_chunks (const Job *j)
{
  for (;;)
    {
      uint64_t v = atomic_load (&next_chunk);
      int i;

      if ((uint32_t) (v >> 32) != j->gen || (int) (uint32_t) v >= j->n)
        return;
      if (!atomic_compare_exchange_weak (&next_chunk, &v, v + 1))
        continue;
      i = (int) (uint32_t) v;
      j->fn (j->ctx, i);
      if (atomic_fetch_add (&chunks_done, 1) + 1 == j->n)
        {
          pthread_mutex_lock (&lock);
          pthread_cond_broadcast (&finished);
          pthread_mutex_unlock (&lock);
        }
    }
}

static void *
worker_main (void *data)
{
  int index = (int) (intptr_t) data;
  uint32_t seen = 0;

  for (;;)
    {
      Job j;

      pthread_mutex_lock (&lock);
      while (generation == seen || index >= n_active)
        {
          seen = generation;
          pthread_cond_wait (&wake, &lock);
        }
      seen = generation;
      j = job;
      pthread_mutex_unlock (&lock);
      run_chunks (&j);
    }
  return NULL;
}

void
tl_nn_parallel (int    n,
                void (*fn) (void *ctx, int i),
                void  *ctx)
{
  int threads = tl_nn_get_threads ();
  Job j;

  if (n <= 0)
    return;
  if (n == 1 || threads <= 1 || pthread_mutex_trylock (&run_lock) != 0)
    {
      for (int i = 0; i < n; i++)
        fn (ctx, i);
      return;
    }

  pthread_mutex_lock (&lock);
  while (n_workers < threads - 1)
    {
      pthread_t t;
      pthread_attr_t attr;

      pthread_attr_init (&attr);
      pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
      if (pthread_create (&t, &attr, worker_main, (void *) (intptr_t) n_workers) != 0)
        {
          pthread_attr_destroy (&attr);
          break;
        }
      pthread_attr_destroy (&attr);
      n_workers++;
    }
  n_active = threads - 1 < n_workers ? threads - 1 : n_workers;
  generation++;
  job = (Job) { fn, ctx, n, generation };
  j = job;
  atomic_store (&chunks_done, 0);
  atomic_store (&next_chunk, (uint64_t) generation << 32);
  pthread_cond_broadcast (&wake);
  pthread_mutex_unlock (&lock);

  run_chunks (&j);

  /* The caller ran out of chunks: the rest are running on workers. */
  for (int spin = 0; spin < 4000 && atomic_load (&chunks_done) < n; spin++)
    {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause ();
#endif
    }
  if (atomic_load (&chunks_done) < n)
    {
      pthread_mutex_lock (&lock);
      while (atomic_load (&chunks_done) < n)
        pthread_cond_wait (&finished, &lock);
      pthread_mutex_unlock (&lock);
    }
  pthread_mutex_unlock (&run_lock);
}
