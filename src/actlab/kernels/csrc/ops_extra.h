/* Entries torch has no single op for: sparse_sigmoid, elliott, smelu, isrlu, gcu, serf, and exponential and
 * sine (torch.exp and torch.sin: here so that the dispatcher keeps what the Spec keeps, in one pass each
 * way, and for sine's ω₀).
 *
 * All fp32, with the reference's conventions for NaN, ±inf and signed zeros; fp64 only for isrlu's
 * parameters outside fp32 and its far left tail, exponential's under- and overflow ranges, and serf's
 * softplus and final product (serf uses ops_smooth.h's e^x helpers).
 * Against the reference the tests (test_ckernels.py, test_ckernels_extra.py) find: sparse_sigmoid bit
 * for bit both ways, exponential's backward bit for bit, the rest within the catalogue's bounds. */

/* ---- sparse_sigmoid(x) = clamp(x + 1, 0, 2)/2 -------------------------------------------------------
 * fl32(x + 1) equals the reference's fl32(fl64(x + 1)) for every fp32 x: x + 1 has no bits below 2^-53
 * unless |x| < 2^-29, and then both round to 1 (fp64 never lands on an fp32 rounding tie that x + 1 is
 * not on). Halving is exact (the smallest positive x + 1 is 2^-24). The clamp is decided on x (exact:
 * x <= -1 ⟺ x + 1 <= 0, x >= 1 ⟺ x + 1 >= 2 in fp64), so ±inf give 0 and 1 and NaN stays NaN. */
static void VARIANT(sparse_sigmoid_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = actlab_self(v <= -1.0f, 0.0f, actlab_self(v >= 1.0f, 1.0f, (v + 1.0f) * 0.5f));
    }
}

/* from the input: f' = 1/2 on (-1, 1), else 0 (NaN included); g·1/2 is the reference's exact fp64
 * product rounded once, g·0 is 0 or NaN for an infinite g */
static void VARIANT(sparse_sigmoid_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                             long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        out[i] = g[i] * actlab_self((v > -1.0f) & (v < 1.0f), 0.5f, 0.0f);
    }
}

/* ---- elliott(x) = 1/2 + x/(2(1 + |x|)) ---------------------------------------------------------------
 * q = 1/(2(1 + |x|)) (two roundings), y = q for x < 0 and 1 - q for x >= 0 (q ≤ 1/2: no cancellation),
 * as the reference writes it per side. ±inf: q = 0, y = 0 or 1; NaN stays NaN. */
static void VARIANT(elliott_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float q = 0.5f / (1.0f + fabsf(v));
        y[i] = actlab_self(v < 0.0f, q, 1.0f - q);
    }
}

/* from the output, as the reference: f' = 2·min(y, 1 - y)² (1 - y exact), applied as (g·2m)·m so that a
 * tiny m (x < -2^62) cannot flush f' to 0 before the product: g = ±inf keeps the reference's ±inf */
static void VARIANT(elliott_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                     long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = y[i], w = 1.0f - v;
        float m = actlab_self(v < w, v, w); /* NaN: w, NaN too */
        out[i] = (g[i] * (m + m)) * m;
    }
}

/* ---- smelu(x; β) = 0 (x <= -β), (x + β)²/(4β) (|x| < β), x (x >= β) -----------------------------------
 * For the β that the Python side accepts (fp32 numbers in [2^-30, 2^40]) the comparisons are exact and
 * so is 4β; t = x + β is exact near -β (Sterbenz), t² stays normal (t ≥ 2^-24·β), so y = t²/(4β) is
 * within 2 ULP (t's rounding doubled, the square, the quotient). NaN fails both tests: t², NaN. */
static void VARIANT(smelu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const float b = (float)p[0], mb = -b, b4 = (float)(4.0 * p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i], t = v + b;
        y[i] = actlab_self(v >= b, v, actlab_self(v <= mb, 0.0f, (t * t) / b4));
    }
}

