/* Piecewise-linear entries: forward and backward are exact (bit for bit the reference's), with the
 * reference's conventions: the slope at a kink is the Spec's, a NaN input gets 0·g, and g·0 is NaN for
 * an infinite upstream gradient (IEEE multiplication, not selection). The piecewise-polynomial entries
 * (hardswish, squared_relu, sparse_plus) are within the catalogue's bounds.
 *
 * Where the reference's result is an fp64 product or difference rounded to fp32 (a slope or a shift that
 * is not an fp32 number: leaky_relu's 0.01, softshrink's 0.3, hardsigmoid's 1/6), the kernels give that
 * same rounding: in fp32 where it is proven equal (see "exact products" below), else in fp64. The AVX2
 * variant uses intrinsics for these loops: GCC's vectorised float -> double conversion (vextractf128 +
 * vcvtps2pd from a register) runs about twice as slowly on Zen 3 as converting each half of 8 floats
 * straight from memory. The portable `omp simd` loops do the rest (tails, fallbacks, and everything in
 * the baseline variant). */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static void VARIANT(relu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v > 0.0f ? v : (v != v ? v : 0.0f); /* NaN propagates */
    }
}

/* relu'(y) = [y > 0] from the output (relu'(0) = 0) */
static void VARIANT(relu_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                   long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_indicator(y[i] > 0.0f);
}

/* ---- helpers (compiled once, ISA-independent) --------------------------------------------------------- */
#ifndef ACTLAB_OPS_PWL_ONCE
#define ACTLAB_OPS_PWL_ONCE

/* Exact fp32 thresholds for comparisons with a double parameter: for a float v and a double d (not
 * NaN), v <= d ⟺ v <= pwl_floor_f(d) and v > d ⟺ v > pwl_floor_f(d), where pwl_floor_f(d) is the
 * largest float <= d; likewise v < d ⟺ v < pwl_ceil_f(d) and v >= d ⟺ v >= pwl_ceil_f(d). So the loops
 * compare in fp32 and decide exactly as the reference's fp64 comparisons do. */
static inline float pwl_floor_f(double d) {
    float f = (float)d;
    if ((double)f > d) f = nextafterf(f, -INFINITY);
    return f;
}

static inline float pwl_ceil_f(double d) {
    float f = (float)d;
    if ((double)f < d) f = nextafterf(f, INFINITY);
    return f;
}

/* Exact products fl32(fl64(v)·a) (the reference's g·slope, x·slope) for fp32 v and a double a >= 0:
 *  - PWL_F32: a is an fp32 number. v·a is exact in fp64, so the fp32 product rounds it the same way.
 *  - PWL_FMA: a is one of PWL_FMA_SLOPES (AVX2 variant only). With ah the largest float <= a and
 *    al = fl32(a - ah) > 0, fmaf(v, ah, v·al) equals the reference for every fp32 |v| >= 2^-80, and for
 *    0, ±inf (al > 0 keeps the sign) and NaN. Proven for these slopes by an exhaustive check of every
 *    fp32 mantissa (tests/kernels/test_ckernels_pwl.py runs the kernels on all of [1, 2)); scaling by a
 *    power of two changes no rounding while v·al and the result stay normal, which |v| >= 2^-80 ensures.
 *    A chunk holding a smaller non-zero |v| is recomputed in fp64.
 *  - PWL_F64: otherwise, fp64 arithmetic. */
enum { PWL_F32, PWL_FMA, PWL_F64 };
#define PWL_TINY 0x1p-80f
#define PWL_SIXTH (1.0 / 6.0)
#define PWL_SIXTH_HI 0.166666672f                        /* 1/6 rounded to fp32 */
#define PWL_SIXTH_LO ((float)(PWL_SIXTH - (double)PWL_SIXTH_HI)) /* 1/6 - PWL_SIXTH_HI */
static const double PWL_FMA_SLOPES[] = {0.0001, 0.001, 0.01, 0.02, 0.05, 0.1, 0.15, PWL_SIXTH, 0.2, 0.3, 0.4};

typedef struct {
    int kind;
    float hi, lo; /* PWL_F32: hi = a; PWL_FMA: ah, al */
} pwl_scale_t;

