/* Gaussian-based entries: gelu (exact erf form and the tanh approximation), quick_gelu, gaussian.
 *
 * All of them need e^z for a z whose fp32 rounding the exponential would amplify (z = -x²/2, -x²,
 * -1.702x, 2u(x) reach ±87, where half an ULP of z is 44 ULP of e^z). So z is carried as z_hi + z_lo
 * (an exact FMA residual, or fp64 for the tanh form's cubic) and e^z is computed inline as 2^k·e^r:
 * k = round(z/ln2), r = z - k·ln2 (products exact inside FMAs; the low parts join r, so r is rounded
 * once), e^r - 1 = r + r²·P(r) (minimax, |r| <= ln2/2, 0.17 ULP), 2^k added to the exponent bits.
 * The backward formulas need only absolute accuracy (the unit is floored at 2^-24) and skip the low
 * parts.
 *
 * gelu(x) = x·Φ(x), Φ(-a) = e^(-a²/2)·G(a)/2, G(a) = e^(a²/2)·erfc(a/√2), a = |x| clamped to 12.9:
 * G/2 = rr·(1 + H(q)), rr = 1/(a + 4), q = (a - 4)/(a + 4), H of degree 9. The rounding of a + 4 and
 * of the division would be amplified by G's slope (1.4-3.2x); both are exact residuals (4 is a power
 * of two, so a - ((a + 4) - 4) is the sum's error; 1 - D·rr the quotient's) and enter, times that
 * slope, as a first-order correction of r. Then y = x - a·Φ(-a) for x >= 0 and x·Φ(x) for x < 0,
 * each one FMA: <= 3 ULP over all inputs (torch's fp32 F.gelu is 8 ULP off near 0 and cancels in
 * the left tail). x < -12.9 (Φ leaves the normal range while x·Φ(x) is still normal) and -inf take
 * the fp64 formula after the loop; NaN propagates.
 *
 * FMA: the AVX2 variant has it in hardware; the baseline variant (where fmaf is a slow library call)
 * evaluates a·b + c in fp64 and rounds once more, which is exact for every residual used here and
 * differs from a fused result only in rare halfway cases elsewhere.
 */
#undef GELU_FMA
#if defined(__FMA__)
#define GELU_FMA(a, b, c) fmaf((a), (b), (c))
#else
#define GELU_FMA(a, b, c) ((float)((double)(a) * (double)(b) + (double)(c)))
#endif

#ifndef ACTLAB_GELU_CONSTANTS
#define ACTLAB_GELU_CONSTANTS
#define GELU_LOG2E 1.44269504f
#define GELU_SHIFT 12582912.0f /* 1.5·2^23: (t + SHIFT) - SHIFT is t rounded to an integer */
#define GELU_LN2_HI 0.693147182f
#define GELU_LN2_LO -1.90465421e-09f /* ln2 - LN2_HI */
#define GELU_LN2_CW_HI 0.693145752f  /* 0x3f317200: 15 bits, k·LN2_CW_HI is exact for |k| < 256 */
#define GELU_LN2_CW_LO 1.42860677e-06f /* ln2 - LN2_CW_HI */
#define GELU_INV_SQRT_2PI 0.398942280f
#define GELU_A_BITS 0x414e6666u /* 12.9f: |x| is clamped here (Φ(-12.9) = 2e-38, still normal) */
/* e^r - 1 - r = r²·P(r) on |r| <= ln2/2 */
#define GELU_EXPM1_P(r)                                                                            \
    GELU_FMA(r, GELU_FMA(r, GELU_FMA(r, GELU_FMA(r, 0.0013926326064392924f, 0.008363292552530766f),   \
                                    0.04166655242443085f),                                       \
                      0.16666576266288757f),                                                     \
             0.5f)
/* G(a)/2 = rr·(1 + H(q)), rr = 1/(a + 4), q = (a - 4)/(a + 4) = 1 - 8·rr, a in [0, 12.9]: degree 9,
 * relative error 1e-8 with these fp32 coefficients (each rounded in turn, the rest refitted) */
