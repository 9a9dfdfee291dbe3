/* tl-nn-core.c — engine set-up: CPU features, BLIS kernel choice, threads,
 * the GEMM wrapper, aligned memory, errors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <blis.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TL_NN_X86 1
#endif

#include "tl-nn-private.h"

bool
tl_nn_fail (TlNnError     *err,
            TlNnErrorCode  code,
            const char    *format,
            ...)
{
  va_list args;

  if (err == NULL)
    return false;
  err->code = code;
  va_start (args, format);
  vsnprintf (err->message, sizeof err->message, format, args);
  va_end (args);
  return false;
}

void *
tl_nn_alloc (size_t bytes)
{
  void *p = NULL;

  bytes = (bytes + 63) & ~(size_t) 63;
  if (bytes == 0)
    bytes = 64;
  if (posix_memalign (&p, 64, bytes) != 0)
    return NULL;
  memset (p, 0, bytes);
  return p;
}

/* 2 MiB: the x86-64 huge page */
#define HUGE_PAGE ((size_t) 2 << 20)

void *
tl_nn_alloc_huge (size_t bytes)
{
  void *p = NULL;

  if (bytes < HUGE_PAGE / 2)
    return tl_nn_alloc (bytes);
  if (bytes > SIZE_MAX - HUGE_PAGE)
    return NULL;
  bytes = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  if (posix_memalign (&p, HUGE_PAGE, bytes) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  /* usually before the first touch (unless the allocator reuses memory),
   * so that the pages are huge from the start;
   * a kernel without transparent huge pages refuses, which is harmless */
  madvise (p, bytes, MADV_HUGEPAGE);
#endif
  memset (p, 0, bytes);
  return p;
}

void
tl_nn_free (void *p)
{
  free (p);
}

/* ---- CPU features -------------------------------------------------------- */

#ifdef TL_NN_X86
static uint64_t
read_xcr0 (void)
{
  uint32_t lo, hi;

  __asm__ volatile ("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
  return ((uint64_t) hi << 32) | lo;
}
#endif

void
tl_nn_cpu_detect (TlNnCpu *cpu)
{
  memset (cpu, 0, sizeof *cpu);
  strcpy (cpu->vendor, "unknown");
#ifdef TL_NN_X86
  {
    unsigned a = 0, b = 0, c = 0, d = 0, max_leaf = 0;
    bool os_ymm = false, os_zmm = false;

    if (!__get_cpuid (0, &max_leaf, &b, &c, &d))
      return;
    memcpy (cpu->vendor + 0, &b, 4);
    memcpy (cpu->vendor + 4, &d, 4);
    memcpy (cpu->vendor + 8, &c, 4);
    cpu->vendor[12] = '\0';

    __get_cpuid (1, &a, &b, &c, &d);
    cpu->family = (a >> 8) & 0xf;
    cpu->model = (a >> 4) & 0xf;
    if (cpu->family == 0xf)
      cpu->family += (a >> 20) & 0xff;
    if (cpu->family >= 6)
      cpu->model |= ((a >> 16) & 0xf) << 4;

    /* The OS must save the wider registers across context switches, or
     * using them corrupts state: XCR0 bits 1-2 (XMM, YMM) for AVX, and
     * bits 5-7 (opmask, ZMM_Hi256, Hi16_ZMM) for AVX-512. */
    if (c & bit_OSXSAVE)
      {
        uint64_t xcr0 = read_xcr0 ();
        os_ymm = (xcr0 & 0x6) == 0x6;
        os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;
      }
    cpu->ssse3 = (c & bit_SSSE3) != 0;
    cpu->avx = os_ymm && (c & bit_AVX);
    cpu->fma = cpu->avx && (c & bit_FMA);

    if (max_leaf >= 7)
      {
        __get_cpuid_count (7, 0, &a, &b, &c, &d);
        cpu->avx2 = cpu->avx && (b & bit_AVX2);
        cpu->avx512f = os_zmm && (b & bit_AVX512F);
        cpu->avx512dq = cpu->avx512f && (b & bit_AVX512DQ);
        cpu->avx512bw = cpu->avx512f && (b & bit_AVX512BW);
        cpu->avx512vl = cpu->avx512f && (b & bit_AVX512VL);
      }
  }
#endif
}

/* ---- kernel choice ------------------------------------------------------- */

typedef struct
{
  const char *name;
  arch_t      id;
  int         rank;     /* how good for sgemm; 0 = generic C */
} ArchInfo;

/* The x86 sub-configurations this libblis was built with (blis.h says
 * which), best first.  knl and the bulldozer family are left out on
 * purpose: their kernels need instructions (AVX-512ER/PF, FMA4) that are
 * not checked here, so they are never chosen. */
static const ArchInfo archs[] = {
#ifdef BLIS_CONFIG_SKX
  { "skx", BLIS_ARCH_SKX, 5 },
#endif
#ifdef BLIS_CONFIG_ZEN3
  { "zen3", BLIS_ARCH_ZEN3, 4 },
#endif
#ifdef BLIS_CONFIG_ZEN2
  { "zen2", BLIS_ARCH_ZEN2, 4 },
#endif
#ifdef BLIS_CONFIG_ZEN
  { "zen", BLIS_ARCH_ZEN, 4 },
#endif
#ifdef BLIS_CONFIG_HASWELL
  { "haswell", BLIS_ARCH_HASWELL, 4 },
#endif
#ifdef BLIS_CONFIG_SANDYBRIDGE
  { "sandybridge", BLIS_ARCH_SANDYBRIDGE, 2 },
#endif
#ifdef BLIS_CONFIG_PENRYN
  { "penryn", BLIS_ARCH_PENRYN, 1 },
#endif
};

static const ArchInfo *
arch_lookup (const char *name)
{
  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
    if (strcmp (archs[i].name, name) == 0)
      return &archs[i];
  return NULL;
}

static int
arch_rank (const char *name)
{
  const ArchInfo *a = name ? arch_lookup (name) : NULL;

  return a ? a->rank : 0;
}

bool
tl_nn_arch_runs (const TlNnCpu *cpu,
                 const char    *arch)
{
  if (arch == NULL)
    return false;
  if (strcmp (arch, "generic") == 0)
    return true;
  if (strcmp (arch, "skx") == 0)
    return cpu->avx512f && cpu->avx512dq && cpu->avx512bw && cpu->avx512vl &&
           cpu->avx2 && cpu->fma;
  if (strcmp (arch, "zen3") == 0 || strcmp (arch, "zen2") == 0 ||
      strcmp (arch, "zen") == 0 || strcmp (arch, "haswell") == 0)
    return cpu->avx2 && cpu->fma;
  if (strcmp (arch, "sandybridge") == 0)
    return cpu->avx;
  if (strcmp (arch, "penryn") == 0)
    return cpu->ssse3;
  return false;
}

const char *
tl_nn_arch_best (const TlNnCpu *cpu)
{
  bool amd = strcmp (cpu->vendor, "AuthenticAMD") == 0 ||
             strcmp (cpu->vendor, "HygonGenuine") == 0;

  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
    {
      const ArchInfo *a = &archs[i];
      bool zen = strncmp (a->name, "zen", 3) == 0;

      /* Among the equally ranked AVX2 sets, the vendor's own tuning wins;
       * the skx kernels are the best AVX-512 set on either vendor. */
      if (a->rank == 4 && zen != amd)
        continue;
      if (tl_nn_arch_runs (cpu, a->name))
        return a->name;
    }
  return "generic";
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char kernels_line[160];
static char kernels_arch[32] = "generic";
static int n_threads = 1;
static int n_threads_default = 1;

/* Asks a private copy of libblis, loaded into its own link-map namespace,
 * which sub-configuration BLIS's own detection picks: once the process's
 * BLIS has chosen, its choice cannot be changed, so it must not be the one
 * asked.  Returns false when that is not possible (static BLIS, no
 * dlmopen). */
static bool
blis_own_choice (char   *out,
                 size_t  size)
{
  void *handle;
  arch_t (*query) (void);
  char *(*name) (arch_t);
  bool ok = false;

  handle = dlmopen (LM_ID_NEWLM, "libblis.so.4", RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    return false;
  query = (arch_t (*) (void)) dlsym (handle, "bli_arch_query_id");
  name = (char *(*) (arch_t)) dlsym (handle, "bli_arch_string");
  if (query != NULL && name != NULL)
    {
      /* bli_init () first: 0.9 looks BLIS_ARCH_TYPE up in a table that
       * only bli_init () fills. */
      void (*init) (void) = (void (*) (void)) dlsym (handle, "bli_init");
      if (init != NULL)
        {
          init ();
          snprintf (out, size, "%s", name (query ()));
          ok = true;
        }
    }
  dlclose (handle);
  return ok;
}

/* A BLIS_ARCH_TYPE someone set, if this libblis has that sub-configuration
 * and the CPU can run it (BLIS aborts on an id it lacks, and the CPU
 * faults on instructions it lacks); NULL otherwise. */
static const ArchInfo *
env_choice (const TlNnCpu *cpu,
            const char    *env)
{
  char *end = NULL;
  long id;

  if (env == NULL || *env == '\0')
    return NULL;
  id = strtol (env, &end, 10);
  if (end == env || *end != '\0')
    return NULL;
  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
    if (archs[i].id == id && tl_nn_arch_runs (cpu, archs[i].name))
      return &archs[i];
  return NULL;
}

static const char *
isa_of (const char *arch)
{
  if (strcmp (arch, "skx") == 0)
    return "AVX-512";
  if (arch_rank (arch) >= 4)
    return "AVX2/FMA";
  if (strcmp (arch, "sandybridge") == 0)
    return "AVX";
  if (strcmp (arch, "penryn") == 0)
    return "SSSE3";
  return "portable C";
}

const char *
tl_nn_arch_decide (const TlNnCpu *cpu,
                   const char    *env,
                   const char    *blis_pick,
                   int           *set_id,
                   char          *line,
                   size_t         line_size)
{
  const ArchInfo *asked = env_choice (cpu, env), *info;
  const char *best = tl_nn_arch_best (cpu);

  *set_id = -1;
  if (asked != NULL)
    {
      *set_id = (int) asked->id;
      snprintf (line, line_size, "%s (%s, chosen by BLIS_ARCH_TYPE=%s)", asked->name,
                isa_of (asked->name), env);
      return asked->name;
    }
  if (blis_pick != NULL && tl_nn_arch_runs (cpu, blis_pick) &&
      arch_rank (blis_pick) >= arch_rank (best))
    {
      snprintf (line, line_size, "%s (%s, chosen by BLIS)", blis_pick, isa_of (blis_pick));
      return blis_pick;
    }
  info = arch_lookup (best);
  if (info != NULL)
    {
      *set_id = (int) info->id;
      snprintf (line, line_size, "%s (%s, chosen by Twinlock; BLIS picked %s)", best,
                isa_of (best), blis_pick ? blis_pick : "unknown");
      return best;
    }
  /* Nothing better than portable C, and BLIS's pick (if any) is not one
   * this CPU is known to run: portable C it is. */
  *set_id = (int) BLIS_ARCH_GENERIC;
  snprintf (line, line_size, "generic (portable C; no faster kernels for this CPU%s%s)",
            blis_pick ? ", BLIS picked " : "", blis_pick ? blis_pick : "");
  return "generic";
}

static void
nn_init_once (void)
{
  TlNnCpu cpu;
  const char *env = getenv ("BLIS_ARCH_TYPE");
  char blis_pick[32] = "", id[16];
  bool have_pick = false, env_ok;
  int set_id;
  long cores;

  tl_nn_cpu_detect (&cpu);
  env_ok = env_choice (&cpu, env) != NULL;
  if (!env_ok)
    {
      if (env != NULL)
        unsetenv ("BLIS_ARCH_TYPE");
      have_pick = blis_own_choice (blis_pick, sizeof blis_pick);
    }
  tl_nn_arch_decide (&cpu, env_ok ? env : NULL, have_pick ? blis_pick : NULL, &set_id,
                     kernels_line, sizeof kernels_line);
  if (set_id >= 0 && !env_ok)
    {
      snprintf (id, sizeof id, "%d", set_id);
      setenv ("BLIS_ARCH_TYPE", id, 1);
    }

  bli_init ();
  /* What BLIS really runs is the last word: report that. */
  snprintf (kernels_arch, sizeof kernels_arch, "%s",
            bli_arch_string (bli_arch_query_id ()));

  cores = sysconf (_SC_NPROCESSORS_ONLN);
  n_threads_default = cores > 0 ? (int) cores : 1;
  n_threads = n_threads_default;
  bli_thread_set_num_threads (n_threads);
}

void
tl_nn_init (void)
{
  pthread_once (&init_once, nn_init_once);
}

/* Choosing the kernels may setenv () BLIS_ARCH_TYPE, which is only safe
 * while no other thread can be reading the environment: so it happens
 * when the program starts, before main () (and before GLib, GStreamer or
 * GTK start threads). */
__attribute__ ((constructor)) static void
nn_init_at_start (void)
{
  tl_nn_init ();
}

const char *
tl_nn_kernels_name (void)
{
  tl_nn_init ();
  return kernels_line;
}

const char *
tl_nn_kernels_arch (void)
{
  tl_nn_init ();
  return kernels_arch;
}

const char *
tl_nn_blis_threading (void)
{
  tl_nn_init ();
  if (bli_info_get_enable_openmp ())
    return "openmp";
  if (bli_info_get_enable_pthreads ())
    return "pthreads";
  return "none";
}

void
tl_nn_set_threads (int n)
{
  tl_nn_init ();
  n_threads = n > 0 ? n : n_threads_default;
  bli_thread_set_num_threads (n_threads);
}

int
tl_nn_get_threads (void)
{
  tl_nn_init ();
  return n_threads;
}

/* ---- GEMM ---------------------------------------------------------------- */

/* Below this many multiply-adds a second thread costs more (wake-up,
 * partitioning) than it saves. */
#define TL_GEMM_THREAD_MIN_MACS (1 << 17)
/* A product of a few rows (TL_NN_FEW_ROWS) by a B of at least this many
 * floats reads each of B's values once or twice, within a network's pass
 * from memory (the encoder's last 3×3 convolution, a 256 × 256 centre
 * tap at batch 1, took 116 µs a pass against 9 µs alone): it runs on
 * tl_nn_gemm_few_rows (), which reads B in order, its columns split
 * over the threads, each reading its share. */
#define TL_GEMM_FEW_ROWS_MIN_B  (1 << 14)

void
tl_gemm_1 (bool         trans_a,
           bool         trans_b,
           int          m,
           int          n,
           int          k,
           float        alpha,
           const float *a,
           int          lda,
           const float *b,
           int          ldb,
           float        beta,
           float       *c,
           int          ldc)
{
  rntm_t rntm = BLIS_RNTM_INITIALIZER;

  bli_rntm_set_num_threads (1, &rntm);
  bli_sgemm_ex (trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                m, n, k, &alpha,
                (float *) a, lda, 1,
                (float *) b, ldb, 1,
                &beta, c, ldc, 1,
                NULL, &rntm);
}

typedef struct
{
  bool         trans_a, trans_b, split_rows, few_rows;
  int          m, n, k, lda, ldb, ldc, step;
  float        alpha, beta;
  const float *a, *b;
  float       *c;
} GemmJob;

/* Chunk i: a band of C's rows (and A's) or of C's columns (and B's). */
static void
gemm_chunk (void *ctx,
            int   i)
{
  const GemmJob *g = ctx;
  int lo = i * g->step;
  int hi = lo + g->step < (g->split_rows ? g->m : g->n) ? lo + g->step :
           (g->split_rows ? g->m : g->n);

  if (hi <= lo)
    return;
  if (g->few_rows)
    tl_nn_gemm_few_rows (g->m, hi - lo, g->k, g->alpha, g->a, g->lda, g->b + lo, g->ldb,
                         g->beta, g->c + lo, g->ldc);
  else if (g->split_rows)
    tl_gemm_1 (g->trans_a, g->trans_b, hi - lo, g->n, g->k, g->alpha,
               g->trans_a ? g->a + lo : g->a + (size_t) lo * g->lda, g->lda,
               g->b, g->ldb, g->beta, g->c + (size_t) lo * g->ldc, g->ldc);
  else
    tl_gemm_1 (g->trans_a, g->trans_b, g->m, hi - lo, g->k, g->alpha,
               g->a, g->lda,
               g->trans_b ? g->b + (size_t) lo * g->ldb : g->b + lo, g->ldb,
               g->beta, g->c + lo, g->ldc);
}

void
tl_gemm (bool         trans_a,
         bool         trans_b,
         int          m,
         int          n,
         int          k,
         float        alpha,
         const float *a,
         int          lda,
         const float *b,
         int          ldb,
         float        beta,
         float       *c,
         int          ldc)
{
  int64_t macs = (int64_t) m * n * k;
  GemmJob g;
  int chunks, len, unit;

  if (m <= 0 || n <= 0)
    return;
  tl_nn_init ();
  if (m <= TL_NN_FEW_ROWS && !trans_a && !trans_b && (int64_t) k * n >= TL_GEMM_FEW_ROWS_MIN_B)
    {
      /* about 16 K floats of B a chunk, on the threads in slices of 16
       * columns */
      g = (GemmJob) { false, false, false, true, m, n, k, lda, ldb, ldc, 0,
                      alpha, beta, a, b, c };
      chunks = (int) ((int64_t) k * n / TL_GEMM_FEW_ROWS_MIN_B);
      chunks = chunks < n_threads ? chunks : n_threads;
      g.step = ((n + chunks - 1) / chunks + 15) / 16 * 16;
      tl_nn_parallel ((n + g.step - 1) / g.step, gemm_chunk, &g);
      return;
    }
  if (n_threads <= 1 || macs < TL_GEMM_THREAD_MIN_MACS)
    {
      tl_gemm_1 (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }

  /* Split the longer side of C; twice as many chunks as threads (when
   * they stay big enough) so that a late thread's share is rebalanced. */
  g = (GemmJob) { trans_a, trans_b, m >= n, false, m, n, k, lda, ldb, ldc, 0,
                  alpha, beta, a, b, c };
  len = g.split_rows ? m : n;
  unit = g.split_rows ? 6 : 16;        /* the micro-kernels' tile sides */
  chunks = 2 * n_threads;
  while (chunks > n_threads && macs / chunks < TL_GEMM_THREAD_MIN_MACS)
    chunks--;
  g.step = ((len + chunks - 1) / chunks + unit - 1) / unit * unit;
  chunks = (len + g.step - 1) / g.step;
  tl_nn_parallel (chunks, gemm_chunk, &g);
}

void
tl_gemm_ref (bool         trans_a,
             bool         trans_b,
             int          m,
             int          n,
             int          k,
             float        alpha,
             const float *a,
             int          lda,
             const float *b,
             int          ldb,
             float        beta,
             float       *c,
             int          ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double sum = 0.0;

        for (int p = 0; p < k; p++)
          {
            double x = trans_a ? a[(size_t) p * lda + i] : a[(size_t) i * lda + p];
            double y = trans_b ? b[(size_t) j * ldb + p] : b[(size_t) p * ldb + j];
            sum += x * y;
          }
        c[(size_t) i * ldc + j] = (float) (alpha * sum +
                                           (beta == 0.0f ? 0.0 : (double) beta * c[(size_t) i * ldc + j]));
      }
}