static inline pwl_scale_t pwl_scale_plan(double a) {
    pwl_scale_t k = {PWL_F64, 0.0f, 0.0f};
    if ((double)(float)a == a) {
        k.kind = PWL_F32;
        k.hi = (float)a;
        return k;
    }
    for (size_t j = 0; j < sizeof PWL_FMA_SLOPES / sizeof PWL_FMA_SLOPES[0]; j++)
        if (a == PWL_FMA_SLOPES[j]) {
            k.kind = PWL_FMA;
            k.hi = pwl_floor_f(a);
            k.lo = (float)(a - (double)k.hi);
        }
    return k;
}
#endif /* ACTLAB_OPS_PWL_ONCE */

/* v with the sign bit of s added (v = fl32(|x| - λ) is >= 0 or NaN) */
static inline float VARIANT(pwl_or_sign)(float v, float s) {
    union { float f; uint32_t u; } V = {.f = v}, S = {.f = s};
    V.u |= S.u & 0x80000000u;
    return V.f;
}

#if defined(__AVX2__) && defined(__FMA__)
/* 8 floats from memory as two vectors of 4 doubles (vcvtps2pd from memory), and back to 8 floats */
static inline __m256d VARIANT(pwl_load_lo)(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
static inline __m256d VARIANT(pwl_load_hi)(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p + 4)); }
static inline __m256 VARIANT(pwl_narrow)(__m256d lo, __m256d hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}
/* fl32(fl64(p[k])·a), k = 0..7, in fp64 */
static inline __m256 VARIANT(pwl_scale8_f64)(const float *p, __m256d a) {
    return VARIANT(pwl_narrow)(_mm256_mul_pd(VARIANT(pwl_load_lo)(p), a), _mm256_mul_pd(VARIANT(pwl_load_hi)(p), a));
}
/* fl32(fl64(v)·a) for a PWL_FMA slope (|v| >= PWL_TINY, or 0, ±inf, NaN) */
static inline __m256 VARIANT(pwl_scale8_fma)(__m256 v, __m256 hi, __m256 lo) {
    return _mm256_fmadd_ps(v, hi, _mm256_mul_ps(v, lo));
}
/* running minimum of |v| - 1 ulp over the lanes with v != 0 (0 turns into a NaN pattern, which minps
 * passes over); a chunk needs fp64 if it ends below PWL_TINY */
static inline __m256 VARIANT(pwl_min_nonzero)(__m256 v, __m256 acc) {
    __m256i b = _mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x7fffffff));
    return _mm256_min_ps(_mm256_castsi256_ps(_mm256_sub_epi32(b, _mm256_set1_epi32(1))), acc);
}
static inline int VARIANT(pwl_any_tiny)(__m256 acc) {
    return _mm256_movemask_ps(_mm256_cmp_ps(acc, _mm256_set1_ps(PWL_TINY), _CMP_LT_OQ));
}
#endif

/* ---- leaky_relu(x; a) = x if x > 0 else a·x ------------------------------------------------------------- */
static void VARIANT(leaky_relu_f64)(const float *restrict x, float *restrict y, long s, long e, double a) {
#pragma omp simd
    for (long i = s; i < e; i++) {
        float v = x[i];
        y[i] = actlab_self(v > 0.0f, v, (float)((double)v * a)); /* NaN stays NaN */
    }
}

static void VARIANT(leaky_relu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const double a = p[0];
    const pwl_scale_t k = pwl_scale_plan(a);
    if (k.kind == PWL_F32) {
        const float af = k.hi;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = x[i];
            y[i] = actlab_self(v > 0.0f, v, v * af);
        }
        return;
    }
#if defined(__AVX2__) && defined(__FMA__)
    const __m256i izero = _mm256_setzero_si256();
    if (k.kind == PWL_FMA) {
        const __m256 hi = _mm256_set1_ps(k.hi), lo = _mm256_set1_ps(k.lo);
        ACTLAB_FOR_CHUNKS(n, s, e) {
            __m256 tiny = _mm256_set1_ps(INFINITY);
            long i = s;
            for (; i + 8 <= e; i += 8) {
                __m256 v = _mm256_loadu_ps(x + i);
                /* x > 0 on the bits: +NaN counts as positive and is kept, which is the same NaN */
                __m256 pos = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_castps_si256(v), izero));
                tiny = VARIANT(pwl_min_nonzero)(v, tiny);
                _mm256_storeu_ps(y + i, _mm256_blendv_ps(VARIANT(pwl_scale8_fma)(v, hi, lo), v, pos));
            }
            if (VARIANT(pwl_any_tiny)(tiny)) i = s;
            VARIANT(leaky_relu_f64)(x, y, i, e, a);
        }
        return;
    }
    const __m256d va = _mm256_set1_pd(a);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 pos = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_castps_si256(v), izero));
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(VARIANT(pwl_scale8_f64)(x + i, va), v, pos));
    }
    VARIANT(leaky_relu_f64)(x, y, i, n, a);
