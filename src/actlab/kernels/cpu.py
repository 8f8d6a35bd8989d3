"""CPU fast paths: torch's native op where a test proves it within the catalogue's bounds, and fused
compiled code (torch.compile, Inductor's C++ backend) for entries torch has no op for.

* Native ops (``NATIVE``): forward and backward are torch's own kernels, used only for the dtypes in
  ``NATIVE_VERIFIED`` — each (entry, dtype) there is checked against the reference over the whole
  finite range, tails and edges included, by ``tests/kernels/test_cpu.py``. Backward keeps what the
  Spec says (the output for relu/sigmoid/tanh/hardtanh/leaky_relu, ...), never more than the reference.
  Where torch is accurate only on part of the line (silu, mish, gelu in fp32), the "hybrids" below use
  its op there and recompute just the elements outside that range exactly (fp64, rounded once); other
  dtypes, softplus with beta != 1 and entries not listed keep the exact reference path.
* Compiled (``compiled_forward`` / ``compiled_backward``): the Spec's own forward and derivative, one
  precision up exactly as the reference, fused into one loop by torch.compile; shapes are dynamic
  (inputs are flattened), so one compilation serves every size. Compilation happens on first use and
  is cached; if it fails (no C++ compiler, unsupported op) the entry is remembered as failed and the
  reference path runs.

Compilation is **opt-in**: it costs about 20 s per function and direction on a CPU and needs a working
C++ toolchain, so the default is ``never`` and a plain ``import actlab`` never compiles anything. Opt in
with ``ACTLAB_COMPILE=auto`` (compile inputs of at least ``COMPILE_MIN_NUMEL`` elements, so small calls
never pay a compilation), ``ACTLAB_COMPILE=always``, or ``actlab.kernels.set_compile("auto")`` at run
time. ``actlab bench`` opts in for its own measurement and restores the setting afterwards.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from actlab.autograd import compute_dtype, evaluate
from actlab.catalog.rectifiers import SELU_ALPHA as _SELU_ALPHA
from actlab.catalog.rectifiers import SELU_SCALE as _SELU_SCALE
from actlab.catalog.spec import Spec
from actlab.kernels import ckernels

Tensor = torch.Tensor
aten = torch.ops.aten
# the overloads themselves: calling them skips the packet's overload resolution (µs per call)
_hardtanh_backward = aten.hardtanh_backward.default
_leaky_relu_backward = aten.leaky_relu_backward.default


@dataclass(frozen=True)
class NativeOp:
    forward: Callable[[Tensor, dict[str, Any]], Tensor]
    backward: Callable[[Tensor, Tensor, dict[str, Any]], Tensor]  # (grad, saved, params)
    saves: str  # "output" or "input"
    accepts: Callable[[dict[str, Any]], bool] = lambda p: True
    # True where torch's own autograd of ``forward`` keeps the same tensor and computes exactly
    # ``backward`` (the same aten kernel on the same saved tensor): the call then skips the Python
    # Function and its backward runs in C++. tests/kernels/test_cpu.py checks both claims.
    torch_autograd: bool = False
    # actlab's own C kernel (ckernels.py): called through raw pointers, which torch.compile cannot trace
    c_kernel: bool = False


def _hardtanh_params(p: dict[str, Any]) -> tuple[float, float]:
    return float(p.get("min_val", -1.0)), float(p.get("max_val", 1.0))


def _inside(y: Tensor, lo: float, hi: float) -> Tensor:
    return ((y > lo) & (y < hi)).to(y.dtype)


def _inside_backward(g: Tensor, y: Tensor, lo: float, hi: float) -> Tensor:
    """g · [lo < y < hi], as the reference gives it (0·g for a NaN y, NaN for a non-finite g outside).

    ``hardtanh_backward`` is one pass and agrees except where y is NaN (it lets g through) or g is not
    finite where the slope is 0 (it gives 0, not NaN). y is bounded, so one dot product tells whether
    either can occur: it is finite only when g and y are; otherwise the exact masked product runs.
    """
    out = _hardtanh_backward(g, y, lo, hi)
    if torch.is_grad_enabled():  # create_graph=True: keep the check out of the graph
        with torch.no_grad():
            check = torch.dot(g.detach().reshape(-1), y.detach().reshape(-1)).item()
    else:
        check = torch.dot(g.reshape(-1), y.reshape(-1)).item()
    return out if math.isfinite(check) else g * _inside(y, lo, hi)


NATIVE: dict[str, NativeOp] = {
    # leaky_relu_backward with slope 0 is grad·[y > 0] (0·grad for NaN y, as the reference gives);
    # threshold_backward would pass the gradient through a NaN
    "relu": NativeOp(
        lambda x, p: torch.relu(x), lambda g, y, p: _leaky_relu_backward(g, y, 0.0, True), "output"
    ),
    # torch's SigmoidBackward0 / TanhBackward0 keep the result and call sigmoid_backward / tanh_backward
    "sigmoid": NativeOp(
        lambda x, p: torch.sigmoid(x),
        lambda g, y, p: aten.sigmoid_backward(g, y),
        "output",
        torch_autograd=True,
    ),
    "tanh": NativeOp(
        lambda x, p: torch.tanh(x), lambda g, y, p: aten.tanh_backward(g, y), "output", torch_autograd=True
    ),
    "hardtanh": NativeOp(
        lambda x, p: F.hardtanh(x, *_hardtanh_params(p)),
        # y lies strictly inside (min, max) exactly when x does (torch's own backward keeps x instead)
        lambda g, y, p: _inside_backward(g, y, *_hardtanh_params(p)),
        "output",
        lambda p: _hardtanh_params(p)[0] < _hardtanh_params(p)[1],
    ),
    "relu6": NativeOp(
        lambda x, p: F.hardtanh(x, 0.0, 6.0), lambda g, y, p: _inside_backward(g, y, 0.0, 6.0), "output"
    ),
    "leaky_relu": NativeOp(
        lambda x, p: F.leaky_relu(x, float(p.get("negative_slope", 0.01))),
        lambda g, y, p: _leaky_relu_backward(g, y, float(p.get("negative_slope", 0.01)), True),
        "output",
        lambda p: float(p.get("negative_slope", 0.01)) > 0,
    ),
    "elu": NativeOp(
        lambda x, p: F.elu(x, float(p.get("alpha", 1.0))),
        lambda g, y, p: aten.elu_backward(g, float(p.get("alpha", 1.0)), 1.0, 1.0, True, y),
        "output",
        lambda p: float(p.get("alpha", 1.0)) >= 0,
    ),
    "silu": NativeOp(lambda x, p: F.silu(x), lambda g, x, p: aten.silu_backward(g, x), "input"),
    "mish": NativeOp(lambda x, p: F.mish(x), lambda g, x, p: aten.mish_backward(g, x), "input"),
    "hardswish": NativeOp(
        lambda x, p: F.hardswish(x), lambda g, x, p: aten.hardswish_backward(g, x), "input"
    ),
    "hardsigmoid": NativeOp(
        lambda x, p: F.hardsigmoid(x), lambda g, x, p: aten.hardsigmoid_backward(g, x), "input"
    ),
    "hardshrink": NativeOp(
        lambda x, p: F.hardshrink(x, float(p.get("lambd", 0.5))),
        lambda g, x, p: aten.hardshrink_backward(g, x, float(p.get("lambd", 0.5))),
        "input",
    ),
    "softshrink": NativeOp(
        lambda x, p: F.softshrink(x, float(p.get("lambd", 0.5))),
        lambda g, x, p: aten.softshrink_backward(g, x, float(p.get("lambd", 0.5))),
        "input",
    ),
}


# ----------------------------------------------------------------------------------------------------
# fp32 hybrids: torch's fp32 op on the range where it is proven accurate, the exact reference (fp64,
# rounded once) recomputed only for the elements outside it (one comparison pass finds them; they are
# rare in practice). tests/kernels/test_fp32_fast.py proves each against mpmath over every fp32 binade.
# ----------------------------------------------------------------------------------------------------
def _lookup(name: str) -> Spec:
    from actlab.catalog.spec import lookup

    return lookup(name)


_FLT_MAX = float(torch.finfo(torch.float32).max)


def _outside(x: Tensor, lo: float, hi: float) -> Callable[[], Tensor | None]:
    """The mask of elements outside [lo, hi] (NaN included), or None when there are none: one min/max
    reduction decides, and the mask is built only when some element falls outside."""

    def mask() -> Tensor | None:
        if not x.numel():
            return None
        mn, mx = torch.aminmax(x.detach())
        if lo <= float(mn) and float(mx) <= hi:
            return None
        return (x < lo) | (x > hi)

    return mask


def _patch(out: Tensor, bad: Callable[[], Tensor | None], exact: Callable[[Any], Tensor]) -> Tensor:
    """out with the ``bad`` elements replaced by ``exact`` of them (differentiable under create_graph).
    NaN inputs are never replaced: every native op here propagates them as the reference does."""
    mask = bad()
    if mask is None:
        return out
    index = mask.nonzero(as_tuple=True)  # one scan; indexing with it skips the boolean mask's own
    if not index[0].numel():
        return out
    values = exact(index)
    if torch.is_grad_enabled():  # create_graph=True: keep the replacement in the graph
        return out.index_put(index, values)
    return out.index_put_(index, values)


def _exact_forward(name: str, x: Tensor, p: dict[str, Any]) -> Callable[[Any], Tensor]:
    return lambda m: evaluate(_lookup(name), x[m], p)


def _exact_backward(name: str, g: Tensor, x: Tensor, p: dict[str, Any]) -> Callable[[Any], Tensor]:
    def exact(m: Any) -> Tensor:
        d = _lookup(name).derivative(x[m].double(), **p)
        return (g[m].double() * d).to(g.dtype)

    return exact


def _hybrid_backward(
    name: str,
    native: Callable[[], Tensor],
    lo: float,
    hi: float,
    g: Tensor,
    x: Tensor,
    p: dict[str, Any],
) -> Tensor:
    """native() with the elements outside [lo, hi] recomputed exactly; under create_graph=True the
    reference's own differentiable formula for all (torch has no double backward for mish_backward)."""
    if torch.is_grad_enabled():
        return (g.double() * _lookup(name).derivative(x.double(), **p)).to(g.dtype)
    return _patch(native(), _outside(x, lo, hi), _exact_backward(name, g, x, p))


