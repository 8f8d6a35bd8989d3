"""Extra checks of the smooth group's C kernels (csrc/ops_smooth.h): silu, softplus, log_sigmoid, mish,
tanh_exp.

These kernels compute e^x themselves (glibc's vector expf is up to 2.6 ULP off), so:
- both instruction-set variants give the same bits (no libmvec call is left in them);
- in the tails, where the result is e^x to first order, the forward stays well inside the catalogue's
  4 ULP (checked here at 2.5 ULP against the fp64 formula on dense log-spaced samples);
- softplus handles every β > 0, including the ones where β·|x| leaves fp32 (β far from 1), with the
  reference's non-finite values.
"""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import ckernels
from actlab.kernels.numerics import error_units
from tests.kernels.test_ckernels import every_fp32

_ckernels = pytest.importorskip("actlab.kernels._ckernels")

NAMES = ["silu", "softplus", "log_sigmoid", "mish", "tanh_exp"]
HAS_AVX2 = _ckernels.isa() == "avx2"


def _param_sets(name):
    spec = actlab.spec(name)
    return [spec.bind(), *(spec.bind(**e) for e in spec.examples)]


def _run(op, x, params):
    y = op.forward(x, params)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    d = op.backward(g, y if op.saves == "output" else x, params)
    return y, d


@pytest.mark.skipif(not HAS_AVX2, reason="needs both instruction-set variants")
@pytest.mark.parametrize("name", NAMES)
def test_both_isas_give_the_same_bits(name):
    op = ckernels.ops()[name]
    x = every_fp32()
    before = _ckernels.isa()
    try:
        for params in _param_sets(name):
            _ckernels.set_isa("baseline")
            base = _run(op, x, params)
            _ckernels.set_isa("avx2")
            avx2 = _run(op, x, params)
            for a, b in zip(base, avx2, strict=True):
                assert torch.equal(a.isnan(), b.isnan())
                assert torch.equal(a.nan_to_num(), b.nan_to_num())
    finally:
        _ckernels.set_isa(before)


def _log_spaced(lo: float, hi: float, n: int = 40001) -> torch.Tensor:
    """About 2n fp32 values in [lo, hi] (lo < 0 < hi): evenly spaced, plus log-spaced magnitudes over
    the 12 decades below max(|lo|, |hi|) (dense near 0 and in the tails)."""
    top = math.log10(max(abs(lo), abs(hi)))
    mags = torch.logspace(top - 12, top, n // 2, dtype=torch.float64)
    x = torch.cat([-mags[mags <= -lo], mags[mags <= hi], torch.linspace(lo, hi, n, dtype=torch.float64)])
    return x.to(torch.float32)


def _max_ulp(got: torch.Tensor, x: torch.Tensor, spec, params) -> tuple[float, float]:
    """Largest error in fp32 ULP of the true (fp64) value, over normal results."""
    true = spec.forward(x.double(), **{k: v for k, v in params.items()})
    normal = (true.abs() >= 2.0**-126) & (true.abs() <= 3.4028234663852886e38)
    _, e = torch.frexp(true.abs())
    ulp = torch.ldexp(torch.ones_like(true), e - 24)
    err = torch.where(normal, (got.double() - true).abs() / ulp, torch.zeros_like(true))
    i = int(err.argmax())
    return float(err[i]), float(x[i])


TAILS = [
    ("silu", {}, -100.0, 20.0),
    ("softplus", {"beta": 1.0}, -110.0, 30.0),
    ("softplus", {"beta": 10.0}, -12.0, 3.0),
    ("softplus", {"beta": 0.5}, -220.0, 60.0),
    ("softplus", {"beta": 1e-25}, -3e27, 3e27),
    ("softplus", {"beta": 1e25}, -1e-23, 1e-23),
    ("log_sigmoid", {}, -30.0, 110.0),
    ("mish", {}, -110.0, 30.0),
    ("tanh_exp", {}, -100.0, 4.0),
]


@pytest.mark.parametrize(("name", "extra", "lo", "hi"), TAILS, ids=[f"{t[0]}-{t[1]}" for t in TAILS])
def test_forward_within_2_5_ulp_in_the_tails(name, extra, lo, hi):
    spec = actlab.spec(name)
    params = spec.bind(**extra)
    x = _log_spaced(lo, hi)
    err, at = _max_ulp(ckernels.ops()[name].forward(x, params), x, spec, params)
    assert err <= 2.5, f"{name} {extra}: {err:.3f} ULP at x={at!r}"


@pytest.mark.parametrize("beta", [1e-35, 3e-20, 1e-25, 7.25, 1e25, 1e35])
def test_softplus_any_beta_within_bounds_of_the_reference(beta):
    """β below 1e-19 takes the flagged fp64 path for β·|x| ≥ 150; β outside [1e-30, 1e30] the fp64
    path of the backward."""
    spec = actlab.spec("softplus")
    params = spec.bind(beta=beta)
    op = ckernels.ops()["softplus"]
    x = every_fp32(stride=40009)
    y = op.forward(x, params)
    ref = autograd.evaluate(spec, x, params)
    err = error_units(y, ref, torch.float32)
    assert float(err.max()) <= 3, f"x={x[err.argmax()].item()!r} got {y[err.argmax()].item()!r}"
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, params).backward(torch.ones_like(x))
    err = error_units(op.backward(torch.ones_like(x), y, params), xr.grad, torch.float32)
    assert float(err.max()) <= 6, f"x={x[err.argmax()].item()!r}"


def test_tanh_exp_special_values_keep_the_references_bits(isa):
    """tanh_exp's fp32 tail adds a correction x·c to x·T0: at -0 that sum could lose the sign and at +inf
    it would be inf - inf. Zeros, infinities, NaN, the clamp at 2.5, the smallest subnormals and the fp64
    left tail give the reference's bits, signs of zeros included."""
    spec = actlab.spec("tanh_exp")
    x = torch.tensor(
        [0.0, -0.0, math.inf, -math.inf, math.nan, 2.6, 1e30, 3.4028235e38, 1e-45, -1e-45, -86.5, -90.0]
    )
    got, want = ckernels.ops()["tanh_exp"].forward(x, {}), autograd.evaluate(spec, x, {})
    assert torch.equal(got.isnan(), want.isnan())
    fin = ~want.isnan()
    assert torch.equal(got[fin], want[fin]), (got, want)
    assert torch.equal(torch.signbit(got[fin]), torch.signbit(want[fin]))
