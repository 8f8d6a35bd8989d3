/* Shared by every kernel group: types, the vector maths declarations, and the chunked loop helpers.
 *
 * Each group header (ops_*.h) is compiled twice by ckernels.c: once for the baseline x86-64 / any
 * architecture, once with AVX2+FMA enabled; VARIANT(name) gives each copy its own symbol. Module init
 * picks the AVX2 copy when the CPU has it.
 *
 * Rules every kernel follows (the tests prove the results, these make them possible):
 *  - fp32 in, fp32 out; arithmetic in fp32 on the range where a test proves the fp32 formula within the
 *    catalogue's bounds, and an exact fp64 recomputation (scalar libm, rounded once) for the elements
 *    outside it. The fast loop flags such elements with an OR-reduction; only flagged chunks are
 *    revisited, so the common case reads and writes each element once.
 *  - no aliasing between inputs and outputs (the Python side always allocates the output).
 *  - NaN, ±inf and signed zeros give what the catalogue's reference gives.
 *  - no -ffast-math: it would drop NaN and infinity semantics. Contraction into FMA is off, so both
 *    variants compute the same roundings.
 */
#ifndef ACTLAB_COMMON_H
#define ACTLAB_COMMON_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* glibc's libmvec has vector versions of these; declaring them "simd" lets `#pragma omp simd` loops
 * call them (AVX2: _ZGVdN8v_expf, ...). Without libmvec the scalar functions are called. */
#if defined(ACTLAB_LIBMVEC)
#define ACTLAB_SIMD_MATH _Pragma("omp declare simd notinbranch")
#else
#define ACTLAB_SIMD_MATH
#endif

ACTLAB_SIMD_MATH float expf(float);
ACTLAB_SIMD_MATH float expm1f(float);
ACTLAB_SIMD_MATH float logf(float);
ACTLAB_SIMD_MATH float log1pf(float);
ACTLAB_SIMD_MATH float tanhf(float);
ACTLAB_SIMD_MATH float erff(float);
ACTLAB_SIMD_MATH float erfcf(float);
ACTLAB_SIMD_MATH float sinf(float);
ACTLAB_SIMD_MATH float cosf(float);
ACTLAB_SIMD_MATH double exp(double);
ACTLAB_SIMD_MATH double expm1(double);
ACTLAB_SIMD_MATH double log1p(double);
ACTLAB_SIMD_MATH double tanh(double);
ACTLAB_SIMD_MATH double erfc(double);
ACTLAB_SIMD_MATH double sin(double);
ACTLAB_SIMD_MATH double cos(double);

/* forward: y[i] = f(x[i]); backward: out[i] = g[i] * f'(x[i]) from the saved tensor s (the input or the
 * output, as the op declares). p holds up to 4 parameters, already validated by the Python side. */
typedef void (*actlab_forward_fn)(const float *restrict x, float *restrict y, long n, const double *p);
typedef void (*actlab_backward_fn)(const float *restrict g, const float *restrict s, float *restrict out,
                                   long n, const double *p);

typedef struct {
    const char *name;    /* the catalogue's name */
    const char *saves;   /* "output" or "input": what backward reads */
    actlab_forward_fn forward;
    actlab_backward_fn backward;
} actlab_op;

/* Bit patterns of floats and doubles. */
static inline __attribute__((always_inline)) uint32_t actlab_fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline __attribute__((always_inline)) float actlab_ffrom(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline __attribute__((always_inline)) uint64_t actlab_dbits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static inline __attribute__((always_inline)) double actlab_dfrom(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* c ? a : b as a bitwise blend of two computed values. GCC (with its default -ftrapping-math) sinks a
 * floating-point computation used in one arm of `?:` into a branch and then does not vectorise the
 * loop; the blend keeps both arms computed and the loop branch-free (one vpblendvb with AVX2). */
static inline __attribute__((always_inline)) float actlab_self(int c, float a, float b) {
    uint32_t m = (uint32_t)(-(int32_t)(c != 0)), ua = actlab_fbits(a), ub = actlab_fbits(b);
    return actlab_ffrom(ub ^ ((ua ^ ub) & m));
}
static inline __attribute__((always_inline)) double actlab_seld(int c, double a, double b) {
    uint64_t m = (uint64_t)(-(int64_t)(c != 0)), ua = actlab_dbits(a), ub = actlab_dbits(b);
    return actlab_dfrom(ub ^ ((ua ^ ub) & m));
}

/* 1.0f or 0.0f for a condition, written so that the vectoriser keeps `g * indicator` a multiplication
 * (g·0 is NaN for an infinite g, as in the reference) instead of turning it into a branch. */
static inline float actlab_indicator(int c) { return actlab_ffrom((uint32_t)(-(int32_t)(c != 0)) & 0x3f800000u); }

/* Infinite upstream gradients. The reference multiplies g by f' in fp64, so g = ±inf gives ±inf where
 * the fp64 f' is nonzero and NaN where it is exactly 0; a fast fp32 formula rounds f' to 0 (or keeps a
 * tiny nonzero value) on other ranges. A kernel max-reduces actlab_gmax over its chunk or range (two
 * instructions per vector, |g| and max: a 3-instruction compare-and-OR flag cost up to 15% in the
 * light kernels) and, where the maximum is +inf, recomputes the elements with g = ±inf as
 * (float)(g·f'(saved)) with FPRIME64(saved, p), a scalar fp64 copy of the reference's formula. */
static inline __attribute__((always_inline)) int actlab_inf(float g) {
    return (actlab_fbits(g) & 0x7fffffffu) == 0x7f800000u;
}
/* max(m, |g|), NaN ignored */
static inline __attribute__((always_inline)) float actlab_gmax(float m, float g) {
    float a = fabsf(g);
    return a > m ? a : m;
}
#define ACTLAB_INF_G_FIXUP(g, sv, out, s, e, FPRIME64, p)                                           \
    for (long i_ = (s); i_ < (e); i_++)                                                            \
        if (actlab_inf((g)[i_])) (out)[i_] = (float)((double)(g)[i_] * FPRIME64((double)(sv)[i_], (p)))

/* The catalogue's σ(x) and σ(x)·σ(-x) = e/(1 + e)² in fp64, e = e^-|x|, and the other pieces of the
 * reference's formulas that the FPRIME64 functions share */
static inline double actlab_sigmoid64(double x) {
    double e = exp(-fabs(x));
    return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}
static inline double actlab_sigmoid_slope64(double x) {
    double e = exp(-fabs(x));
    return e / ((1 + e) * (1 + e));
}
/* the catalogue's softplus, max(x, 0) + log1p(e^-|x|), in fp64 */
static inline double actlab_softplus64(double x) { return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x))); }
/* x clamped to ±1e4, as the reference clamps x in derivative terms that would give inf·0 */
static inline double actlab_clamp1e4(double x) { return x < -1e4 ? -1e4 : x > 1e4 ? 1e4 : x; }

/* Elements per chunk: a chunk's inputs stay in L1 while flagged elements are recomputed. */
#define ACTLAB_CHUNK 1024

/* A chunked loop: `for each chunk [s, e)`. */
#define ACTLAB_FOR_CHUNKS(n, s, e)                                                                     \
    for (long s = 0, e = ((n) < ACTLAB_CHUNK ? (n) : ACTLAB_CHUNK); s < (n);                           \
         s = e, e = (e + ACTLAB_CHUNK < (n) ? e + ACTLAB_CHUNK : (n)))

#endif