/* from the output, as the reference: f' = √min(y/β, 1) for y > 0, else 0 (NaN included) */
static void VARIANT(smelu_backward)(const float *restrict g, const float *restrict y, float *restrict out, long n,
                                    const double *p) {
    const float b = (float)p[0];
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = y[i];
        float r = v / b;
        r = r < 1.0f ? r : 1.0f;              /* NaN -> 1, masked below */
        float s = sqrtf(r > 0.0f ? r : 1.0f); /* no square root of a negative */
        out[i] = g[i] * (s * actlab_indicator(v > 0.0f));
    }
}

/* ---- isrlu(x; α) = x (x >= 0), x/√(1 + αx²) (x < 0) ---------------------------------------------------
 * The left side is isru's formula (ops_misc.h): a = |x|, h = √(1 + αa²), w = √α·a; w < 2: a/h, w ≥ 2:
 * L - L/(h(h + w)) with L = 1/√α as L_hi + L_lo, so the saturated tail rounds to -L as the reference's
 * does; -inf gives NaN, as the reference's -inf/hypot(1, inf). α outside fp32's exact [2^-40, 2^40] (α = 0 included) takes the reference's
 * formula in fp64 (beyond |x| = 10^18·L the result is -L to fp64 precision, and αx² could overflow). */
static void VARIANT(isrlu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const double alpha = p[0];
    if (VARIANT(misc_fp32_param)(alpha)) {
        const isru_plan_t k = isru_plan(alpha);
#pragma omp simd
        for (long i = 0; i < n; i++) {
            float v = x[i];
            float left = -VARIANT(isru_abs)(fabsf(v), k); /* NaN stays NaN */
            y[i] = actlab_self(v >= 0.0f, v, actlab_self(v == -INFINITY, NAN, left));
        }
    } else {
        const double lim = 1.0 / sqrt(alpha), cut = 1e18 * lim;
#pragma omp simd
        for (long i = 0; i < n; i++) {
            double v = x[i];
            double r = actlab_seld((v < -cut) & (v != -INFINITY), -lim, v / sqrt(1.0 + alpha * (v * v)));
            y[i] = (float)actlab_seld(v >= 0.0, v, r);
        }
    }
}

/* from the input: f' = 1 (x >= 0), r³ with r = 1/√(1 + αx²) (x < 0), applied as ((g·r)·r)·r: the
 * intermediate products lie between g and the result, so none leaves the normal range before the
 * result does, and g = ±inf stays ±inf where r > 0. Below -2^60/max(1, √α) (αx² could overflow) the
 * flagged elements take the reference's 1/hypot(1, √α·x)³ in fp64, g·f' rounded once. */
static void VARIANT(isrlu_backward)(const float *restrict g, const float *restrict x, float *restrict out, long n,
                                    const double *p) {
    const double alpha = p[0];
    if (VARIANT(misc_fp32_param)(alpha)) {
        const float af = (float)alpha, low = (float)(-0x1p60 / fmax(1.0, sqrt(alpha)));
        const double sa = sqrt(alpha);
        ACTLAB_FOR_CHUNKS(n, s, e) {
            int flagged = 0;
#pragma omp simd reduction(| : flagged)
            for (long i = s; i < e; i++) {
                float v = x[i];
                float r = 1.0f / sqrtf(1.0f + af * (v * v));
                r = actlab_self(v >= 0.0f, 1.0f, r); /* NaN stays NaN */
                out[i] = ((g[i] * r) * r) * r;
                flagged |= v < low;
            }
            if (flagged)
                for (long i = s; i < e; i++)
                    if (x[i] < low) {
                        double r = 1.0 / hypot(1.0, sa * (double)x[i]);
                        out[i] = (float)((double)g[i] * (r * r * r));
                    }
        }
    } else { /* αx² overflows only where r³ is 0 in fp64 anyway */
#pragma omp simd
        for (long i = 0; i < n; i++) {
            double v = x[i];
            double r = 1.0 / sqrt(1.0 + alpha * (v * v));
            out[i] = (float)((double)g[i] * actlab_seld(v >= 0.0, 1.0, r * r * r));
        }
    }
}

