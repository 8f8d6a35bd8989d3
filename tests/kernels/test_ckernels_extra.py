"""Extra checks of the kernels in csrc/ops_extra.h (sparse_sigmoid, elliott, smelu, isrlu, exponential,
gcu, sine, serf) beyond the shared proofs in test_ckernels.py (which also proves sparse_sigmoid bit for bit): parameter
values off the Spec's examples (isrlu's fp64 loops, smelu's accepted range), non-finite upstream
gradients, the flagged fp64 ranges (isrlu's far left tail, exponential's under- and overflow), every
length, serf's left tail, and the dispatcher path."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab.kernels import ckernels, cpu
from actlab.kernels.numerics import error_units
from tests.catalog.harness import FORWARD_ULPS
from tests.kernels.test_ckernels import every_fp32
from tests.kernels.test_ckernels_misc import (
    _id,
    _reference,
    assert_non_finite_like_the_reference,
    assert_within_bounds,
)
from tests.kernels.test_ckernels_pwl import same_bits

EXTRA = [
    ("smelu", {"beta": 1.5}),
    ("smelu", {"beta": 2.0**-30}),
    ("smelu", {"beta": 2.0**40}),
    ("isrlu", {"alpha": 0.0}),  # the identity, in the fp64 loop
    ("isrlu", {"alpha": 0.3}),  # not exact in fp32: fp64 loop
    ("isrlu", {"alpha": 2.0**-40}),
    ("isrlu", {"alpha": 2.0**40}),
    ("isrlu", {"alpha": 1e-60}),
    ("isrlu", {"alpha": 1e60}),
    ("sine", {"w0": 1.5}),  # fp64 loop: ω₀·x exact
    ("sine", {"w0": 2.0**-149}),
    ("sine", {"w0": 3.4028234663852886e38}),
]
DEFAULTS = [
    ("sparse_sigmoid", {}),
    ("elliott", {}),
    ("smelu", {}),
    ("smelu", {"beta": 0.5}),
    ("isrlu", {}),
    ("isrlu", {"alpha": 3.0}),
    ("exponential", {}),
    ("gcu", {}),
    ("sine", {}),
    ("sine", {"w0": 30.0}),
    ("serf", {}),
]


@pytest.mark.parametrize("case", EXTRA, ids=_id)
def test_other_parameters_within_bounds(case, isa):
    assert_within_bounds(case)


@pytest.mark.parametrize("case", DEFAULTS + EXTRA, ids=_id)
def test_non_finite_gradients_where_the_reference_has_them(case, isa):
    assert_non_finite_like_the_reference(case, signs=True)


def test_exponential_backward_is_bit_exact(isa):
    """g·y rounded once is the reference's fp64 product (from the same saved y) rounded once."""
    op = ckernels.ops()["exponential"]
    x = every_fp32(stride=16411)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(8)) * 1e20
    g[::7], g[1::11] = math.inf, math.nan
    y = op.forward(x, {})
    assert same_bits(op.backward(g, y, {}), (g.double() * y.double()).float())


