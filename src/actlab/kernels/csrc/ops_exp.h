/* sigmoid, tanh and the exponential linear units (elu, selu, celu), tanhshrink and lisht.
 *
 * No libmvec call: one inline fp32 exponential (exp_core2 and its variants below) that the vectoriser
 * keeps in registers, ~20 vector instructions per 8 elements, about twice as fast here as libmvec's
 * expf. It writes e^y = s·(1 + q) with s = 2^k exact and q = e^r - 1, so that both e^y and
 * e^y - 1 = s·q + (s - 1) keep full relative accuracy. The formulas built on it avoid cancellation
 * (tanh and tanhshrink switch to a polynomial where 1 - e^-2a would cancel) and their fp32 roundings
 * were measured over every fp32 input against the fp64 formulas: the worst cases are quoted at each
 * kernel (within 2.5 ULP of the truth for the default and example parameters, so at most 2 steps from
 * the reference rounded once where the unit is the ULP). Inputs are clamped
 * before the exponential where the result no longer changes, so ±inf needs no special case, and a NaN
 * input propagates through every path. Only sigmoid's far left tail takes a flagged fp64 recomputation.
 *
 * Backward passes are fp32 too: the catalogue's unit for a derivative is floored at 2^-24, so the
 * products of (g, y) below stay within ~2 units (lisht's and tanhshrink's, from the input, within 3.7).
 * Parameters that fp32 cannot hold exactly (α, 1/α, λ, λα) enter as hi + lo pairs, since y + α
 * cancels in the left tail. A derivative is exactly 0 only where the formula's is, so that g = ±inf
 * gives NaN exactly where the reference's g·f' does.
 *
 * Selections are bit masks (actlab_self), not `c ? a : b`: GCC sinks an expression used in one arm of a
 * conditional into a branch and then refuses to vectorise the loop. */

/* e^y = s·(1 + q) for y in [-87, 0.35] (callers clamp; NaN gives a NaN q), and z·p = q - r: k = round(y / ln 2) by the
 * 1.5·2^23 trick, r = y - k·ln 2 in two parts (Cody-Waite, the first product exact), q = e^r - 1 =
 * r + r²·P(r) with P a degree-5 minimax fit (relative error of e^r - 1 below 2.4e-10 on |r| ≤ ln2/2)
 * evaluated by Estrin's scheme (a shorter dependency chain than Horner's); s = 2^k built in the
 * exponent bits (k ≥ -126: normal). */
static inline __attribute__((always_inline)) void VARIANT(exp_core2)(float y, float *q, float *s, float *zp) {
    const float magic = 12582912.0f; /* 1.5·2^23 */
    float km = y * 1.44269504088896341f + magic;
    uint32_t kb = actlab_fbits(km);
    float k = km - magic;
    float r = (y - k * 0.693359375f) - k * -2.12194440e-4f;
    float z = r * r;
    float p01 = 0.5000000044139323f + 0.16666666370619523f * r;
    float p23 = 0.04166636102972401f + 0.008333389349239446f * r;
    float p45 = 0.001394061734664237f + 0.00019845876284554472f * r;
    float p = (p01 + z * p23) + (z * z) * p45;
    *zp = z * p;
    *q = r + *zp;
    *s = actlab_ffrom((kb + (uint32_t)(127 - 0x4B400000)) << 23); /* (k + 127) << 23 */
}

/* 2^k for the rounded k of exp_core2's 1.5·2^23 trick, from the bits of y·log2 e + 1.5·2^23 */
#define EXP_SCALE(km) actlab_ffrom((actlab_fbits(km) + (uint32_t)(127 - 0x4B400000)) << 23)

/* e^r - 1 - r over r² for |r| ≤ ln2/2, degree 4, fitted to e^r (relative error of e^r 3e-9) */
static inline __attribute__((always_inline)) float VARIANT(exp_p4)(float r, float z) {
    float p01 = 0.49999993451472624f + 0.16666520687563108f * r;
    float p23 = 0.04166838740854697f + 0.00836871003530828f * r;
    return (p01 + z * p23) + (z * z) * 0.0013814611001066852f;
}

