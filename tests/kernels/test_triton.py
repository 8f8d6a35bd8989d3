"""Triton kernels against the reference. Needs CUDA and triton: skipped cleanly without them."""

from __future__ import annotations

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import triton_kernels
from actlab.kernels.numerics import error_units

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not triton_kernels.available(), reason="needs CUDA and triton"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("name", sorted(triton_kernels.UNARY))
def test_unary_kernels_match_reference(name, dtype):
    if name not in actlab.names():
        pytest.skip(f"{name} not in the catalogue")
    spec = actlab.spec(name)
    x = torch.cat(
        [torch.randn(100_003) * 4, torch.tensor([0.0, -0.0, 1e4, -1e4, float("inf"), -float("inf")])]
    )
    x = x.to(dtype).cuda().requires_grad_()
    y = triton_kernels.call(spec, x, spec.bind(), True)
    assert y is not None
    ref = autograd.evaluate(spec, x.detach().cpu(), spec.bind())
    assert float(error_units(y.detach().cpu(), ref, dtype).max()) <= 3
    y.backward(torch.ones_like(y))
    xr = x.detach().cpu().requires_grad_()
    autograd.apply(spec, xr, spec.bind()).backward(torch.ones_like(xr))
    assert float(error_units(x.grad.cpu(), xr.grad, dtype).max()) <= 6


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", sorted(triton_kernels.GATED))
def test_glu_kernels_match_reference(name, dtype):
    if name not in actlab.names():
        pytest.skip(f"{name} not in the catalogue")
    spec = actlab.spec(name)
    x = (torch.randn(257, 2 * 130) * 3).to(dtype)
    grad = torch.randn(257, 130).to(dtype)
    xc = x.cuda().requires_grad_()
    y = triton_kernels.call(spec, xc, spec.bind(), True)
    y.backward(grad.cuda())
    xr = x.clone().requires_grad_()
    yr = autograd.apply(spec, xr, spec.bind())
    yr.backward(grad)
    assert float(error_units(y.detach().cpu(), yr.detach(), dtype).max()) <= 3
    assert float(error_units(xc.grad.cpu(), xr.grad, dtype).max()) <= 6
