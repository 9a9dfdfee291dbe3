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
#include <sched.h>
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
/* job, n_workers and sleepers are guarded by lock; generation and
 * n_active are written under it and also read without it by workers
 * that spin */
static Job job;
static _Atomic uint32_t generation;
static atomic_int n_active;
static int n_workers, sleepers;
/* The chunks left of the current job, claimed from both ends: the
 * caller takes them from the front, the workers from the back, so that
 * when the threads keep pace each runs the same part of every call —
 * the engine's splits go by rows (bands, tiles in row order, slices) or
 * by output channels (panels, channel groups), and a thread then finds
 * its rows of the layer before and its part of the Winograd workspace,
 * or its panels' weights, in its own cache rather than in the other
 * core's.  (generation << 32) | (front << 16) | back, back one past the
 * last chunk left: a worker that is late for a job cannot claim a chunk
 * of the next one unless 2^32 calls went by meanwhile. */
#define CHUNK_BITS 16
#define CHUNK_MASK ((UINT64_C (1) << CHUNK_BITS) - 1)
#define MAX_CHUNKS ((int) CHUNK_MASK)
static _Atomic uint64_t next_chunk;
static atomic_int chunks_done;
/* the caller sleeps on `finished`: the last chunk's runner must wake it */
static atomic_bool caller_sleeps;

/* A face encoder's pass makes 70 parallel calls in 4–7 ms.  A worker
 * that goes to sleep on the condition variable after each one has to be
 * woken by the kernel for the next (a futex call by the caller, then the
 * time the OS takes to run the worker again).  A worker can instead
 * watch the generation for up to worker_spin_ns before it sleeps
 * (TL_NN_SPIN_US, read once, 0 to 10000 µs), pausing and yielding its
 * core (sched_yield) as it goes.  It makes a call of two empty chunks
 * cheaper (median 9.5 → 0.5–2.9 µs, test-nn-pool) but not the encoder
 * faster on this project's 2-core virtual machine: with a 100 µs spin,
 * `bench faces` alternating with main, six runs each on the idle
 * machine, encoder median 6.90 against 5.66 ms, without it 5.31 ms; on a
 * machine loaded by another session about the same as without.  So the
 * workers sleep by default.  The caller, which has nothing else to do,
 * watches the chunks still running for up to CALLER_SPIN_NS (also
 * yielding) before it sleeps. */
#define WORKER_SPIN_NS 0
#define CALLER_SPIN_NS 300000
static int64_t worker_spin_ns = -1;

/* Within a network's pass (tl_nn_pool_hold ()), though, the next call
 * comes a few µs to a few tens of µs after the last, and a sleeping
 * worker took 16–18 µs a call to start (instrumented encoder passes:
 * 1.1–1.3 ms a pass of 71 calls, while the caller ran alone).  So while
 * a caller holds the pool, the active workers watch the generation for
 * up to HELD_SPIN_NS after each call, then sleep; and the hold wakes
 * them, so that they are spinning by the pass's first call.  They yield
 * the CPU as they spin: without the yield, some encoder runs while
 * other programs kept both cores busy had median passes of 14–16 ms
 * against 7.5–8 for the sleeping workers (a thread spinning for the
 * other on the same core keeps it off for a time slice); with it, no run
 * did (alternating runs against two busy loops or another two-thread
 * benchmark: 6.2–7.4 ms against 7.2–8.8).  held counts the holds;
 * hold_epoch moves when one begins. */
#define HELD_SPIN_NS 2000000
static atomic_int held;
static _Atomic uint32_t hold_epoch;