def _silu_forward(x: Tensor, p: dict[str, Any]) -> Tensor:
    # torch's exp(-x) overflows below -88.7 (silu becomes 0 or NaN where the truth is still normal)
    return _patch(F.silu(x), _outside(x, -80.0, math.inf), _exact_forward("silu", x, p))


def _silu_backward(g: Tensor, x: Tensor, p: dict[str, Any]) -> Tensor:
    # torch's silu_backward forms 1 + x·(1 - σ(x)), which loses bits for 8 < x < 18: σ(x) + x·σ(x)·σ(-x)
    # keeps them (both sigmoids accurate in their tails); ±inf give inf·0 and take the reference
    def native() -> Tensor:
        s = torch.sigmoid(x)
        return torch.sigmoid(-x).mul_(s).mul_(x).add_(s).mul_(g)

    return _hybrid_backward("silu", native, -_FLT_MAX, _FLT_MAX, g, x, p)


def _mish_forward(x: Tensor, p: dict[str, Any]) -> Tensor:
    return _patch(F.mish(x), _outside(x, -20.0, math.inf), _exact_forward("mish", x, p))


def _mish_backward(g: Tensor, x: Tensor, p: dict[str, Any]) -> Tensor:
    return _hybrid_backward("mish", lambda: aten.mish_backward(g, x), -20.0, 8.0, g, x, p)