@pytest.mark.parametrize(("name", "params"), [("exponential", {}), ("isrlu", {"alpha": 3.0}), ("serf", {})])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 255, 256, 257, 1023, 1024, 1025, 4099])
def test_every_length_with_flagged_elements(name, params, n, isa):
    """Vector bodies, chunk ends (1024 elements; serf's stages 256) and scalar tails, with elements of
    the fp64 ranges scattered over them (exponential beyond [-87, 88], isrlu's backward below -2^60/√α,
    serf's left-tail series and clamps)."""
    bound = actlab.spec(name).bind(**params)
    op = ckernels.ops()[name]
    x = torch.randn(n, generator=torch.Generator().manual_seed(n)) * 4
    special = torch.tensor([-100.0, 88.5, 89.0, -1e30, -math.inf, math.inf, -87.5, -103.5])
    x[::5] = special.repeat(n // 40 + 1)[: len(x[::5])]
    g = torch.randn(n, generator=torch.Generator().manual_seed(n + 1))
    ref, ref_grad = _reference(name, bound, x, g)
    y = op.forward(x, bound)
    got = op.backward(g, y if op.saves == "output" else x, bound)
    if n:
        assert float(error_units(y, ref, torch.float32).max()) <= 3
        assert float(error_units(got, ref_grad, torch.float32).max()) <= 6


def test_parameter_range():
    smelu, isrlu = ckernels.ops()["smelu"], ckernels.ops()["isrlu"]
    assert smelu.accepts({"beta": 2.0}) and smelu.accepts({"beta": 2.0**40})
    for beta in (0.1, 2.0**-31, 2.0**41, math.inf):  # 0.1: not an fp32 number
        assert not smelu.accepts({"beta": beta})
    assert isrlu.accepts({"alpha": 0.0}) and isrlu.accepts({"alpha": 1e300})
    assert not isrlu.accepts({"alpha": 1e301}) and not isrlu.accepts({"alpha": math.inf})
    sine = ckernels.ops()["sine"]
    assert sine.accepts({"w0": 1.0}) and sine.accepts({"w0": 30.0}) and sine.accepts({"w0": 2.0**-149})
    for w0 in (0.1, 2.0**-150, 1e39, math.inf, math.nan):  # 0.1: ω₀·x would not be exact in fp64
        assert not sine.accepts({"w0": w0})


@pytest.mark.parametrize("case", DEFAULTS + EXTRA[:1] + EXTRA[4:5], ids=_id)
def test_functional_apply_runs_the_kernel(case):
    name, params = case
    spec = actlab.spec(name)
    bound = spec.bind(**params)
    assert cpu.native_op(spec, torch.zeros(1), bound) is ckernels.ops()[name]
    x0 = torch.randn(64, 48, generator=torch.Generator().manual_seed(3)).t() * 5  # not contiguous
    g = torch.randn(x0.shape, generator=torch.Generator().manual_seed(4))
    x = x0.clone().requires_grad_()
    y = actlab.functional.apply(name, x, **params)
    y.backward(g)
    ref, ref_grad = _reference(name, bound, x0, g)
    assert float(error_units(y.detach(), ref, torch.float32).max()) <= 3
    assert float(error_units(x.grad, ref_grad, torch.float32).max()) <= 6


@pytest.mark.parametrize(("name", "params"), [("gcu", {}), ("sine", {}), ("sine", {"w0": 30.0})])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1023, 1024, 1025, 4099])
def test_trig_every_length(name, params, n, isa):
    """Vector bodies, gcu's backward chunk ends (its cos buffer) and scalar tails, with huge arguments
    (libmvec's own slow reduction path), non-finite inputs and zeros scattered over them."""
    bound = actlab.spec(name).bind(**params)
    op = ckernels.ops()[name]
    x = torch.randn(n, generator=torch.Generator().manual_seed(n)) * 10
    special = torch.tensor([1e30, -3e38, math.inf, -math.nan, 0.0, -0.0, 1e5, -8e6, 1.5707964])
    x[::5] = special.repeat(n // 45 + 1)[: len(x[::5])]
    g = torch.randn(n, generator=torch.Generator().manual_seed(n + 1))
    ref, ref_grad = _reference(name, bound, x, g)
    y = op.forward(x, bound)
    got = op.backward(g, x, bound)
    if n:
        assert float(error_units(y, ref, torch.float32).max()) <= 3
        assert float(error_units(got, ref_grad, torch.float32).max()) <= 6


@pytest.mark.parametrize("case", [("gcu", {}), ("sine", {})], ids=_id)
def test_trig_near_zeros_and_huge_arguments(case, isa):
    """Every fp32 input next to the zeros of cos x (gcu's x·cos x, relative), of cos x - x·sin x and of
    sin x (the cancellations) for |x| up to 2^20, and a sweep of huge arguments, against the reference."""
    name, params = case
    bound = actlab.spec(name).bind(**params)
    op = ckernels.ops()[name]
    k = torch.arange(-(1 << 19), 1 << 19, dtype=torch.float64)
    points = [k * math.pi / 2]
    # zeros of cos x - x·sin x: x = cot x, near kπ + 1/(kπ) for large |k|
    kk = k[k != 0] * math.pi
    points.append(kk + 1 / kk)
    centre = torch.cat(points).float()
    bits = centre.view(torch.int32)
    x = torch.cat([(bits + d).view(torch.float32) for d in range(-3, 4)])
    huge = torch.logspace(7, 38.5, 200_001, dtype=torch.float64).clamp(max=3.4028234663852886e38).float()
    x = torch.cat([x, huge, -huge])
    ref, ref_grad = _reference(name, bound, x, torch.ones_like(x))
    y = op.forward(x, bound)
    err = error_units(y, ref, torch.float32)
    assert float(err.max()) <= 3, f"x={x[err.argmax()].item()!r}"
    got = op.backward(torch.ones_like(x), x, bound)
    err = error_units(got, ref_grad, torch.float32)
    assert float(err.max()) <= 6, f"x={x[err.argmax()].item()!r}"


def test_serf_left_tail_within_the_catalogues_ulp_bound(isa):
    """serf's forward is within the catalogue's relative bound (4 ULP) on the left, where the shared tests'
    2^-24 unit floor hides relative errors: below x = -3.4 it switches from erff(sp) to a series in fp64,
    since sp in fp32 would be subnormal from x = -87 while y stays normal down to x ≈ -97, and erff is
    least accurate below 2^-5. Every fp32 value in [-100, -0.01] (one in 97), wherever the result is
    normal."""
    spec = actlab.spec("serf")
    lo, hi = torch.tensor([-100.0, -0.01]).view(torch.int32).tolist()
    x = torch.arange(hi, lo, 97, dtype=torch.int32).view(torch.float32)
    got = ckernels.ops()["serf"].forward(x, {}).double()
    true = spec.forward(x.double())
    normal = true.abs() >= 2.0**-126
    _, e = torch.frexp(true.abs())
    err = ((got - true).abs() / torch.ldexp(torch.ones_like(true), e - 24))[normal]
    assert int(normal.sum()) > 100_000
    assert float(err.max()) <= FORWARD_ULPS, f"{float(err.max())} ULP at x={x[normal][err.argmax()].item()!r}"


def test_serf_special_values_keep_the_references_bits(isa):
    """-inf gives the reference's 0 (x·erf(sp) would be -inf·0), +inf gives inf, zeros keep their sign,
    NaN propagates, and the clamps (|x| at 200 in the forward, 86 and ±1e4 in the backward) change
    nothing the reference would show."""
    x = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, -1e30, 1e30, -250.0, 250.0, -1e-45, 1e-45])
    op = ckernels.ops()["serf"]
    got, want = op.forward(x, {}), _reference("serf", {}, x, torch.ones_like(x))[0]
    assert torch.equal(got.isnan(), want.isnan())
    fin = ~want.isnan()
    assert torch.equal(got[fin], want[fin]), (got, want)
    assert torch.equal(torch.signbit(got[fin]), torch.signbit(want[fin]))
    d = op.backward(torch.ones_like(x), x, {})
    ref_grad = _reference("serf", {}, x, torch.ones_like(x))[1]
    assert torch.equal(d.isnan(), ref_grad.isnan())
    assert float(error_units(d[fin], ref_grad[fin], torch.float32).max()) <= 1