#define GELU_H0 -0.2447148710489273f
#define GELU_H1 -0.607896625995636f
#define GELU_H2 0.3871370851993561f
#define GELU_H3 -0.1865224838256836f
#define GELU_H4 0.06040313094854355f
#define GELU_H5 -0.007531722541898489f
#define GELU_H6 -0.003516474273055792f
#define GELU_H7 0.0015812314813956618f
#define GELU_H8 0.00019571365555748343f
#define GELU_H9 -0.00012583124043885618f
#define GELU_H(q)                                                                                  \
    GELU_FMA(q, GELU_FMA(q, GELU_FMA(q, GELU_FMA(q, GELU_FMA(q, GELU_FMA(q, GELU_FMA(q, GELU_FMA(q,              \
        GELU_FMA(q, GELU_H9, GELU_H8), GELU_H7), GELU_H6), GELU_H5), GELU_H4), GELU_H3), GELU_H2), GELU_H1), GELU_H0)
#endif

/* min(|v|, limit) on the bit patterns (a float select here would be turned into a branch) */
static inline float VARIANT(gelu_clamp_abs)(float v, uint32_t limit_bits) {
    uint32_t u = actlab_fbits(v) & 0x7fffffffu;
    return actlab_ffrom(u < limit_bits ? u : limit_bits);
}
/* min(|v|, limit) with NaN kept (as a NaN) */
static inline float VARIANT(gelu_clamp_abs_nan)(float v, uint32_t limit_bits) {
    uint32_t u = actlab_fbits(v) & 0x7fffffffu;
    uint32_t c = u < limit_bits ? u : limit_bits;
    return actlab_ffrom((int32_t)u > 0x7f800000 ? u : c);
}
/* 2^k·f for a normal f whose result stays normal: k is in the low bits of kt = SHIFT + k */
static inline float VARIANT(gelu_scale)(float f, float kt) {
    return actlab_ffrom(actlab_fbits(f) + (actlab_fbits(kt) << 23));
}

/* e^u in fp32 for |u| <= 87 (the callers clamp), for the backward kernels, which need only
 * absolute accuracy: k = round(u/ln2), r = u - k·ln2_hi (no low parts), e^r from GELU_EXPM1_P */
static inline float VARIANT(gelu_exp_abs)(float u) {
    float kt = GELU_FMA(u, GELU_LOG2E, GELU_SHIFT), kf = kt - GELU_SHIFT;
    float r = GELU_FMA(kf, -GELU_LN2_HI, u);
    return VARIANT(gelu_scale)(GELU_FMA(r, r * GELU_EXPM1_P(r), r) + 1.0f, kt);
}

/* After a chunk's SIMD pass flagged elements (FLAGGED(x[i])), recompute them with EXACT(x[i]): the
 * chunk is searched 64 elements at a time with a vectorised test, so that a chunk with one flagged
 * element costs little more than the pass itself. */
#ifndef GELU_FIXUP
#define GELU_FIXUP(x, y, s, e, FLAGGED, EXACT)                                                     \
    for (long b_ = (s); b_ < (e); b_ += 64) {                                                      \
        long be_ = b_ + 64 <= (e) ? b_ + 64 : (e);                                                 \
        int any_ = 0;                                                                              \
        if (be_ - b_ == 64) {                                                                      \
            _Pragma("omp simd reduction(| : any_)") for (long i = b_; i < b_ + 64; i++) any_ |= FLAGGED; \
        } else                                                                                     \
            any_ = 1;                                                                              \
        if (any_)                                                                                  \
            for (long i = b_; i < be_; i++)                                                        \
                if (FLAGGED) (y)[i] = EXACT;                                                       \
    }
#endif

/* ---- gelu, exact form --------------------------------------------------------------------------- */
static double VARIANT(gelu_erf_exact)(float v) {
    if (v != v) return v;
    if (v == -INFINITY) return 0.0; /* the reference's limit */
    return 0.5 * (double)v * erfc(-(double)v * 0.70710678118654752440);
}

