"""Fused GLU family (glu, reglu, geglu, swiglu, ...): out = a * gate(b) with (a, b) = x.chunk(2, dim).

Forward keeps only x (torch eager keeps b for the gate, then a and gate(b) for the product: 1.5× x).
Backward recomputes gate(b) and gate'(b) in one pass and, when allowed, writes the two gradients into
the storage of the saved x (as Liger Kernel does), so backward allocates no new buffer of x's size.

Writing into x is only done when x is an intermediate (not a leaf the user holds) and the caller asked
for it (``inplace_grad=True``, the default of the lean modules); autograd's version counter makes any
other user of x that still needs it fail loudly rather than read gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from actlab.autograd import compute_dtype
from actlab.catalog.spec import Spec, lookup

Tensor = torch.Tensor

# Optional fused implementations (compiled CPU, Triton): (spec, x, params) -> y | None and
# (spec, x, grad, params) -> (grad_a, grad_b) | None, registered by actlab.kernels.cpu / triton_kernels.
FUSED_FORWARD: list[Callable[..., Tensor | None]] = []
FUSED_BACKWARD: list[Callable[..., tuple[Tensor, Tensor] | None]] = []
# Implementations that write both gradients straight into a buffer of x's shape (x itself when allowed):
# (spec, x, grad, params, out) -> True when done, False to decline. Tried before FUSED_BACKWARD.
FUSED_BACKWARD_INTO: list[Callable[..., bool]] = []


def split_params(spec: Spec, params: dict[str, Any]) -> tuple[int, Spec, dict[str, Any]]:
    """(dim, gate Spec, the gate's own parameters) of a gated entry."""
    if spec.kind != "gated" or spec.gate is None:
        raise ValueError(f"{spec.name} is not a gated (GLU-family) entry")
    gate = lookup(spec.gate)
    names = {p.name for p in gate.params}
    gate_params = {k: v for k, v in params.items() if k in names}
    for p in gate.params:
        gate_params.setdefault(p.name, p.default)
    return int(params.get("dim", -1)), gate, gate_params


def glu_forward_reference(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor:
    """a * gate(b), evaluated one precision up and rounded once."""
    dim, gate, gp = split_params(spec, params)
    if x.shape[dim] % 2:
        raise ValueError(
            f"{spec.name}: dimension {dim} of size {x.shape[dim]} must be even to split in halves"
        )
    cd = compute_dtype(x.dtype)
    a, b = x.to(cd).chunk(2, dim)
    return (a * gate.forward(b, **gp)).to(x.dtype)


def glu_backward_reference(
    spec: Spec, x: Tensor, grad: Tensor, params: dict[str, Any]
) -> tuple[Tensor, Tensor]:
    """(d/da, d/db) of sum(grad * a * gate(b)), one precision up, rounded once."""
    dim, gate, gp = split_params(spec, params)
    cd = compute_dtype(x.dtype)
    a, b = x.to(cd).chunk(2, dim)
    g = grad.to(cd)
    grad_a = g * gate.forward(b, **gp)
    grad_b = g * a * gate.derivative(b, **gp)
    return grad_a.to(x.dtype), grad_b.to(x.dtype)


class FusedGLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, spec: Spec, params: dict[str, Any], inplace_grad: bool) -> Tensor:  # type: ignore[override]
        y = None
        for impl in FUSED_FORWARD:
            y = impl(spec, x, params)
            if y is not None:
                break
        if y is None:
            y = glu_forward_reference(spec, x, params)
        ctx.spec, ctx.params, ctx.inplace_grad = spec, params, inplace_grad
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        spec, params = ctx.spec, ctx.params
        if torch.is_grad_enabled():
            # create_graph=True: differentiable eager formula, a fresh buffer (x is never overwritten)
            if not spec.double_backward:
                raise RuntimeError(
                    f"double backward is not supported for {spec.name!r}: its derivative is not "
                    "differentiable in closed form; use first-order gradients only"
                )
            return (
                torch.cat(glu_backward_reference(spec, x, grad, params), split_params(spec, params)[0]),
                None,
                None,
                None,
            )
        out = x if ctx.inplace_grad else torch.empty_like(x)
        for into in FUSED_BACKWARD_INTO:
            if into(spec, x, grad, params, out):
                return out, None, None, None
        grads = None
        for impl in FUSED_BACKWARD:
            grads = impl(spec, x, grad, params)
            if grads is not None:
                break
        if grads is None:
            grads = glu_backward_reference(spec, x, grad, params)
        grad_a, grad_b = grads
        dim = split_params(spec, params)[0]
        a_view, b_view = out.chunk(2, dim)
        a_view.copy_(grad_a)
        b_view.copy_(grad_b)
        return out, None, None, None


def fused_glu(
    spec: Spec | str, x: Tensor, params: dict[str, Any] | None = None, *, inplace_grad: bool = True
) -> Tensor:
    """Apply a gated entry with the fused backward.

    ``inplace_grad``: write the input gradient into x's storage when x is an intermediate result
    (never for leaves, whose storage the caller owns).
    """
    spec = lookup(spec)
    params = (
        spec.bind(**(params or {}))
        if params is None or set(params) != {p.name for p in spec.params}
        else params
    )
    inplace = bool(inplace_grad and x.requires_grad and x.grad_fn is not None)
    return FusedGLUFunction.apply(x, spec, params, inplace)