/* When the OS runs other programs on the other cores, a worker it takes
 * away while holding a chunk makes the caller wait for it, often for a
 * whole time slice: on such a machine two threads ran the face encoder
 * slower than one (medians 11.5–14.7 ms against 9.5–10.7).  So the
 * caller keeps account over windows of LAG_WINDOW calls: the time the
 * calls took against the time it would have taken alone (at the pace of
 * the chunks it ran itself).  When a window's calls took longer, it runs
 * the next calls' chunks alone, then tries the workers again: 128 calls
 * after a first bad window, twice as many after each bad one that follows,
 * up to LAG_ALONE_MAX (about 30 encoder passes); a good window starts
 * again from 128.  So one worker preempted for a moment costs a couple of
 * passes alone, while a machine whose cores stay busy runs alone nearly
 * all the time.
 * A window rather than single calls: a call that loses a little (the
 * worker a few µs late for the last of four chunks) is common and
 * harmless when the others gain.  Guarded by run_lock. */
#define LAG_WINDOW    64
#define LAG_ALONE_MIN 128
#define LAG_ALONE_MAX 2000
static int lag_calls, lag_alone, lag_backoff = LAG_ALONE_MIN;
static int64_t lag_took, lag_alone_ns;

/* Weights to bring into the cache (tl_nn_pool_prefetch ()), PREFETCH_STEP
 * bytes at a time, by threads that would otherwise spin: a worker
 * waiting for the next call of a held pass, a caller waiting for the
 * last chunks.  Within an encoder pass the weights come from memory
 * (reading each frozen layer's just before it, outside the timed part,
 * made the layers 0.7 ms a pass faster in all, and took 1.3 ms a
 * pass).  The three are read without a lock: a thread that reads them
 * while the next layer's are posted may prefetch a stretch of the wrong
 * ones, which is harmless (a prefetch never faults). */
#define PREFETCH_STEP 1024
static const char *_Atomic prefetch_base;
static _Atomic size_t prefetch_next, prefetch_end;

/* tl_nn_pool_stats () */
static _Atomic uint64_t stat_woken, stat_calls, stat_alone, stat_chunks, stat_worker_chunks;