#else
    VARIANT(leaky_relu_f64)(x, y, 0, n, a);
#endif
}

/* from the output: y > 0 exactly when x > 0 (a >= 0); g·1 = g, g·a rounded as the reference */
static void VARIANT(leaky_relu_backward_f64)(const float *restrict g, const float *restrict y, float *restrict out,
                                             long s, long e, double a) {
#pragma omp simd
    for (long i = s; i < e; i++) {
        float gi = g[i];
        out[i] = actlab_self(y[i] > 0.0f, gi, (float)((double)gi * a));
    }
}

static void VARIANT(leaky_relu_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                         long n, const double *p) {
    const double a = p[0];
    const pwl_scale_t k = pwl_scale_plan(a);
    if (k.kind == PWL_F32) {
        const float af = k.hi;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float gi = g[i];
            out[i] = actlab_self(y[i] > 0.0f, gi, gi * af);
        }
        return;
    }
#if defined(__AVX2__) && defined(__FMA__)
    const __m256 zero = _mm256_setzero_ps();
    if (k.kind == PWL_FMA) {
        const __m256 hi = _mm256_set1_ps(k.hi), lo = _mm256_set1_ps(k.lo);
        ACTLAB_FOR_CHUNKS(n, s, e) {
            __m256 tiny = _mm256_set1_ps(INFINITY);
            long i = s;
            for (; i + 8 <= e; i += 8) {
                __m256 gv = _mm256_loadu_ps(g + i);
                __m256 pos = _mm256_cmp_ps(_mm256_loadu_ps(y + i), zero, _CMP_GT_OQ); /* NaN y: slope a */
                tiny = VARIANT(pwl_min_nonzero)(gv, tiny);
                _mm256_storeu_ps(out + i, _mm256_blendv_ps(VARIANT(pwl_scale8_fma)(gv, hi, lo), gv, pos));
            }
            if (VARIANT(pwl_any_tiny)(tiny)) i = s;
            VARIANT(leaky_relu_backward_f64)(g, y, out, i, e, a);
        }
        return;
    }
    const __m256d va = _mm256_set1_pd(a);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 pos = _mm256_cmp_ps(_mm256_loadu_ps(y + i), zero, _CMP_GT_OQ);
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(VARIANT(pwl_scale8_f64)(g + i, va), _mm256_loadu_ps(g + i), pos));
    }
    VARIANT(leaky_relu_backward_f64)(g, y, out, i, n, a);
#else
    VARIANT(leaky_relu_backward_f64)(g, y, out, 0, n, a);
#endif
}

/* ---- relu6(x) = clamp(x, 0, 6) ----------------------------------------------------------------------- */
static void VARIANT(relu6_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); /* NaN fails both tests and stays */
    }
}

/* from the output: f' = [0 < y < 6] (0 at both corners) */
static void VARIANT(relu6_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                    long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = y[i];
        out[i] = g[i] * actlab_indicator((v > 0.0f) & (v < 6.0f));
    }
}

/* ---- hardtanh(x; lo, hi) = clamp(x, lo, hi): the bounds rounded to fp32 once, the tests exact -------- */
static void VARIANT(hardtanh_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const float below = pwl_ceil_f(p[0]);  /* x < lo ⟺ x < below */
    const float above = pwl_floor_f(p[1]); /* x > hi ⟺ x > above */
    const float lo = (float)p[0], hi = (float)p[1];
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v < below ? lo : (v > above ? hi : v); /* NaN stays */
    }
}

