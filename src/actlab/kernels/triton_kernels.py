"""Triton kernels for CUDA tensors: one pass forward, one pass backward, and the fused GLU family.

Like the reference, fp32 inputs are computed in fp64 and half inputs in fp32, rounded once at the store:
element-wise kernels are bound by memory bandwidth, so the wider arithmetic costs nothing measurable
while keeping results within the catalogue's bounds. Backward keeps what the Spec says (the output for
relu/sigmoid/tanh, the input for silu/gelu); the GLU backward writes both gradients into x's storage.

Used automatically for CUDA tensors when triton imports (``call`` returns ``None`` otherwise and the
reference path runs). tests/kernels/test_triton.py checks every kernel against the reference on a GPU
and skips cleanly without CUDA. Without one, the same kernels still run in Triton's interpreter
(``TRITON_INTERPRET=1``, CPU tensors, numpy for the arithmetic): tests/kernels/test_triton_interpret.py
checks their indexing, masks, dtypes and formulas that way in every CI run.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from actlab.catalog.spec import Spec

Tensor = torch.Tensor


def interpreting() -> bool:
    """True when Triton's interpreter is on (``TRITON_INTERPRET=1``): the kernels then run on CPU tensors."""
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "on", "yes")


HAVE_TRITON = False
try:  # pragma: no cover - needs triton and a GPU (importing triton without one only costs time)
    if not torch.cuda.is_available() and not interpreting():
        raise ImportError("no CUDA device")
    import triton
    import triton.language as tl

    try:
        from triton.language.extra import libdevice
    except ImportError:
        from triton.language.extra.cuda import libdevice  # type: ignore[no-redef]
    HAVE_TRITON = True
except Exception:  # ImportError, or a broken install: the reference path runs
    HAVE_TRITON = False

# Spec name -> (kernel function id, what backward keeps)
UNARY: dict[str, tuple[int, str]] = {
    "relu": (0, "output"),
    "sigmoid": (1, "output"),
    "tanh": (2, "output"),
    "silu": (3, "input"),
    "gelu": (4, "input"),
}
# gated entry -> id of its gate
GATED: dict[str, int] = {"reglu": 0, "glu": 1, "swiglu": 3, "geglu": 4}
BLOCK = 1024


def available() -> bool:
    """Triton imported and something runs its kernels: a CUDA device, or the interpreter."""
    return HAVE_TRITON and (torch.cuda.is_available() or interpreting())


def _runs_on(x: Tensor) -> bool:
    """x's device runs the kernels: CUDA, or the CPU under the interpreter (never chosen by the dispatcher,
    which sends only CUDA tensors here)."""
    return x.is_cuda or (x.is_cpu and interpreting())


if HAVE_TRITON:  # pragma: no cover - needs a GPU

    @triton.jit
    def _at_infinity(x, value, at_minus_inf, at_plus_inf):
        # the reference's limits at ±inf, where the formulas below give inf·0 or inf/inf = NaN
        return tl.where(x == float("-inf"), at_minus_inf, tl.where(x == float("inf"), at_plus_inf, value))

    @triton.jit
    def _f(x, FN: tl.constexpr):
        if FN == 0:
            return tl.where(x > 0, x, tl.where(x == x, 0.0, x))  # NaN propagates, as in the reference
        elif FN == 1:
            return 1.0 / (1.0 + tl.exp(-x))
        elif FN == 2:
            return libdevice.tanh(x)
        elif FN == 3:
            return _at_infinity(x, x / (1.0 + tl.exp(-x)), 0.0, x)
        else:
            return _at_infinity(x, 0.5 * x * libdevice.erfc(-x * 0.7071067811865476), 0.0, x)

    @triton.jit
    def _df_from_saved(s, FN: tl.constexpr):
        # FN 0-2: s is the output y; FN 3-4: s is the input x
        if FN == 0:
            return tl.where(s > 0, 1.0, 0.0)
        elif FN == 1:
            return s * (1.0 - s)
        elif FN == 2:
            return 1.0 - s * s
        elif FN == 3:
            sig = 1.0 / (1.0 + tl.exp(-s))
            return _at_infinity(s, sig * (1.0 + s * (1.0 - sig)), 0.0, 1.0)
        else:
            d = 0.5 * libdevice.erfc(-s * 0.7071067811865476) + s * tl.exp(-0.5 * s * s) * 0.3989422804014327
            return _at_infinity(s, d, 0.0, 1.0)

    @triton.jit
    def _df_from_input(x, FN: tl.constexpr):
        if FN == 0:
            return tl.where(x > 0, 1.0, 0.0)
        elif FN == 1:
            sig = 1.0 / (1.0 + tl.exp(-x))
            return sig * (1.0 - sig)
        elif FN == 2:
            t = libdevice.tanh(x)
            return 1.0 - t * t
        else:
            return _df_from_saved(x, FN)

    @triton.jit
    def _unary_forward(X, Y, n, FN: tl.constexpr, WIDE: tl.constexpr, BLOCK_SIZE: tl.constexpr):
        offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offs < n
        x = tl.load(X + offs, mask=mask, other=0.0)
        xc = x.to(tl.float64) if WIDE else x.to(tl.float32)
        tl.store(Y + offs, _f(xc, FN).to(Y.dtype.element_ty), mask=mask)

    @triton.jit
    def _unary_backward(G, S, DX, n, FN: tl.constexpr, WIDE: tl.constexpr, BLOCK_SIZE: tl.constexpr):
        offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offs < n
        g = tl.load(G + offs, mask=mask, other=0.0)
        s = tl.load(S + offs, mask=mask, other=0.0)
        gc = g.to(tl.float64) if WIDE else g.to(tl.float32)
        sc = s.to(tl.float64) if WIDE else s.to(tl.float32)
        tl.store(DX + offs, (gc * _df_from_saved(sc, FN)).to(DX.dtype.element_ty), mask=mask)

    @triton.jit
    def _glu_forward(X, Y, rows, half, FN: tl.constexpr, WIDE: tl.constexpr, BLOCK_SIZE: tl.constexpr):
        offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offs < rows * half
        r = offs // half
        c = offs % half
        a = tl.load(X + r * 2 * half + c, mask=mask, other=0.0)
        b = tl.load(X + r * 2 * half + half + c, mask=mask, other=0.0)
        ac = a.to(tl.float64) if WIDE else a.to(tl.float32)
        bc = b.to(tl.float64) if WIDE else b.to(tl.float32)
        tl.store(Y + offs, (ac * _f(bc, FN)).to(Y.dtype.element_ty), mask=mask)

    @triton.jit
    def _glu_backward(X, G, rows, half, FN: tl.constexpr, WIDE: tl.constexpr, BLOCK_SIZE: tl.constexpr):
        # reads a, b and grad once; writes d/da over a and d/db over b (Liger's in-place trick)
        offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offs < rows * half
        r = offs // half
        c = offs % half
        pa = X + r * 2 * half + c
        pb = pa + half
        a = tl.load(pa, mask=mask, other=0.0)
        b = tl.load(pb, mask=mask, other=0.0)
        g = tl.load(G + offs, mask=mask, other=0.0)
        ac = a.to(tl.float64) if WIDE else a.to(tl.float32)
        bc = b.to(tl.float64) if WIDE else b.to(tl.float32)
        gc = g.to(tl.float64) if WIDE else g.to(tl.float32)
        tl.store(pa, (gc * _f(bc, FN)).to(X.dtype.element_ty), mask=mask)
        tl.store(pb, (gc * ac * _df_from_input(bc, FN)).to(X.dtype.element_ty), mask=mask)


