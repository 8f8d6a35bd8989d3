"""Extra checks of the algebraic kernels (csrc/ops_misc.h: squareplus, isru, bent_identity, softsign)
beyond the shared proofs in test_ckernels.py: parameter values off the Spec's examples (b = 0 is relu,
b or α not exact in fp32 or beyond 2^±40 run the fp64 loops), non-finite upstream gradients (the
kernels' g·f' must be non-finite exactly where the reference's is: f' is never flushed to 0 where the
reference's fp64 f' is tiny but positive), the accepted parameter range, and the dispatcher path."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import ckernels, cpu
from actlab.kernels.numerics import error_units
from tests.kernels.test_ckernels import every_fp32

EXTRA = [
    ("squareplus", {"b": 0.0}),
    ("squareplus", {"b": 0.3}),  # not exact in fp32: fp64 loop
    ("squareplus", {"b": 2.0**-40}),
    ("squareplus", {"b": 2.0**40}),
    ("squareplus", {"b": 1e-50}),
    ("squareplus", {"b": 1e20}),
    ("isru", {"alpha": 0.3}),
    ("isru", {"alpha": 2.0**-40}),
    ("isru", {"alpha": 2.0**40}),
    ("isru", {"alpha": 1e-60}),
    ("isru", {"alpha": 1e60}),
]
DEFAULTS = [
    ("squareplus", {}),
    ("squareplus", {"b": 1.0}),
    ("isru", {}),
    ("isru", {"alpha": 3.0}),
    ("bent_identity", {}),
    ("softsign", {}),
]


def _id(case):
    name, params = case
    return name + "".join(f"-{k}={v:g}" for k, v in params.items())


def _reference(name, bound, x, g):
    spec = actlab.spec(name)
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, bound).backward(g)
    return autograd.evaluate(spec, x, bound), xr.grad


def assert_within_bounds(case):
    """Forward within 3 units and backward within 6 of the reference over a sample of every fp32 value,
    for parameter values the kernel accepts (shared with test_ckernels_extra.py)."""
    name, params = case
    bound = actlab.spec(name).bind(**params)
    op = ckernels.ops()[name]
    assert op.accepts(bound)
    x = every_fp32(stride=16411)
    ref, ref_grad = _reference(name, bound, x, torch.ones_like(x))
    y = op.forward(x, bound)
    err = error_units(y, ref, torch.float32)
    assert float(err.max()) <= 3, f"x={x[err.argmax()].item()!r}"
    got = op.backward(torch.ones_like(x), y if op.saves == "output" else x, bound)
    err = error_units(got, ref_grad, torch.float32)
    assert float(err.max()) <= 6, f"x={x[err.argmax()].item()!r}"


def assert_non_finite_like_the_reference(case, signs=False):
    """Non-finite outputs and g·f' (g = ±inf, NaN mixed in) exactly where the reference has them; with
    ``signs``, every non-NaN output's sign bit too (shared with test_ckernels_extra.py)."""
    name, params = case
    bound = actlab.spec(name).bind(**params)
    op = ckernels.ops()[name]
    x = every_fp32(stride=16411)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    g[::5], g[1::5], g[2::13] = math.inf, -math.inf, math.nan
    ref, ref_grad = _reference(name, bound, x, g)
    y = op.forward(x, bound)
    assert torch.equal(y.isfinite(), ref.isfinite()) and torch.equal(y.isnan(), ref.isnan())
    if signs:
        signed = ~ref.isnan()
        assert torch.equal(y.signbit()[signed], ref.signbit()[signed])  # signed zeros, and every other sign
    got = op.backward(g, y if op.saves == "output" else x, bound)
    assert torch.equal(got.isnan(), ref_grad.isnan())
    assert torch.equal(got.isposinf(), ref_grad.isposinf()) and torch.equal(
        got.isneginf(), ref_grad.isneginf()
    )


@pytest.mark.parametrize("case", EXTRA, ids=_id)
def test_other_parameters_within_bounds(case, isa):
    assert_within_bounds(case)


@pytest.mark.parametrize("case", DEFAULTS + EXTRA, ids=_id)
def test_non_finite_gradients_where_the_reference_has_them(case, isa):
    assert_non_finite_like_the_reference(case)


def test_parameter_range():
    assert not ckernels.ops()["squareplus"].accepts({"b": 1e301})
    assert not ckernels.ops()["squareplus"].accepts({"b": math.inf})
    assert not ckernels.ops()["isru"].accepts({"alpha": 1e301})
    assert ckernels.ops()["isru"].accepts({"alpha": 1e300})


@pytest.mark.parametrize("case", DEFAULTS + EXTRA[:2] + EXTRA[6:7], ids=_id)
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
