"""One generic autograd Function, driven by a Spec: no per-activation backward boilerplate.

Forward evaluates the Spec one precision up (see ``compute_dtype``) and rounds once. Backward keeps
what the Spec says it needs — the output when f' is a function of f (so it shares storage with what
the next layer keeps anyway), the input otherwise, nothing when f' is constant — and applies the
Spec's analytic derivative. Backward is written with differentiable torch ops, so double backward
works wherever the derivative is itself differentiable; entries whose derivative is not (declared by
``Spec.double_backward = False``) raise a clear error instead of returning a silently wrong answer.
"""

from __future__ import annotations

from typing import Any

import torch

from actlab.catalog.spec import Spec, lookup

Tensor = torch.Tensor

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The precision an activation is evaluated in before rounding to ``dtype``.

    fp32 and fp64 inputs are evaluated in fp64, half types in fp32: one rounding at the end is what
    keeps fp32 results within a few ULP of the truth (torch's fp32 GELU tail is 4% off at x = -5) and
    keeps fp16/bf16 from overflowing in intermediate exponentials (softplus, mish at x > 11).
    """
    if dtype in (torch.float32, torch.float64):
        return torch.float64
    return torch.float32


def check_tensor(x: Any, activation: str) -> Tensor:
    """Integer, bool and complex tensors get a clear ``TypeError``; non-tensors too."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{activation}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{activation}: expected a floating-point tensor (float16, bfloat16, float32 or float64), "
            f"got {x.dtype}; convert it first, e.g. x.float()"
        )
    return x


def _promote(value: Any, dtype: torch.dtype) -> Any:
    return value.to(dtype) if isinstance(value, Tensor) else value


def evaluate(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor:
    """f(x) without autograd bookkeeping: promote, evaluate the Spec, round once."""
    cd = compute_dtype(x.dtype)
    p = {k: _promote(v, cd) for k, v in params.items()}
    return spec.forward(x.to(cd), **p).to(x.dtype)


def evaluate_derivative(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor:
    """f'(x) from the input, evaluated one precision up (the reference derivative)."""
    cd = compute_dtype(x.dtype)
    p = {k: _promote(v, cd) for k, v in params.items()}
    return spec.derivative(x.to(cd), **p).to(x.dtype)


class SpecFunction(torch.autograd.Function):
    """f(x; params) for any Spec. Learnable parameters come in as tensors after the static ones."""

    @staticmethod
    def forward(ctx, x, spec_name, static_params, learnable_names, *learnable_values):  # type: ignore[override]
        spec = lookup(spec_name)
        params = dict(static_params)
        params.update(zip(learnable_names, learnable_values, strict=True))
        y = evaluate(spec, x, params)
        ctx.spec_name = spec_name
        ctx.static_params = static_params
        ctx.learnable_names = learnable_names
        ctx.x_dtype = x.dtype
        saves = spec.saves
        ctx.saves = saves
        if saves == "output":
            ctx.save_for_backward(y, *learnable_values)
        elif saves == "input":
            ctx.save_for_backward(x, *learnable_values)
        else:
            ctx.save_for_backward(*learnable_values)
        return y

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        spec = lookup(ctx.spec_name)
        saved = ctx.saved_tensors
        if ctx.saves in ("output", "input"):
            kept, learnable_values = saved[0], saved[1:]
        else:
            kept, learnable_values = None, saved
        if torch.is_grad_enabled() and not spec.double_backward:
            raise RuntimeError(
                f"double backward is not supported for {spec.name!r}: its derivative is not "
                "differentiable in closed form; use first-order gradients only"
            )
        cd = compute_dtype(ctx.x_dtype)
        params = dict(ctx.static_params)
        params.update({n: v.to(cd) for n, v in zip(ctx.learnable_names, learnable_values, strict=True)})
        grad_c = grad.to(cd)

        if spec.kind == "vector":
            grad_x = spec.vjp(grad_c, y=kept.to(cd), **params)
        elif spec.kind == "gated":
            grad_x = spec.vjp(grad_c, x=kept.to(cd), **params)
        elif ctx.saves == "output":
            grad_x = grad_c * spec.derivative_from_output(kept.to(cd), **params)
        elif ctx.saves == "input":
            grad_x = grad_c * spec.derivative(kept.to(cd), **params)
        else:  # constant derivative: f'(x) does not depend on x
            grad_x = grad_c * spec.derivative(torch.zeros_like(grad_c), **params)
        grad_x = grad_x.to(ctx.x_dtype)

        grad_params = []
        for name, value in zip(ctx.learnable_names, learnable_values, strict=True):
            if not ctx.needs_input_grad[4 + len(grad_params)]:
                grad_params.append(None)
                continue
            partial = spec.param_derivatives[name](kept.to(cd), **params)
            if partial.dim() > grad_c.dim():
                # coefficient vectors (rational unit): partial has a trailing coefficient axis
                g = (grad_c.unsqueeze(-1) * partial).reshape(-1, partial.shape[-1]).sum(0)
            else:
                g = (grad_c * partial).sum_to_size(value.shape)
            grad_params.append(g.to(value.dtype))
        return (grad_x, None, None, None, *grad_params)


def apply(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor:
    """Apply ``spec`` to ``x`` with bound ``params`` through the generic Function."""
    learnable = [p.name for p in spec.params if p.learnable]
    static = tuple((k, v) for k, v in params.items() if k not in learnable)
    values = []
    for name in learnable:
        v = params[name]
        if not isinstance(v, Tensor):
            v = torch.as_tensor(v, dtype=x.dtype, device=x.device)
        values.append(v)
    return SpecFunction.apply(x, spec.name, static, tuple(learnable), *values)