/* ---- exponential(x) = e^x --------------------------------------------------------------------------
 * exp_mid (ops_exp.h, ≤ 1 ULP) on [-87, 88]; chunks holding an element outside (results under the normal
 * range, or at and beyond overflow) recompute those in fp64, rounded once (±inf: inf and 0). */
static void VARIANT(exponential_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    ACTLAB_FOR_CHUNKS(n, s, e) {
        int flagged = 0;
#pragma omp simd reduction(| : flagged)
        for (long i = s; i < e; i++) {
            float v = x[i];
            int out = (v > 88.0f) | (v < -87.0f);
            y[i] = VARIANT(exp_mid)(actlab_self(out, 0.0f, v)); /* NaN stays NaN */
            flagged |= out;
        }
        if (flagged)
            for (long i = s; i < e; i++)
                if (x[i] > 88.0f || x[i] < -87.0f) y[i] = (float)exp((double)x[i]);
    }
}

/* from the output: f' = y, g·y is the reference's exact fp64 product rounded once */
static void VARIANT(exponential_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                          long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * y[i];
}

/* ---- gcu(x) = x·cos x ------------------------------------------------------------------------------
 * y = x·cosf(x): libmvec's cosf reduces the argument exactly and is within 1 ULP, so the product is
 * within 2·1 + 1/2 of y's ULP (a relative error of 1 ULP of cos is at most 2 ULP of a product in
 * another binade). ±inf and NaN give NaN, as the reference's x·cos x; ±0 keep their sign. */
static void VARIANT(gcu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v * cosf(v);
    }
}

/* from the input: f' = cos x - x·sin x, formed in fp64 from fp32 sinf and cosf (x·sin x exact) and
 * applied as g·f' rounded once. Where the two terms cancel (|x·sin x| ≈ |cos x| ≤ 1) the result's unit is
 * the 2^-24 floor and the error is cos's 1 ULP plus |x|·ULP(sin x) ≈ 2^-23; elsewhere it is relative. The
 * fp64 difference is zero only where cos x = x·sin x exactly, so g = ±inf stays ±inf as in the reference. */
static void VARIANT(gcu_backward)(const float *restrict g, const float *restrict x, float *restrict out, long n,
                                  const double *p) {
    (void)p;
    float c[ACTLAB_CHUNK];
    ACTLAB_FOR_CHUNKS(n, s, e) {
        /* cos in its own loop: in one loop GCC fuses sinf and cosf into a scalar sincosf call, which libmvec
         * has no plain vector version of, and the loop stays scalar */
#pragma omp simd
        for (long i = s; i < e; i++) c[i - s] = cosf(x[i]);
#pragma omp simd
        for (long i = s; i < e; i++) {
            float v = x[i];
            double d = (double)c[i - s] - (double)v * (double)sinf(v);
            out[i] = (float)((double)g[i] * d);
        }
    }
}

/* ---- sine(x; ω₀) = sin(ω₀·x) -----------------------------------------------------------------------
 * ω₀ = 1: sinf(x) and g·cosf(x), within 1 ULP (libmvec reduces the argument exactly); the result's unit is
 * at least 2^-24 while |sin| ≤ 1, so near zeros of sin the absolute error is far below one unit.
 * Any other ω₀ that is an fp32 number (the Python side declines the rest): ω₀·x is exact in fp64 (24-bit
 * factors), as the reference's two-product is, and fp64 sin/cos (within 1 ULP of fp64) rounded once give
 * the reference's value to within one rounding. ±inf and NaN give NaN; -0 gives the reference's +0 for
 * ω₀ ≠ 1 (its -0 for ω₀ = 1). */
