/* test-nn-pool.c — the engine's worker threads (tl-nn-pool.c): every
 * chunk of every call runs exactly once, over many calls in a row and
 * from several callers at once, the caller's from the front and the
 * workers' from the back; a caller whose worker loses it time runs
 * alone for a while; and the face networks give the same bits on one
 * thread and on two
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "nn-test-util.h"
#include "tl-face-pipeline.h"
#include "tl-nn-private.h"

#define MAX_CHUNKS 64

typedef struct
{
  int n;
  gint counts[MAX_CHUNKS];
  gint on_caller;        /* chunks the calling thread ran */
  gint by_caller[MAX_CHUNKS];
  GThread *caller;
} CountJob;

static void
count_chunk (void *ctx,
             int   i)
{
  CountJob *j = ctx;

  g_assert_cmpint (i, >=, 0);
  g_assert_cmpint (i, <, j->n);
  g_atomic_int_inc (&j->counts[i]);
  if (g_thread_self () == j->caller)
    {
      g_atomic_int_inc (&j->on_caller);
      g_atomic_int_set (&j->by_caller[i], 1);
    }
}

/* calls with 1 to 40 chunks, back to back: each chunk once, none of a
 * call left running after it returns, the caller's chunks the first ones
 * (so that, when the threads keep pace, each runs the same part of every
 * call); with an odd seed, in groups of 50
 * within a hold of the pool (the workers spinning between calls, and
 * prefetching a posted buffer meanwhile) */
static int
run_calls (int calls,
           int seed)
{
  CountJob j;
  int on_others = 0;
  static float posted[4096];

  for (int c = 0; c < calls; c++)
    {
      if (seed % 2 == 1 && c % 50 == 0)
        {
          tl_nn_pool_hold ();
          tl_nn_pool_prefetch (posted, sizeof posted);
        }
      memset (&j, 0, sizeof j);
      j.n = 1 + (c * 7 + seed) % 40;
      j.caller = g_thread_self ();
      if (c % 2 == 0)
        tl_nn_pool_forget_lag ();      /* the workers take part */
      tl_nn_parallel (j.n, count_chunk, &j);
      for (int i = 0; i < j.n; i++)
        g_assert_cmpint (g_atomic_int_get (&j.counts[i]), ==, 1);
      for (int i = j.n; i < MAX_CHUNKS; i++)
        g_assert_cmpint (j.counts[i], ==, 0);
      for (int i = 0; i < j.n; i++)
        g_assert_cmpint (j.by_caller[i], ==, i < j.on_caller);
      on_others += j.n - j.on_caller;
      if (seed % 2 == 1 && (c % 50 == 49 || c == calls - 1))
        tl_nn_pool_release ();
    }
  return on_others;
}

static void
test_many_calls (void)
{
  int on_others;

  tl_nn_set_threads (2);
  on_others = run_calls (20000, 0) + run_calls (5000, 1);
  /* not asserted: on a busy machine the pool may run calls alone */
  g_test_message ("chunks run by the worker: %d", on_others);
  tl_nn_set_threads (0);
}

static gpointer
caller_thread (gpointer data)
{
  run_calls (3000, GPOINTER_TO_INT (data));
  return NULL;
}

/* callers in other threads at once: the later ones run their chunks
 * alone, every call still complete */
static void
test_concurrent_callers (void)
{
  GThread *t[3];

  tl_nn_set_threads (2);
  for (int i = 0; i < 3; i++)
    t[i] = g_thread_new ("caller", caller_thread, GINT_TO_POINTER (i + 1));
  run_calls (3000, 0);
  for (int i = 0; i < 3; i++)
    g_thread_join (t[i]);
  tl_nn_set_threads (0);
}

static void
empty_chunk (void *ctx,
             int   i)
{
  (void) ctx;
  (void) i;
}

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Busy for about `us` µs on the calling thread, as a layer between two
 * parallel calls would be (a sleep would free the core). */
static void
busy_us (int us)
{
  gint64 t0 = g_get_monotonic_time ();

  while (g_get_monotonic_time () - t0 < us)
    ;
}

/* The cost of one parallel call of two empty chunks (wake-up and
 * gathering), with the calls 20 or 200 µs apart, outside a hold and
 * within one (tl_nn_pool_hold (): the workers spin between calls);
 * printed, not asserted: it depends on what else runs. */
static void
test_call_cost (void)
{
  enum { N = 2000 };
  static double t[N];

  tl_nn_set_threads (2);
  for (int held = 0; held < 2; held++)
    {
      for (int i = 0; i < N; i++)
        {
          struct timespec t0, t1;

          tl_nn_pool_forget_lag ();
          if (held && i % 32 == 0)
            tl_nn_pool_hold ();
          clock_gettime (CLOCK_MONOTONIC, &t0);
          tl_nn_parallel (2, empty_chunk, NULL);
          clock_gettime (CLOCK_MONOTONIC, &t1);
          t[i] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
          /* calls in a pass come about this far apart */
          busy_us (i % 2 ? 20 : 200);
          if (held && i % 32 == 31)
            tl_nn_pool_release ();
        }
      qsort (t, N, sizeof t[0], cmp_double);
      g_test_message ("one call of two empty chunks on 2 threads%s: median %.2f us, "
                      "90th percentile %.2f us", held ? ", pool held" : "",
                      t[N / 2], t[N * 9 / 10]);
    }
  tl_nn_set_threads (0);
}

