/* actlab's fused CPU kernels for fp32: one pass over memory per direction, exact where torch is not.
 *
 * Python API (module actlab.kernels._ckernels; the wrapper is actlab/kernels/ckernels.py):
 *   ops() -> {name: (index, saves)}
 *   isa() -> "avx2" or "baseline"
 *   forward(index, x_addr, y_addr, n, p0, p1, p2, p3, threads)
 *   backward(index, g_addr, s_addr, out_addr, n, p0, p1, p2, p3, threads)
 * Addresses are those of contiguous fp32 tensors of n elements; the wrapper checks dtype, device,
 * contiguity and sizes. The GIL is released while a kernel runs; large calls split over `threads`
 * POSIX threads (contiguous ranges, so results do not depend on the thread count).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <signal.h>

#include "common.h"

#define VARIANT(name) name##_baseline
#include "ops.h"
#undef VARIANT

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ACTLAB_HAVE_AVX2 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define VARIANT(name) name##_avx2
#include "ops.h"
#undef VARIANT
#pragma GCC pop_options
#endif

static const actlab_op *const *groups = groups_baseline;
static const char *isa_name = "baseline";

static const actlab_op *op_at(long index) {
    long k = 0;
    for (const actlab_op *const *g = groups; *g; g++)
        for (const actlab_op *op = *g; op->name; op++, k++)
            if (k == index) return op;
    return NULL;
}

/* ---- threads ---------------------------------------------------------------------------------- */
typedef struct {
    const actlab_op *op;
    int backward;
    const float *a, *b;
    float *out;
    long n;
    double p[4];
    long half; /* GLU jobs: n rows of 2*half inputs (value half, then gate half); 0 for elementwise */
} job_t;

/* ---- GLU family: out = a * gate(b), (a, b) the halves of each row ----------------------------------
 * The gate's own kernel runs on one chunk at a time into a stack buffer that stays in L1, so every
 * element of x, g and the result crosses memory once, and the gate's proven accuracy carries over (one
 * more rounding for the product). Backward may write into x itself (dx == x): each chunk reads its a and b
 * before it writes their gradients. */
static void glu_forward_rows(const actlab_op *gate, const float *x, float *y, long rows, long half,
                             const double *p) {
    float gb[ACTLAB_CHUNK];
    for (long r = 0; r < rows; r++) {
        const float *a = x + r * 2 * half, *b = a + half;
        float *out = y + r * half;
        ACTLAB_FOR_CHUNKS(half, s, e) {
            gate->forward(b + s, gb, e - s, p);
            for (long i = s; i < e; i++) out[i] = a[i] * gb[i - s];
        }
    }
}

static void glu_backward_rows(const actlab_op *gate, const float *g, const float *x, float *dx, long rows,
                              long half, const double *p) {
    float gb[ACTLAB_CHUNK], ga[ACTLAB_CHUNK], db[ACTLAB_CHUNK];
    int from_output = gate->saves[0] == 'o';
    for (long r = 0; r < rows; r++) {
        const float *a = x + r * 2 * half, *b = a + half, *gr = g + r * half;
        float *da = dx + r * 2 * half, *dbo = da + half;
        ACTLAB_FOR_CHUNKS(half, s, e) {
            long c = e - s;
            gate->forward(b + s, gb, c, p);                          /* gate(b) */
            for (long i = 0; i < c; i++) ga[i] = gr[s + i] * a[s + i]; /* upstream of the gate: g·a */
            gate->backward(ga, from_output ? gb : b + s, db, c, p);    /* g·a·gate'(b) */
            for (long i = 0; i < c; i++) {
                da[s + i] = gr[s + i] * gb[i];
                dbo[s + i] = db[i];
            }
        }
    }
}