def _gelu_tanh(p: dict[str, Any]) -> bool:
    return p.get("approximate", "none") == "tanh"


def _gelu_erfc_fp32(x: Tensor) -> Tensor:
    """x/2 · erfc(-x/√2) in fp32 for finite x > -10 (≤ 2.3 ULP): torch's own fp32 gelu is 8 ULP off near
    0 and cancels on the left. z = -x/√2 is formed in fp64 and split into z_hi + z_lo (fp32 each), and
    erfc(z) = erfc(z_hi) - 2/√π·exp(-z_hi²)·z_lo: the rounding of z is not amplified by erfc's tail."""
    z = x.double() * -_SQRT1_2
    hi = z.float()
    lo = (z - hi).float()
    e = torch.special.erfc(hi)
    e -= torch.exp(-hi * hi).mul_(lo).mul_(_TWO_OVER_SQRT_PI)
    return e.mul_(0.5).mul_(x)  # halved first: 2·x would overflow near the fp32 maximum


def _gelu_forward(x: Tensor, p: dict[str, Any]) -> Tensor:
    if _gelu_tanh(p):
        # torch's 1 + tanh(u) cancels in the left tail
        return _patch(
            F.gelu(x, approximate="tanh"), _outside(x, -1.0, math.inf), _exact_forward("gelu", x, p)
        )
    return _patch(_gelu_erfc_fp32(x), _outside(x, -10.0, _FLT_MAX), _exact_forward("gelu", x, p))