static GThread *slow_caller;
static atomic_int worker_started;
static uint64_t alone_before;

static uint64_t alone_calls (void);

/* 3 ms on a worker; on the calling thread, the wait until a worker has
 * started the other chunk (at most 50 ms).  Without that wait a worker
 * slow to wake on a loaded machine finds no chunk left, the caller runs
 * both and the call loses nothing: the fallback would have nothing to
 * react to.  With it, a call takes the worker's start-up plus 3 ms while
 * the caller's own pace says twice the start-up.  (A call the pool runs
 * alone does not wait: no worker will come.) */
static void
slow_on_worker_chunk (void *ctx,
                      int   i)
{
  gint64 t0 = g_get_monotonic_time ();

  (void) ctx;
  (void) i;
  if (g_thread_self () != slow_caller)
    {
      atomic_store (&worker_started, 1);
      g_usleep (3000);
    }
  else if (alone_calls () == alone_before)
    while (!atomic_load (&worker_started) && g_get_monotonic_time () - t0 < 50000)
      g_thread_yield ();
}

static uint64_t
alone_calls (void)
{
  TlNnPoolStats s;

  tl_nn_pool_stats (&s);
  return s.calls_alone;
}

/* Calls that lose time with the worker make the caller run alone: a
 * window of 64 such calls, then 128 calls alone, then (another bad
 * window) 256, 512…: of 640 calls, at least half run alone (448 when
 * every window with the worker is bad, 384 when the first is not). */
static void
test_fallback (void)
{
  uint64_t a0, alone;
  TlNnPoolStats s0, s1;

  tl_nn_set_threads (2);
  slow_caller = g_thread_self ();
  tl_nn_pool_forget_lag ();
  a0 = alone_calls ();
  for (int i = 0; i < 640; i++)
    {
      atomic_store (&worker_started, 0);
      alone_before = alone_calls ();
      tl_nn_parallel (2, slow_on_worker_chunk, NULL);
    }
  alone = alone_calls () - a0;
  g_test_message ("calls run alone: %" G_GUINT64_FORMAT " of 640", alone);
  g_assert_cmpuint (alone, >=, 320);
  /* and a caller told to forget it uses the workers again */
  tl_nn_pool_forget_lag ();
  tl_nn_pool_stats (&s0);
  tl_nn_parallel (2, empty_chunk, NULL);
  tl_nn_pool_stats (&s1);
  g_assert_cmpuint (s1.calls_alone, ==, s0.calls_alone);
  g_assert_cmpuint (s1.calls, ==, s0.calls + 1);
  tl_nn_set_threads (0);
}

typedef enum { DETECTOR, LANDMARKS, ENCODER } Net;

static void
forward (TlFacePipeline *p,
         Net             net,
         const float    *in,
         float          *out)
{
  if (net == DETECTOR)
    tl_face_detector_forward (tl_face_pipeline_get_detector (p), in, out);
  else if (net == LANDMARKS)
    tl_face_landmarker_forward (tl_face_pipeline_get_landmarker (p), in, out);
  else
    tl_face_encoder_forward (tl_face_pipeline_get_encoder (p), in, out);
}

/* The pipeline's networks on the model files, frozen as they run
 * (Winograd on floats and on codes, 8-bit codes, chains): the chunks
 * split the same work whoever runs them, so one thread and two give the
 * same bits, pass after pass. */
static void
test_nets_one_two (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *models = g_build_filename (g_getenv ("TL_SOURCE_ROOT"), "models", NULL);
  TlFacePipeline *p = tl_face_pipeline_new (models, &error);
  /* input side, output floats: detector at 160, landmarks, encoder */
  const int sides[] = { 160, 112, 150 }, outs[] = { 5 * 5 * 25, 136, 128 };

  g_assert_no_error (error);
  g_assert_true (tl_face_detector_set_input_size (tl_face_pipeline_get_detector (p), 160));
  for (Net k = DETECTOR; k <= ENCODER; k++)
    {
      size_t n_in = (size_t) sides[k] * sides[k] * 3;
      float *in = nn_test_new (n_in, 11 + k);
      g_autofree float *one = g_new0 (float, outs[k]);
      g_autofree float *two = g_new0 (float, outs[k]);

      tl_nn_set_threads (1);
      forward (p, k, in, one);
      tl_nn_set_threads (2);
      for (int pass = 0; pass < 20; pass++)
        {
          if (pass % 4 == 0)
            tl_nn_pool_forget_lag ();
          forward (p, k, in, two);
          g_test_message ("net %d pass %d: max difference 1 against 2 threads %g",
                          k, pass, nn_test_max_diff (one, two, outs[k]));
          g_assert_cmpmem (one, outs[k] * sizeof (float), two, outs[k] * sizeof (float));
        }
      tl_nn_free (in);
    }
  tl_nn_set_threads (0);
  tl_face_pipeline_free (p);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tl_nn_init ();
  g_test_add_func ("/twinlock/nn/pool/many-calls", test_many_calls);
  g_test_add_func ("/twinlock/nn/pool/concurrent-callers", test_concurrent_callers);
  g_test_add_func ("/twinlock/nn/pool/call-cost", test_call_cost);
  g_test_add_func ("/twinlock/nn/pool/fallback", test_fallback);
  g_test_add_func ("/twinlock/nn/pool/nets-one-two", test_nets_one_two);
  return g_test_run ();
}