static void run_job(job_t *j) {
    if (j->half) {
        if (j->backward)
            glu_backward_rows(j->op, j->a, j->b, j->out, j->n, j->half, j->p);
        else
            glu_forward_rows(j->op, j->a, j->out, j->n, j->half, j->p);
    } else if (j->backward)
        j->op->backward(j->a, j->b, j->out, j->n, j->p);
    else
        j->op->forward(j->a, j->out, j->n, j->p);
}

#define MAX_THREADS 64
#define MIN_PER_THREAD (1L << 16) /* below this a thread costs more than it wakes up for */

/* ---- a persistent worker pool ---------------------------------------------------------------------------
 * Starting a thread per call costs 20-50 µs, as much as a whole 2^17-element kernel; waking a waiting
 * worker costs a few. Workers start on first need (at most MAX_THREADS - 1) and then wait on `wake`.
 * A batch is published under `lock`: jobs 1..count-1 are claimed one at a time (next++), by the workers
 * and by the caller itself once its job 0 is done, so a batch always finishes even with no worker at
 * all. The caller waits on `done` until `pending` (unfinished jobs 1..count-1) reaches zero; only then
 * does its stack array of jobs go away. One batch runs at a time (`busy`); a caller finding the pool busy
 * (another Python thread, GIL released) runs its jobs itself. After fork() the child has no workers:
 * the handlers below hold the pool across fork() and start the child with an empty one. */
static struct {
    pthread_mutex_t busy; /* held by the caller whose batch is running */
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t wake, done;
    job_t *jobs;
    long count, next, pending;
    long workers; /* started; changed only by the holder of `busy` */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0};

static void *worker_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.next >= pool.count) pthread_cond_wait(&pool.wake, &pool.lock);
        job_t *job = &pool.jobs[pool.next++];
        pthread_mutex_unlock(&pool.lock);
        run_job(job);
        pthread_mutex_lock(&pool.lock);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* start workers until there are `want` (fewer if the system refuses; the caller then does more) */
static void pool_grow(long want) {
    if (pool.workers >= want) return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* workers inherit it: signals stay with Python's threads */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pool.workers < want) {
        pthread_t id;
        if (pthread_create(&id, &attr, worker_main, NULL) != 0) break;
        pool.workers++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void pool_before_fork(void) {
    pthread_mutex_lock(&pool.busy); /* no batch in flight while the process is copied */
    pthread_mutex_lock(&pool.lock);
}
static void pool_after_fork_parent(void) {
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}
static void pool_after_fork_child(void) {
    pool.workers = 0; /* the workers were not copied */
    pool.count = pool.next = pool.pending = 0;
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

/* jobs[0] here, the others on the pool's workers (or here too) */
static void run_jobs(job_t *jobs, long t) {
    if (t <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        for (long k = 0; k < t; k++) run_job(&jobs[k]);
        return;
    }
    pool_grow(t - 1);
    pthread_mutex_lock(&pool.lock);
    pool.jobs = jobs;
    pool.count = t;
    pool.next = 1;
    pool.pending = t - 1;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_job(&jobs[0]);
    pthread_mutex_lock(&pool.lock);
    while (pool.next < pool.count) { /* jobs no worker has claimed yet */
        job_t *job = &pool.jobs[pool.next++];
        pthread_mutex_unlock(&pool.lock);
        run_job(job);
        pthread_mutex_lock(&pool.lock);
        pool.pending--;
    }
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.lock);
    pool.count = pool.next = 0;
    pool.jobs = NULL;
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

static void run_split_rows(job_t *whole, long threads) {
    long rows = whole->n, half = whole->half;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > rows) threads = rows;
    if (threads > rows * half / MIN_PER_THREAD) threads = rows * half / MIN_PER_THREAD;
    if (threads <= 1) {
        run_job(whole);
        return;
    }
    job_t jobs[MAX_THREADS];
    long per = (rows + threads - 1) / threads, t = 0;
    for (long start = 0; start < rows; start += per, t++) {
        jobs[t] = *whole;
        jobs[t].n = rows - start < per ? rows - start : per;
        if (whole->backward) { /* a = g (half per row), b = x, out = dx (2*half per row) */
            jobs[t].a = whole->a + start * half;
            jobs[t].b = whole->b + start * 2 * half;
        } else { /* a = x (2*half per row), out = y (half per row) */
            jobs[t].a = whole->a + start * 2 * half;
        }
        jobs[t].out = whole->out + start * (whole->backward ? 2 * half : half);
    }
    run_jobs(jobs, t);
}

static void run_split(job_t *whole, long threads) {
    long n = whole->n;
    if (whole->half) { /* GLU: split rows; a row moves 3*half floats forward, 5*half backward */
        run_split_rows(whole, threads);
        return;
    }
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > n / MIN_PER_THREAD) threads = n / MIN_PER_THREAD;
    if (threads <= 1) {
        run_job(whole);
        return;
    }
    job_t jobs[MAX_THREADS];
    long per = (n / threads + 63) & ~63L; /* 64-element aligned ranges */
    long t = 0;
    for (long start = 0; start < n; start += per, t++) {
        jobs[t] = *whole;
        long len = n - start < per ? n - start : per;
        jobs[t].n = len;
        jobs[t].a = whole->a + start;
        jobs[t].b = whole->b ? whole->b + start : NULL;
        jobs[t].out = whole->out + start;
    }
    run_jobs(jobs, t);
}