def _gelu_backward(g: Tensor, x: Tensor, p: dict[str, Any]) -> Tensor:
    if _gelu_tanh(p):
        native = lambda: aten.gelu_backward(g, x, approximate="tanh")  # noqa: E731
        return _hybrid_backward("gelu", native, -3.5, 3.5, g, x, p)
    # torch's fp32 gelu_backward is within 4 units on every finite input; ±inf give inf·0
    native = lambda: aten.gelu_backward(g, x)  # noqa: E731
    return _hybrid_backward("gelu", native, -_FLT_MAX, _FLT_MAX, g, x, p)


_SQRT1_2 = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

NATIVE.update(
    {
        "silu": NativeOp(_silu_forward, _silu_backward, "input"),
        "mish": NativeOp(_mish_forward, _mish_backward, "input"),
        "gelu": NativeOp(_gelu_forward, _gelu_backward, "input"),
        # threshold is ignored by the Spec: torch's default switch at 20 is off by < e^-20 relative
        "softplus": NativeOp(
            lambda x, p: F.softplus(x),
            lambda g, y, p: g * -torch.expm1(-y),
            "output",
            lambda p: float(p.get("beta", 1.0)) == 1.0,
        ),
        "selu": NativeOp(
            lambda x, p: F.selu(x),
            lambda g, y, p: aten.elu_backward(g, _SELU_ALPHA, _SELU_SCALE, 1.0, True, y),
            "output",
        ),
        "celu": NativeOp(
            lambda x, p: F.celu(x, float(p.get("alpha", 1.0))),
            lambda g, y, p: aten.elu_backward(
                g, float(p.get("alpha", 1.0)), 1.0, 1.0 / float(p.get("alpha", 1.0)), True, y
            ),
            "output",
            lambda p: float(p.get("alpha", 1.0)) > 0,
        ),
    }
)


