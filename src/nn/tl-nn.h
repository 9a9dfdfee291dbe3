/* tl-nn.h — the BLIS neural engine: set-up, kernels, threads, GEMM, errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine is plain C on BLIS: float * and int, no GLib types.  Tensors
 * are float32, NHWC (see tl-nn-layers.h for why), row-major.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Errors the engine reports (the GLib wrapper in src/vision/tl-model.h turns
 * them into GError). */
typedef enum
{
  TL_NN_OK = 0,
  TL_NN_ERROR_IO,           /* cannot open, read, write or map a file */
  TL_NN_ERROR_FORMAT,       /* not a model file, or a malformed one */
  TL_NN_ERROR_VERSION,      /* a format version this build does not read */
  TL_NN_ERROR_CHECKSUM,     /* contents do not match the stored checksum */
  TL_NN_ERROR_TRUNCATED,    /* shorter than its header says */
  TL_NN_ERROR_LIMIT,        /* larger than the engine accepts */
  TL_NN_ERROR_SHAPE,        /* tensor or layer shapes that do not fit */
  TL_NN_ERROR_MISSING,      /* a tensor the network needs is not there */
  TL_NN_ERROR_NOMEM,        /* allocation failed */
  TL_NN_ERROR_INVALID,      /* a bad argument */
} TlNnErrorCode;

typedef struct
{
  TlNnErrorCode code;
  char          message[256];
} TlNnError;

/* Sets *err (if err is not NULL) and returns false, for `return tl_nn_fail (…)`. */
bool tl_nn_fail (TlNnError     *err,
                 TlNnErrorCode  code,
                 const char    *format,
                 ...) __attribute__ ((format (printf, 3, 4)));

/* ---- kernels and threads ------------------------------------------------
 *
 * tl_nn_init () must run before anything else touches BLIS: it detects the
 * CPU's features (cpuid + xgetbv), finds out which sub-configuration BLIS
 * itself would pick, and, when that one is worse than the best one this
 * BLIS has and the CPU can run, sets BLIS_ARCH_TYPE to it before BLIS's
 * first call.  It runs by itself when the program starts (a constructor,
 * before main (), while the process has one thread: setenv () is not safe
 * later); calling it again is harmless.  Thread-safe and idempotent. */
void        tl_nn_init              (void);

/* The kernels in use, as one line for people, e.g.
 * "skx (AVX-512, chosen by Twinlock; BLIS picked generic)". */
const char *tl_nn_kernels_name      (void);
/* Just BLIS's name of the sub-configuration in use ("skx", "zen3", …). */
const char *tl_nn_kernels_arch      (void);
/* The threading model this libblis was built with: "openmp", "pthreads"
 * or "none" (Debian's libblis4-openmp and libblis4-pthread both thread). */
const char *tl_nn_blis_threading    (void);

/* CPU features as the engine sees them (the OS must also save the vector
 * state: AVX needs XMM|YMM in XCR0, AVX-512 also opmask|ZMM). */
typedef struct
{
  bool ssse3, avx, avx2, fma, avx512f, avx512dq, avx512bw, avx512vl;
  char vendor[13];
  int  family, model;
} TlNnCpu;

void        tl_nn_cpu_detect        (TlNnCpu *cpu);

/* BLIS arch_t ids are only meaningful to the libblis in use; the functions
 * below take and give BLIS's names.  tl_nn_arch_runs () says whether the CPU
 * described by cpu can execute that sub-configuration's kernels; the
 * selection never picks one for which it is false. */
bool        tl_nn_arch_runs         (const TlNnCpu *cpu,
                                     const char    *arch);
/* The best sub-configuration this libblis offers that cpu can run, or
 * "generic".  Pure function of cpu; exposed for tests. */
const char *tl_nn_arch_best         (const TlNnCpu *cpu);

/* The decision tl_nn_init () takes, as a pure function (exposed for
 * tests): env is BLIS_ARCH_TYPE as set by the user (or NULL), blis_pick
 * the sub-configuration BLIS's own detection picks (NULL if unknown).
 * Returns the sub-configuration to run and sets *set_id to the arch_t id
 * BLIS_ARCH_TYPE must hold for it (-1: leave BLIS's choice); line gets
 * the sentence tl_nn_kernels_name () shows. */
const char *tl_nn_arch_decide       (const TlNnCpu *cpu,
                                     const char    *env,
                                     const char    *blis_pick,
                                     int           *set_id,
                                     char          *line,
                                     size_t         line_size);

/* Threads used by GEMMs; n <= 0 means all online cores (the default). */
void        tl_nn_set_threads       (int n);
int         tl_nn_get_threads       (void);

/* The engine's worker threads since the process started: calls split
 * into chunks (at least two, with two threads or more), how many of them
 * ran on the calling thread alone (the pool's fallback on a busy
 * machine, or another call already running), their chunks, how many of
 * those the workers ran, and how many calls found a worker asleep (past
 * its spin) and had the kernel wake it. */
typedef struct
{
  uint64_t calls, calls_alone, chunks, worker_chunks, calls_woken;
} TlNnPoolStats;

void        tl_nn_pool_stats        (TlNnPoolStats *stats);

/* ---- GEMM -----------------------------------------------------------------
 *
 * Row-major C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is m×k
 * (stored k×m when trans_a), op(B) is k×n (stored n×k when trans_b); lda,
 * ldb, ldc are row strides in floats.  Every GEMM of the engine goes through
 * tl_gemm (), which calls bli_sgemm with rs = ld, cs = 1.  Small products run
 * on one thread (threading them costs more than it gains). */
void tl_gemm     (bool trans_a, bool trans_b, int m, int n, int k,
                  float alpha, const float *a, int lda,
                  const float *b, int ldb,
                  float beta, float *c, int ldc);
/* Naive triple loop with double accumulation: the reference. */
void tl_gemm_ref (bool trans_a, bool trans_b, int m, int n, int k,
                  float alpha, const float *a, int lda,
                  const float *b, int ldb,
                  float beta, float *c, int ldc);

/* 64-byte aligned allocation (free with tl_nn_free), zero-filled. */
void *tl_nn_alloc (size_t bytes);
void  tl_nn_free  (void *p);

#ifdef __cplusplus
}
#endif
