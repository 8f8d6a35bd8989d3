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


# Every kernel in csrc/ has a row here, grouped as the C headers are (a test checks the lists agree).
KERNELS: dict[str, Kernel] = {
    # ops_pwl.h: piecewise-linear (and piecewise-polynomial) entries, bit-exact
    "relu": Kernel(),
    "leaky_relu": Kernel(("negative_slope",)),
    "relu6": Kernel(),
    "hardtanh": Kernel(("min_val", "max_val")),
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
    # ops_exp.h: sigmoid, tanh and the exponential linear units
    "sigmoid": Kernel(),
    "tanh": Kernel(),
    "elu": Kernel(("alpha",)),
    "selu": Kernel(),
    "celu": Kernel(("alpha",)),
    "tanhshrink": Kernel(),
    "lisht": Kernel(),
    # ops_gelu.h: erf / tanh Gaussian-based entries
    "gelu": Kernel(encode=lambda p: (1.0 if p.get("approximate", "none") == "tanh" else 0.0,)),
    "quick_gelu": Kernel(),
    "gaussian": Kernel(),
    # ops_misc.h: algebraic (square-root and rational) entries
    "squareplus": Kernel(("b",)),
    "isru": Kernel(("alpha",)),
    "bent_identity": Kernel(),
    "softsign": Kernel(),
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
    from actlab.kernels import cpu

    cpu._NATIVE_PLAN.clear()


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


def _make_op(name: str, index: int, saves: str, kernel: Kernel) -> Any:
    from actlab.catalog.spec import lookup
    from actlab.kernels.cpu import NativeOp

    spec = lookup(name)
    forward_c, backward_c = _c.forward, _c.backward

    def forward(x: Tensor, p: dict[str, Any]) -> Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        a, b, c, d = _values(kernel, p, spec) if kernel.params or kernel.encode else (0.0, 0.0, 0.0, 0.0)
        forward_c(index, x.data_ptr(), y.data_ptr(), x.numel(), a, b, c, d, torch.get_num_threads())
        return y

    def backward(g: Tensor, saved: Tensor, p: dict[str, Any]) -> Tensor:
        if torch.is_grad_enabled() and (g.requires_grad or saved.requires_grad):
            # create_graph=True: the reference's own differentiable formula, so double backward works
            return _differentiable_backward(spec, saves, g, saved, p)
        g = g.contiguous()
        saved = saved.contiguous()
        if g.shape != saved.shape:
            g = g.expand(saved.shape).contiguous()
        out = torch.empty_like(saved)
        a, b, c, d = _values(kernel, p, spec) if kernel.params or kernel.encode else (0.0, 0.0, 0.0, 0.0)
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
    return NativeOp(forward, backward, saves, accepts)


def _differentiable_backward(spec: Spec, saves: str, g: Tensor, saved: Tensor, p: dict[str, Any]) -> Tensor:
    derivative = spec.derivative_from_output if saves == "output" else spec.derivative
    pd = {k: (v.double() if isinstance(v, Tensor) else v) for k, v in p.items()}
    return (g.double() * derivative(saved.double(), **pd)).to(g.dtype)


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