def _grid(n: int) -> tuple[int]:
    return ((n + BLOCK - 1) // BLOCK,)


def _wide(x: Tensor) -> bool:
    return x.dtype in (torch.float32, torch.float64)


def unary_forward(fn_id: int, x: Tensor) -> Tensor:
    x = x.contiguous()
    y = torch.empty_like(x)
    if x.numel():
        _unary_forward[_grid(x.numel())](x, y, x.numel(), FN=fn_id, WIDE=_wide(x), BLOCK_SIZE=BLOCK)
    return y


def unary_backward(fn_id: int, grad: Tensor, saved: Tensor) -> Tensor:
    grad, saved = grad.contiguous(), saved.contiguous()
    dx = torch.empty_like(saved)
    if saved.numel():
        _unary_backward[_grid(saved.numel())](
            grad, saved, dx, saved.numel(), FN=fn_id, WIDE=_wide(saved), BLOCK_SIZE=BLOCK
        )
    return dx


class TritonUnary(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, fn_id: int, saves: str) -> Tensor:  # type: ignore[override]
        y = unary_forward(fn_id, x)
        ctx.fn_id = fn_id
        ctx.save_for_backward(y if saves == "output" else x)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (saved,) = ctx.saved_tensors
        return unary_backward(ctx.fn_id, grad, saved), None, None


def glu_forward(gate_id: int, x: Tensor) -> Tensor:
    rows, half = x.numel() // x.shape[-1], x.shape[-1] // 2
    y = torch.empty((*x.shape[:-1], half), dtype=x.dtype, device=x.device)
    if y.numel():
        _glu_forward[_grid(y.numel())](x, y, rows, half, FN=gate_id, WIDE=_wide(x), BLOCK_SIZE=BLOCK)
    return y


def glu_backward_inplace(gate_id: int, x: Tensor, grad: Tensor) -> Tensor:
    rows, half = x.numel() // x.shape[-1], x.shape[-1] // 2
    grad = grad.contiguous()
    if grad.numel():
        _glu_backward[_grid(grad.numel())](x, grad, rows, half, FN=gate_id, WIDE=_wide(x), BLOCK_SIZE=BLOCK)
    return x


class TritonGLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, gate_id: int, inplace_grad: bool) -> Tensor:  # type: ignore[override]
        ctx.gate_id, ctx.inplace_grad = gate_id, inplace_grad
        ctx.save_for_backward(x)
        return glu_forward(gate_id, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        target = x if ctx.inplace_grad else x.clone()
        return glu_backward_inplace(ctx.gate_id, target, grad), None, None


def call(
    spec: Spec, x: Tensor, params: dict[str, Any], needs_grad: bool, inplace_grad: bool = False
) -> Tensor | None:
    """The Triton path for a CUDA tensor, or None (no triton, no kernel, non-default parameters)."""
    if not available() or not _runs_on(x) or x.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        return None
    if spec.kind == "gated":
        gate_id = GATED.get(spec.name)
        dim = int(params.get("dim", -1))
        if gate_id is None or dim not in (-1, x.dim() - 1) or not x.is_contiguous() or x.shape[-1] % 2:
            return None
        if needs_grad:
            inplace = inplace_grad and x.grad_fn is not None
            return TritonGLU.apply(x, gate_id, inplace)
        return glu_forward(gate_id, x)
    entry = UNARY.get(spec.name)
    if entry is None or spec.kind != "elementwise":
        return None
    if spec.name == "gelu" and params.get("approximate", "none") != "none":
        return None
    fn_id, saves = entry
    if saves != spec.saves:
        return None
    if needs_grad:
        return TritonUnary.apply(x, fn_id, saves)
    return unary_forward(fn_id, x)
