"""Triton kernels for CUDA tensors: one pass forward, one pass backward for 20 elementwise entries (gelu in
both forms), and the fused GLU family.

Like the reference, fp32 inputs are computed in fp64 and half inputs in fp32, rounded once at the store:
element-wise kernels are bound by memory bandwidth, so the wider arithmetic costs nothing measurable
while keeping results within the catalogue's bounds. Backward keeps what the Spec says (the output for
relu, sigmoid, tanh, the ELUs, softplus, ...; the input for silu, gelu, mish, ...); the GLU backward
writes both gradients into x's storage.

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

# Spec name -> (kernel function id, what backward keeps, the Spec parameters passed as P0, P1). Every
# kernel computes the reference's formula (fp32 inputs in fp64, half inputs in fp32) with the reference's
# values at ±inf and NaN; parameters enter as fp32 scalars (Triton's type for a Python float), so a
# parameter that is not an fp32 number (leaky_relu's 0.01) is used rounded to fp32: a relative change
# below 2^-24, within the bounds the tests hold every kernel to.
UNARY: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "relu": (0, "output", ()),
    "sigmoid": (1, "output", ()),
    "tanh": (2, "output", ()),
    "silu": (3, "input", ()),
    "gelu": (4, "input", ()),  # approximate="none"; "tanh" is GELU_TANH below
    "leaky_relu": (5, "output", ("negative_slope",)),
    "elu": (6, "output", ("alpha",)),
    "selu": (7, "output", ()),
    "celu": (8, "output", ("alpha",)),
    "softplus": (9, "output", ("beta",)),  # exact everywhere: the Spec ignores threshold
    "mish": (10, "input", ()),
    "hardtanh": (11, "output", ("min_val", "max_val")),
    "relu6": (12, "output", ()),
    "hardsigmoid": (13, "output", ()),
    "hardswish": (14, "input", ()),
    "softsign": (15, "output", ()),
    "quick_gelu": (16, "input", ()),
    "log_sigmoid": (17, "output", ()),
    "tanhshrink": (18, "input", ()),
    "squared_relu": (19, "input", ()),
}
GELU_TANH = 20
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
    def _sigmoid(x):
        return 1.0 / (1.0 + tl.exp(-x))

    @triton.jit
    def _softplus(x):
        # max(x, 0) + log1p(e^-|x|): no overflow, no log(1 + tiny) = 0
        return tl.maximum(x, 0.0) + libdevice.log1p(tl.exp(-tl.abs(x)))

    @triton.jit
    def _keep_nan(x, value):
        # value, or x itself where x is NaN (comparisons with NaN are false, so selects would drop it)
        return tl.where(x == x, value, x)

    @triton.jit
    def _f(x, P0, P1, FN: tl.constexpr):
        if FN == 0:  # relu
            return tl.where(x > 0, x, _keep_nan(x, 0.0))
        elif FN == 1:  # sigmoid
            return _sigmoid(x)
        elif FN == 2:  # tanh
            return libdevice.tanh(x)
        elif FN == 3:  # silu
            return _at_infinity(x, x / (1.0 + tl.exp(-x)), 0.0, x)
        elif FN == 4:  # gelu, erf form
            return _at_infinity(x, 0.5 * x * libdevice.erfc(-x * 0.7071067811865476), 0.0, x)
        elif FN == 5:  # leaky_relu
            return tl.where(x > 0, x, x * P0)
        elif FN == 6:  # elu
            return tl.where(x > 0, x, P0 * libdevice.expm1(x))
        elif FN == 7:  # selu
            return 1.0507009873554805 * tl.where(x > 0, x, 1.6732632423543772 * libdevice.expm1(x))
        elif FN == 8:  # celu
            return tl.where(x > 0, x, P0 * libdevice.expm1(x / P0))
        elif FN == 9:  # softplus: max(x, 0) + log1p(e^(-β|x|))/β
            return tl.maximum(x, 0.0) + libdevice.log1p(tl.exp(-P0 * tl.abs(x))) / P0
        elif FN == 10:  # mish
            return _at_infinity(x, x * libdevice.tanh(_softplus(x)), 0.0, x)
        elif FN == 11:  # hardtanh
            return tl.where(x < P0, P0, tl.where(x > P1, P1, x))
        elif FN == 12:  # relu6
            return tl.where(x < 0.0, 0.0, tl.where(x > 6.0, 6.0, x))
        elif FN == 13:  # hardsigmoid
            return tl.where(x <= -3.0, 0.0, tl.where(x >= 3.0, 1.0, x / 6.0 + 0.5))
        elif FN == 14:  # hardswish, x·0 on the left as the reference's x·relu6(x + 3)/6 (NaN at -inf)
            return tl.where(x <= -3.0, x * 0.0, tl.where(x >= 3.0, x, x * (x + 3.0) / 6.0))
        elif FN == 15:  # softsign
            return _at_infinity(x, x / (1.0 + tl.abs(x)), -1.0, 1.0)
        elif FN == 16:  # quick_gelu
            return _at_infinity(x, x * _sigmoid(1.702 * x), 0.0, x)
        elif FN == 17:  # log_sigmoid: min(x, 0) - log1p(e^-|x|)
            return tl.minimum(x, 0.0) - libdevice.log1p(tl.exp(-tl.abs(x)))
        elif FN == 18:  # tanhshrink
            return x - libdevice.tanh(x)
        elif FN == 19:  # squared_relu
            return tl.where(x > 0, x * x, _keep_nan(x, 0.0))
        else:  # gelu, tanh form: x·σ(2u) = x(1 + tanh u)/2 without the left tail's cancellation
            u = 0.7978845608028654 * (x + 0.044715 * x * x * x)
            return _at_infinity(x, x * _sigmoid(2.0 * u), 0.0, x)

    @triton.jit
    def _df_from_saved(s, P0, P1, FN: tl.constexpr):
        # s is the output y or the input x, as UNARY says
        if FN == 0:
            return tl.where(s > 0, 1.0, 0.0)
        elif FN == 1:
            return s * (1.0 - s)
        elif FN == 2:
            return 1.0 - s * s
        elif FN == 3:
            sig = _sigmoid(s)
            return _at_infinity(s, sig * (1.0 + s * (1.0 - sig)), 0.0, 1.0)
        elif FN == 4:
            d = 0.5 * libdevice.erfc(-s * 0.7071067811865476) + s * tl.exp(-0.5 * s * s) * 0.3989422804014327
            return _at_infinity(s, d, 0.0, 1.0)
        elif FN == 5:
            return tl.where(s > 0, 1.0, P0)
        elif FN == 6:
            return tl.where(s > 0, 1.0, s + P0)
        elif FN == 7:
            return tl.where(s > 0, 1.0507009873554805, s + 1.7580993408473766)
        elif FN == 8:
            return tl.where(s > 0, 1.0, s / P0 + 1.0)
        elif FN == 9:  # σ(βx) = -expm1(-β·y)
            return -libdevice.expm1(-P0 * s)
        elif FN == 10:  # tanh(sp) + x·σ(x)·sech²(sp)
            t = libdevice.tanh(_softplus(s))
            d = t + s * _sigmoid(s) * (1.0 - t * t)
            return _at_infinity(s, d, 0.0, 1.0)
        elif FN == 11:
            return tl.where((s > P0) & (s < P1), 1.0, 0.0)
        elif FN == 12:
            return tl.where((s > 0.0) & (s < 6.0), 1.0, 0.0)
        elif FN == 13:
            return tl.where((s > 0.0) & (s < 1.0), 1.0 / 6.0, 0.0)
        elif FN == 14:
            return tl.where(s <= -3.0, 0.0, tl.where(s >= 3.0, 1.0, _keep_nan(s, (2.0 * s + 3.0) / 6.0)))
        elif FN == 15:
            a = 1.0 - tl.abs(s)
            return a * a
        elif FN == 16:
            z = 1.702 * s
            sig = _sigmoid(z)
            return _at_infinity(s, sig + z * sig * (1.0 - sig), 0.0, 1.0)
        elif FN == 17:  # σ(-x) = -expm1(y)
            return -libdevice.expm1(s)
        elif FN == 18:
            t = libdevice.tanh(s)
            return t * t
        elif FN == 19:
            return tl.where(s > 0, 2.0 * s, _keep_nan(s, 0.0))
        else:  # σ(2u) + 2x·u'·σ(2u)·σ(-2u); x is clamped to ±1e4 in the second term (σ(±2u)'s product is
            # 0 there, and x²·x would overflow into inf·0); min/max drop a NaN, so it is put back
            xc = tl.minimum(tl.maximum(s, -1e4), 1e4)
            u = 0.7978845608028654 * (xc + 0.044715 * xc * xc * xc)
            sig = _sigmoid(2.0 * u)
            du = 0.7978845608028654 * (1.0 + 0.134145 * xc * xc)
            return _at_infinity(s, _keep_nan(s, sig + 2.0 * xc * du * sig * (1.0 - sig)), 0.0, 1.0)

    @triton.jit
    def _df_from_input(x, FN: tl.constexpr):
        # the GLU gates (ids 0, 1, 3, 4), whose backward always has the input
        if FN == 0:
            return tl.where(x > 0, 1.0, 0.0)
        elif FN == 1:
            sig = _sigmoid(x)
            return sig * (1.0 - sig)
        else:
            return _df_from_saved(x, 0.0, 0.0, FN)

    @triton.jit
    def _unary_forward(X, Y, n, P0, P1, FN: tl.constexpr, WIDE: tl.constexpr, BLOCK_SIZE: tl.constexpr):
        offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offs < n
        x = tl.load(X + offs, mask=mask, other=0.0)
        xc = x.to(tl.float64) if WIDE else x.to(tl.float32)
        tl.store(Y + offs, _f(xc, P0, P1, FN).to(Y.dtype.element_ty), mask=mask)

    @triton.jit
    def _unary_backward(G, S, DX, n, P0, P1, FN: tl.constexpr, WIDE: tl.constexpr, BLOCK_SIZE: tl.constexpr):
        offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offs < n
        g = tl.load(G + offs, mask=mask, other=0.0)
        s = tl.load(S + offs, mask=mask, other=0.0)
        gc = g.to(tl.float64) if WIDE else g.to(tl.float32)
        sc = s.to(tl.float64) if WIDE else s.to(tl.float32)
        tl.store(DX + offs, (gc * _df_from_saved(sc, P0, P1, FN)).to(DX.dtype.element_ty), mask=mask)

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
        tl.store(Y + offs, (ac * _f(bc, 0.0, 0.0, FN)).to(Y.dtype.element_ty), mask=mask)

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
        tl.store(pa, (gc * _f(bc, 0.0, 0.0, FN)).to(X.dtype.element_ty), mask=mask)
        tl.store(pb, (gc * ac * _df_from_input(bc, FN)).to(X.dtype.element_ty), mask=mask)


def _grid(n: int) -> tuple[int]:
    return ((n + BLOCK - 1) // BLOCK,)


def _wide(x: Tensor) -> bool:
    return x.dtype in (torch.float32, torch.float64)


def unary_forward(fn_id: int, x: Tensor, p0: float = 0.0, p1: float = 0.0) -> Tensor:
    x = x.contiguous()
    y = torch.empty_like(x)
    if x.numel():
        _unary_forward[_grid(x.numel())](x, y, x.numel(), p0, p1, FN=fn_id, WIDE=_wide(x), BLOCK_SIZE=BLOCK)
    return y


def unary_backward(fn_id: int, grad: Tensor, saved: Tensor, p0: float = 0.0, p1: float = 0.0) -> Tensor:
    grad, saved = grad.contiguous(), saved.contiguous()
    dx = torch.empty_like(saved)
    if saved.numel():
        _unary_backward[_grid(saved.numel())](
            grad, saved, dx, saved.numel(), p0, p1, FN=fn_id, WIDE=_wide(saved), BLOCK_SIZE=BLOCK
        )
    return dx


class TritonUnary(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, fn_id: int, saves: str, p0: float, p1: float) -> Tensor:  # type: ignore[override]
        y = unary_forward(fn_id, x, p0, p1)
        ctx.fn_id, ctx.p = fn_id, (p0, p1)
        ctx.save_for_backward(y if saves == "output" else x)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (saved,) = ctx.saved_tensors
        return unary_backward(ctx.fn_id, grad, saved, *ctx.p), None, None, None, None


def unary_plan(spec: Spec, params: dict[str, Any]) -> tuple[int, str, float, float] | None:
    """(kernel id, what backward keeps, P0, P1) for an elementwise entry with a kernel, or None: no kernel,
    tensor-valued (learnable) parameters, or parameter values the reference rejects (hardtanh's
    min_val >= max_val, celu's and softplus' 0)."""
    entry = UNARY.get(spec.name)
    if entry is None or spec.kind != "elementwise":
        return None
    fn_id, saves, names = entry
    if saves != spec.saves or any(isinstance(v, Tensor) for v in params.values()):
        return None
    if spec.name == "gelu":
        approximate = params.get("approximate", "none")
        if approximate not in ("none", "tanh"):
            return None
        fn_id = GELU_TANH if approximate == "tanh" else fn_id
    values = [float(params.get(name, spec.param(name).default)) for name in names] + [0.0, 0.0]
    p0, p1 = values[0], values[1]
    if (spec.name == "hardtanh" and not p0 < p1) or (spec.name in ("celu", "softplus") and p0 == 0.0):
        return None
    return fn_id, saves, p0, p1


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
    """The Triton path for a CUDA tensor, or None (no triton, no kernel, parameters it declines)."""
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
    plan = unary_plan(spec, params)
    if plan is None:
        return None
    fn_id, saves, p0, p1 = plan
    if needs_grad:
        return TritonUnary.apply(x, fn_id, saves, p0, p1)
    return unary_forward(fn_id, x, p0, p1)
