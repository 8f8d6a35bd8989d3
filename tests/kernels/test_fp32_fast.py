"""fp32 fast paths (``cpu.NATIVE_VERIFIED`` entries claimed for float32 beyond the piecewise-linear ones):
torch's fp32 op where it is accurate, the exact reference recomputed for the elements outside that range.
Each is proven against mpmath over every fp32 binade, both signs and the kinks (forward ≤ 4 ULP,
derivative ≤ 8 units), gives the reference's values at ±inf/NaN/extremes, and handles non-contiguous
inputs; the registered path keeps no more for backward than the reference."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import cpu
from actlab.kernels.numerics import error_units
from tests.catalog.harness import (
    DERIVATIVE_UNITS,
    FORWARD_ULPS,
    derivative_unit_errors,
    forward_ulp_errors,
    fp32_samples,
    mp_params,
    param_sets,
    worst,
)
from tests.kernels.test_cpu import binades

# torch's verified ops (the fast path when actlab's C kernels are not built); the C kernels are
# proven in test_ckernels*.py
pytestmark = pytest.mark.usefixtures("without_c_kernels")


FAST32 = ("silu", "gelu", "mish", "softplus", "selu", "celu")
EDGES = torch.tensor([math.inf, -math.inf, math.nan, 3.0e38, -3.0e38, 1e-45, -1e-45, 0.0, -0.0, 88.0, -88.0])

CASES = [
    pytest.param(name, params, id=f"{name}-{i}")
    for name in FAST32
    for i, params in enumerate(param_sets(actlab.spec(name)))
    if cpu.NATIVE[name].accepts(params)  # torch's op (the C kernels are off in this module)
]


def _inputs(spec) -> torch.Tensor:
    # every binade (64 mantissas each) plus the harness' samples, dense around the switch points
    x = torch.cat([fp32_samples(spec), binades(torch.float32), torch.linspace(-100, 100, 4001)])
    return torch.unique(x[torch.isfinite(x)])


def test_claimed_for_fp32_only():
    for name in FAST32:
        assert cpu.NATIVE_VERIFIED[name] == frozenset({torch.float32})
        for dtype in (torch.float64, torch.float16, torch.bfloat16):
            assert cpu.native_op(actlab.spec(name), torch.zeros(1, dtype=dtype), {}) is None


def test_softplus_declines_other_betas():
    spec = actlab.spec("softplus")
    assert cpu.native_op(spec, torch.zeros(1), spec.bind(beta=10.0, threshold=0.4)) is None
    assert cpu.native_op(spec, torch.zeros(1), spec.bind(threshold=0.4)) is not None  # threshold: ignored


@pytest.mark.parametrize(("name", "params"), CASES)
def test_forward_within_catalogue_bound(name, params):
    spec = actlab.spec(name)
    op = cpu.native_op(spec, torch.zeros(1), params)
    x = _inputs(spec)
    y = op.forward(x.clone(), params)
    assert y.dtype == torch.float32
    mp = mp_params(params)
    row = worst(forward_ulp_errors(y, x, lambda v: spec.mp_forward(v, **mp)))
    assert row[3] <= FORWARD_ULPS, f"{name} {params}: x={row[0]} got {row[1]} true {row[2]} ({row[3]} ULP)"


@pytest.mark.parametrize(("name", "params"), CASES)
def test_derivative_within_catalogue_bound(name, params):
    spec = actlab.spec(name)
    op = cpu.native_op(spec, torch.zeros(1), params)
    x = _inputs(spec)
    kinks = torch.tensor(spec.kinks, dtype=torch.float32)
    if len(kinks):
        x = x[(x.unsqueeze(1) - kinks).abs().min(1).values > 0]
    saved = op.forward(x.clone(), params) if op.saves == "output" else x
    d = op.backward(torch.ones_like(x), saved, params)
    mp = mp_params(params)
    row = worst(derivative_unit_errors(d, x, lambda v: spec.mp_derivative(v, **mp)))
    assert row[3] <= DERIVATIVE_UNITS, f"{name} f' at x={row[0]}: {row[1]} vs {row[2]} ({row[3]} units)"


@pytest.mark.parametrize(("name", "params"), CASES)
def test_edges_and_non_contiguous_match_reference(name, params):
    spec = actlab.spec(name)
    op = cpu.native_op(spec, torch.zeros(1), params)
    base = torch.cat([EDGES, torch.linspace(-30, 30, 61)])
    # non-finite values must be met exactly (error_units counts a mismatch as inf), finite ones within
    # the catalogue's bounds of the reference; then strided and transposed views of the same values
    pairs = torch.stack([base, torch.full_like(base, 7.0)], 1)
    for x in (base, pairs[:, 0], base.reshape(8, 9).t()):
        assert float(error_units(op.forward(x, params), autograd.evaluate(spec, x, params)).max()) <= 1
        xr = x.clone().requires_grad_()
        autograd.apply(spec, xr, params).backward(torch.ones_like(x))
        saved = op.forward(x, params) if op.saves == "output" else x
        got = op.backward(torch.ones_like(x), saved, params)
        assert float(error_units(got, xr.grad).max()) <= DERIVATIVE_UNITS, (x, got, xr.grad)
    assert not pairs[:, 0].is_contiguous() and not base.reshape(8, 9).t().is_contiguous()


@pytest.mark.parametrize(("name", "params"), CASES)
def test_registered_path_keeps_no_more_than_reference(name, params):
    from actlab.kernels import fast_path
    from actlab.kernels.lean import saved_bytes

    spec = actlab.spec(name)
    x = torch.randn(4096, requires_grad=True) * 4
    x.retain_grad()
    assert fast_path(spec, x, params, True) is not None
    y, report = saved_bytes(lambda: fast_path(spec, x, params, True))
    _, ref_report = saved_bytes(lambda: autograd.apply(spec, x, params))
    assert report.total <= ref_report.total
    y.backward(torch.ones_like(y))
    xr = x.detach().clone().requires_grad_()
    autograd.apply(spec, xr, params).backward(torch.ones_like(xr))
    assert float(error_units(x.grad, xr.grad).max()) <= DERIVATIVE_UNITS