# (entry, dtype) pairs proven within bounds by tests/kernels/test_cpu.py (forward ≤ 3 units of the
# reference, backward ≤ 6, over ±(0 … max finite) and the edges). Only these use the native op.
_F32, _F64, _BF16, _F16 = torch.float32, torch.float64, torch.bfloat16, torch.float16
_ALL = frozenset({_F32, _F64, _BF16, _F16})
NATIVE_VERIFIED: dict[str, frozenset[torch.dtype]] = {
    "relu": _ALL,
    "sigmoid": _ALL,
    "tanh": _ALL,
    "hardtanh": _ALL,
    "relu6": _ALL,
    "leaky_relu": _ALL,
    # elu in half precision: its native backward lets a gradient through NaN (tests/kernels/test_lean.py)
    "elu": frozenset({_F32, _F64}),
    # fp32 only (other dtypes keep the reference): torch's fp32 op where it is accurate, the reference
    # for the elements outside that range (the hybrids above); softplus for beta = 1 only
    "silu": frozenset({_F32}),
    "mish": frozenset({_F32}),
    "gelu": frozenset({_F32}),
    "softplus": frozenset({_F32}),
    "selu": frozenset({_F32}),
    "celu": frozenset({_F32}),
    # Measured and left out (the reference keeps them): softshrink's backward disagrees at ±lambd;
    # native silu/mish alone are off by orders of magnitude in the tails (hence the fp32 hybrids);
    # hardswish overflows in fp32; hardsigmoid/hardshrink keep the input where the Spec keeps the output.
}


def _candidate(name: str, dtype: torch.dtype, allow_c: bool = True) -> NativeOp | None:
    """actlab's own C kernel for float32 when it is built and enabled, else torch's op where verified.
    Under torch.compile (``allow_c=False``) only torch's ops: raw-pointer calls cannot be traced."""
    op = ckernels.op_for(name, dtype) if allow_c else None
    if op is not None:
        return op
    return NATIVE.get(name) if dtype in NATIVE_VERIFIED.get(name, ()) else None


def native_op(spec: Spec, x: Tensor, params: dict[str, Any], forward_only: bool = False) -> NativeOp | None:
    """The native op for this call if it is verified for x's dtype and (unless ``forward_only``) its
    backward keeps what the Spec's does."""
    op = _candidate(spec.name, x.dtype, not torch.compiler.is_compiling()) if x.device.type == "cpu" else None
    if op is None:
        return None
    if any(isinstance(v, Tensor) for v in params.values()) or not op.accepts(params):
        return None
    if not forward_only and op.saves != spec.saves:
        return None
    return op


_UNSET: Any = object()
# (entry, dtype) -> the verified native op whose backward keeps what the Spec keeps, or None: everything
# ``native_op`` decides that does not depend on the call's parameters, decided once.
_NATIVE_PLAN: dict[tuple[str, torch.dtype, bool], NativeOp | None] = {}


def native_op_fast(spec: Spec, x: Tensor, params: dict[str, Any]) -> NativeOp | None:
    """``native_op`` for a CPU tensor, with the per-(entry, dtype) part cached (the dispatcher's hot path)."""
    compiling = torch.compiler.is_compiling()
    key = (spec.name, x.dtype, compiling)
    op = _NATIVE_PLAN.get(key, _UNSET)
    if op is _UNSET:
        op = _candidate(spec.name, x.dtype, allow_c=not compiling)
        if op is not None and op.saves != spec.saves:
            op = None
        _NATIVE_PLAN[key] = op
    if op is None or not params:
        return op
    for v in params.values():
        if isinstance(v, Tensor):
            return None
    return op if op.accepts(params) else None


class NativeFunction(torch.autograd.Function):
    """torch's native forward and backward kernels, keeping what the Spec keeps.

    Not ``once_differentiable``: every native backward above is itself made of differentiable aten ops
    (``leaky_relu_backward``, ``hardtanh_backward``, ``elu_backward``, ...) and the saved output is this
    Function's own output, so under ``create_graph=True`` autograd records the backward and double
    backward gives the same second derivative as the reference (``g * f''``) with no first-order cost.
    """

    @staticmethod
    def forward(ctx, x: Tensor, op: NativeOp, params: dict[str, Any]) -> Tensor:  # type: ignore[override]
        y = op.forward(x, params)
        ctx.op, ctx.params = op, params
        ctx.save_for_backward(y if op.saves == "output" else x)
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (saved,) = ctx.saved_tensors
        return ctx.op.backward(grad, saved, ctx.params), None, None


