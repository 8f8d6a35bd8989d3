"""Special facts of the smooth and periodic families, each derived independently of the implementation
(closed forms, mpmath root-finding on the defining formula, limits), not copied from it."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch

import actlab
import actlab.catalog
from actlab.functional import apply
from tests.catalog.harness import FORWARD_ULPS, mp_params, ulp_of

F64 = torch.float64


def f64(name, x, **params):
    return apply(name, torch.as_tensor(x, dtype=F64), **params)


def mp_minimum(fn, guess):
    """(argmin, min) of a smooth function from mpmath root-finding on its numerical derivative."""
    x0 = mp.findroot(lambda t: mp.diff(fn, t), guess)
    return x0, fn(x0)


def grid_minimum(name, lo, hi, **params):
    x = torch.linspace(lo, hi, 200001, dtype=F64)
    y = f64(name, x, **params)
    i = int(torch.argmin(y))
    return float(x[i]), float(y[i])


# ----------------------------------------------------------------------------------------------------
# minima of the self-gated functions
# ----------------------------------------------------------------------------------------------------
def test_gelu_minimum_is_minus_0_16997_at_minus_0_75179():
    x_min, y_min = grid_minimum("gelu", -1.5, 0.0)
    assert x_min == pytest.approx(-0.75179, abs=2e-5)
    assert y_min == pytest.approx(-0.16997, abs=5e-6)
    # the declared lower end of the output range is that minimum, to 1e-12
    x0, y0 = mp_minimum(lambda t: t * mp.ncdf(t), -0.75)
    assert float(x0) == pytest.approx(-0.75179152469, abs=1e-10)
    assert actlab.spec("gelu").properties.output_range[0] == pytest.approx(float(y0), abs=1e-12)


def test_silu_minimum_is_minus_lambert_w_of_1_over_e():
    # f'(x*) = 0  <=>  x* = -1 - W(1/e), and then f(x*) = -W(1/e)  (closed form)
    w = mp.lambertw(1 / mp.e).real
    assert float(w) == pytest.approx(0.278465, abs=1e-6)
    x_min, y_min = grid_minimum("silu", -3.0, 0.0)
    assert x_min == pytest.approx(-1.278466, abs=2e-5)
    assert y_min == pytest.approx(-0.278465, abs=1e-6)
    assert actlab.spec("silu").properties.output_range[0] == pytest.approx(-float(w), abs=1e-12)
    # and the value at the exact argmin agrees to fp64 rounding
    assert float(f64("silu", [float(-1 - w)])[0]) == pytest.approx(-float(w), rel=1e-15)


@pytest.mark.parametrize(
    ("name", "fn", "guess"),
    [
        ("mish", lambda t: t * mp.tanh(mp.log1p(mp.exp(t))), -1.2),
        ("quick_gelu", lambda t: t / (1 + mp.exp(-mp.mpf("1.702") * t)), -0.75),
        ("serf", lambda t: t * mp.erf(mp.log1p(mp.exp(t))), -1.2),
        ("tanh_exp", lambda t: t * mp.tanh(mp.exp(t)), -1.1),
    ],
)
def test_declared_minimum_is_the_true_minimum(name, fn, guess):
    x0, y0 = mp_minimum(fn, guess)
    assert actlab.spec(name).properties.output_range[0] == pytest.approx(float(y0), abs=1e-12)
    x_min, y_min = grid_minimum(name, -4.0, 0.0)
    assert x_min == pytest.approx(float(x0), abs=5e-5)
    assert y_min == pytest.approx(float(y0), abs=1e-9)


# ----------------------------------------------------------------------------------------------------
# GELU and its approximations
# ----------------------------------------------------------------------------------------------------
def test_tanh_gelu_is_close_to_exact_gelu():
    x = torch.linspace(-10, 10, 200001, dtype=F64)
    diff = (f64("gelu", x, approximate="tanh") - f64("gelu", x)).abs().max().item()
    assert diff < 5e-4
    assert diff > 1e-4  # it is an approximation, not the same function


def test_tanh_gelu_matches_torch_tanh_gelu_in_float64():
    x = torch.linspace(-8, 8, 4001, dtype=F64)
    expected = torch.nn.functional.gelu(x, approximate="tanh")
    torch.testing.assert_close(f64("gelu", x, approximate="tanh"), expected, rtol=1e-12, atol=1e-15)


def test_quick_gelu_approximates_gelu_within_0_021():
    x = torch.linspace(-10, 10, 200001, dtype=F64)
    assert (f64("quick_gelu", x) - f64("gelu", x)).abs().max().item() < 0.021
    assert actlab.spec("quick_gelu").approximates == "gelu"


def test_gelu_left_tail_keeps_relative_accuracy_in_fp32():
    # where 1 + erf(x/√2) has cancelled completely in fp32 the true value is still a normal float
    x = torch.tensor([-5.0, -6.0, -8.0, -10.0, -12.0, -13.0], dtype=torch.float32)
    y = apply("gelu", x)
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        true = mp.mpf(xi) * mp.ncdf(xi)
        assert abs(mp.mpf(yi) - true) <= FORWARD_ULPS * ulp_of(true), (xi, yi, float(true))


# ----------------------------------------------------------------------------------------------------
# softplus, squareplus, and their limits
# ----------------------------------------------------------------------------------------------------
def test_softplus_approaches_relu_as_beta_grows():
    x = torch.linspace(-5, 5, 10001, dtype=F64)
    relu = x.clamp(min=0)
    for beta in (1.0, 10.0, 1e3, 1e6):
        gap = (f64("softplus", x, beta=beta) - relu).abs().max().item()
        # the largest gap is at x = 0: ln 2 / β
        assert gap == pytest.approx(math.log(2) / beta, rel=1e-9)


def test_softplus_threshold_never_changes_the_value():
    x = torch.linspace(-30, 30, 6001, dtype=F64)
    base = f64("softplus", x, beta=3.0)
    for threshold in (0.0, 0.4, 5.0, 1e9, -1.0):
        torch.testing.assert_close(f64("softplus", x, beta=3.0, threshold=threshold), base, rtol=0, atol=0)


def test_squareplus_with_b_zero_is_relu():
    x = torch.randn(10000, generator=torch.Generator().manual_seed(0), dtype=torch.float32) * 100
    x = torch.cat([x, torch.tensor([0.0, -0.0, 1e-30, -1e-30, 3e38, -3e38])])
    torch.testing.assert_close(apply("squareplus", x, b=0.0), x.clamp(min=0), rtol=0, atol=0)
    xg = x.clone().requires_grad_(True)
    apply("squareplus", xg, b=0.0).sum().backward()
    assert torch.equal(xg.grad[x > 0], torch.ones_like(x[x > 0]))
    assert torch.equal(xg.grad[x < 0], torch.zeros_like(x[x < 0]))


def test_squareplus_left_tail_is_b_over_4x():
    # (x + √(x² + b))/2 ≈ b / (4|x|) for x → -∞; the direct formula would return 0 in fp32
    x = torch.tensor([-1e4, -1e10, -1e20, -1e30], dtype=torch.float32)
    y = apply("squareplus", x).double()
    torch.testing.assert_close(y, 4 / (4 * x.double().abs()), rtol=1e-6, atol=0)


def test_elliott_is_softsign_rescaled_to_unit_interval():
    x = torch.linspace(-50, 50, 10001, dtype=F64)
    torch.testing.assert_close(f64("elliott", x), (f64("softsign", x) + 1) / 2, rtol=1e-15, atol=1e-16)


def test_log_sigmoid_is_log_of_sigmoid_without_underflow():
    x = torch.tensor([-800.0, -50.0, 0.0, 50.0, 800.0], dtype=F64)
    y = f64("log_sigmoid", x)
    assert y[0].item() == pytest.approx(-800.0, rel=1e-15)  # log(σ(-800)) is not -inf
    assert y[-1].item() == pytest.approx(-math.exp(-800.0), rel=1e-12)  # nor 0
    assert y[2].item() == pytest.approx(-math.log(2), rel=1e-15)


def test_bent_identity_slopes_are_one_half_and_three_halves():
    d = actlab.derivative("bent_identity", torch.tensor([-1e8, 0.0, 1e8], dtype=F64))
    torch.testing.assert_close(d, torch.tensor([0.5, 1.0, 1.5], dtype=F64), rtol=1e-12, atol=0)


@pytest.mark.parametrize("alpha", [0.25, 1.0, 4.0])
def test_isru_saturates_at_one_over_sqrt_alpha(alpha):
    y = f64("isru", [-1e12, 1e12], alpha=alpha)
    torch.testing.assert_close(y, torch.tensor([-1, 1], dtype=F64) / math.sqrt(alpha), rtol=1e-12, atol=0)


def test_tanhshrink_series_and_direct_formula_meet_at_the_cut():
    # fp32 neighbours on both sides of |x| = 1/16 and of the series' accuracy limits
    cut = np.float32(0.0625)
    around = [np.nextafter(cut, np.float32(0)), cut, np.nextafter(cut, np.float32(1))]
    x = torch.tensor([*around, *(-v for v in around), 1e-3, 1e-20], dtype=torch.float32)
    y = apply("tanhshrink", x)
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        true = mp.mpf(xi) - mp.tanh(xi)
        assert abs(mp.mpf(yi) - true) <= FORWARD_ULPS * ulp_of(true), (xi, yi, float(true))


def test_exponential_overflows_only_where_the_truth_does():
    ln_max = math.log(float(torch.finfo(torch.float32).max))  # 88.72
    below = torch.tensor([np.nextafter(np.float32(ln_max), np.float32(0))], dtype=torch.float32)
    assert torch.isfinite(apply("exponential", below)).all()
    assert torch.isinf(apply("exponential", torch.tensor([89.0]))).all()


# ----------------------------------------------------------------------------------------------------
# periodic family
# ----------------------------------------------------------------------------------------------------
def test_sine_forms_the_product_exactly_at_huge_arguments():
    x = torch.tensor([1e10, 3e20, 1.7e38, -2.5e33], dtype=torch.float32)
    w0 = 0.1  # not a short binary fraction: w0·x rounds in float64
    y = apply("sine", x, w0=w0)
    naive = torch.sin(w0 * x.double())
    with mp.workprec(200):
        truth = [mp.sin(mp.mpf(w0) * mp.mpf(v)) for v in x.tolist()]
    for got, true in zip(y.tolist(), truth, strict=True):
        assert abs(mp.mpf(got) - true) <= FORWARD_ULPS * ulp_of(true)
    # the naive float64 evaluation has a wrong phase there: the correction is doing real work
    assert max(abs(float(n) - float(t)) for n, t in zip(naive.tolist(), truth, strict=True)) > 0.1


def test_sine_default_is_sin_and_w0_scales():
    x = torch.linspace(-7, 7, 1001, dtype=F64)
    torch.testing.assert_close(f64("sine", x), torch.sin(x), rtol=0, atol=0)
    # the naive float64 product 30·x rounds (up to 1.4e-14 rad here); actlab forms it exactly
    torch.testing.assert_close(f64("sine", x, w0=30.0), torch.sin(30.0 * x), rtol=0, atol=5e-14)
    torch.testing.assert_close(
        actlab.derivative("sine", x, w0=30.0), 30.0 * torch.cos(30.0 * x), atol=2e-12, rtol=0
    )


def test_gaussian_peak_and_inflection_points():
    assert f64("gaussian", [0.0]).item() == 1.0
    # f'' = (4x² - 2)e^{-x²} vanishes at ±1/√2: the derivative is extremal there
    x = torch.linspace(-3, 3, 600001, dtype=F64)
    d = actlab.derivative("gaussian", x)
    assert float(x[torch.argmax(d)]) == pytest.approx(-1 / math.sqrt(2), abs=1e-4)
    assert float(x[torch.argmin(d)]) == pytest.approx(1 / math.sqrt(2), abs=1e-4)


def test_gcu_crosses_zero_at_odd_multiples_of_half_pi():
    k = torch.arange(-5, 6, dtype=F64)
    x = (2 * k + 1) * math.pi / 2
    assert f64("gcu", x).abs().max().item() < 1e-13
    # and at those zeros its slope is -x·sin(x) = ±x: it grows with |x|
    torch.testing.assert_close(actlab.derivative("gcu", x).abs(), x.abs(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------------
# infinite inputs: the limits, not inf·0 = NaN (torch's gelu, silu, mish and softsign return NaN)
# ----------------------------------------------------------------------------------------------------
WITH_LIMITS = [
    s
    for s in actlab.catalog.all_specs()
    if s.family in ("smooth", "periodic") and s.name not in ("sine", "gcu")  # those two have no limit
]


@pytest.mark.parametrize("spec", WITH_LIMITS, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_infinite_inputs_give_the_limits(spec, dtype):
    x = torch.tensor([-math.inf, math.inf], dtype=dtype)
    far = [mp.mpf("-1e30"), mp.mpf("1e30")]
    mpp = mp_params(spec.defaults())

    def limit(ref):
        # the reference far out in each tail (|x| = 1e30): ±inf where it diverges
        out = []
        for t in far:
            v = ref(t, **mpp)
            out.append(math.copysign(math.inf, v) if abs(v) > 1e20 else float(v))
        return torch.tensor(out, dtype=F64)

    y = apply(spec.name, x).double()
    torch.testing.assert_close(y, limit(spec.mp_forward), rtol=0, atol=1e-6)
    xg = x.clone().requires_grad_(True)
    apply(spec.name, xg).backward(torch.ones_like(xg))
    expected = limit(spec.mp_derivative)
    torch.testing.assert_close(actlab.derivative(spec.name, x).double(), expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(xg.grad.double(), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["sine", "gcu"])
def test_periodic_functions_have_no_limit_at_infinity(name):
    assert torch.isnan(apply(name, torch.tensor([-math.inf, math.inf]))).all()


# ----------------------------------------------------------------------------------------------------
# half precision: a quarter of all finite fp16 and bf16 values (every binade, both signs)
# ----------------------------------------------------------------------------------------------------
HALF_CASES = [
    (s, p)
    for s in actlab.catalog.all_specs()
    if s.family in ("smooth", "periodic")
    for p in [s.defaults(), *({**s.defaults(), **e} for e in s.examples)][:2]
]
HALF_STRIDE = 4  # every fourth bit pattern: ~16k values per type, all binades, within the CI budget


def every_finite(dtype):
    bits = torch.arange(-32768, 32768, HALF_STRIDE, dtype=torch.int32).to(torch.int16)
    x = bits.view(dtype)
    return x[torch.isfinite(x)]


@pytest.mark.parametrize(("spec", "params"), HALF_CASES, ids=[f"{s.name}{p}" for s, p in HALF_CASES])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_half_values_are_within_one_ulp_of_the_float64_result(spec, params, dtype):
    # the float32 compute path of fp16/bf16 inputs (bf16 reaches 3.4e38, so float32 intermediates can
    # overflow or underflow) against the float64 path, itself checked against mpmath in fp32
    info = torch.finfo(dtype)
    x = every_finite(dtype)
    truth = apply(spec.name, x.double(), **params)
    normal = (truth.abs() >= info.tiny) & (truth.abs() <= info.max)
    ulp = torch.exp2(torch.floor(torch.log2(truth.abs().clamp(min=info.tiny)))) * info.eps
    got = apply(spec.name, x, **params).double()
    err = ((got - truth).abs() / ulp)[normal]
    assert err.max().item() <= 1.0, f"{spec.name}: {err.max().item():.1f} ULP at x={x[normal][err.argmax()]}"

    d_truth = actlab.derivative(spec.name, x.double(), **params)
    finite = d_truth.abs() <= info.max
    unit = (d_truth.abs() * info.eps).clamp(min=info.eps)
    xg = x.clone().requires_grad_(True)
    apply(spec.name, xg, **params).backward(torch.ones_like(xg))
    d_err = ((xg.grad.double() - d_truth).abs() / unit)[finite]
    assert d_err.max().item() <= 1.0, f"{spec.name}: backward off by {d_err.max().item():.1f} units"