/* e^y for y in [-87, 88] (callers clamp where k could leave [-126, 127]), relative error ≤ 1 ULP:
 * exp_core2's reduction with the degree-4 polynomial (the e^r - 1 accuracy near 0 is not needed). */
static inline __attribute__((always_inline)) float VARIANT(exp_mid)(float y) {
    const float magic = 12582912.0f;
    float km = y * 1.44269504088896341f + magic;
    float k = km - magic;
    float r = (y - k * 0.693359375f) - k * -2.12194440e-4f;
    float z = r * r;
    return EXP_SCALE(km) * (1.0f + (r + z * VARIANT(exp_p4)(r, z)));
}

/* e^y for y in [-87, 0] to ~2^-22 relative, for derivatives (whose unit is floored at 2^-24): one
 * constant for ln 2 (k·ln 2 rounds, an error that matters only where e^y is small). */
static inline __attribute__((always_inline)) float VARIANT(exp_fast)(float y) {
    const float magic = 12582912.0f;
    float km = y * 1.44269504088896341f + magic;
    float k = km - magic;
    float r = y - k * 0.693147182f;
    float z = r * r;
    return EXP_SCALE(km) * (1.0f + (r + z * VARIANT(exp_p4)(r, z)));
}

/* e^y - 1 for y in [-20, 0]: s·q + (s - 1), s - 1 exact; below -17.4 it is -1 in fp32 anyway */
static inline __attribute__((always_inline)) float VARIANT(expm1_neg)(float y) {
    float q, s, zp;
    VARIANT(exp_core2)(y, &q, &s, &zp);
    return s * q + (s - 1.0f);
}

/* tanh(a) for a ≥ 0 (or NaN), ≤ 1.21 ULP over every fp32 input: below 0.9 the odd minimax polynomial
 * a + a³·Q(a²) (Q fitted to (tanh a - a)/a³ on [0, 0.81], 5e-9 absolute); above it 1 - 2E/(1 + E) with
 * E = e^-2a (the subtracted part is at most 0.28, so its roundings shrink). Past 10 tanh is 1. */
static inline __attribute__((always_inline)) float VARIANT(tanh_pos)(float a) {
    float ac = actlab_self(a > 10.0f, 10.0f, a);
    float e = VARIANT(exp_mid)(-2.0f * ac);
    float w = 2.0f * e / (1.0f + e);
    float u = a * a, u2 = u * u, u4 = u2 * u2; /* Estrin's scheme: a short dependency chain */
    float c01 = -3.333333281973968e-1f + 1.333326845835106e-1f * u;
    float c23 = -5.395483477314062e-2f + 2.1764359063449625e-2f * u;
    float c45 = -8.462602489730612e-3f + 2.7719449883847696e-3f * u;
    float c = (c01 + u2 * c23) + u4 * (c45 + u2 * -5.256152571886426e-4f);
    float tp = a + (a * u) * c;
    return actlab_self(a < 0.9f, tp, 1.0f - w);
}

/* tanh(a) for a ≥ 0, absolute error ~2^-24 (enough for derivatives, whose unit is floored at 2^-24):
 * (1 - E)/(1 + E), E = e^-2a; below 2^-12 (where 1 - E would lose a, even to 0) tanh a = a. */
static inline __attribute__((always_inline)) float VARIANT(tanh_abs)(float a) {
    float ac = actlab_self(a > 10.0f, 10.0f, a);
    float e = VARIANT(exp_fast)(-2.0f * ac);
    return actlab_self(a < 0x1p-12f, a, (1.0f - e) / (1.0f + e));
}

/* ---- sigmoid ----------------------------------------------------------------------------------- */

