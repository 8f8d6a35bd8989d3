"""Extra proofs for the exp group of C kernels (csrc/ops_exp.h: sigmoid, tanh, elu, selu, celu, tanhshrink,
lisht), beyond tests/kernels/test_ckernels.py: mpmath at 113 bits (53 bits cannot resolve x - tanh x for
tiny x, where it rounds to 0), a sweep four times denser than the shared one, parameter values other
than the Spec's examples, non-finite upstream gradients, and lengths that exercise every tail of the
paired and chunked loops."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import ckernels
from actlab.kernels.numerics import error_units
from tests.catalog.harness import (
    DERIVATIVE_UNITS,
    FORWARD_ULPS,
    derivative_unit_errors,
    forward_ulp_errors,
    mp_params,
    worst,
)
from tests.kernels.test_ckernels import CASES as SHARED_CASES
from tests.kernels.test_ckernels import assert_non_finite_gradients_as_the_reference
from tests.kernels.test_cpu import binades

assert ckernels.available(), "actlab.kernels._ckernels was not built"

NAMES = ["sigmoid", "tanh", "elu", "selu", "celu", "tanhshrink", "lisht"]
# the Spec's defaults and examples, and values no example has (α of elu may be 0)
CASES = [
    ("sigmoid", {}),
    ("tanh", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("elu", {"alpha": 0.0}),
    ("elu", {"alpha": 0.3}),
    ("elu", {"alpha": 1.9}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 2.5}),
    ("celu", {"alpha": 0.3}),
    ("celu", {"alpha": 1e-3}),
    ("celu", {"alpha": 1e3}),
    ("tanhshrink", {}),
    ("lisht", {}),
]
IDS = [f"{n}-{','.join(f'{k}={v}' for k, v in p.items()) or 'defaults'}" for n, p in CASES]


def _bound(name, params):
    spec = actlab.spec(name)
    bound = spec.bind(**params)
    op = ckernels.ops()[name]
    assert op.accepts(bound)
    return spec, op, bound


def _sweep(stride: int) -> torch.Tensor:
    bits = torch.arange(0, 1 << 32, stride, dtype=torch.int64)
    bits = torch.where(bits >= 1 << 31, bits - (1 << 32), bits).to(torch.int32)
    edges = torch.tensor(
        [0.0, -0.0, math.inf, -math.inf, math.nan, 3.4028235e38, -3.4028235e38, 1e-45, -1e-45]
    )
    return torch.cat([bits.view(torch.float32), edges])


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_mpmath_at_113_bits(name, params, isa):
    spec, op, bound = _bound(name, params)
    x = binades(torch.float32)
    x = x[torch.isfinite(x)]
    mpp = mp_params(bound)
    row = worst(forward_ulp_errors(op.forward(x, bound), x, lambda v: spec.mp_forward(v, **mpp)))
    assert row[3] <= FORWARD_ULPS, f"{name} {params}: x={row[0]} got {row[1]} true {row[2]} ({row[3]} ULP)"
    xk = x[x != 0] if spec.kinks else x
    d = op.backward(torch.ones_like(xk), op.forward(xk, bound) if op.saves == "output" else xk, bound)
    row = worst(derivative_unit_errors(d, xk, lambda v: spec.mp_derivative(v, **mpp)))
    assert row[3] <= DERIVATIVE_UNITS, f"{name}' {params}: x={row[0]} got {row[1]} true {row[2]} ({row[3]})"


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_dense_sweep_against_the_reference(name, params, isa):
    spec, op, bound = _bound(name, params)
    x = _sweep(1021)  # ~4.2M values over all bit patterns
    y = op.forward(x, bound)
    ref = autograd.evaluate(spec, x, bound)
    err = error_units(y, ref, torch.float32)
    i = err.argmax()
    assert float(err[i]) <= 3, (
        f"{name} {params}: x={x[i].item()!r} got {y[i].item()!r} want {ref[i].item()!r}"
    )
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, bound).backward(torch.ones_like(x))
    got = op.backward(torch.ones_like(x), y if op.saves == "output" else x, bound)
    err = error_units(got, xr.grad, torch.float32)
    i = err.argmax()
    assert float(err[i]) <= 6, (
        f"{name}' {params}: x={x[i].item()!r} got {got[i].item()!r} want {xr.grad[i].item()!r}"
    )


def _beyond_the_shared_cases():
    """The CASES whose bound parameters test_ckernels.py's CASES (the Spec's examples) do not have."""
    shared = {(c.values[0], tuple(sorted(c.values[1].items()))) for c in SHARED_CASES}
    out = []
    for (name, params), id_ in zip(CASES, IDS, strict=True):
        if (name, tuple(sorted(actlab.spec(name).bind(**params).items()))) not in shared:
            out.append(pytest.param(name, params, id=id_))
    return out


@pytest.mark.parametrize(("name", "params"), _beyond_the_shared_cases())
def test_non_finite_upstream_gradients_at_other_parameters(name, params, isa):
    _, _, bound = _bound(name, params)
    assert_non_finite_gradients_as_the_reference(name, bound)


@pytest.mark.parametrize("name", NAMES)
def test_every_length_and_offset_gives_the_elementwise_values(name, isa):
    """lisht works in stages over chunks of 256 and sigmoid in chunks of 1024: results must not depend on n."""
    op = ckernels.ops()[name]
    p = actlab.spec(name).bind()
    x = torch.randn(3000, generator=torch.Generator().manual_seed(7)) * 8
    x[::97] = -100.0  # sigmoid's fp64 tail
    g = torch.randn(3000, generator=torch.Generator().manual_seed(8))
    y = op.forward(x, p)
    d = op.backward(g, y if op.saves == "output" else x, p)
    for start, n in [(0, 0), (0, 1), (5, 2), (1, 3), (3, 17), (2, 1023), (1, 1025), (0, 2049), (11, 2989)]:
        xs, gs = x[start : start + n], g[start : start + n]
        ys = op.forward(xs, p)
        assert torch.equal(ys, y[start : start + n]), (name, start, n)
        ds = op.backward(gs, ys if op.saves == "output" else xs, p)
        assert torch.equal(ds, d[start : start + n]), (name, start, n)


def test_parameters_out_of_the_proven_range_decline():
    elu, celu = ckernels.ops()["elu"], ckernels.ops()["celu"]
    assert not elu.accepts({"alpha": math.inf}) and not elu.accepts({"alpha": 2.5})
    assert not celu.accepts({"alpha": math.inf})
    assert not celu.accepts({"alpha": 1e-40})
    assert elu.accepts({"alpha": 0.0}) and celu.accepts({"alpha": 1e-3})


def test_special_values():
    ops = ckernels.ops()
    x = torch.tensor([-math.inf, math.inf, math.nan, 0.0, -0.0, -200.0, 200.0])
    y = ops["sigmoid"].forward(x, {})
    assert y[:2].tolist() == [0.0, 1.0] and math.isnan(y[2]) and y[3] == 0.5 and y[5] == 0 and y[6] == 1
    assert ops["tanh"].forward(x, {})[:2].tolist() == [-1.0, 1.0]
    assert ops["tanhshrink"].forward(x, {})[:2].tolist() == [-math.inf, math.inf]
    assert ops["lisht"].forward(x, {})[:2].tolist() == [math.inf, math.inf]
    assert ops["lisht"].backward(torch.ones(7), x, {})[:2].tolist() == [-1.0, 1.0]
    alpha = actlab.spec("selu").bind()
    assert ops["selu"].forward(x, alpha)[1] == math.inf
    assert ops["celu"].forward(x, {"alpha": 2.5})[0] == -2.5
    assert ops["elu"].forward(x, {"alpha": 0.5})[0] == -0.5
