/* Piecewise-linear entries: forward and backward are exact (bit for bit the reference's), with the
 * reference's conventions: the slope at a kink is the Spec's, a NaN input gets 0·g, and g·0 is NaN for
 * an infinite upstream gradient (IEEE multiplication, not selection). */

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

static const actlab_op VARIANT(ops_pwl)[] = {
    {"relu", "output", VARIANT(relu_forward), VARIANT(relu_backward)},
    {NULL, NULL, NULL, NULL},
};
