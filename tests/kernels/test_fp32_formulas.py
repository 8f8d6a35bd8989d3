"""fp32 compiled formulas: an entry in ``cpu.FP32_FORMULAS`` has its compiled fp32 path evaluate the
Spec's own formulas in float32, without the reference's promotion to float64. That is admitted only
because its forward stays within the catalogue's 4 ULP and its derivative (from the input and, where
backward keeps the output, from the output) within 8 units of the mpmath truth over every fp32 binade,
both signs, the kinks and the edges, as tests/catalog/harness.py samples them."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
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

EDGES = torch.tensor([math.inf, -math.inf, math.nan, 3.0e38, -3.0e38, 1e-45, -1e-45])

CASES = [
    pytest.param(name, params, id=f"{name}-{i}")
    for name in sorted(cpu.FP32_FORMULAS)
    if name in actlab.names()
    for i, params in enumerate(param_sets(actlab.spec(name)))
]


def _fp32_forward(spec, x, params):
    return spec.forward(x, **params)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_fp32_forward_within_catalogue_bound(name, params):
    spec = actlab.spec(name)
    x = fp32_samples(spec)
    y = _fp32_forward(spec, x, params)
    assert y.dtype == torch.float32
    mp = mp_params(params)
    row = worst(forward_ulp_errors(y, x, lambda v: spec.mp_forward(v, **mp)))
    assert row[3] <= FORWARD_ULPS, f"{name} {params}: x={row[0]} got {row[1]} true {row[2]} ({row[3]} ULP)"
    # the edges as the reference gives them (inf, NaN propagation, overflow, subnormals)
    e = EDGES.clone()
    ref = actlab.functional.apply(name, e, **params)
    assert float(error_units(_fp32_forward(spec, e, params), ref).max()) <= FORWARD_ULPS


@pytest.mark.parametrize(("name", "params"), CASES)
def test_fp32_derivatives_within_catalogue_bound(name, params):
    spec = actlab.spec(name)
    x = fp32_samples(spec)
    mp = mp_params(params)

    def truth(v):
        return spec.mp_derivative(v, **mp)

    kinks = torch.tensor(spec.kinks, dtype=torch.float32)
    away = x if not len(kinks) else x[(x.unsqueeze(1) - kinks).abs().min(1).values > 0]
    d = spec.derivative(away, **params)
    assert d.dtype == torch.float32
    row = worst(derivative_unit_errors(d, away, truth))
    assert row[3] <= DERIVATIVE_UNITS, f"{name} f'(x) at x={row[0]}: {row[1]} vs {row[2]} ({row[3]} units)"
    if spec.saves == "output":
        y = _fp32_forward(spec, away, params)
        d = spec.derivative_from_output(y, **params)
        row = worst(derivative_unit_errors(d, away, truth))
        assert row[3] <= DERIVATIVE_UNITS, f"{name} f'(y) at x={row[0]}: {row[1]} vs {row[2]} ({row[3]})"
    # edges: what the reference's backward gives there
    e = EDGES.clone().requires_grad_()
    actlab.functional.apply(name, e, **params).backward(torch.ones_like(e))
    saved = e.detach() if spec.saves == "input" else _fp32_forward(spec, e.detach(), params)
    fn = spec.derivative if spec.saves == "input" else spec.derivative_from_output
    assert float(error_units(fn(saved, **params), e.grad).max()) <= DERIVATIVE_UNITS


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(cpu.FP32_FORMULAS))
def test_compiled_fp32_path_within_catalogue_bound(name):
    # the compiled kernel itself (Inductor's C++ could differ from eager: contraction, vector math);
    # compiling costs ~20 s per function and direction, hence slow
    if name not in actlab.names():
        pytest.skip(f"{name} is not in the catalogue yet")
    spec = actlab.spec(name)
    params = spec.bind()
    x = torch.cat([fp32_samples(spec), EDGES])
    y = cpu.compiled_forward(spec, x, params)
    if y is None:
        pytest.skip("torch.compile is not available here (the reference path runs)")
    eager = _fp32_forward(spec, x, params)
    mp = mp_params(params)
    finite = torch.isfinite(x)
    row = worst(forward_ulp_errors(y[finite], x[finite], lambda v: spec.mp_forward(v, **mp)))
    assert row[3] <= FORWARD_ULPS, row
    assert float(error_units(y, eager).max()) <= 1  # and the same numbers as the proven eager formula
    saved = x if spec.saves == "input" else y
    d = cpu.compiled_backward(spec, saved, torch.ones_like(x), params, spec.saves)
    fn = spec.derivative if spec.saves == "input" else spec.derivative_from_output
    assert d is not None and float(error_units(d, fn(saved, **params)).max()) <= 1