def native_call(op: NativeOp, x: Tensor, params: dict[str, Any], needs_grad: bool) -> Tensor:
    if needs_grad and not op.torch_autograd:
        return NativeFunction.apply(x, op, params)
    return op.forward(x, params)


# ----------------------------------------------------------------------------------------------------
# Compiled paths
# ----------------------------------------------------------------------------------------------------
COMPILE_MIN_NUMEL = 1 << 18
_COMPILE_ALIASES = {
    "0": "never",
    "1": "always",
    "false": "never",
    "true": "always",
    "off": "never",
    "": "never",
}


def _setting_from_env(value: str | None) -> str:
    """ACTLAB_COMPILE's value as a setting: unset, empty or unknown means 'never' (opt-in only)."""
    setting = (value or "").strip().lower()
    setting = _COMPILE_ALIASES.get(setting, setting)
    return setting if setting in ("never", "auto", "always") else "never"


_compile_setting = _setting_from_env(os.environ.get("ACTLAB_COMPILE"))
_COMPILED: dict[tuple, Callable[..., Tensor] | None] = {}


def set_compile(setting: str) -> None:
    """Choose when fast paths compile: 'never' (the default), 'auto' (inputs of at least
    ``COMPILE_MIN_NUMEL`` elements) or 'always'. Compiling costs ~20 s per function on a CPU and needs
    a C++ toolchain; a failed compilation falls back to the reference path with a warning."""
    global _compile_setting
    setting = _COMPILE_ALIASES.get(setting, setting)
    if setting not in ("never", "auto", "always"):
        raise ValueError(f"compile setting {setting!r}: use 'never', 'auto' or 'always'")
    _compile_setting = setting


def compile_setting() -> str:
    """The current setting: 'never' unless ACTLAB_COMPILE or ``set_compile`` opted in."""
    return _compile_setting if _compile_setting in ("auto", "always") else "never"


def wants_compile(x: Tensor) -> bool:
    setting = compile_setting()
    if setting == "never" or x.device.type != "cpu":
        return False
    return setting == "always" or x.numel() >= COMPILE_MIN_NUMEL


def static_key(spec: Spec, params: dict[str, Any]) -> tuple | None:
    """A hashable key of an entry and its parameters; None when a parameter is a tensor."""
    items = []
    for k, v in sorted(params.items()):
        if isinstance(v, Tensor):
            return None
        items.append((k, v))
    return (spec.name, tuple(items))


def _compiled(key: tuple, build: Callable[[], Callable[..., Tensor]]) -> Callable[..., Tensor] | None:
    if key in _COMPILED:
        return _COMPILED[key]
    plain = build()
    # dynamo keeps its cache on the code object: a code object of its own per entry (and per direction,
    # dtype, parameters) keeps entries from counting against each other's recompilation limit
    plain.__code__ = plain.__code__.replace(co_name=f"actlab_{key[0]}_{abs(hash(key)) % 10**8}")
    fn = torch.compile(plain, dynamic=True, fullgraph=True)
    _COMPILED[key] = fn
    return fn


def _run(key: tuple, fn: Callable[..., Tensor], *args: Tensor) -> Tensor | None:
    try:
        return fn(*args)
    except Exception as err:  # compiler missing or op unsupported: remember, fall back to the reference
        _COMPILED[key] = None
        warnings.warn(
            f"actlab: compiled path {key[0]!r} failed ({type(err).__name__}); using the reference",
            stacklevel=3,
        )
        return None