static void VARIANT(gelu_erf_forward)(const float *restrict x, float *restrict y, long n) {
    ACTLAB_FOR_CHUNKS(n, s, e) {
        float lowest = 0.0f; /* a NaN input propagates through xh below */
#pragma omp simd reduction(min : lowest)
        for (long i = s; i < e; i++) {
            float v = x[i];
            float a = VARIANT(gelu_clamp_abs)(v, GELU_A_BITS);
            /* -a²/2 = u + ul exactly; e^(-a²/2) = 2^k·e^r */
            float h = -0.5f * a, u = h * a, ul = GELU_FMA(h, a, -u);
            float kt = GELU_FMA(u, GELU_LOG2E, GELU_SHIFT), kf = kt - GELU_SHIFT;
            /* G(a)/2 = rr·(1 + H(q)); q is exact (8rr is, and 1 - 8rr by Sterbenz for a <= 12) */
            float D = a + 4.0f, rr = 1.0f / D, q = GELU_FMA(-8.0f, rr, 1.0f);
            float hq = GELU_H(q);
            /* 1/(a + 4) = rr·(1 + c): D's rounding error dD (4 is a power of two) and the quotient's
             * residual are exact; G moves by m·c, m = -dlnG/dln(rr) = 1.85 - 1.28q (to 9%) */
            float dD = a - (D - 4.0f);
            float c = GELU_FMA(-dD, rr, GELU_FMA(-D, rr, 1.0f));
            float corr = GELU_FMA(GELU_FMA(-1.28482226f, q, 1.85274161f), c, GELU_FMA(kf, -GELU_LN2_LO, ul));
            float r = GELU_FMA(kf, -GELU_LN2_HI, u) + corr; /* the low parts join r: one rounding */
            float pm = GELU_FMA(r, r * GELU_EXPM1_P(r), r);
            float g2 = GELU_FMA(rr, hq, rr);
            float tail = VARIANT(gelu_scale)(GELU_FMA(g2, pm, g2), kt); /* Φ(-a) */
            float xh = v < 0.0f ? 0.0f : v;
            y[i] = GELU_FMA(-a, tail, xh); /* x·Φ(x) = xh - a·Φ(-a) */
            lowest = v < lowest ? v : lowest;
        }
        if (lowest < -12.9f) GELU_FIXUP(x, y, s, e, x[i] < -12.9f, (float)VARIANT(gelu_erf_exact)(x[i]))
    }
}

/* gelu'(x) = Φ(x) + x·φ(x) = [x >= 0] + e^(-a²/2)·(x/√(2π) ∓ G(a)/2), to absolute accuracy (no low
 * parts); e^(-a²/2) is 0 beyond the clamp (|x| > 12.9: x·φ(x) < 1e-35), as the reference's clamped
 * formula gives. g = ±inf: the reference's formula in fp64 (see ACTLAB_INF_G_FIXUP), nonzero out to
 * |x| ≈ 38 where the fp32 x·φ(x) is 0 beyond 12.9. */
static double VARIANT(gelu_erf_fprime64)(double x, const double *p) {
    (void)p;
    const double sqrt1_2 = 0.7071067811865476, inv_sqrt_2pi = 0.3989422804014327;
    double xc = actlab_clamp1e4(x);
    return 0.5 * erfc(-x * sqrt1_2) + xc * exp(-0.5 * xc * xc) * inv_sqrt_2pi;
}

static void VARIANT(gelu_erf_backward)(const float *restrict g, const float *restrict x,
                                       float *restrict out, long n) {
    ACTLAB_FOR_CHUNKS(n, s, e) {
        int flagged = 0;
        float gmax = 0.0f;
#pragma omp simd reduction(| : flagged) reduction(max : gmax)
        for (long i = s; i < e; i++) {
            float v = x[i];
            uint32_t vb = actlab_fbits(v), ub = vb & 0x7fffffffu, sign = vb & 0x80000000u;
            uint32_t inside = (uint32_t) - (int32_t)(ub < GELU_A_BITS); /* all ones for |x| < 12.9 */
            float a = actlab_ffrom(ub < GELU_A_BITS ? ub : GELU_A_BITS);
            float xc = actlab_ffrom(actlab_fbits(a) | sign);
            float h = -0.5f * a, u = h * a;
            float ex = actlab_ffrom(actlab_fbits(VARIANT(gelu_exp_abs)(u)) & inside);
            float D = a + 4.0f, rr = 1.0f / D, q = GELU_FMA(-8.0f, rr, 1.0f);
            float g2 = GELU_FMA(rr, GELU_H(q), rr); /* G(a)/2 */
            float sg2 = actlab_ffrom(actlab_fbits(g2) ^ sign ^ 0x80000000u); /* x < 0: +G/2 */
            float hv = actlab_indicator(!sign);                                            /* x >= 0 */
            out[i] = g[i] * GELU_FMA(ex, GELU_FMA(xc, GELU_INV_SQRT_2PI, sg2), hv);
            flagged |= v != v;
            gmax = actlab_gmax(gmax, g[i]);
        }
        if (flagged) GELU_FIXUP(x, out, s, e, x[i] != x[i], g[i] * x[i])
        if (gmax == INFINITY) ACTLAB_INF_G_FIXUP(g, x, out, s, e, VARIANT(gelu_erf_fprime64), NULL);
    }
}

