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
#include <time.h>

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

/* When the OS runs other programs on the other cores, a worker it takes
 * away while holding a chunk makes the caller wait for it, often for a
 * whole time slice: on such a machine two threads ran the face encoder
 * slower than one (medians 11.5–14.7 ms against 9.5–10.7).  So a caller
 * whose calls, a few times in a row, took longer than it would have
 * taken alone (at the pace of the chunks it ran itself) runs the next
 * LAG_ALONE calls' chunks alone, then tries the workers again.  Guarded
 * by run_lock. */
#define LAG_STRIKES 4
#define LAG_ALONE   2000
#define LAG_MIN_NS  2000
static int lag_strikes, lag_alone;

static int64_t
now_ns (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Returns how many chunks this thread ran. */
static int
run_chunks (const Job *j)
{
  int ran = 0;

  for (;;)
    {
      uint64_t v = atomic_load (&next_chunk);
      int i;

      if ((uint32_t) (v >> 32) != j->gen || (int) (uint32_t) v >= j->n)
        return ran;
      if (!atomic_compare_exchange_weak (&next_chunk, &v, v + 1))
        continue;
      i = (int) (uint32_t) v;
      j->fn (j->ctx, i);
      ran++;
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
  int64_t t0, t1, t2;
  int mine;
  Job j;

  if (n <= 0)
    return;
  if (n == 1 || threads <= 1 || pthread_mutex_trylock (&run_lock) != 0)
    {
      for (int i = 0; i < n; i++)
        fn (ctx, i);
      return;
    }
  if (lag_alone > 0)
    {
      lag_alone--;
      for (int i = 0; i < n; i++)
        fn (ctx, i);
      pthread_mutex_unlock (&run_lock);
      return;
    }
  t0 = now_ns ();

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

  mine = run_chunks (&j);
  t1 = now_ns ();

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
  t2 = now_ns ();
  /* lagging: the call took longer than the caller alone would have taken
   * at the pace of its own chunks */
  if (t2 - t1 > LAG_MIN_NS && (mine == 0 || (t2 - t0) * mine > (t1 - t0) * n))
    {
      if (++lag_strikes >= LAG_STRIKES)
        {
          lag_alone = LAG_ALONE;
          lag_strikes = 0;
        }
    }
  else if (lag_strikes > 0)
    lag_strikes--;
  pthread_mutex_unlock (&run_lock);
}