/* σ(x) = 1/(1 + e^-x), e^-x by exp_mid: ≤ 2.5 ULP over every fp32 input (1.5 for x ≥ 0). e^-x is
 * clamped at e^-87 on the right (σ = 1 there); left of -80 (results near or under the subnormal range,
 * and e^-x overflowing) the exact fp64 formula, for chunks whose minimum is there. */
#define SIGMOID_LOW -80.0f

static void VARIANT(sigmoid_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    ACTLAB_FOR_CHUNKS(n, s, e) {
        float lowest = INFINITY;
#pragma omp simd reduction(min : lowest)
        for (long i = s; i < e; i++) {
            float v = x[i];
            y[i] = 1.0f / (1.0f + VARIANT(exp_mid)(actlab_self(v > 87.0f, -87.0f, -v)));
            lowest = v < lowest ? v : lowest;
        }
        if (lowest < SIGMOID_LOW)
            for (long i = s; i < e; i++)
                if (x[i] < SIGMOID_LOW) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i]))); /* -inf: 0 */
    }
}

/* σ' = y·(1 - y) */
static void VARIANT(sigmoid_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                      long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * (y[i] * (1.0f - y[i]));
}

/* ---- tanh -------------------------------------------------------------------------------------- */

static void VARIANT(tanh_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) /* tanh_pos ≥ 0: the sign of x is or-ed in */
        y[i] = actlab_ffrom(actlab_fbits(VARIANT(tanh_pos)(fabsf(x[i]))) |
                                  (actlab_fbits(x[i]) & 0x80000000u));
}

/* tanh' = 1 - y² = (1 - y)(1 + y) (no cancellation as |y| → 1) */
static void VARIANT(tanh_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                   long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * ((1.0f - y[i]) * (1.0f + y[i]));
}

/* ---- elu, selu, celu --------------------------------------------------------------------------- */

/* A double constant as fp32 hi + lo (hi rounded toward zero, so that lo has the same sign and
 * hi·inf + lo·inf is inf): c·v = hi·v + lo·v to ~1 ULP (one rounding of hi·v, one of the sum), and
 * y + c as (y + hi) + lo to the same, where y + c cancels. */
static inline float VARIANT(exp_hi)(double c) { /* c rounded toward 0: lo has c's sign, ±inf·c stays inf */
    float f = (float)c;
    return fabs((double)f) > fabs(c) ? nextafterf(f, 0.0f) : f;
}
#define EXP_HI(c) VARIANT(exp_hi)(c)
#define EXP_LO(c) ((float)((c) - (double)VARIANT(exp_hi)(c)))

/* elu(x) = x for x > 0, α·(e^x - 1) below (e^x - 1 clamped at -20, where it is -1 in fp32) */
static void VARIANT(elu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const float hi = EXP_HI(p[0]), lo = EXP_LO(p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float m = VARIANT(expm1_neg)(actlab_self(v > 0.0f, 0.0f, actlab_self(v < -20.0f, -20.0f, v)));
        y[i] = actlab_self(v > 0.0f, v, hi * m + lo * m);
    }
}

/* elu' = 1 for y > 0, y + α below */
static void VARIANT(elu_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                  long n, const double *p) {
    const float hi = EXP_HI(p[0]), lo = EXP_LO(p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_self(y[i] > 0.0f, 1.0f, (y[i] + hi) + lo);
}

/* Klambauer et al.'s constants as the catalogue has them (rectifiers.py SELU_ALPHA, SELU_SCALE) */
#define SELU_SCALE_D 1.0507009873554804934193349852946
#define SELU_ALPHA_D 1.6732632423543772848170429916717
#define SELU_SA_D (SELU_SCALE_D * SELU_ALPHA_D)

/* selu(x) = λ·x for x > 0, λα·(e^x - 1) below */
static void VARIANT(selu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    const float l_hi = EXP_HI(SELU_SCALE_D), l_lo = EXP_LO(SELU_SCALE_D);
    const float la_hi = EXP_HI(SELU_SA_D), la_lo = EXP_LO(SELU_SA_D);
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        int pos = v > 0.0f;
        float m = VARIANT(expm1_neg)(actlab_self(pos, 0.0f, actlab_self(v < -20.0f, -20.0f, v)));
        float f = actlab_self(pos, v, m);
        y[i] = actlab_self(pos, l_hi, la_hi) * f + actlab_self(pos, l_lo, la_lo) * f;
    }
}