/* ---- gelu, tanh form: x·σ(w), w = 2u = 2√(2/π)(x + 0.044715x³) ---------------------------------- */
#define GELU_TANH_A 1.5957691216057308 /* 2√(2/π) */
#define GELU_TANH_B 0.07135481627260025 /* 2√(2/π)·0.044715 */

static double VARIANT(gelu_tanh_exact)(float v) {
    if (v != v) return v;
    if (v == -INFINITY) return 0.0;
    double xd = v, w = xd * (GELU_TANH_A + GELU_TANH_B * xd * xd);
    double e = exp(-fabs(w));
    return xd * (w >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e));
}

/* y = x/(1 + e^-w): w in fp64 (the cubic, exact enough), split -w = t_hi + t_lo, e^-w = 2^k·e^r for
 * both signs (|x| clamped to 9.9: |w| <= 85.1, e^±85 stays normal); for x < 0 the sum is e^-w to
 * within its rounding, so the quotient keeps full relative accuracy. x < -9.9 (-inf included) takes
 * the fp64 formula after the loop; NaN propagates through x. */
static void VARIANT(gelu_tanh_forward)(const float *restrict x, float *restrict y, long n) {
    ACTLAB_FOR_CHUNKS(n, s, e) {
        float lowest = 0.0f;
#pragma omp simd reduction(min : lowest)
        for (long i = s; i < e; i++) {
            float v = x[i];
            float xc = actlab_ffrom(actlab_fbits(VARIANT(gelu_clamp_abs)(v, 0x411e6666u)) |
                                    (actlab_fbits(v) & 0x80000000u));
            double xd = xc, t = -(xd * (GELU_TANH_A + GELU_TANH_B * xd * xd));
            float th = (float)t, tl = (float)(t - (double)th);
            float kt = GELU_FMA(th, GELU_LOG2E, GELU_SHIFT), kf = kt - GELU_SHIFT;
            float r = GELU_FMA(kf, -GELU_LN2_HI, th) + GELU_FMA(kf, -GELU_LN2_LO, tl);
            float ez = VARIANT(gelu_scale)(GELU_FMA(r, r * GELU_EXPM1_P(r), r) + 1.0f, kt);
            y[i] = v / (1.0f + ez);
            lowest = v < lowest ? v : lowest;
        }
        if (lowest < -9.9f) GELU_FIXUP(x, y, s, e, x[i] < -9.9f, (float)VARIANT(gelu_tanh_exact)(x[i]))
    }
}

/* f' = σ(w) + x·w'·σ(w)σ(-w), w' = A + 3B·x², from e = e^(-|w|) (absolute accuracy; e = 0 once
 * |w| >= 87, where the reference's terms are below fp32's range); x is clamped to ±20 in the second
 * term as the reference clamps it (σ(w)σ(-w) is e^-800 there). g = ±inf: the reference's formula in
 * fp64 (see ACTLAB_INF_G_FIXUP), nonzero out to |x| ≈ 10.5 where e is 0 here beyond |w| = 87. */
static double VARIANT(gelu_tanh_fprime64)(double x, const double *p) {
    (void)p;
    const double k = 0.7978845608028654, c = 0.044715; /* √(2/π), the cubic's coefficient */
    double xc = x < -50.0 ? -50.0 : x > 50.0 ? 50.0 : x;
    double u = k * (x + c * x * x * x), uc = k * (xc + c * xc * xc * xc), du = k * (1 + 3 * c * xc * xc);
    return actlab_sigmoid64(2 * u) + 2 * xc * du * actlab_sigmoid_slope64(2 * uc);
}

static void VARIANT(gelu_tanh_backward)(const float *restrict g, const float *restrict x,
                                        float *restrict out, long n) {
    ACTLAB_FOR_CHUNKS(n, s, e) {
        int flagged = 0;
        float gmax = 0.0f;
#pragma omp simd reduction(| : flagged) reduction(max : gmax)
        for (long i = s; i < e; i++) {
            float v = x[i];
            float xc = actlab_ffrom(actlab_fbits(VARIANT(gelu_clamp_abs)(v, 0x41a00000u)) |
                                    (actlab_fbits(v) & 0x80000000u)); /* ±20 */
            float x2 = xc * xc;
            float w = xc * GELU_FMA((float)GELU_TANH_B, x2, (float)GELU_TANH_A);
            float aw = actlab_ffrom(actlab_fbits(w) & 0x7fffffffu);
            uint32_t inside = (uint32_t) - (int32_t)(aw < 87.0f);
            float awc = aw < 87.0f ? aw : 87.0f;
            float ez = actlab_ffrom(actlab_fbits(VARIANT(gelu_exp_abs)(-awc)) & inside);
            float inv = 1.0f / (1.0f + ez), einv = ez * inv;
            float sp = w >= 0.0f ? inv : einv, sn = w >= 0.0f ? einv : inv;
            float dw = GELU_FMA((float)(3.0 * GELU_TANH_B), x2, (float)GELU_TANH_A);
            out[i] = g[i] * GELU_FMA(sp, xc * dw * sn, sp);
            flagged |= v != v;
            gmax = actlab_gmax(gmax, g[i]);
        }
        if (flagged) GELU_FIXUP(x, out, s, e, x[i] != x[i], g[i] * x[i])
        if (gmax == INFINITY) ACTLAB_INF_G_FIXUP(g, x, out, s, e, VARIANT(gelu_tanh_fprime64), NULL);
    }
}