static int64_t
now_ns (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

/* Prefetches the next PREFETCH_STEP bytes posted, if any are left;
 * false when none are. */
static bool
prefetch_some (void)
{
  size_t end = atomic_load_explicit (&prefetch_end, memory_order_relaxed), at;
  const char *base = atomic_load_explicit (&prefetch_base, memory_order_relaxed);

  if (atomic_load_explicit (&prefetch_next, memory_order_relaxed) >= end)
    return false;
  at = atomic_fetch_add_explicit (&prefetch_next, PREFETCH_STEP, memory_order_relaxed);
  if (at >= end)
    return false;
  for (size_t k = at; k < at + PREFETCH_STEP && k < end; k += 64)
    __builtin_prefetch (base + k, 0, 2);
  return true;
}

void
tl_nn_pool_prefetch (const void *p,
                     size_t      bytes)
{
  atomic_store_explicit (&prefetch_end, 0, memory_order_relaxed);
  atomic_store_explicit (&prefetch_base, (const char *) p, memory_order_relaxed);
  atomic_store_explicit (&prefetch_next, 0, memory_order_relaxed);
  atomic_store_explicit (&prefetch_end, p != NULL ? bytes : 0, memory_order_relaxed);
}

/* Spins until done (ctx) returns true or `ns` have passed: prefetches
 * the weights posted or pauses, looking at the clock and yielding the
 * CPU every 64 times.  Returns done's last answer. */
static bool
spin_until (bool  (*done) (const void *ctx),
            const void *ctx,
            int64_t     ns)
{
  int64_t end = 0;

  if (ns <= 0)
    return done (ctx);
  for (int k = 1; ; k++)
    {
      if (done (ctx))
        return true;
      if (!prefetch_some ())
        cpu_relax ();
      if ((k & 63) == 0)
        {
          int64_t t = now_ns ();

          if (end == 0)
            end = t + ns;
          else if (t >= end)
            return done (ctx);
          sched_yield ();
        }
    }
}

static bool
generation_moved (const void *ctx)
{
  return atomic_load_explicit (&generation, memory_order_acquire) != *(const uint32_t *) ctx;
}

static bool
chunks_all_done (const void *ctx)
{
  return atomic_load_explicit (&chunks_done, memory_order_acquire) >= *(const int *) ctx;
}

/* Returns how many chunks this thread ran, taken from the back when
 * from_back (the workers), else from the front (the caller). */
static int
run_chunks (const Job *j,
            bool       from_back)
{
  const uint32_t gen = j->gen & (uint32_t) ((UINT64_C (1) << (64 - 2 * CHUNK_BITS)) - 1);
  int ran = 0;

  for (;;)
    {
      uint64_t v = atomic_load (&next_chunk);
      int front = (int) ((v >> CHUNK_BITS) & CHUNK_MASK), back = (int) (v & CHUNK_MASK), i;

      if ((uint32_t) (v >> (2 * CHUNK_BITS)) != gen || front >= back)
        return ran;
      if (!atomic_compare_exchange_weak (&next_chunk, &v,
                                         from_back ? v - 1 : v + (UINT64_C (1) << CHUNK_BITS)))
        continue;
      i = from_back ? back - 1 : front;
      j->fn (j->ctx, i);
      ran++;
      if (atomic_fetch_add (&chunks_done, 1) + 1 == j->n &&
          atomic_load (&caller_sleeps))
        {
          pthread_mutex_lock (&lock);
          pthread_cond_broadcast (&finished);
          pthread_mutex_unlock (&lock);
        }
    }
}

/* ctx: the generation a worker saw last */
static bool
moved_or_released (const void *ctx)
{
  return generation_moved (ctx) || atomic_load_explicit (&held, memory_order_relaxed) == 0;
}

static void *
worker_main (void *data)
{
  int index = (int) (intptr_t) data;
  uint32_t seen = 0, epoch = 0;

  for (;;)
    {
      Job j;

      if (index < atomic_load (&n_active))
        {
          spin_until (generation_moved, &seen, worker_spin_ns);
          spin_until (moved_or_released, &seen, HELD_SPIN_NS);
        }
      pthread_mutex_lock (&lock);
      while (atomic_load (&generation) == seen || index >= atomic_load (&n_active))
        {
          if (index < atomic_load (&n_active) && atomic_load (&held) > 0 &&
              atomic_load (&hold_epoch) != epoch)
            {
              /* a pass begins: wait for its first call spinning */
              epoch = atomic_load (&hold_epoch);
              pthread_mutex_unlock (&lock);
              spin_until (moved_or_released, &seen, HELD_SPIN_NS);
              pthread_mutex_lock (&lock);
              continue;
            }
          seen = atomic_load (&generation);
          sleepers++;
          pthread_cond_wait (&wake, &lock);
          sleepers--;
        }
      seen = atomic_load (&generation);
      j = job;
      pthread_mutex_unlock (&lock);
      atomic_fetch_add (&stat_worker_chunks, (uint64_t) run_chunks (&j, true));
    }
  return NULL;
}

static void
start_workers (int threads)
{
  if (worker_spin_ns < 0)
    {
      const char *env = getenv ("TL_NN_SPIN_US");
      long us = env != NULL && *env != '\0' ? strtol (env, NULL, 10) : -1;

      worker_spin_ns = us >= 0 && us <= 10000 ? us * 1000 : WORKER_SPIN_NS;
    }
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
}

static void
run_alone (int    n,
           void (*fn) (void *ctx, int i),
           void  *ctx)
{
  atomic_fetch_add (&stat_calls, 1);
  atomic_fetch_add (&stat_alone, 1);
  atomic_fetch_add (&stat_chunks, (uint64_t) n);
  for (int i = 0; i < n; i++)
    fn (ctx, i);
}

/* After a call with the workers: took, how long it took; alone, how long
 * the caller would have taken by itself. */
static void
account_lag (int64_t took,
             int64_t alone)
{
  lag_took += took;
  lag_alone_ns += alone;
  if (++lag_calls < LAG_WINDOW)
    return;
  if (lag_took > lag_alone_ns)
    {
      lag_alone = lag_backoff;
      lag_backoff = 2 * lag_backoff < LAG_ALONE_MAX ? 2 * lag_backoff : LAG_ALONE_MAX;
    }
  else
    lag_backoff = LAG_ALONE_MIN;
  lag_calls = 0;
  lag_took = lag_alone_ns = 0;
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
  /* (more chunks than the claims can count: never, in this engine) */
  if (n == 1 || threads <= 1 || n > MAX_CHUNKS)
    {
      for (int i = 0; i < n; i++)
        fn (ctx, i);
      return;
    }
  if (pthread_mutex_trylock (&run_lock) != 0)
    {
      run_alone (n, fn, ctx);
      return;
    }
  if (lag_alone > 0)
    {
      lag_alone--;
      run_alone (n, fn, ctx);
      pthread_mutex_unlock (&run_lock);
      return;
    }
  atomic_fetch_add (&stat_calls, 1);
  atomic_fetch_add (&stat_chunks, (uint64_t) n);
  t0 = now_ns ();

  pthread_mutex_lock (&lock);
  start_workers (threads);
  atomic_store (&n_active, threads - 1 < n_workers ? threads - 1 : n_workers);
  j = (Job) { fn, ctx, n, atomic_load (&generation) + 1 };
  job = j;
  atomic_store (&chunks_done, 0);
  atomic_store (&next_chunk, ((uint64_t) j.gen << (2 * CHUNK_BITS)) | (uint64_t) n);
  atomic_store (&generation, j.gen);
  /* spinning workers see the generation move; only sleeping ones need
   * the kernel */
  if (sleepers > 0)
    {
      pthread_cond_broadcast (&wake);
      atomic_fetch_add (&stat_woken, 1);
    }
  pthread_mutex_unlock (&lock);

  mine = run_chunks (&j, false);
  t1 = now_ns ();

  /* The caller ran out of chunks: the rest are running on workers. */
  if (!spin_until (chunks_all_done, &n, CALLER_SPIN_NS))
    {
      pthread_mutex_lock (&lock);
      atomic_store (&caller_sleeps, true);
      while (atomic_load (&chunks_done) < n)
        pthread_cond_wait (&finished, &lock);
      atomic_store (&caller_sleeps, false);
      pthread_mutex_unlock (&lock);
    }
  t2 = now_ns ();
  /* a caller that ran no chunk cannot tell its pace: counted as even */
  account_lag (t2 - t0, mine > 0 ? (t1 - t0) * n / mine : t2 - t0);
  pthread_mutex_unlock (&run_lock);
}

void
tl_nn_pool_hold (void)
{
  bool alone = true;

  if (atomic_fetch_add (&held, 1) > 0 || tl_nn_get_threads () <= 1)
    return;
  /* not while calls run alone (the fallback): the workers would spin
   * for nothing */
  if (pthread_mutex_trylock (&run_lock) == 0)
    {
      alone = lag_alone > 0;
      pthread_mutex_unlock (&run_lock);
    }
  if (alone)
    return;
  pthread_mutex_lock (&lock);
  atomic_fetch_add (&hold_epoch, 1);
  if (sleepers > 0)
    pthread_cond_broadcast (&wake);
  pthread_mutex_unlock (&lock);
}

void
tl_nn_pool_release (void)
{
  atomic_fetch_sub (&held, 1);
}

void
tl_nn_pool_forget_lag (void)
{
  pthread_mutex_lock (&run_lock);
  lag_calls = 0;
  lag_took = lag_alone_ns = 0;
  lag_alone = 0;
  lag_backoff = LAG_ALONE_MIN;
  pthread_mutex_unlock (&run_lock);
}

void
tl_nn_pool_stats (TlNnPoolStats *stats)
{
  stats->calls = atomic_load (&stat_calls);
  stats->calls_alone = atomic_load (&stat_alone);
  stats->chunks = atomic_load (&stat_chunks);
  stats->worker_chunks = atomic_load (&stat_worker_chunks);
  stats->calls_woken = atomic_load (&stat_woken);
}