/* selu' = λ for y > 0, y + λα below */
static void VARIANT(selu_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                   long n, const double *p) {
    (void)p;
    const float l = EXP_HI(SELU_SCALE_D), hi = EXP_HI(SELU_SA_D), lo = EXP_LO(SELU_SA_D);
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_self(y[i] > 0.0f, l, (y[i] + hi) + lo);
}

/* celu(x) = x for x > 0, α·(e^(x/α) - 1) below, t = x/α = x·(1/α) with 1/α as hi + lo (≤ 1 ULP; the
 * condition number of e^t - 1 is below 0.84 for t ≤ -ln2/2). Above -ln2/2 (k = 0 in exp_core2:
 * e^t - 1 = t + t²·P(t)) the rounding of t would pass through whole, so there
 * α·(e^t - 1) = α·t + α·t²·P(t) is formed as x + α·(t²·P(t)): x is exact and the correction is at most
 * a fifth of the result. That also covers a tiny t, even one that underflows (the correction is 0).
 * -inf is clamped to -FLT_MAX first (t is then -inf or below -20 either way). */
static void VARIANT(celu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    const float hi = EXP_HI(p[0]), lo = EXP_LO(p[0]);
    const float ihi = EXP_HI(1.0 / p[0]), ilo = EXP_LO(1.0 / p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float vc = actlab_self(v < -3.40282347e38f, -3.40282347e38f, v); /* -inf·lo would be NaN for lo = 0 */
        float t = ihi * vc + ilo * vc;
        float q, sc, zp;
        VARIANT(exp_core2)(actlab_self(t > 0.0f, 0.0f, actlab_self(t < -20.0f, -20.0f, t)), &q, &sc, &zp);
        float m = sc * q + (sc - 1.0f);
        float neg = actlab_self(sc == 1.0f, v + hi * zp, hi * m + lo * m);
        y[i] = actlab_self(v > 0.0f, v, neg);
    }
}

/* celu' = 1 for y > 0, y/α + 1 = (y + α)/α below (y + α as in elu: 0 exactly where y = -α only) */
static void VARIANT(celu_backward)(const float *restrict g, const float *restrict y, float *restrict out,
                                   long n, const double *p) {
    const float hi = EXP_HI(p[0]), lo = EXP_LO(p[0]), inv = (float)(1.0 / p[0]);
#pragma omp simd
    for (long i = 0; i < n; i++) out[i] = g[i] * actlab_self(y[i] > 0.0f, 1.0f, ((y[i] + hi) + lo) * inv);
}

/* ---- tanhshrink -------------------------------------------------------------------------------- */

/* x - tanh x. Below |x| = 1 the difference cancels (x³/3 at 0): a³·(1/3 + u·R(u)), u = a², with R a
 * degree-7 minimax fit of ((a - tanh a)/a³ - 1/3)/u on [0, 1] (6e-10 absolute) evaluated in fp32 and
 * the rest in fp64 (a³ exact). From 1 on (a - 1) + 2E/(1 + E), E = e^-2a: both terms ≥ 0. ≤ 2.2 ULP
 * over every fp32 input. */