/* ---- quick_gelu: x·σ(z) = x/(1 + e^-z), z = 1.702x --------------------------------------------------- */
#define QGELU_C_HI 1.70200002f     /* 1.702 rounded to fp32 */
#define QGELU_C_LO -2.19345093e-08f /* 1.702 - QGELU_C_HI */

static double VARIANT(quick_gelu_exact)(float v) {
    if (v != v) return v;
    if (v == -INFINITY) return 0.0;
    double z = 1.702 * (double)v, e = exp(-fabs(z));
    return (double)v * (z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e));
}

/* y = x/(1 + e^-z), e^-z = 2^k·e^r for both signs (|x| clamped to 51: e^±86.8 stays normal), with
 * r = -1.702x - k·ln2 from exact products (1.702 = hi + lo, ln2 split so that k·ln2_hi is exact): one
 * rounding. For x < 0 the sum is e^-z to within its rounding, so the quotient keeps full relative
 * accuracy. x < -50 (-inf included) takes the fp64 formula after the loop; NaN propagates through x. */
static void VARIANT(quick_gelu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    ACTLAB_FOR_CHUNKS(n, s, e) {
        float lowest = 0.0f;
#pragma omp simd reduction(min : lowest)
        for (long i = s; i < e; i++) {
            float v = x[i];
            float xc = actlab_ffrom(actlab_fbits(VARIANT(gelu_clamp_abs)(v, 0x424c0000u)) |
                                    (actlab_fbits(v) & 0x80000000u));
            float kt = GELU_FMA(xc, -QGELU_C_HI * GELU_LOG2E, GELU_SHIFT), kf = kt - GELU_SHIFT;
            /* r = -1.702x - k·ln2: the products are exact in the FMAs, one rounding */
            float r1 = GELU_FMA(xc, -QGELU_C_HI, kf * -GELU_LN2_CW_HI);
            float r = GELU_FMA(kf, -GELU_LN2_CW_LO, GELU_FMA(xc, -QGELU_C_LO, r1));
            float r2 = r * r;
            float ep = GELU_FMA(r2, GELU_FMA(r2, 0.0013926326064392924f,
                                             GELU_FMA(r, 0.008363292552530766f, 0.04166655242443085f)),
                                GELU_FMA(r, 0.16666576266288757f, 0.5f));
            float ez = VARIANT(gelu_scale)(GELU_FMA(r2, ep, r) + 1.0f, kt);
            y[i] = v / (1.0f + ez);
            lowest = v < lowest ? v : lowest;
        }
        if (lowest < -50.0f) GELU_FIXUP(x, y, s, e, x[i] < -50.0f, (float)VARIANT(quick_gelu_exact)(x[i]))
    }
}

/* f' = σ(z) + z·σ(z)σ(-z) = σ(z)(1 + z·σ(-z)), σ(z) = 1/(1 + e^-z), σ(-z) = e^-z·σ(z), to absolute
 * accuracy (z is the rounded product; |x| clamped to 51 as above). At x = ±inf this gives 1 and
 * (within 1e-36) 0, the reference's limits; NaN propagates. g = ±inf: the reference's formula in
 * fp64 (see ACTLAB_INF_G_FIXUP), which is exactly 0 at x = -inf and below x ≈ -438, where this one is
 * not. */
static double VARIANT(quick_gelu_fprime64)(double x, const double *p) {
    (void)p;
    if (isinf(x)) return x > 0 ? 1.0 : 0.0;
    double z = 1.702 * actlab_clamp1e4(x);
    return actlab_sigmoid64(1.702 * x) + z * actlab_sigmoid_slope64(z);
}

