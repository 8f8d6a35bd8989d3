"""actlab's own fused fp32 CPU kernels (``csrc/``, built as ``actlab.kernels._ckernels``).

Each kernel reads and writes every element once per direction, computes in fp32 where a test proves
the fp32 formula within the catalogue's bounds, and recomputes the rare elements outside that range in
fp64 (rounded once) inside the same call. ``tests/kernels/test_ckernels.py`` proves every kernel against
the reference over a dense sweep of all fp32 values and against mpmath in every binade.

The kernels are exposed as ``cpu.NativeOp`` values (``OPS``), so the dispatcher, the lean modules and
the native-op tests treat them like torch's verified ops. For float32 CPU tensors they take precedence
over torch's op. ``ACTLAB_CKERNELS=0`` (or ``set_enabled(False)``) turns them off; if the extension was
not built (no C compiler at install time) ``available()`` is False and nothing changes.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from actlab.catalog.spec import Spec

Tensor = torch.Tensor

try:
    from actlab.kernels import _ckernels as _c
except ImportError:  # not built: torch's verified ops and the reference serve instead
    _c = None


@dataclass(frozen=True)
class Kernel:
    """How the Python side calls one C kernel: the Spec parameters it reads, in the order of its p[0..3]
    (``encode`` instead turns the bound parameters into those numbers, e.g. gelu's ``approximate``),
    and the parameter values it is proven for (others decline, and the next path runs)."""

    params: tuple[str, ...] = ()
    accepts: Callable[[dict[str, Any]], bool] | None = None
    encode: Callable[[dict[str, Any]], tuple[float, ...]] | None = None


def _fp32_within(v: float, low: float, high: float) -> bool:
    """v is an fp32 number in [low, high]."""
    return low <= v <= high and struct.unpack("f", struct.pack("f", v))[0] == v


# Every kernel in csrc/ has a row here, grouped as the C headers are (a test checks the lists agree).
KERNELS: dict[str, Kernel] = {
    # ops_pwl.h: piecewise-linear (and piecewise-polynomial) entries, bit-exact
    "relu": Kernel(),
    "leaky_relu": Kernel(("negative_slope",)),
    "relu6": Kernel(),
    # min_val >= max_val declines, so the reference raises its ValueError
    "hardtanh": Kernel(
        ("min_val", "max_val"),
        accepts=lambda p: float(p.get("min_val", -1.0)) < float(p.get("max_val", 1.0)),
    ),
    "threshold": Kernel(("threshold", "value")),
    "hardshrink": Kernel(("lambd",)),
    "softshrink": Kernel(("lambd",)),
    "hardsigmoid": Kernel(),
    "hardswish": Kernel(),
    "squared_relu": Kernel(),
    "sparse_plus": Kernel(),
    # ops_smooth.h: log1p / exp / tanh compositions
    "silu": Kernel(),
    "softplus": Kernel(("beta", "threshold")),
    "log_sigmoid": Kernel(),
    "mish": Kernel(),
    "tanh_exp": Kernel(),
    # ops_exp.h: sigmoid, tanh, the exponential linear units, tanhshrink and lisht
    "sigmoid": Kernel(),
    "tanh": Kernel(),
    # elu' = y + α from the fp32 output: beyond α = 2 the output's ULP (and so 1-2 ULP forward
    # differences) exceeds the derivative's bound where y + α cancels; those α take the next path
    "elu": Kernel(("alpha",), accepts=lambda p: float(p.get("alpha", 1.0)) <= 2.0),
    "selu": Kernel(),
    "celu": Kernel(("alpha",), accepts=lambda p: 1e-30 <= float(p.get("alpha", 1.0)) <= 1e30),
    "tanhshrink": Kernel(),
    "lisht": Kernel(),
    # ops_gelu.h: erf / tanh Gaussian-based entries and gaussian
    "gelu": Kernel(encode=lambda p: (1.0 if p.get("approximate", "none") == "tanh" else 0.0,)),
    "quick_gelu": Kernel(),
    "gaussian": Kernel(),
    # ops_misc.h: algebraic (square-root and rational) entries
    # b, α up to 1e300 (fp64 loops outside fp32's range; beyond, the reference's b/4 and α·x² overflow)
    "squareplus": Kernel(("b",), accepts=lambda p: 0.0 <= float(p.get("b", 4.0)) <= 1e300),
    "isru": Kernel(("alpha",), accepts=lambda p: 0.0 < float(p.get("alpha", 1.0)) <= 1e300),
    "bent_identity": Kernel(),
    "softsign": Kernel(),
    # ops_extra.h: entries torch has no op for (and exponential, keeping its output), serf last
    "sparse_sigmoid": Kernel(),
    "elliott": Kernel(),
    # β an fp32 number in [2^-30, 2^40]: exact comparisons and 4β, a normal (x + β)²
    "smelu": Kernel(("beta",), accepts=lambda p: _fp32_within(float(p.get("beta", 2.0)), 2.0**-30, 2.0**40)),
    # α up to 1e300 (fp64 loops outside fp32's exact [2^-40, 2^40]; beyond, the reference's αx² overflows)
    "isrlu": Kernel(("alpha",), accepts=lambda p: 0.0 <= float(p.get("alpha", 1.0)) <= 1e300),
    "exponential": Kernel(),
    "gcu": Kernel(),
    # ω₀ an fp32 number: ω₀·x is then exact in fp64 (others, e.g. 0.1, decline to the exact reference)
    "sine": Kernel(
        ("w0",), accepts=lambda p: _fp32_within(float(p.get("w0", 1.0)), 2.0**-149, 3.4028234663852886e38)
    ),
    "serf": Kernel(),
}

_enabled = os.environ.get("ACTLAB_CKERNELS", "1").strip().lower() not in ("0", "false", "no", "off")


def available() -> bool:
    """True when the extension is built (and imports)."""
    return _c is not None


def enabled() -> bool:
    """True when the kernels are built and not switched off."""
    return _c is not None and _enabled


def set_enabled(on: bool) -> None:
    """Switch the C kernels on or off at run time (e.g. to compare against torch's ops)."""
    global _enabled
    _enabled = bool(on)
    from actlab.dispatch import EXPRESS
    from actlab.kernels import cpu

    cpu._NATIVE_PLAN.clear()
    EXPRESS.clear()  # its lanes run the kernels


def isa() -> str | None:
    """The instruction set the kernels run with ("avx2" or "baseline"), or None when not built."""
    return None if _c is None else _c.isa()


def _values(kernel: Kernel, params: dict[str, Any], spec: Spec) -> tuple[float, float, float, float]:
    if kernel.encode is not None:
        vals = [*map(float, kernel.encode({**spec.defaults(), **params})), 0.0, 0.0, 0.0, 0.0]
        return vals[0], vals[1], vals[2], vals[3]
    vals = [0.0, 0.0, 0.0, 0.0]
    for k, name in enumerate(kernel.params):
        vals[k] = float(params[name]) if name in params else float(spec.param(name).default)
    return vals[0], vals[1], vals[2], vals[3]


_NO_VALUES = (0.0, 0.0, 0.0, 0.0)


def _values_for(kernel: Kernel, spec: Spec) -> Callable[[dict[str, Any]], tuple[float, ...]]:
    """``_values`` for one kernel, with its defaults looked up once (this runs in both directions of
    every call)."""
    if kernel.encode is not None:
        return lambda p: _values(kernel, p, spec)
    if not kernel.params:
        return lambda p: _NO_VALUES
    defaults = [float(spec.param(name).default) for name in kernel.params]
    pad = (0.0,) * (4 - len(kernel.params))
    pairs = tuple(zip(kernel.params, defaults))

    def values(p: dict[str, Any]) -> tuple[float, ...]:
        return (*[float(p[name]) if name in p else d for name, d in pairs], *pad)

    return values


def _make_op(name: str, index: int, saves: str, kernel: Kernel) -> Any:
    from actlab.catalog.spec import lookup
    from actlab.kernels.cpu import NativeOp, differentiable_backward

    spec = lookup(name)
    forward_c, backward_c = _c.forward, _c.backward
    values = _values_for(kernel, spec)

    def forward(x: Tensor, p: dict[str, Any]) -> Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        a, b, c, d = values(p)
        forward_c(index, x.data_ptr(), y.data_ptr(), x.numel(), a, b, c, d, torch.get_num_threads())
        return y

    def backward(g: Tensor, saved: Tensor, p: dict[str, Any]) -> Tensor:
        if torch.is_grad_enabled() and (g.requires_grad or saved.requires_grad):
            # create_graph=True: the reference's own differentiable formula, so double backward works
            return differentiable_backward(spec, saves, g, saved, p)
        g = g.contiguous()
        saved = saved.contiguous()
        if g.shape != saved.shape:
            g = g.expand(saved.shape).contiguous()
        out = torch.empty_like(saved)
        a, b, c, d = values(p)
        backward_c(
            index,
            g.data_ptr(),
            saved.data_ptr(),
            out.data_ptr(),
            saved.numel(),
            a,
            b,
            c,
            d,
            torch.get_num_threads(),
        )
        return out

    accepts = kernel.accepts or (lambda p: True)
    return NativeOp(forward, backward, saves, accepts, c_kernel=True)


def _build_ops() -> dict[str, Any]:
    if _c is None:
        return {}
    table = _c.ops()
    return {name: _make_op(name, index, saves, KERNELS[name]) for name, (index, saves) in table.items()}


OPS: dict[str, Any] = {}


def ops() -> dict[str, Any]:
    """name -> NativeOp for every built kernel (empty when the extension is missing)."""
    if not OPS and _c is not None:
        OPS.update(_build_ops())
    return OPS


def op_for(name: str, dtype: torch.dtype) -> Any:
    """The kernel's NativeOp for a float32 tensor when enabled, else None."""
    if dtype != torch.float32 or not enabled():
        return None
    return ops().get(name)


# ----------------------------------------------------------------------------------------------------
# The GLU family: a * gate(b) with the gate's own kernel, one pass each way (csrc/ckernels.c)
# ----------------------------------------------------------------------------------------------------
def _glu_plan(spec: Spec, x: Tensor, params: dict[str, Any]) -> tuple | None:
    """(gate index, gate values, rows, half) for a float32 CPU call whose gate has a kernel, else None."""
    from actlab.kernels.glu import split_params

    if x.dtype != torch.float32 or not x.is_cpu or not enabled() or x.dim() == 0:
        return None
    dim, gate, gate_params = split_params(spec, params)
    op = ops().get(gate.name)
    if op is None or not op.accepts(gate_params) or any(isinstance(v, Tensor) for v in gate_params.values()):
        return None
    if not -x.dim() <= dim < x.dim():
        return None  # the reference raises the errors that name the problem
    d = dim % x.dim()
    if x.shape[d] % 2:
        return None
    rows = 1
    for size in x.shape[:d]:
        rows *= size
    half = x.shape[d] // 2
    for size in x.shape[d + 1 :]:
        half *= size
    if rows == 0 or half == 0:
        return None
    index = _c.ops()[gate.name][0]
    return index, _values(KERNELS[gate.name], gate_params, gate), rows, half, d


def glu_forward(spec: Spec, x: Tensor, params: dict[str, Any]) -> Tensor | None:
    """a * gate(b) in one pass, or None to decline (``glu.FUSED_FORWARD`` contract)."""
    plan = _glu_plan(spec, x, params)
    if plan is None:
        return None
    index, (a, b, c, d), rows, half, dim = plan
    x = x.contiguous()
    shape = list(x.shape)
    shape[dim] //= 2
    y = torch.empty(shape, dtype=x.dtype)
    _c.glu_forward(index, x.data_ptr(), y.data_ptr(), rows, half, a, b, c, d, torch.get_num_threads())
    return y


def glu_backward_into(spec: Spec, x: Tensor, grad: Tensor, params: dict[str, Any], out: Tensor) -> bool:
    """Write (g·gate(b), g·a·gate'(b)) into ``out`` (x's shape; may be x itself) in one pass; False to
    decline (``glu.FUSED_BACKWARD_INTO`` contract)."""
    plan = _glu_plan(spec, x, params)
    if plan is None or not x.is_contiguous() or not out.is_contiguous() or out.shape != x.shape:
        return False
    index, (a, b, c, d), rows, half, _ = plan
    grad = grad.contiguous()
    if grad.dtype != x.dtype or grad.numel() != rows * half:
        return False
    _c.glu_backward(
        index, grad.data_ptr(), x.data_ptr(), out.data_ptr(), rows, half, a, b, c, d, torch.get_num_threads()
    )
    return True
