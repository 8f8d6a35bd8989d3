"""Extra proofs for the piecewise-linear C kernels (``csrc/ops_pwl.h``), in both instruction-set variants:
the fp32 shortcuts that stand in for the reference's fp64 products are bit-exact for every value they
serve, and each code path (fp32 slope, proven FMA slope, fp64 fallback, tiny-value recomputation) is
exercised, not only the defaults and the Spec's examples."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import _ckernels, ckernels  # test_ckernels asserts that the extension was built
from tests.kernels.conftest import ISAS
from tests.kernels.test_ckernels import every_fp32

HEADER = Path(ckernels.__file__).parent / "csrc" / "ops_pwl.h"


def fma_slopes() -> list[float]:
    """PWL_FMA_SLOPES as the header lists them (PWL_SIXTH is 1/6)."""
    text = HEADER.read_text()
    body = re.search(r"PWL_FMA_SLOPES\[\]\s*=\s*\{([^}]*)\}", text).group(1)
    return [1.0 / 6.0 if s.strip() == "PWL_SIXTH" else float(s) for s in body.split(",")]


def mantissas() -> torch.Tensor:
    """Every fp32 in [1, 2): with scaling by powers of two, every mantissa."""
    bits = torch.arange(0x3F800000, 0x40000000, dtype=torch.int64).to(torch.int32)
    return bits.view(torch.float32)


def same_bits(got: torch.Tensor, want: torch.Tensor) -> bool:
    return torch.equal(got.isnan(), want.isnan()) and torch.equal(got.nan_to_num(), want.nan_to_num())


def test_fma_slopes_are_listed_and_not_fp32():
    slopes = fma_slopes()
    assert 0.01 in slopes and 1.0 / 6.0 in slopes  # leaky_relu's default and hardsigmoid's slope
    for a in slopes:
        assert a > 0 and float(torch.tensor(a, dtype=torch.float32)) != a


@pytest.mark.parametrize("slope", fma_slopes())
def test_fma_slope_is_exact_for_every_mantissa(slope):
    """fmaf(v, ah, v·al) == fl32(fl64(v)·a) for every fp32 mantissa (leaky_relu forward and backward, in
    both variants); other binades follow by scaling, and a stride checks a few of them."""
    op = ckernels.ops()["leaky_relu"]
    p = {"negative_slope": slope}
    m = mantissas()
    v = torch.cat([-m, -(m[::61] * 2.0**-79), -(m[::61] * 2.0**100), m[::61] * 2.0**-3])
    want_fwd = torch.where(v > 0, v.double(), v.double() * slope).float()
    g = v.flip(0)
    want_bwd = (g.double() * slope).float()
    y = torch.full_like(g, -1.0)  # the x <= 0 side
    before = _ckernels.isa()
    try:
        for name in ISAS:
            _ckernels.set_isa(name)
            assert same_bits(op.forward(v, p), want_fwd), name
            assert same_bits(op.backward(g, y, p), want_bwd), name
    finally:
        _ckernels.set_isa(before)


def test_hardsigmoid_backward_slope_for_every_mantissa(isa):
    op = ckernels.ops()["hardsigmoid"]
    g = torch.cat([mantissas(), -mantissas() * 2.0**-60])
    got = op.backward(g, torch.full_like(g, 0.5), {})
    assert same_bits(got, (g.double() * (1.0 / 6.0)).float())


@pytest.mark.parametrize("slope", [0.0123, 0.7, 1.5, 0.25, 3.0, 1e-30])
def test_leaky_relu_other_slopes_bit_exact(slope, isa):
    """Slopes outside the FMA list: fp32 products (0.25, 3) and the fp64 paths (the rest)."""
    spec = actlab.spec("leaky_relu")
    op = ckernels.ops()["leaky_relu"]
    p = spec.bind(negative_slope=slope)
    x = every_fp32()
    y = op.forward(x, p)
    assert same_bits(y, autograd.evaluate(spec, x, p))
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    g[::7], g[1::7], g[2::11] = math.inf, -math.inf, math.nan
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, p).backward(g)
    assert same_bits(op.backward(g, y, p), xr.grad)


@pytest.mark.parametrize("name", ["leaky_relu", "hardsigmoid"])
def test_chunks_with_tiny_values_are_recomputed(name, isa):
    """A non-zero |v| < 2^-80 sends its chunk to fp64 (the FMA formula is proven only above it)."""
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    p = spec.bind()
    v = torch.randn(10_003, generator=torch.Generator().manual_seed(6))
    tiny = torch.tensor([1e-30, -3e-39, -1e-45, 2.0**-80 * 1.5, -(2.0**-81), 0.0, -0.0])
    v[3000 : 3000 + len(tiny)] = tiny
    v[9998:] = -tiny[:-2] * 7  # across the last vector and the scalar tail
    if name == "leaky_relu":
        assert same_bits(op.forward(v, p), torch.where(v > 0, v.double(), v.double() * 0.01).float())
        y = torch.full_like(v, -1.0)
        assert same_bits(op.backward(v, y, p), (v.double() * 0.01).float())
    else:
        y = torch.full_like(v, 0.5)
        assert same_bits(op.backward(v, y, p), (v.double() * (1.0 / 6.0)).float())


def test_hardsigmoid_forward_dense(isa):
    """fl32(fl64(x + 3)·fl64(1/6)) is the reference's fl32(fl64(x + 3)/6): every fp32 of [1/2, 1) (where
    (x + 3)/6 often lands exactly on a rounding tie), both signs, and a stride over all of |x| <= 3.5."""
    spec = actlab.spec("hardsigmoid")
    op = ckernels.ops()["hardsigmoid"]
    half = mantissas() / 2
    lo, hi = 0, int(torch.tensor(3.5).view(torch.int32))
    strided = torch.arange(lo, hi, 251, dtype=torch.int64).to(torch.int32).view(torch.float32)
    for x in (half, -half, strided, -strided):
        assert same_bits(op.forward(x, {}), autograd.evaluate(spec, x, {}))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("hardtanh", {"min_val": -0.1, "max_val": 0.7}),
        ("hardtanh", {"min_val": -1e-40, "max_val": 1e39}),
        ("threshold", {"threshold": 0.1, "value": -0.3}),
        ("threshold", {"threshold": -1e39, "value": 1e39}),
        ("hardshrink", {"lambd": 0.1}),
        ("softshrink", {"lambd": 2.5}),
        ("softshrink", {"lambd": 1e-3}),
        ("softshrink", {"lambd": 1e-40}),
    ],
)
def test_parameters_that_are_not_fp32_numbers(name, params, isa):
    """Comparisons against a double parameter decide as in fp64; rounded bounds and values, too."""
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    p = spec.bind(**params)
    x = every_fp32()
    y = op.forward(x, p)
    assert same_bits(y, autograd.evaluate(spec, x, p))
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    g[::7], g[1::7], g[2::11] = math.inf, -math.inf, math.nan
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, p).backward(g)
    assert same_bits(op.backward(g, y if op.saves == "output" else x, p), xr.grad)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1023, 1024, 1025, 4099])
@pytest.mark.parametrize("name", ["leaky_relu", "softshrink", "hardsigmoid", "hardswish", "sparse_plus"])
def test_every_length(name, n, isa):
    """Vector bodies, chunk ends and scalar tails agree with the reference at any length."""
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    p = spec.bind(**({"lambd": 0.3} if name == "softshrink" else {}))
    x = torch.randn(n, generator=torch.Generator().manual_seed(n)) * 4
    y = op.forward(x, p)
    ref = autograd.evaluate(spec, x, p)
    if name in ("hardswish", "sparse_plus"):
        torch.testing.assert_close(y, ref, rtol=4e-7, atol=1e-30)
    else:
        assert same_bits(y, ref)
