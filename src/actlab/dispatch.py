"""The one place where an activation call is routed: checks, the fast-path registry, autograd.

``call`` is what both ``actlab.functional`` and ``actlab.nn`` use. Fast paths (compiled CPU code,
Triton kernels, torch's native op where a test proves it equivalent) register themselves in
``FAST_PATHS``; a fast path returns ``None`` to decline an input, and the exact reference path runs.
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