static void VARIANT(sine_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const double w = p[0];
    if (w == 1.0) {
#pragma omp simd
        for (long i = 0; i < n; i++) y[i] = sinf(x[i]);
    } else {
#pragma omp simd
        for (long i = 0; i < n; i++) /* + 0: x = -0 gives +0, as the reference's sum of two products */
            y[i] = (float)(sin(w * (double)x[i]) + 0.0);
    }
}

/* from the input: f' = ω₀·cos(ω₀·x); g·f' rounded once (ω₀ = 1: g·cosf(x), one fp32 rounding) */
static void VARIANT(sine_backward)(const float *restrict g, const float *restrict x, float *restrict out, long n,
                                   const double *p) {
    const double w = p[0];
    if (w == 1.0) {
#pragma omp simd
        for (long i = 0; i < n; i++) out[i] = g[i] * cosf(x[i]);
    } else {
#pragma omp simd
        for (long i = 0; i < n; i++) out[i] = (float)((double)g[i] * (w * cos(w * (double)x[i])));
    }
}

/* ---- serf(x) = x·erf(sp), sp = softplus(x) = max(x, 0) + log1p(e^-|x|) ------------------------------
 * Stages over 256-element chunks (stages.h): e = e^-|x| from smooth_exp_s (ops_smooth.h; |x| clamped at
 * 200, where e^-200 already makes every product below fp32's smallest subnormal), then sp in fp64 with
 * smooth_log1p_unit (relative error < 2^-27), then erf, then y = x·erf(sp) in fp64 rounded once.
 * erf: libmvec's erff (within 1.3 ULP for arguments above 2^-5) of sp rounded to fp32 (which moves erf
 * by at most half an ULP: the relative condition s·erf'(s)/erf(s) is ≤ 1); below sp = 2^-5 (x < -3.4),
 * where erff is up to 1.9 ULP off and sp would reach fp32's subnormals long before y does (y is normal
 * down to x ≈ -97), the series (2/√π)·sp·(1 - sp²/3 + sp⁴/10 - sp⁶/42) in fp64 (the next term is below
 * 2^-40 relative). Over every seventh fp32 input the result is within 3.1 ULP of the true value (the
 * catalogue allows 4; torch's fp32 composition of the same functions has no series for the tail). -inf gives the reference's 0 (x·erf would be -inf·0); +inf gives inf; NaN propagates. */
#define SERF_TWO_OVER_SQRT_PI 1.1283791670955126
static void VARIANT(serf_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    float sb[ACTLAB_STAGE_CHUNK], spf[ACTLAB_STAGE_CHUNK], ef[ACTLAB_STAGE_CHUNK];
    double spd[ACTLAB_STAGE_CHUNK];
    uint32_t kb[ACTLAB_STAGE_CHUNK];
    ACTLAB_FOR_STAGE_CHUNKS(n, s, e) {
#pragma omp simd
        for (long i = s; i < e; i++)
            sb[i - s] = VARIANT(smooth_exp_s)(-VARIANT(smooth_minf)(fabsf(x[i]), 200.0f), 0.0f, &kb[i - s]);
#pragma omp simd
        for (long i = s; i < e; i++) {
            double u = VARIANT(smooth_exp_join)(sb[i - s], kb[i - s]);
            double sp = (double)VARIANT(smooth_maxf)(x[i], 0.0f) + VARIANT(smooth_log1p_unit)(u);
            spd[i - s] = sp;
            spf[i - s] = (float)sp;
        }
#pragma omp simd
        for (long i = s; i < e; i++) ef[i - s] = erff(spf[i - s]);
#pragma omp simd
        for (long i = s; i < e; i++) {
            double sp = spd[i - s], v = (double)x[i];
            double w = sp * sp;
            double series = (SERF_TWO_OVER_SQRT_PI * sp) * (1.0 - w * (1.0 / 3.0 - w * (0.1 - w * (1.0 / 42.0))));
            double er = actlab_seld(sp < 0x1p-5, series, (double)ef[i - s]);
            y[i] = actlab_self(v == -INFINITY, 0.0f, (float)(v * er));
        }
    }
}