/* ---- Python bindings ---------------------------------------------------------------------------- */
static int parse_common(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want, const actlab_op **op,
                        void **addr, long *n, double *p, long *threads) {
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", want, nargs);
        return -1;
    }
    long index = PyLong_AsLong(args[0]);
    if (index == -1 && PyErr_Occurred()) return -1;
    *op = op_at(index);
    if (!*op) {
        PyErr_Format(PyExc_ValueError, "no kernel with index %ld", index);
        return -1;
    }
    Py_ssize_t naddr = want - 7; /* index, addresses..., n, p0..p3, threads */
    for (Py_ssize_t k = 0; k < naddr; k++) {
        addr[k] = PyLong_AsVoidPtr(args[1 + k]);
        if (!addr[k] && PyErr_Occurred()) return -1;
    }
    *n = PyLong_AsLong(args[1 + naddr]);
    if (*n == -1 && PyErr_Occurred()) return -1;
    if (*n < 0) {
        PyErr_SetString(PyExc_ValueError, "negative element count");
        return -1;
    }
    for (int k = 0; k < 4; k++) {
        p[k] = PyFloat_AsDouble(args[2 + naddr + k]);
        if (p[k] == -1.0 && PyErr_Occurred()) return -1;
    }
    *threads = PyLong_AsLong(args[6 + naddr]);
    if (*threads == -1 && PyErr_Occurred()) return -1;
    return 0;
}

static PyObject *py_forward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    job_t job = {0};
    void *addr[2];
    long threads;
    if (parse_common(args, nargs, 9, &job.op, addr, &job.n, job.p, &threads) < 0) return NULL;
    job.a = addr[0];
    job.out = addr[1];
    Py_BEGIN_ALLOW_THREADS run_split(&job, threads);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyObject *py_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    job_t job = {0};
    void *addr[3];
    long threads;
    if (parse_common(args, nargs, 10, &job.op, addr, &job.n, job.p, &threads) < 0) return NULL;
    job.backward = 1;
    job.a = addr[0];
    job.b = addr[1];
    job.out = addr[2];
    Py_BEGIN_ALLOW_THREADS run_split(&job, threads);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

/* glu_forward(gate_index, x_addr, y_addr, rows, half, p0..p3, threads)
 * glu_backward(gate_index, g_addr, x_addr, dx_addr, rows, half, p0..p3, threads); dx may be x */
