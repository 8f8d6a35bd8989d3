/* Algebraic entries (square roots and quotients): squareplus, isru, bent identity, softsign.
 *
 * All four are fp32 formulas written so that nothing cancels, overflows or meets inf/inf on the range
 * they are used: x² is only formed where it is finite (beyond that the square root is |x| to fp32
 * precision, or the result is the saturated limit), and the cancelling differences of the textbook
 * formulas are rewritten as sums of same-signed terms or as small corrections to a limit. The only
 * fp64 recomputation is squareplus' backward for outputs below 2^-60 (x < -2^58·√b).
 * Parameters outside the range the fp32 formulas are proven for (b, α not exact in fp32, or beyond
 * 2^±40) run a loop that evaluates the reference's own formulas in fp64 and rounds once.
 * Against the reference the tests (test_ckernels.py, test_ckernels_misc.py) find at most 1 unit forward
 * for softsign and squareplus (b = 4, 1), 2 for isru, bent identity and squareplus at other b, and the
 * same non-finite gradients everywhere, ±inf upstream gradients included. */

/* Parameters the fp32 formulas handle: exactly representable in fp32 and within [2^-40, 2^40]
 * (so that b/4, α·x² and the cut-offs below stay normal and finite). */
static inline int VARIANT(misc_fp32_param)(double p) {
    return p >= 0x1p-40 && p <= 0x1p40 && (double)(float)p == p;
}

/* ---- squareplus: (x + √(x² + b))/2, b ≥ 0 ------------------------------------------------------
 * h = √(x² + b), s = √b; x ≥ 0: x/2 + h/2 (no overflow of x + h); x < -s/2: (b/4)/(h/2 - x/2), the
 * same number without the cancellation of x + h; -s/2 ≤ x < 0: ((s + x) + x²/(h + s))/2, s as a pair
 * s_hi + s_lo (s + x is exact or small-error there, x²/(h + s) ≤ 0.12·s): the quotient form reaches
 * 3 ulp where y is just below a power of 2 (b = 4: y → 1⁻), this one about 1. Beyond |x| = 2^34,
 * b/x² < 2^-28 and h is |x| to fp32 precision (x² would overflow from 1.8e19). b = 0 is relu. */
#define SQUAREPLUS_BIG 0x1p34f

static void VARIANT(squareplus_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const double b = p[0];
    if (b == 0.0) {
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = x[i];
            y[i] = v < 0.0f ? 0.0f : v; /* NaN propagates */
        }
    } else if (VARIANT(misc_fp32_param)(b)) {
        const double sd = sqrt(b);
        const float bf = (float)b, b4 = (float)(0.25 * b), shi = (float)sd, slo = (float)(sd - shi);
        const float mhs = (float)(-0.5 * sd);
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = x[i], a = fabsf(v);
            float h = actlab_self(a > SQUAREPLUS_BIG, a, sqrtf(v * v + bf));
            float pos = 0.5f * v + 0.5f * h;
            int near = v >= mhs; /* near the origin (and x ≥ 0, which takes pos) */
            float q = actlab_self(near, v * v, b4) / actlab_self(near, h + shi, 0.5f * h - 0.5f * v);
            float mid = 0.5f * ((shi + v) + (slo + q));
            y[i] = actlab_self(near, actlab_self(v < 0.0f, mid, pos), q);
        }
    } else { /* the reference's formula in fp64 (x² is exact there, b ≤ 1e300) */
        const double b4 = 0.25 * b;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            double v = x[i];
            double h = sqrt(v * v + b);
            y[i] = (float)actlab_seld(v < 0.0, b4 / (0.5 * h - 0.5 * v), 0.5 * v + 0.5 * h);
        }
    }
}

/* f' = 4y²/(4y² + b) = y²/(y² + b/4) from the output (one division). Beyond y = 2^40 it is 1 to fp32
 * precision, so y is clamped there (y² stays finite, y = inf gives 1). Below y = 2^-60·max(1, √(b/4))
 * f' (about y²/(b/4)) leaves the normal fp32 range, and g·f' would lose what the reference keeps (its
 * product is formed in fp64: a finite g·tiny, inf·tiny = inf): those rare elements (x < -2^58·√b) are
 * flagged and take the reference's formula in fp64. b = 0: [y > 0], NaN included (0·g, as the
 * reference). */