/* from the output: f' = [lo < y < hi] */
static void VARIANT(hardtanh_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                       long n, const double *p) {
    const float lo = pwl_floor_f(p[0]); /* y > lo ⟺ y > floor_f(lo) */
    const float hi = pwl_ceil_f(p[1]);  /* y < hi ⟺ y < ceil_f(hi) */
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = y[i];
        out[i] = g[i] * actlab_indicator((v > lo) & (v < hi));
    }
}

/* ---- threshold(x; t, value) = x if x > t else value ------------------------------------------------- */
static void VARIANT(threshold_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const float t = pwl_floor_f(p[0]); /* x <= t ⟺ x <= floor_f(t) */
    const float value = (float)p[1];
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v <= t ? value : v; /* NaN stays */
    }
}

/* from the input: f' = [x > t] (0 at t and for NaN) */
static void VARIANT(threshold_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                        long n, const double *p) {
    const float t = pwl_floor_f(p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_indicator(x[i] > t);
}

/* ---- hardshrink(x; λ) = x if |x| > λ else 0 ---------------------------------------------------------- */
static void VARIANT(hardshrink_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const float lambd = pwl_floor_f(p[0]); /* |x| <= λ ⟺ |x| <= floor_f(λ) */
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = fabsf(v) <= lambd ? 0.0f : v; /* NaN stays */
    }
}

/* from the output: f' = [y != 0] (a NaN output counts as outside the band, as in the reference) */
static void VARIANT(hardshrink_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                         long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_indicator(y[i] != 0.0f);
}

/* ---- softshrink(x; λ) = x - sign(x)·λ outside the band |x| <= λ, 0 inside --------------------------
 * The reference rounds fl64(x ∓ λ) to fp32; round-to-nearest is symmetric, so that is
 * sign(x)·fl32(fl64(|x| - λ)). For an fp32 λ (the default 0.5) the fp32 difference |x| - λ rounds the
 * same: it is exact in fp64 unless λ < 2^-28·|x|, and then both give |x| (checked over every fp32 x for
 * λ = 0.5, 1.5, 1e-30, 3e-39). Otherwise the difference is taken in fp64. */
static void VARIANT(softshrink_f64)(const float *restrict x, float *restrict y, long s, long e, double lambd,
                                    float band) {
#pragma omp simd
    for (long i = s; i < e; i++) {
        float v = x[i];
        float d = VARIANT(pwl_or_sign)((float)(fabs((double)v) - lambd), v); /* NaN stays */
        y[i] = actlab_self(fabsf(v) <= band, 0.0f, d);
    }
}

static void VARIANT(softshrink_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const double lambd = p[0];
    const float band = pwl_floor_f(p[0]); /* |x| <= λ ⟺ |x| <= floor_f(λ) */
    if ((double)(float)lambd == lambd) {
        const float lf = (float)lambd;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = x[i];
            float d = VARIANT(pwl_or_sign)(fabsf(v) - lf, v);
            y[i] = actlab_self(fabsf(v) <= band, 0.0f, d);
        }
        return;
    }
    long i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    const __m256d vl = _mm256_set1_pd(lambd), dsign = _mm256_set1_pd(-0.0);
    const __m256 fsign = _mm256_set1_ps(-0.0f), vband = _mm256_set1_ps(band);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d lo = _mm256_sub_pd(_mm256_andnot_pd(dsign, VARIANT(pwl_load_lo)(x + i)), vl);
        __m256d hi = _mm256_sub_pd(_mm256_andnot_pd(dsign, VARIANT(pwl_load_hi)(x + i)), vl);
        __m256 d = _mm256_or_ps(VARIANT(pwl_narrow)(lo, hi), _mm256_and_ps(v, fsign));
        __m256 inside = _mm256_cmp_ps(_mm256_andnot_ps(fsign, v), vband, _CMP_LE_OQ);
        _mm256_storeu_ps(y + i, _mm256_andnot_ps(inside, d));
    }
#endif
    VARIANT(softshrink_f64)(x, y, i, n, lambd, band);
}