# Entries whose own Spec formulas (forward, derivative, derivative_from_output), evaluated in float32
# without promotion, are proven within the catalogue's bounds (4 ULP forward, 8 units derivative) over
# every fp32 binade by tests/kernels/test_fp32_formulas.py. Their compiled fp32 paths compute in fp32,
# which is what makes the fused loop several times faster than the naive composition; every other entry
# compiles the reference's fp64 evaluation. Measured and left out: quick_gelu (26 ULP: the rounding of
# 1.702·x is amplified by exp in the left tail) and gaussian (50 ULP: exp(-x²) amplifies x²'s rounding).
FP32_FORMULAS: frozenset[str] = frozenset(
    {"squared_relu", "squareplus", "isru", "bent_identity", "softsign", "lisht", "tanh_exp", "sparse_plus"}
)


def formula_dtype(spec: Spec, dtype: torch.dtype) -> torch.dtype:
    """The precision a compiled path evaluates ``spec`` in for inputs of ``dtype``."""
    if dtype == torch.float32 and spec.name in FP32_FORMULAS:
        return torch.float32
    return compute_dtype(dtype)


def compiled_forward(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor | None:
    """f(x) from a fused compiled loop, computed one precision up like the reference; None to decline."""
    skey = static_key(spec, params)
    if skey is None or spec.kind != "elementwise":
        return None
    cd, dtype, forward = formula_dtype(spec, x.dtype), x.dtype, spec.forward
    key = (*skey, "forward", x.dtype, cd)

    def build() -> Callable[[Tensor], Tensor]:
        def fwd(flat: Tensor) -> Tensor:
            return forward(flat.to(cd), **params).to(dtype)

        return fwd

    fn = _compiled(key, build)
    if fn is None:
        return None
    y = _run(key, fn, x.reshape(-1))
    return None if y is None else y.view(x.shape)


def compiled_backward(
    spec: Spec, saved: Tensor, grad: Tensor, params: dict[str, Any], saves: str
) -> Tensor | None:
    """grad · f'(x) from the saved input or output, fused; None to decline."""
    skey = static_key(spec, params)
    if skey is None:
        return None
    cd, dtype = formula_dtype(spec, saved.dtype), saved.dtype
    key = (*skey, "backward", saves, saved.dtype, cd)
    derivative = spec.derivative_from_output if saves == "output" else spec.derivative

    def build() -> Callable[[Tensor, Tensor], Tensor]:
        def bwd(g: Tensor, s: Tensor) -> Tensor:
            return (g.to(cd) * derivative(s.to(cd), **params)).to(dtype)

        return bwd

    fn = _compiled(key, build)
    if fn is None:
        return None
    out = _run(key, fn, grad.reshape(-1), saved.reshape(-1))
    return None if out is None else out.view(grad.shape)


class CompiledFunction(torch.autograd.Function):
    """The generic Function's semantics (keeps what the Spec says) with compiled forward and backward."""

    @staticmethod
    def forward(ctx, x: Tensor, spec: Spec, params: dict[str, Any]) -> Tensor:  # type: ignore[override]
        y = compiled_forward(spec, x, params)
        if y is None:
            y = evaluate(spec, x, params)
        ctx.spec, ctx.params, ctx.saves = spec, params, spec.saves
        if spec.saves == "output":
            ctx.save_for_backward(y)
        elif spec.saves == "input":
            ctx.save_for_backward(x)
        else:
            ctx.shape = x.shape
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        spec, params = ctx.spec, ctx.params
        cd = compute_dtype(grad.dtype)
        if torch.is_grad_enabled():
            # create_graph=True: the generic Function's differentiable backward (same formula, eager)
            (saved,) = ctx.saved_tensors if ctx.saves != "nothing" else (None,)
            shape = getattr(ctx, "shape", None)
            return differentiable_backward(spec, ctx.saves, grad, saved, params, shape), None, None
        if ctx.saves == "nothing":
            d = spec.derivative(torch.zeros(ctx.shape, dtype=cd), **params)
            return (grad.to(cd) * d).to(grad.dtype), None, None
        (saved,) = ctx.saved_tensors
        out = compiled_backward(spec, saved, grad, params, ctx.saves)
        if out is None:
            d = (spec.derivative_from_output if ctx.saves == "output" else spec.derivative)(
                saved.to(cd), **params
            )
            out = (grad.to(cd) * d).to(grad.dtype)
        return out, None, None


def differentiable_backward(
    spec: Spec, saves: str, grad: Tensor, saved: Tensor | None, params: dict[str, Any], shape: Any = None
) -> Tensor:
    """grad · f' with differentiable torch ops, as ``actlab.autograd.SpecFunction.backward`` computes it:
    fast paths use it under create_graph=True, so double backward gives the reference's second
    derivative. ``saved`` is the input or the output as ``saves`` says (``shape`` when it is nothing)."""
    if not spec.double_backward:
        raise RuntimeError(
            f"double backward is not supported for {spec.name!r}: its derivative is not "
            "differentiable in closed form; use first-order gradients only"
        )
    cd = compute_dtype(grad.dtype)
    if saves == "nothing":
        d = spec.derivative(torch.zeros(shape, dtype=cd, device=grad.device), **params)
    else:
        derivative = spec.derivative_from_output if saves == "output" else spec.derivative
        d = derivative(saved.to(cd), **params)
    return (grad.to(cd) * d).to(grad.dtype)


def compiled_call(spec: Spec, x: Tensor, params: dict[str, Any], needs_grad: bool) -> Tensor | None:
    if spec.kind != "elementwise" or spec.learnable or spec.stochastic or not wants_compile(x):
        return None
    if not needs_grad:
        return compiled_forward(spec, x, params)
    skey = static_key(spec, params)
    if skey is None or _COMPILED.get((*skey, "forward", x.dtype, formula_dtype(spec, x.dtype)), True) is None:
        return None  # compilation failed before: the reference path
    return CompiledFunction.apply(x, spec, params)


# ----------------------------------------------------------------------------------------------------
# Fused GLU on CPU
# ----------------------------------------------------------------------------------------------------
def _glu_setup(spec: Spec, x: Tensor, params: dict[str, Any], direction: str) -> tuple | None:
    """What both compiled GLU directions need: their cache key, the split, the gate and dtypes."""
    from actlab.kernels.glu import split_params

    if not wants_compile(x):
        return None
    skey = static_key(spec, params)
    if skey is None:
        return None
    dim, gate, gp = split_params(spec, params)
    return (*skey, direction, x.dtype), dim, gate, gp, compute_dtype(x.dtype), x.dtype


def compiled_glu_forward(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor | None:
    setup = _glu_setup(spec, x, params, "glu_forward")
    if setup is None:
        return None
    key, dim, gate, gp, cd, dtype = setup

    def build() -> Callable[[Tensor], Tensor]:
        def fwd(t: Tensor) -> Tensor:
            a, b = t.to(cd).chunk(2, dim)
            return (a * gate.forward(b, **gp)).to(dtype)

        return fwd

    fn = _compiled(key, build)
    return None if fn is None else _run(key, fn, x)


def compiled_glu_backward(
    spec: Spec, x: Tensor, grad: Tensor, params: dict[str, Any]
) -> tuple[Tensor, Tensor] | None:
    setup = _glu_setup(spec, x, params, "glu_backward")
    if setup is None:
        return None
    key, dim, gate, gp, cd, dtype = setup

    def build() -> Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]:
        def bwd(t: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
            a, b = t.to(cd).chunk(2, dim)
            gc = g.to(cd)
            return (gc * gate.forward(b, **gp)).to(dtype), (gc * a * gate.derivative(b, **gp)).to(dtype)

        return bwd

    fn = _compiled(key, build)
    return None if fn is None else _run(key, fn, x, grad)  # type: ignore[return-value]
