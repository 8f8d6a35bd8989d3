"""Optional fast paths and lean backward passes, chosen by one dispatcher.

``register()`` installs ``fast_path`` for every catalogue entry in ``actlab.dispatch.FAST_PATHS``
(importing the package alone changes nothing outside it). For each call it picks, in order:

1. CUDA tensors: the Triton kernels (``triton_kernels``) when triton imports and the entry has one;
2. CPU: torch's native op where ``cpu.NATIVE_VERIFIED`` lists the (entry, dtype) pair — a test proves
   each within the catalogue's bounds;
3. CPU, only when compilation is opted in (``ACTLAB_COMPILE=auto|always`` or ``set_compile``; off by
   default because it costs ~20 s per function and needs a C++ toolchain): the Spec's own formula
   compiled into one fused loop (``cpu.compiled_call``), gated entries through the fused GLU Function;
4. otherwise ``None``: the exact reference path in ``actlab.autograd`` runs.

Every path keeps for backward no more than the reference does. For less, use the lean modules:
``actlab.kernels.lean("gelu")`` (see ``lean.py`` for the modes).
"""

from __future__ import annotations

from typing import Any

import torch

from actlab.catalog.spec import Spec, all_specs
from actlab.dispatch import EXPRESS, Express
from actlab.kernels import ckernels, cpu, glu
from actlab.kernels import lean as _lean_module
from actlab.kernels.bits import pack_bits, unpack_bits
from actlab.kernels.cpu import compile_setting, set_compile
from actlab.kernels.glu import fused_glu
from actlab.kernels.lean import MODES, LeanActivation, choose_mode, lean, lean_apply, saved_bytes

Tensor = torch.Tensor

_registered = False


def fast_path(spec: Spec, x: Tensor, params: dict[str, Any], needs_grad: bool) -> Tensor | None:
    """The dispatcher registered in ``actlab.dispatch.FAST_PATHS``; ``None`` declines.

    Never compiles unless compilation was opted in (``ACTLAB_COMPILE=auto|always`` or
    ``actlab.kernels.set_compile``): by default only the verified native ops (and Triton on CUDA) run.
    """
    if x.is_cpu:
        # the hot path: what does not depend on the call's parameters is decided once per (entry, dtype)
        op = cpu.native_op_fast(spec, x, params)
        if op is not None and x.numel():
            if op.c_kernel and x.dtype is torch.float32 and spec.name not in EXPRESS:
                _file_express(spec, op)
            return cpu.native_call(op, x, params, needs_grad)
    if x.numel() == 0:
        return None
    if x.is_cuda:
        from actlab.kernels import triton_kernels

        return triton_kernels.call(spec, x, params, needs_grad)
    if spec.kind == "gated":
        if (
            ckernels._glu_plan(spec, x, params) is not None and not torch.compiler.is_compiling()
        ):  # one pass each way in C
            if needs_grad:
                return glu.fused_glu(spec, x, params, inplace_grad=False)
            return ckernels.glu_forward(spec, x, params)
        if cpu.wants_compile(x):
            if needs_grad:
                return glu.fused_glu(spec, x, params, inplace_grad=False)
            return cpu.compiled_glu_forward(spec, x, params)
        return None
    return cpu.compiled_call(spec, x, params, needs_grad)


def _file_express(spec: Spec, op: cpu.NativeOp) -> None:
    """File ``dispatch.Express`` for an entry whose float32 calls with default parameters run ``op``, or
    None where it cannot have one (so that the question is asked once)."""
    defaults = spec.bind()
    if (
        spec.stochastic
        or spec.per_channel
        or spec.learnable
        or op.saves != spec.saves
        or not op.accepts(defaults)
    ):
        EXPRESS[spec.name] = None
        return

    def with_grad(x: Tensor, params: dict[str, Any]) -> Tensor:
        return cpu.NativeFunction.apply(x, op, params)

    EXPRESS[spec.name] = Express(defaults, op.forward, with_grad)


def register() -> None:
    """Register the dispatcher in ``actlab.dispatch.FAST_PATHS`` for every catalogue entry (idempotent)."""
    from actlab.dispatch import FAST_PATHS

    _install_internal()
    for spec in all_specs():
        FAST_PATHS.setdefault(spec.name, fast_path)


def _install_internal() -> None:
    """Wire the verified native ops and compiled GLU into the lean/fused Functions (no global effect)."""
    global _registered
    if not _registered:
        _registered = True
        # lean modules use the same verified native forward/backward where one exists
        _lean_module.FORWARD_OVERRIDES.update(_native_forward_overrides())
        _lean_module.OUTPUT_BACKWARD_OVERRIDES.update(_native_output_backwards())
        if ckernels.glu_forward not in glu.FUSED_FORWARD:
            # actlab's C kernels first (float32 with a gate kernel), then compiled code (opt-in)
            glu.FUSED_FORWARD.insert(0, ckernels.glu_forward)
            glu.FUSED_BACKWARD_INTO.insert(0, ckernels.glu_backward_into)
        if cpu.compiled_glu_forward not in glu.FUSED_FORWARD:
            glu.FUSED_FORWARD.append(cpu.compiled_glu_forward)
            glu.FUSED_BACKWARD.append(cpu.compiled_glu_backward)


def unregister() -> None:
    """Remove the dispatcher (the reference path runs everywhere), e.g. to compare against it."""
    from actlab.dispatch import FAST_PATHS

    EXPRESS.clear()
    for name, fn in list(FAST_PATHS.items()):
        if fn is fast_path:
            del FAST_PATHS[name]


def _native_forward_overrides() -> dict[str, Any]:
    from actlab.catalog.spec import lookup

    def make(name: str) -> Any:
        def forward(x: Tensor, params: dict[str, Any]) -> Tensor | None:
            op = cpu.native_op(lookup(name), x, params, forward_only=True)
            return None if op is None else op.forward(x, params)

        return forward

    return {name: make(name) for name in cpu.NATIVE}


def _native_output_backwards() -> dict[str, Any]:
    from actlab.catalog.spec import lookup

    def make(name: str) -> Any:
        def backward(grad: Tensor, y: Tensor, params: dict[str, Any]) -> Tensor | None:
            op = cpu.native_op(lookup(name), y, params)
            return None if op is None or op.saves != "output" else op.backward(grad, y, params)

        return backward

    return {name: make(name) for name, op in cpu.NATIVE.items() if op.saves == "output"}


_install_internal()

__all__ = [
    "MODES",
    "LeanActivation",
    "choose_mode",
    "compile_setting",
    "fast_path",
    "fused_glu",
    "lean",
    "lean_apply",
    "pack_bits",
    "register",
    "saved_bytes",
    "set_compile",
    "unpack_bits",
    "unregister",
]