/* from the input: f' = [|x| > λ] */
static void VARIANT(softshrink_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                         long n, const double *p) {
    const float band = pwl_floor_f(p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_indicator(fabsf(x[i]) > band);
}

/* ---- hardsigmoid(x) = clamp(x + 3, 0, 6) / 6 ------------------------------------------------------------
 * The reference rounds fl64(fl64(x + 3) / 6) to fp32. The portable loop rounds fl64(fl64(x + 3)·fl64(1/6))
 * (no division), the AVX2 loop stays in fp32: s + e = x + 3 exactly (Fast2Sum, valid for |x| < 4), then
 * y = fma(s, C_hi, fma(s, C_lo, e·C_hi)) with 1/6 = C_hi + C_lo split into two floats, so the sum is
 * rounded once from a value within about 2^-23 of a unit in the last place of (x + 3)/6. Both give the reference's float for every
 * fp32 x: checked exhaustively over |x| < 4 (outside, all clamp); tests/kernels/test_ckernels_pwl.py
 * re-checks a dense sample. The clamp is decided on x, so ±inf give 0 and 1 and NaN stays NaN. */
static void VARIANT(hardsigmoid_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    long i = 0;
#if defined(__AVX2__) && defined(__FMA__)
    const __m256 three = _mm256_set1_ps(3.0f), minus_three = _mm256_set1_ps(-3.0f);
    const __m256 c_hi = _mm256_set1_ps(PWL_SIXTH_HI), c_lo = _mm256_set1_ps(PWL_SIXTH_LO);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 s = _mm256_add_ps(v, three);
        __m256 e = _mm256_sub_ps(v, _mm256_sub_ps(s, three));
        __m256 m = _mm256_fmadd_ps(s, c_hi, _mm256_fmadd_ps(s, c_lo, _mm256_mul_ps(e, c_hi)));
        m = _mm256_blendv_ps(m, zero, _mm256_cmp_ps(v, minus_three, _CMP_LE_OQ));
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(m, one, _mm256_cmp_ps(v, three, _CMP_GE_OQ)));
    }
#endif
#pragma omp simd
    for (long j = i; j < n; j++) {
        float v = x[j];
        float m = (float)(((double)v + 3.0) * PWL_SIXTH);
        y[j] = actlab_self(v <= -3.0f, 0.0f, actlab_self(v >= 3.0f, 1.0f, m));
    }
}

/* from the output: f' = 1/6 where 0 < y < 1, else 0: g·fl64(1/6) rounded as the reference (1/6 is a
 * PWL_FMA slope), g·0 (0, or NaN for an infinite g) elsewhere */
static void VARIANT(hardsigmoid_backward_f64)(const float *restrict g, const float *restrict y, float *restrict out,
                                              long s, long e) {
#pragma omp simd
    for (long i = s; i < e; i++) {
        float v = y[i], gi = g[i];
        out[i] = actlab_self((v > 0.0f) & (v < 1.0f), (float)((double)gi * PWL_SIXTH), gi * 0.0f);
    }
}

static void VARIANT(hardsigmoid_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                          long n, const double *p) {
    (void)p;
#if defined(__AVX2__) && defined(__FMA__)
    const pwl_scale_t k = pwl_scale_plan(PWL_SIXTH);
    const __m256 hi = _mm256_set1_ps(k.hi), lo = _mm256_set1_ps(k.lo);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    ACTLAB_FOR_CHUNKS(n, s, e) {
        __m256 tiny = _mm256_set1_ps(INFINITY);
        long i = s;
        for (; i + 8 <= e; i += 8) {
            __m256 v = _mm256_loadu_ps(y + i), gv = _mm256_loadu_ps(g + i);
            __m256 mid = _mm256_and_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ), _mm256_cmp_ps(v, one, _CMP_LT_OQ));
            tiny = VARIANT(pwl_min_nonzero)(gv, tiny);
            /* outside the middle: fmaf(g, 0, g·0) = g·0, signed zero and NaN included */
            _mm256_storeu_ps(out + i, VARIANT(pwl_scale8_fma)(gv, _mm256_and_ps(mid, hi), _mm256_and_ps(mid, lo)));
        }
        if (VARIANT(pwl_any_tiny)(tiny)) i = s;
        VARIANT(hardsigmoid_backward_f64)(g, y, out, i, e);
    }
#else
    VARIANT(hardsigmoid_backward_f64)(g, y, out, 0, n);
#endif
}

