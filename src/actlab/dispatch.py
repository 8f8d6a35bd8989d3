"""The one place where an activation call is routed: checks, the fast-path registry, autograd.

``call`` is what both ``actlab.functional`` and ``actlab.nn`` use. Fast paths (compiled CPU code,
Triton kernels, torch's native op where a test proves it equivalent) register themselves in
``FAST_PATHS``; a fast path returns ``None`` to decline an input, and the exact reference path runs.
The most common call (a float32 CPU tensor, default parameters, a C kernel) takes an express lane
(``EXPRESS``) that actlab.kernels files the first time it decides such a call.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch

from actlab import autograd
from actlab.catalog.spec import Spec

Tensor = torch.Tensor

# name -> fn(spec, x, params, needs_grad) -> Tensor | None. Registered by actlab.kernels.
FAST_PATHS: dict[str, Callable[[Spec, Tensor, dict[str, Any], bool], Tensor | None]] = {}
_fast_paths_checked = False


class Express:
    """The common call decided once: a float32 CPU tensor, an entry's default parameters, a kernel that
    takes them. ``forward(x, params)`` runs without autograd and ``with_grad(x, params)`` with it.

    actlab.kernels files one per entry the first time its fast path runs such a call, and clears them
    all when the kernels are switched off or unregistered. The checks ``call`` skips for it are the
    ones that cannot fail under these conditions (dtype, layout of parameters, stochastic and
    per-channel entries, which never get one), and each skipped layer is Python that runs on every
    call: on a 10^4-element relu the lane halves actlab's time (6.7 to 3.4 µs), and on large tensors the
    dispatch runs with cold caches after the kernel has streamed the data (17-28 µs at 2^20 elements).
    """

    __slots__ = ("params", "forward", "with_grad")

    def __init__(
        self,
        params: dict[str, Any],
        forward: Callable[[Tensor, dict[str, Any]], Tensor],
        with_grad: Callable[[Tensor, dict[str, Any]], Tensor],
    ) -> None:
        self.params, self.forward, self.with_grad = params, forward, with_grad


# name -> its Express lane (float32 CPU tensors, default parameters), or None where the entry cannot have one
EXPRESS: dict[str, Express | None] = {}
_FLOAT32 = torch.float32


def _ensure_fast_paths() -> None:
    """Install actlab.kernels' verified fast paths on first use; ACTLAB_FAST=0 keeps the reference only."""
    global _fast_paths_checked
    _fast_paths_checked = True
    if os.environ.get("ACTLAB_FAST", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    from actlab.kernels import register

    register()


def _broadcast_channels(spec: Spec, x: Tensor, params: dict[str, Any]) -> dict[str, Any]:
    """Per-channel learnable values (PReLU's weight) apply along dim 1, as in torch."""
    out = dict(params)
    for p in spec.params:
        v = out.get(p.name)
        if p.per_channel and isinstance(v, Tensor) and v.numel() > 1:
            if x.dim() < 2:
                raise ValueError(
                    f"{spec.name}: {v.numel()} per-channel values need an input with a channel "
                    f"dimension (dim 1), got shape {tuple(x.shape)}"
                )
            if x.shape[1] != v.numel():
                raise ValueError(
                    f"{spec.name}: {v.numel()} per-channel values do not match {x.shape[1]} channels "
                    f"(dim 1 of an input of shape {tuple(x.shape)})"
                )
            out[p.name] = v.reshape(1, -1, *([1] * (x.dim() - 2)))
    return out


def needs_grad(spec: Spec, x: Tensor, params: dict[str, Any]) -> bool:
    if not torch.is_grad_enabled():
        return False
    return x.requires_grad or any(isinstance(v, Tensor) and v.requires_grad for v in params.values())


def call(
    spec: Spec, x: Tensor, params: dict[str, Any], *, inplace: bool = False, training: bool = False
) -> Tensor:
    """Apply an activation with already-bound parameters."""
    lane = EXPRESS.get(spec.name)
    if (
        lane is not None
        and type(x) is Tensor
        and x.dtype is _FLOAT32
        and x.is_cpu
        and not inplace
        and (params is lane.params or params == lane.params)
        and x.numel()
        and not torch.compiler.is_compiling()
    ):
        if x.requires_grad and torch.is_grad_enabled():
            return lane.with_grad(x, lane.params)
        return lane.forward(x, lane.params)
    autograd.check_tensor(x, spec.name)
    if spec.stochastic and training and spec.sample_forward is not None:
        y = spec.sample_forward(x, **params)
    else:
        params = _broadcast_channels(spec, x, params) if spec.per_channel else dict(params)
        grad = needs_grad(spec, x, params)
        y = None
        if not _fast_paths_checked:
            _ensure_fast_paths()
        fast = FAST_PATHS.get(spec.name)
        if fast is not None:
            y = fast(spec, x, params, grad)
        if y is None:
            y = autograd.apply(spec, x, params) if grad else autograd.evaluate(spec, x, params)
    if inplace:
        if y.shape != x.shape:
            raise ValueError(f"{spec.name}: inplace needs an output of the input's shape")
        # An input-saving backward needs the original x, so under autograd the result stays separate
        # (as timm's memory-efficient activations do); everywhere else x is overwritten.
        if not (needs_grad(spec, x, params) and spec.saves == "input"):
            return x.copy_(y)
    return y