static PyObject *py_glu(PyObject *const *args, Py_ssize_t nargs, int backward) {
    job_t job = {0};
    void *addr[3];
    long threads;
    Py_ssize_t naddr = backward ? 3 : 2;
    if (nargs != naddr + 8) {
        PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", naddr + 8, nargs);
        return NULL;
    }
    /* reuse the elementwise parser on everything but `half` */
    PyObject *rest[10];
    for (Py_ssize_t k = 0; k < naddr + 2; k++) rest[k] = args[k];
    for (Py_ssize_t k = naddr + 3; k < nargs; k++) rest[k - 1] = args[k];
    if (parse_common(rest, nargs - 1, naddr + 7, &job.op, addr, &job.n, job.p, &threads) < 0) return NULL;
    job.half = PyLong_AsLong(args[naddr + 2]);
    if (job.half == -1 && PyErr_Occurred()) return NULL;
    if (job.half <= 0) {
        PyErr_SetString(PyExc_ValueError, "half must be positive");
        return NULL;
    }
    job.backward = backward;
    job.a = addr[0];
    job.b = backward ? addr[1] : NULL;
    job.out = addr[naddr - 1];
    Py_BEGIN_ALLOW_THREADS run_split(&job, threads);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyObject *py_glu_forward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return py_glu(args, nargs, 0);
}

static PyObject *py_glu_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return py_glu(args, nargs, 1);
}

static PyObject *py_ops(PyObject *self, PyObject *unused) {
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    long k = 0;
    for (const actlab_op *const *g = groups; *g; g++)
        for (const actlab_op *op = *g; op->name; op++, k++) {
            PyObject *v = Py_BuildValue("(ls)", k, op->saves);
            if (!v || PyDict_SetItemString(out, op->name, v) < 0) {
                Py_XDECREF(v);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(v);
        }
    return out;
}

static PyObject *py_isa(PyObject *self, PyObject *unused) { return PyUnicode_FromString(isa_name); }

static int cpu_has_avx2(void) {
#ifdef ACTLAB_HAVE_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* Tests run both variants: set_isa("baseline") or set_isa("avx2") (where the CPU has it). */
static PyObject *py_set_isa(PyObject *self, PyObject *arg) {
    const char *want = PyUnicode_AsUTF8(arg);
    if (!want) return NULL;
    if (strcmp(want, "baseline") == 0) {
        groups = groups_baseline;
        isa_name = "baseline";
#ifdef ACTLAB_HAVE_AVX2
    } else if (strcmp(want, "avx2") == 0 && cpu_has_avx2()) {
        groups = groups_avx2;
        isa_name = "avx2";
#endif
    } else {
        PyErr_Format(PyExc_ValueError, "instruction set %R is not available here (baseline%s)", arg,
                     cpu_has_avx2() ? ", avx2" : "");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"forward", (PyCFunction)(void (*)(void))py_forward, METH_FASTCALL, "y = f(x) for fp32 buffers"},
    {"backward", (PyCFunction)(void (*)(void))py_backward, METH_FASTCALL, "out = g * f'(saved)"},
    {"glu_forward", (PyCFunction)(void (*)(void))py_glu_forward, METH_FASTCALL, "y = a * gate(b) per row"},
    {"glu_backward", (PyCFunction)(void (*)(void))py_glu_backward, METH_FASTCALL, "dx = (g*gate(b), g*a*gate'(b))"},
    {"ops", py_ops, METH_NOARGS, "{name: (index, saves)} of the kernels"},
    {"isa", py_isa, METH_NOARGS, "the instruction set the kernels run with"},
    {"set_isa", py_set_isa, METH_O, "choose 'baseline' or 'avx2' kernels (for tests)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ckernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__ckernels(void) {
#ifdef ACTLAB_HAVE_AVX2
    if (cpu_has_avx2()) {
        groups = groups_avx2;
        isa_name = "avx2";
    }
#endif
    if (pthread_atfork(pool_before_fork, pool_after_fork_parent, pool_after_fork_child) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "actlab._ckernels: cannot register its fork handlers");
        return NULL;
    }
    return PyModule_Create(&module);
}
