"""Fused GLU family: same forward as the reference, gradients within bounds (the same arithmetic,
so equal in practice), x kept once, and the gradient written into x's storage when x is an
intermediate."""

from __future__ import annotations

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels.glu import fused_glu
from actlab.kernels.lean import saved_bytes
from actlab.kernels.numerics import error_units

# torch's verified ops (the fast path when actlab's C kernels are not built); the C kernels are
# proven in test_ckernels*.py
pytestmark = pytest.mark.usefixtures("without_c_kernels")


GATED = [n for n in ("glu", "reglu", "geglu", "swiglu") if n in actlab.names()]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("name", GATED)
def test_fused_matches_reference(name, dtype):
    spec = actlab.spec(name)
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 2 * 48, generator=g) * 3).to(dtype)
    x[0, :4] = torch.tensor([0.0, -0.0, 1e4, -1e4])
    grad = torch.randn(64, 48, generator=g).to(dtype)
    xr = x.clone().requires_grad_()
    yr = autograd.apply(spec, xr, spec.bind())
    yr.backward(grad)
    xf = x.clone().requires_grad_()
    yf = fused_glu(spec, xf, spec.bind())
    yf.backward(grad)
    assert torch.equal(yf, yr)
    assert float(error_units(xf.grad, xr.grad, dtype).max()) <= 2


@pytest.mark.parametrize("name", GATED)
def test_keeps_x_once_and_writes_grad_in_place(name):
    spec = actlab.spec(name)
    w = torch.nn.Linear(16, 64)
    inp = torch.randn(8, 16)
    h = w(inp)  # an intermediate: the fused backward may reuse its storage
    y, report = saved_bytes(lambda: fused_glu(spec, h, spec.bind()), exclude=(inp, w.weight, w.bias))
    assert report.extra == h.numel() * 4  # x once; torch eager keeps 1.5x (b, a and gate(b))
    captured = {}
    h.register_hook(lambda g: captured.update(ptr=g.data_ptr()))
    y.sum().backward()
    assert captured["ptr"] == h.data_ptr()


def test_leaf_input_is_never_overwritten():
    if not GATED:
        pytest.skip("no gated entries yet")
    spec = actlab.spec(GATED[0])
    x = torch.randn(4, 8, requires_grad=True)
    before = x.detach().clone()
    fused_glu(spec, x, spec.bind()).sum().backward()
    assert torch.equal(x.detach(), before) and x.grad.data_ptr() != x.data_ptr()


def test_odd_split_is_a_clear_error():
    if not GATED:
        pytest.skip("no gated entries yet")
    with pytest.raises((ValueError, RuntimeError)):
        fused_glu(GATED[0], torch.randn(3, 5, requires_grad=True))
