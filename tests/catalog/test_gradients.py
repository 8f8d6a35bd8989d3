"""Derivatives against torch.autograd.gradcheck (float64) and central finite differences; double backward."""

from __future__ import annotations

import pytest
import torch

import actlab
from actlab.functional import apply
from tests.catalog.harness import away_from_kinks, case_ids, spec_param_cases

ALL_CASES = spec_param_cases("elementwise") + spec_param_cases("vector") + spec_param_cases("gated")


def _inputs(spec, seed=0):
    if spec.kind == "elementwise":
        return away_from_kinks(spec, 24, seed).requires_grad_(True)
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(3, 8, generator=g, dtype=torch.float64) * 2).requires_grad_(True)


def _learnable_tensors(spec, params):
    """Learnable parameters as float64 tensors that require grad (gradcheck covers them too)."""
    out = {}
    for p in spec.params:
        if p.learnable:
            out[p.name] = torch.as_tensor(params[p.name], dtype=torch.float64).clone().requires_grad_(True)
    return out


@pytest.mark.parametrize(("spec", "params"), ALL_CASES, ids=case_ids(ALL_CASES))
def test_gradcheck_float64(spec, params):
    x = _inputs(spec)
    learn = _learnable_tensors(spec, params)
    static = {k: v for k, v in params.items() if k not in learn}
    names = list(learn)

    def fn(x, *values):
        return apply(spec.name, x, **static, **dict(zip(names, values, strict=True)))

    assert torch.autograd.gradcheck(fn, (x, *learn.values()), eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(("spec", "params"), ALL_CASES, ids=case_ids(ALL_CASES))
def test_double_backward(spec, params):
    x = _inputs(spec, seed=1)
    learn = _learnable_tensors(spec, params)
    static = {k: v for k, v in params.items() if k not in learn}
    names = list(learn)

    def fn(x, *values):
        return apply(spec.name, x, **static, **dict(zip(names, values, strict=True)))

    if spec.double_backward:
        assert torch.autograd.gradgradcheck(fn, (x, *learn.values()), eps=1e-6, atol=1e-5, rtol=1e-4)
    else:
        y = fn(x, *learn.values())
        (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match="double backward"):
            g.sum().backward()


ELEMENTWISE = spec_param_cases("elementwise")


@pytest.mark.parametrize(("spec", "params"), ELEMENTWISE, ids=case_ids(ELEMENTWISE))
def test_derivative_matches_central_differences(spec, params):
    x = away_from_kinks(spec, 64, seed=2).detach()
    h = 1e-6
    fd = (apply(spec.name, x + h, **params) - apply(spec.name, x - h, **params)) / (2 * h)
    d = actlab.derivative(spec.name, x, **params)
    torch.testing.assert_close(d, fd, rtol=1e-5, atol=1e-6)