static void VARIANT(tanhshrink_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float a = fabsf(v);
        /* |x| < 1 */
        float as = actlab_self(a < 1.0f, a, 0.0f);
        float u = as * as;
        float c = 5.8714162385577675e-05f;
        c = c * u - 3.772376145991435e-04f;
        c = c * u + 1.303748497516889e-03f;
        c = c * u - 3.527893051283492e-03f;
        c = c * u + 8.848031880817949e-03f;
        c = c * u - 2.1867692297905722e-02f;
        c = c * u + 5.3968172467246486e-02f;
        c = c * u - 1.3333333272512438e-01f;
        double ad = (double)as, ud = ad * ad;
        float small = (float)((ad * ud) * (0.33333333333333333 + ud * (double)c));
        /* |x| ≥ 1 */
        float ex = VARIANT(exp_mid)(-2.0f * actlab_self(a > 40.0f, 40.0f, a));
        float big = (a - 1.0f) + 2.0f * ex / (1.0f + ex);
        y[i] = actlab_ffrom(actlab_fbits(actlab_self(a < 1.0f, small, big)) | /* both ≥ 0 */
                            (actlab_fbits(v) & 0x80000000u));
    }
}

/* tanhshrink' = tanh² x (≤ 3.5 units over every fp32 input), applied as (g·t)·t: t² underflows for
 * |x| < 2^-75, where g = ±inf must still give ±inf as in the reference (0 only at x = 0) */
static void VARIANT(tanhshrink_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                         long n, const double *p) {
    (void)p;
#pragma omp simd
    for (long i = 0; i < n; i++) {
        float t = VARIANT(tanh_abs)(fabsf(x[i]));
        out[i] = (g[i] * t) * t;
    }
}

/* ---- lisht ------------------------------------------------------------------------------------- */

#include "stages.h"

/* Both directions run in stages over chunks (stages.h) with stack buffers in between: the reduction for
 * e^-2a, its polynomial, the rest. Measured on 2^20 elements, one thread: forward 0.98 -> 0.80 ns per
 * element, backward 0.80 -> 0.60, against the single loop over interleaved pairs (i, i + n/2) before. */

/* lisht(x) = a·tanh a, a = |x|, from e^-2a = s·(1 + q) (s = 2^k, q = e^r - 1, r = rh - rl as in exp_core2,
 * rh = t - k·C1 exact, with exp_p4): m = 1 - e^-2a = (1 - s) - s·q and D = 1 + e^-2a = 2 - m, tanh a =
 * m/D. 1 - s and s·q are exact, so m keeps its relative accuracy as a → 0 and one formula serves every
 * a (no polynomial branch). The roundings of q = rh + w, m and D are recovered by Fast2Sum (exactly:
 * |1 - s| ≥ |s·q| or 1 - s = 0, 2 ≥ m, and |rh| ≥ |w| except for r near 0 with k ≠ 0, where q's
 * error term is ~2^-48·q beside 1 - s ≥ 1/2) and corrected to first order: m/D = T0 + (ml -
 * T0·dl)/D with T0 = fl(m̃/D̃), m = m̃ + ml, D = D̃ + dl, and 1/D = (1 + m/D)/2; only the roundings of
 * T0, of the sum and of a·T remain (≤ 2.4 ULP over every fp32 input, ≤ 2 steps from the reference
 * rounded once; without the corrections 3.3).
 * a is clamped at 10 (tanh = 1 in fp32 from 9.01; k ≥ -29 keeps s normal), where the quotient is
 * exactly 1, so a·1 = a up to ±inf. NaN propagates. */