static void VARIANT(squareplus_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                         long n, const double *p) {
    const double b = p[0];
    if (b == 0.0) {
#pragma omp simd
        for (long i = 0; i < n; i++) out[i] = g[i] * actlab_indicator(y[i] > 0.0f);
    } else if (VARIANT(misc_fp32_param)(b)) {
        const float b4 = (float)(0.25 * b), low = (float)(0x1p-60 * fmax(1.0, sqrt(0.25 * b)));
        const double b4d = 0.25 * b;
        ACTLAB_FOR_CHUNKS(n, s, e) {
            int flagged = 0;
#pragma omp simd reduction(| : flagged)
            for (long i = s; i < e; i++) {
                float v = y[i];
                float c = actlab_self(v > 0x1p40f, 0x1p40f, v); /* NaN stays NaN */
                float sq = c * c;
                out[i] = g[i] * (sq / (sq + b4));
                flagged |= v < low;
            }
            if (flagged)
                for (long i = s; i < e; i++)
                    if (y[i] < low) {
                        double v = y[i];
                        out[i] = (float)((double)g[i] * (1.0 / (1.0 + b4d / v / v)));
                    }
        }
    } else { /* the reference: 1/(1 + (b/4)/y/y) in fp64 */
        const double b4 = 0.25 * b;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            double v = y[i];
            out[i] = (float)((double)g[i] * (1.0 / (1.0 + b4 / v / v)));
        }
    }
}

/* ---- isru: x/√(1 + αx²), α > 0 -----------------------------------------------------------------
 * h = √(1 + αx²), w = √α·|x|. w < 2: |x|/h. w ≥ 2: L - L/(h(h + w)) with L = 1/√α (as L_hi + L_lo),
 * since L - |x|/h = L(h - w)/h = L/(h(h + w)): near the limit the result is L less a small, accurately
 * computed correction rather than the quotient of two rounded large numbers, so it is the correctly
 * rounded L wherever the true value rounds to it (f' from that output is then 0 exactly where the
 * reference's is), and L at ±inf (h and h(h + w) overflow to inf, the correction to 0). */
#ifndef ACTLAB_OPS_MISC_ONCE
#define ACTLAB_OPS_MISC_ONCE
/* isru's fp32 constants for one α (shared with isrlu's left side in ops_extra.h) */
typedef struct {
    float af, sf, lhi, llo, cut;
} isru_plan_t;
static inline isru_plan_t isru_plan(double alpha) {
    const double ld = 1.0 / sqrt(alpha);
    const float lhi = (float)ld;
    return (isru_plan_t){(float)alpha, (float)sqrt(alpha), lhi, (float)(ld - lhi), (float)(2.0 * ld)};
}
#endif

/* |isru(x)| for a = |x| (NaN stays NaN): a/h below the cut, L less the correction above it */
static inline __attribute__((always_inline)) float VARIANT(isru_abs)(float a, isru_plan_t k) {
    float h = sqrtf(1.0f + k.af * (a * a));
    int big = a >= k.cut;
    float q = actlab_self(big, 1.0f, a) / actlab_self(big, h * (h + k.sf * a), h);
    return actlab_self(big, k.lhi + (k.llo - k.lhi * q), q);
}

static void VARIANT(isru_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const double alpha = p[0];
    if (VARIANT(misc_fp32_param)(alpha)) {
        const isru_plan_t k = isru_plan(alpha);
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = x[i];
            y[i] = copysignf(VARIANT(isru_abs)(fabsf(v), k), v); /* NaN stays NaN */
        }
    } else { /* the reference's formula in fp64 (α ≤ 1e300) */
        const double lim = 1.0 / sqrt(alpha), cut = 1e18 * lim;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            double v = x[i];
            double r = v / sqrt(1.0 + alpha * (v * v));
            y[i] = (float)actlab_seld(fabs(v) > cut, copysign(lim, v), r);
        }
    }
}

