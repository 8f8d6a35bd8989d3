/* Smooth entries built on exp/log1p/tanh: fp32 formulas where a test proves them within bounds, the
 * exact fp64 formula (scalar libm, rounded once) for flagged elements. */

/* silu(x) = x·σ(x) = x / (1 + e^-x). In fp32 e^-x overflows below -88.7 (the result is still normal
 * there): those elements, and a margin, take x·e^x in fp64. */
#define SILU_LOW -80.0f

static void VARIANT(silu_forward)(const float *restrict x, float *restrict y, long n, const double *p) {
    (void)p;
    ACTLAB_FOR_CHUNKS(n, s, e) {
        int flagged = 0;
#pragma omp simd reduction(| : flagged)
        for (long i = s; i < e; i++) {
            float v = x[i];
            y[i] = v / (1.0f + expf(-v));
            flagged |= v < SILU_LOW;
        }
        if (flagged)
            for (long i = s; i < e; i++)
                if (x[i] < SILU_LOW) {
                    double v = x[i];
                    y[i] = v == -INFINITY ? -0.0f : (float)(v * exp(v)); /* silu(-inf) = -0 as the reference */
                }
    }
}

/* silu'(x) = σ(x) + x·σ(x)·σ(-x) = σ(x)·(1 + x·σ(-x)): both sigmoids from one e = e^-|x| (no 1 - σ
 * cancellation for large x). ±inf: the reference's limits 0 and 1. */
static void VARIANT(silu_backward)(const float *restrict g, const float *restrict x, float *restrict out,
                                   long n, const double *p) {
    (void)p;
    ACTLAB_FOR_CHUNKS(n, s, e) {
        int flagged = 0;
#pragma omp simd reduction(| : flagged)
        for (long i = s; i < e; i++) {
            float v = x[i];
            float t = expf(-fabsf(v));
            float r = 1.0f / (1.0f + t);
            float big = r, small = t * r; /* σ(|x|), σ(-|x|) */
            float sp = v >= 0.0f ? big : small, sn = v >= 0.0f ? small : big;
            out[i] = g[i] * (sp * (1.0f + v * sn));
            flagged |= !(fabsf(v) < INFINITY);
        }
        if (flagged)
            for (long i = s; i < e; i++)
                if (!(fabsf(x[i]) < INFINITY)) out[i] = g[i] * (x[i] != x[i] ? x[i] : (x[i] > 0 ? 1.0f : 0.0f));
    }
}

static const actlab_op VARIANT(ops_smooth)[] = {
    {"silu", "input", VARIANT(silu_forward), VARIANT(silu_backward)},
    {NULL, NULL, NULL, NULL},
};