static void VARIANT(lisht_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    float kb[ACTLAB_STAGE_CHUNK], hb[ACTLAB_STAGE_CHUNK], lb[ACTLAB_STAGE_CHUNK];
    ACTLAB_FOR_STAGE_CHUNKS(n, s, e) {
#pragma omp simd
        for (long i = s; i < e; i++) { /* t = -2a = k·ln2 + rh - rl */
            float t = -2.0f * actlab_self(fabsf(x[i]) > 10.0f, 10.0f, fabsf(x[i]));
            float km = t * 1.44269504088896341f + 12582912.0f;
            float k = km - 12582912.0f;
            kb[i - s] = km;
            hb[i - s] = t - k * 0.693359375f;
            lb[i - s] = k * -2.12194440e-4f;
        }
#pragma omp simd
        for (long i = s; i < e; i++) { /* q = rh + w and its rounding */
            float rh = hb[i - s], rl = lb[i - s];
            float r = rh - rl, z = r * r;
            float w = z * VARIANT(exp_p4)(r, z) - rl;
            float q = rh + w;
            hb[i - s] = q;
            lb[i - s] = (rh - q) + w;
        }
#pragma omp simd
        for (long i = s; i < e; i++) {
            float q = hb[i - s], qe = lb[i - s], sc = EXP_SCALE(kb[i - s]);
            float hi = 1.0f - sc, sq = sc * q;
            float m = hi - sq, ml = ((hi - m) - sq) - sc * qe;
            float d = 2.0f - m, dl = ((2.0f - d) - m) - ml;
            float t0 = m / d;
            y[i] = fabsf(x[i]) * (t0 + (ml - t0 * dl) * (0.5f + 0.5f * t0));
        }
    }
}

/* lisht' = tanh x + x·sech² x, odd: with a = |x|, E = e^-2a and D = 1/(1 + E), tanh a = (1 - E)·D and
 * sech² a = 4E·D², so lisht'(a) = (1 - E)·D + 4a·E·D²: no cancellation, absolute error ~2^-24 below 1
 * and relative above (the catalogue's units; ≤ 3.7 units over every fp32 input). E by exp_fast's
 * formula. Past a = 40, E ~ 1e-35 and the result is 1 (±inf: ±1). The sign of x is xor-ed into
 * g·lisht'(a). The first stage keeps 4a (clamped) for the last. */
static void VARIANT(lisht_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                    long n, const double *p) {
    (void)p;
    float kb[ACTLAB_STAGE_CHUNK], rb[ACTLAB_STAGE_CHUNK], ab[ACTLAB_STAGE_CHUNK];
    ACTLAB_FOR_STAGE_CHUNKS(n, s, e) {
#pragma omp simd
        for (long i = s; i < e; i++) {
            float a = actlab_self(fabsf(x[i]) > 40.0f, 40.0f, fabsf(x[i]));
            float km = -2.0f * a * 1.44269504088896341f + 12582912.0f;
            float k = km - 12582912.0f;
            kb[i - s] = km;
            ab[i - s] = 4.0f * a;
            rb[i - s] = -2.0f * a - k * 0.693147182f;
        }
#pragma omp simd
        for (long i = s; i < e; i++) {
            float r = rb[i - s], z = r * r;
            rb[i - s] = EXP_SCALE(kb[i - s]) * (1.0f + (r + z * VARIANT(exp_p4)(r, z)));
        }
#pragma omp simd
        for (long i = s; i < e; i++) {
            float E = rb[i - s];
            float d = 1.0f / (1.0f + E);
            float f = (1.0f - E) * d + (ab[i - s] * E) * (d * d);
            out[i] = actlab_ffrom(actlab_fbits(g[i] * f) ^ (actlab_fbits(x[i]) & 0x80000000u));
        }
    }
}

static const actlab_op VARIANT(ops_exp)[] = {
    {"sigmoid", "output", VARIANT(sigmoid_forward), VARIANT(sigmoid_backward)},
    {"tanh", "output", VARIANT(tanh_forward), VARIANT(tanh_backward)},
    {"elu", "output", VARIANT(elu_forward), VARIANT(elu_backward)},
    {"selu", "output", VARIANT(selu_forward), VARIANT(selu_backward)},
    {"celu", "output", VARIANT(celu_forward), VARIANT(celu_backward)},
    {"tanhshrink", "input", VARIANT(tanhshrink_forward), VARIANT(tanhshrink_backward)},
    {"lisht", "input", VARIANT(lisht_forward), VARIANT(lisht_backward)},
    {NULL, NULL, NULL, NULL},
};

#undef EXP_SCALE
#undef EXP_HI
#undef EXP_LO
#undef SIGMOID_LOW
#undef SELU_SCALE_D
#undef SELU_ALPHA_D
#undef SELU_SA_D
