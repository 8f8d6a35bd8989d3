"""Triton kernels against the reference. Needs CUDA and triton: skipped cleanly without them.

Under Triton's interpreter (``TRITON_INTERPRET=1``) the same tests run the same kernels on CPU tensors;
test_triton_interpret.py runs this file that way in every CI run. The interpreter has no libdevice, so
its tanh, log1p, expm1 and erfc are numpy's and scipy's there (the GPU runs CUDA's libdevice).
"""

from __future__ import annotations

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import triton_kernels
from actlab.kernels.numerics import error_units
from tests.catalog.harness import param_sets

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not triton_kernels.available(), reason="needs CUDA and triton"),
]
DEVICE = "cpu" if triton_kernels.interpreting() else "cuda"

if triton_kernels.interpreting() and triton_kernels.HAVE_TRITON:
    from tests.kernels.triton_interpreter import install_libdevice

    install_libdevice(triton_kernels)


EDGES = [0.0, -0.0, 1e4, -1e4, float("inf"), -float("inf"), float("nan")]
# the interpreter runs each block in numpy: fewer random values there keep the CI run short
SAMPLES = 20_011 if triton_kernels.interpreting() else 100_003


def _same_nans(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.equal(a.isnan(), b.isnan())


def _unary_cases():
    out = []
    for name in sorted(triton_kernels.UNARY):
        spec = actlab.spec(name)
        for i, params in enumerate(param_sets(spec)):  # defaults and the Spec's examples (gelu's tanh)
            if triton_kernels.unary_plan(spec, spec.bind(**params)) is not None:
                out.append(pytest.param(name, params, id=f"{name}-{i}"))
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize(("name", "params"), _unary_cases())
def test_unary_kernels_match_reference(name, params, dtype):
    """Forward within 3 units of the reference, NaN and ±inf included; backward within 6 units of the
    reference's derivative applied to the same saved tensor (in half precision a saved output one unit
    apart moves f'(y) by far more: that is the forward's error, checked above, not the backward's);
    and autograd through the Function gives exactly that backward."""
    spec = actlab.spec(name)
    bound = spec.bind(**params)
    x = torch.cat([torch.randn(SAMPLES, generator=torch.Generator().manual_seed(0)) * 4, torch.tensor(EDGES)])
    x = x.to(dtype).to(DEVICE).requires_grad_()
    y = triton_kernels.call(spec, x, bound, True)
    assert y is not None
    ref = autograd.evaluate(spec, x.detach().cpu(), bound)
    assert _same_nans(y.detach().cpu(), ref)
    assert float(error_units(y.detach().cpu(), ref, dtype).max()) <= 3
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(1)).to(dtype)
    y.backward(g.to(DEVICE))
    fn_id, saves, p0, p1 = triton_kernels.unary_plan(spec, bound)
    saved = (y if saves == "output" else x).detach()
    direct = triton_kernels.unary_backward(fn_id, g.to(DEVICE), saved, p0, p1)
    assert _same_nans(x.grad, direct) and torch.equal(x.grad.nan_to_num(), direct.nan_to_num())
    cd = autograd.compute_dtype(dtype)
    derivative = spec.derivative_from_output if saves == "output" else spec.derivative
    want = (g.to(cd) * derivative(saved.cpu().to(cd), **bound)).to(dtype)
    assert _same_nans(x.grad.cpu(), want)
    assert float(error_units(x.grad.cpu(), want, dtype).max()) <= 6


def test_call_declines_what_it_has_no_kernel_for():
    x = torch.randn(4, 6).to(DEVICE)
    assert triton_kernels.call(actlab.spec("gelu"), x, {"approximate": "erf"}, False) is None
    assert triton_kernels.call(actlab.spec("hardtanh"), x, {"min_val": 1.0, "max_val": -1.0}, False) is None
    assert (
        triton_kernels.call(actlab.spec("leaky_relu"), x, {"negative_slope": torch.tensor(0.1)}, False)
        is None
    )
    assert triton_kernels.call(actlab.spec("isru"), x, {}, False) is None  # no Triton kernel
    assert triton_kernels.call(actlab.spec("relu"), x.double(), {}, False) is None
    glu = actlab.spec("swiglu")
    assert triton_kernels.call(glu, x, {"dim": 0}, False) is None  # only the last dimension
    assert triton_kernels.call(glu, torch.randn(4, 5).to(DEVICE), {}, False) is None  # odd size
    assert triton_kernels.call(glu, x.t(), {}, False) is None  # not contiguous


def test_glu_backward_writes_both_gradients_into_x_when_asked():
    """The lean GLU backward (Liger's trick): with inplace_grad the gradient lands in x's own storage."""
    spec = actlab.spec("swiglu")
    x0 = torch.randn(33, 2 * 70, generator=torch.Generator().manual_seed(2)).to(DEVICE)
    grad = torch.randn(33, 70, generator=torch.Generator().manual_seed(3)).to(DEVICE)
    leaf = x0.clone().requires_grad_()
    x = leaf * 1.0  # not a leaf: x's storage belongs to the graph, which may reuse it
    y = triton_kernels.call(spec, x, spec.bind(), True, inplace_grad=True)
    storage = x.untyped_storage().data_ptr()
    y.backward(grad)
    xr = x0.cpu().clone().requires_grad_()
    autograd.apply(spec, xr, spec.bind()).backward(grad.cpu())
    assert float(error_units(leaf.grad.cpu(), xr.grad, torch.float32).max()) <= 6
    assert x.untyped_storage().data_ptr() == storage
    assert torch.equal(x.detach(), leaf.grad)  # the gradient was written over x


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", sorted(triton_kernels.GATED))
def test_glu_kernels_match_reference(name, dtype):
    if name not in actlab.names():
        pytest.skip(f"{name} not in the catalogue")
    spec = actlab.spec(name)
    x = (torch.randn(257, 2 * 130) * 3).to(dtype)
    grad = torch.randn(257, 130).to(dtype)
    xc = x.clone().to(DEVICE).requires_grad_()
    y = triton_kernels.call(spec, xc, spec.bind(), True)
    y.backward(grad.to(DEVICE))
    xr = x.clone().requires_grad_()
    yr = autograd.apply(spec, xr, spec.bind())
    yr.backward(grad)
    assert float(error_units(y.detach().cpu(), yr.detach(), dtype).max()) <= 3
    assert float(error_units(xc.grad.cpu(), xr.grad, dtype).max()) <= 6
