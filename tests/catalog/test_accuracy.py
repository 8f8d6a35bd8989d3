"""fp32 accuracy against high-precision mpmath references, over the whole finite input range.

Forward: within 4 ULP wherever the true value is a normal float. Derivative (the analytic one and
the one autograd uses): within 8 units, a unit being the ULP of the true value but never below 2^-24.
"""

from __future__ import annotations

import mpmath as mp
import pytest
import torch

import actlab
from actlab.functional import apply
from tests.catalog.harness import (
    DERIVATIVE_UNITS,
    FORWARD_ULPS,
    case_ids,
    derivative_unit_errors,
    forward_ulp_errors,
    fp32_samples,
    mp_params,
    spec_param_cases,
    worst,
)

CASES = [(s, p) for s, p in spec_param_cases("elementwise") if s.mp_forward is not None]


def test_every_elementwise_entry_has_references():
    missing = [
        s.name for s, _ in spec_param_cases("elementwise") if s.mp_forward is None or s.mp_derivative is None
    ]
    assert missing == [], f"entries without an mpmath reference: {missing}"


@pytest.mark.parametrize(("spec", "params"), CASES, ids=case_ids(CASES))
def test_forward_within_4_ulp(spec, params):
    x = fp32_samples(spec)
    y = apply(spec.name, x, **params)
    assert y.dtype == torch.float32
    mpp = mp_params(params)
    rows = forward_ulp_errors(y, x, lambda t: spec.mp_forward(t, **mpp))
    assert len(rows) > 100
    x0, got, true, err = worst(rows)
    assert err <= FORWARD_ULPS, f"{spec.name}: {err:.1f} ULP at x={x0!r}: got {got!r}, true {true!r}"


@pytest.mark.parametrize(("spec", "params"), CASES, ids=case_ids(CASES))
def test_derivative_within_8_units(spec, params):
    x = fp32_samples(spec)
    mpp = mp_params(params)
    ref = lambda t: spec.mp_derivative(t, **mpp)  # noqa: E731
    analytic = actlab.derivative(spec.name, x, **params)
    x0, got, true, err = worst(derivative_unit_errors(analytic, x, ref))
    assert err <= DERIVATIVE_UNITS, (
        f"{spec.name}: f' off by {err:.1f} units at x={x0!r}: got {got!r}, true {true!r}"
    )

    # the gradient autograd actually uses (from the saved output, input or nothing)
    xg = x.clone().requires_grad_(True)
    apply(spec.name, xg, **params).backward(torch.ones_like(xg))
    x0, got, true, err = worst(derivative_unit_errors(xg.grad, x, ref))
    assert err <= DERIVATIVE_UNITS, (
        f"{spec.name}: backward off by {err:.1f} units at x={x0!r}: got {got!r}, true {true!r}"
    )


def test_reference_helpers_measure_ulps():
    # the harness itself: a value one ULP off reads as one ULP
    x = torch.tensor([1.5], dtype=torch.float32)
    one_ulp_off = torch.tensor([1.5 + 2.0**-23], dtype=torch.float32)
    rows = forward_ulp_errors(one_ulp_off, x, lambda t: t)
    assert rows[0][3] == pytest.approx(1.0)
    assert mp.mpf(1) == 1