static void VARIANT(quick_gelu_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                         long n, const double *p) {
    float gmax = 0.0f;
#pragma omp simd reduction(max : gmax)
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float av = VARIANT(gelu_clamp_abs_nan)(v, 0x424c0000u); /* 51 */
        float xc = actlab_ffrom(actlab_fbits(av) | (actlab_fbits(v) & 0x80000000u));
        float z = QGELU_C_HI * xc;
        float ez = VARIANT(gelu_exp_abs)(-z);
        float sp = 1.0f / (1.0f + ez);
        out[i] = g[i] * GELU_FMA(sp, z * (ez * sp), sp);
        gmax = actlab_gmax(gmax, g[i]);
    }
    if (gmax == INFINITY) ACTLAB_INF_G_FIXUP(g, x, out, 0, n, VARIANT(quick_gelu_fprime64), p);
}

/* ---- gaussian: e^(-x²) ------------------------------------------------------------------------------ */
/* -x² = -(sq + sl) exactly; e^(-x²) = 2^k·e^r, scaled in two steps so that results below 2^-126
 * round once into the subnormals (|x| is clamped to 10.5: e^-110 is 0 in fp32; a NaN is kept). */
static void VARIANT(gaussian_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float a = VARIANT(gelu_clamp_abs_nan)(x[i], 0x41280000u);
        float sq = a * a, sl = GELU_FMA(a, a, -sq);
        float kt = GELU_FMA(sq, -GELU_LOG2E, GELU_SHIFT), kf = kt - GELU_SHIFT;
        float r = GELU_FMA(kf, -GELU_LN2_HI, -sq) + GELU_FMA(kf, -GELU_LN2_LO, -sl);
        /* a - a is 0, or NaN for a NaN input (whose payload the exponent arithmetic would garble) */
        y[i] = GELU_FMA(VARIANT(gelu_scale)(GELU_FMA(r, r * GELU_EXPM1_P(r), r) + 1.0f, kt + 64.0f), 0x1p-64f, a - a);
    }
}

/* f' = -2x·e^(-x²), to absolute accuracy (e^(-x²) from the rounded square); |x| clamped to 10.5, past
 * which f' is 0 in fp32 as in the reference (so ±inf gives 0, not -2x·0 = NaN); NaN propagates.
 * g = ±inf: the reference's formula in fp64 (see ACTLAB_INF_G_FIXUP), nonzero out to |x| ≈ 27. */
static double VARIANT(gaussian_fprime64)(double x, const double *p) {
    (void)p;
    double xc = actlab_clamp1e4(x);
    return -2 * xc * exp(-xc * xc);
}

static void VARIANT(gaussian_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                       long n, const double *p) {
    float gmax = 0.0f;
#pragma omp simd reduction(max : gmax)
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float a = VARIANT(gelu_clamp_abs_nan)(v, 0x41280000u);
        float sq = a * a;
        float kt = GELU_FMA(sq, -GELU_LOG2E, GELU_SHIFT), kf = kt - GELU_SHIFT;
        float r = GELU_FMA(kf, -GELU_LN2_HI, -sq);
        float ex = VARIANT(gelu_scale)(GELU_FMA(r, r * GELU_EXPM1_P(r), r) + 1.0f, kt + 64.0f) * 0x1p-64f;
        float m2x = actlab_ffrom(actlab_fbits(-2.0f * a) ^ (actlab_fbits(v) & 0x80000000u));
        out[i] = g[i] * (m2x * ex);
        gmax = actlab_gmax(gmax, g[i]);
    }
    if (gmax == INFINITY) ACTLAB_INF_G_FIXUP(g, x, out, 0, n, VARIANT(gaussian_fprime64), p);
}

static void VARIANT(gelu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    if (p[0] != 0.0)
        VARIANT(gelu_tanh_forward)(x, y, n);
    else
        VARIANT(gelu_erf_forward)(x, y, n);
}

static void VARIANT(gelu_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                   long n, const double *p) {
    if (p[0] != 0.0)
        VARIANT(gelu_tanh_backward)(g, x, out, n);
    else
        VARIANT(gelu_erf_backward)(g, x, out, n);
}

static const actlab_op VARIANT(ops_gelu)[] = {
    {"gelu", "input", VARIANT(gelu_forward), VARIANT(gelu_backward)},
    {"quick_gelu", "input", VARIANT(quick_gelu_forward), VARIANT(quick_gelu_backward)},
    {"gaussian", "input", VARIANT(gaussian_forward), VARIANT(gaussian_backward)},
    {NULL, NULL, NULL, NULL},
};