/* f' = (1 - αy²)^(3/2) from the output, 1 - αy² clamped at 0 (NaN stays NaN). */
static void VARIANT(isru_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                   long n, const double *p) {
    const double alpha = p[0];
    if (VARIANT(misc_fp32_param)(alpha)) {
        const float af = (float)alpha;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = y[i];
            float u = 1.0f - af * (v * v);
            u = actlab_self(u < 0.0f, 0.0f, u);
            out[i] = g[i] * (u * sqrtf(u));
        }
    } else {
#pragma omp simd
        for (long i = 0; i < n; i++) {
            double v = y[i];
            double u = 1.0 - alpha * (v * v);
            u = actlab_seld(u < 0.0, 0.0, u);
            out[i] = (float)((double)g[i] * (u * sqrt(u)));
        }
    }
}

/* ---- bent identity: x + (√(x² + 1) - 1)/2 ------------------------------------------------------
 * h = √(x² + 1) (|x| beyond 2^26: h = |x| to fp32 precision, no overflow of x²).
 * x ≥ -1: x + x·(x/(h + 1))/2 (the difference h - 1 rewritten; for x in [-1, 0) the terms cancel by at
 * most a factor 1.27). x < -1: x/2 - 1/2 + 1/(2(h - x)), since h + x = 1/(h - x): the large terms x
 * and (h-1)/2 would cancel to half of x there. */
#define BENT_BIG 0x1p26f

static void VARIANT(bent_identity_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i], a = fabsf(v);
        float h = actlab_self(a > BENT_BIG, a, sqrtf(v * v + 1.0f));
        int left = v < -1.0f;
        float q = actlab_self(left, 1.0f, v) / actlab_self(left, h - v, h + 1.0f);
        float f = actlab_self(left, (0.5f * v - 0.5f) + 0.5f * q, v + 0.5f * (v * q));
        y[i] = actlab_self(v == INFINITY, v, f); /* inf/inf in q */
    }
}

/* f' = 1 + (x/h)/2 from the input; beyond |x| = 2^20 x/h is ±1 in fp32, so x is clamped there (±inf
 * gives the limits 3/2 and 1/2; NaN stays NaN). */
static void VARIANT(bent_identity_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                            long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float c = actlab_self(v > 0x1p20f, 0x1p20f, actlab_self(v < -0x1p20f, -0x1p20f, v));
        float h = sqrtf(c * c + 1.0f);
        out[i] = g[i] * (1.0f + 0.5f * (c / h));
    }
}

/* ---- softsign: x/(1 + |x|) ----------------------------------------------------------------------
 * |x| < 1: |x|/(1 + |x|); |x| ≥ 1: 1 - 1/(1 + |x|), which rounds correctly near the limit 1 (where
 * |x|/(1 + |x|) loses the last bit to the rounding of 1 + |x|) and gives 1 at ±inf, not inf/inf. */
static void VARIANT(softsign_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i], a = fabsf(v);
        int big = a >= 1.0f;
        float q = actlab_self(big, 1.0f, a) / (1.0f + a);
        y[i] = copysignf(actlab_self(big, 1.0f - q, q), v); /* NaN stays NaN */
    }
}

/* f' = (1 - |y|)² from the output */
static void VARIANT(softsign_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                       long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float t = 1.0f - fabsf(y[i]);
        out[i] = g[i] * (t * t);
    }
}

static const actlab_op VARIANT(ops_misc)[] = {
    {"squareplus", "output", VARIANT(squareplus_forward), VARIANT(squareplus_backward)},
    {"isru", "output", VARIANT(isru_forward), VARIANT(isru_backward)},
    {"bent_identity", "input", VARIANT(bent_identity_forward), VARIANT(bent_identity_backward)},
    {"softsign", "output", VARIANT(softsign_forward), VARIANT(softsign_backward)},
    {NULL, NULL, NULL, NULL},
};