/* f'(x) = erf(sp) + x·(2/√π)·e^(-sp²)·σ(x), the reference's formula with x clamped to ±1e4 in the second
 * term. In fp32 (the derivative needs an absolute error of a few 2^-24): e = e^-|x| with |x| clamped at
 * 86 (below, both terms are under 1e-33), sp = max(x, 0) + log1pf(e), σ = 1/(1 + e) or e/(1 + e), erff,
 * and e^(-sp²) by the quintic exp2 with sp clamped at 10. Errors: erf's ULP plus sp's (times
 * erf' ≤ 1.13), and a few ULP of a second term below 0.3. NaN propagates; ±inf give 1 and ~0. g = ±inf:
 * the reference's formula in fp64 (ACTLAB_INF_G_FIXUP). */
#ifndef ACTLAB_SERF_ONCE
#define ACTLAB_SERF_ONCE
static double serf_fprime64(double x, const double *p) {
    (void)p;
    if (isinf(x)) return x > 0 ? 1.0 : 0.0;
    double xc = actlab_clamp1e4(x), sp = actlab_softplus64(xc);
    return erf(actlab_softplus64(x)) + xc * SERF_TWO_OVER_SQRT_PI * exp(-sp * sp) * actlab_sigmoid64(xc);
}
#endif

static void VARIANT(serf_backward)(const float *restrict g, const float *restrict x, float *restrict out, long n,
                                   const double *p) {
    float spb[ACTLAB_STAGE_CHUNK], sgb[ACTLAB_STAGE_CHUNK], erb[ACTLAB_STAGE_CHUNK];
    ACTLAB_FOR_STAGE_CHUNKS(n, s, e) {
#pragma omp simd
        for (long i = s; i < e; i++) {
            float v = x[i];
            float u = VARIANT(smooth_exp_f)(-VARIANT(smooth_minf)(fabsf(v), 86.0f));
            float inv = 1.0f / (1.0f + u);
            spb[i - s] = VARIANT(smooth_maxf)(v, 0.0f) + log1pf(u);
            sgb[i - s] = actlab_self(v >= 0.0f, inv, u * inv);
        }
#pragma omp simd
        for (long i = s; i < e; i++) erb[i - s] = erff(spb[i - s]);
        float gmax = 0.0f;
#pragma omp simd reduction(max : gmax)
        for (long i = s; i < e; i++) {
            float sp = VARIANT(smooth_minf)(spb[i - s], 10.0f);
            float t = VARIANT(smooth_exp2_f)(VARIANT(smooth_maxf)(-(sp * sp) * SMOOTH_LOG2E, -125.0f));
            float xc = VARIANT(smooth_maxf)(VARIANT(smooth_minf)(x[i], 1e4f), -1e4f);
            out[i] = g[i] * (erb[i - s] + xc * (((float)SERF_TWO_OVER_SQRT_PI * sgb[i - s]) * t));
            gmax = actlab_gmax(gmax, g[i]);
        }
        if (gmax == INFINITY) ACTLAB_INF_G_FIXUP(g, x, out, s, e, serf_fprime64, p);
    }
}

static const actlab_op VARIANT(ops_extra)[] = {
    {"sparse_sigmoid", "input", VARIANT(sparse_sigmoid_forward), VARIANT(sparse_sigmoid_backward)},
    {"elliott", "output", VARIANT(elliott_forward), VARIANT(elliott_backward)},
    {"smelu", "output", VARIANT(smelu_forward), VARIANT(smelu_backward)},
    {"isrlu", "input", VARIANT(isrlu_forward), VARIANT(isrlu_backward)},
    {"exponential", "output", VARIANT(exponential_forward), VARIANT(exponential_backward)},
    {"gcu", "input", VARIANT(gcu_forward), VARIANT(gcu_backward)},
    {"sine", "input", VARIANT(sine_forward), VARIANT(sine_backward)},
    {"serf", "input", VARIANT(serf_forward), VARIANT(serf_backward)},
    {NULL, NULL, NULL, NULL},
};