/* ---- hardswish(x) = x·clamp(x + 3, 0, 6)/6 (within bounds, not bit-exact) -----------------------------
 * x·clamp(x + 3, 0, 6)·fl32(1/6) in fp32: x + 3 is exact near -3 (Sterbenz), the rest is three
 * roundings (< 2 ULP). x itself for x >= 3 (the reference's x·6/6 is exact; this avoids the fp32
 * overflow of x·6), and x·0 for x <= -3 (NaN at -inf, as the reference). */
#define PWL_SIXTH_F 0.16666667f

static void VARIANT(hardswish_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float c = v + 3.0f;
        c = c > 0.0f ? c : 0.0f; /* maxps, minps (a NaN c gives a NaN x·c anyway) */
        c = c < 6.0f ? c : 6.0f;
        y[i] = actlab_self(v >= 3.0f, v, v * c * PWL_SIXTH_F);
    }
}

/* from the input: f' = 0 (x <= -3), (2x + 3)/6 (-3 < x < 3), 1 (x >= 3); 2x + 3 is exact near its zero
 * at -3/2 (Sterbenz), so f' keeps its relative accuracy there */
static void VARIANT(hardswish_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                        long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float d = actlab_self(v <= -3.0f, 0.0f, (2.0f * v + 3.0f) * PWL_SIXTH_F);
        out[i] = g[i] * actlab_self(v >= 3.0f, 1.0f, d);
    }
}

/* ---- squared_relu(x) = relu(x)²: x² is exact in fp64, so the fp32 product is the reference's rounding */
static void VARIANT(squared_relu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float r = actlab_self(v <= 0.0f, 0.0f, v); /* relu keeps NaN */
        y[i] = r * r;
    }
}

/* from the input: f' = 2·relu(x); (g·r)·2 (exact doubling: no fp32 overflow of 2r for g < 1; it equals
 * the reference's fl32(g·2r) except where g·r is subnormal) */
static void VARIANT(squared_relu_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                           long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float r = actlab_self(v <= 0.0f, 0.0f, v);
        out[i] = (g[i] * r) * 2.0f;
    }
}

/* ---- sparse_plus(x) = 0 (x <= -1), (x + 1)²/4 (-1 < x < 1), x (x >= 1) (within bounds) ----------------
 * x + 1 is exact near -1 (Sterbenz); two roundings elsewhere (< 1.5 ULP). */
static void VARIANT(sparse_plus_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float t = v + 1.0f;
        float q = t * t * 0.25f;
        y[i] = actlab_self(v >= 1.0f, v, actlab_self(v <= -1.0f, 0.0f, q)); /* NaN: middle */
    }
}

/* from the output, as the reference: f' = sqrt(min(y, 1)) for y > 0, else 0 (NaN included) */
static void VARIANT(sparse_plus_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                          long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = y[i];
        float c = v < 1.0f ? v : 1.0f;        /* NaN -> 1, masked below */
        float s = sqrtf(c > 0.0f ? c : 1.0f); /* no square root of a negative */
        out[i] = g[i] * (s * actlab_indicator(v > 0.0f));
    }
}

static const actlab_op VARIANT(ops_pwl)[] = {
    {"relu", "output", VARIANT(relu_forward), VARIANT(relu_backward)},
    {"leaky_relu", "output", VARIANT(leaky_relu_forward), VARIANT(leaky_relu_backward)},
    {"relu6", "output", VARIANT(relu6_forward), VARIANT(relu6_backward)},
    {"hardtanh", "output", VARIANT(hardtanh_forward), VARIANT(hardtanh_backward)},
    {"threshold", "input", VARIANT(threshold_forward), VARIANT(threshold_backward)},
    {"hardshrink", "output", VARIANT(hardshrink_forward), VARIANT(hardshrink_backward)},
    {"softshrink", "input", VARIANT(softshrink_forward), VARIANT(softshrink_backward)},
    {"hardsigmoid", "output", VARIANT(hardsigmoid_forward), VARIANT(hardsigmoid_backward)},
    {"hardswish", "input", VARIANT(hardswish_forward), VARIANT(hardswish_backward)},
    {"squared_relu", "input", VARIANT(squared_relu_forward), VARIANT(squared_relu_backward)},
    {"sparse_plus", "output", VARIANT(sparse_plus_forward), VARIANT(sparse_plus_backward)},
    {NULL, NULL, NULL, NULL},
};
