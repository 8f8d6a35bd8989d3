"""actlab: activation functions of neural networks — exact, explained, compared.

>>> import actlab, torch
>>> actlab.get("gelu", approximate="tanh")          # an nn.Module
>>> actlab.functional.gelu(torch.randn(3))
>>> actlab.derivative("gelu", torch.randn(3))      # the f' backpropagation uses
>>> actlab.names()[:3], actlab.spec("gelu").formula
"""

from __future__ import annotations

from typing import Any

import torch

from actlab.catalog.spec import Param, Properties, Spec, all_specs, lookup

__version__ = "0.1.0"


def names() -> list[str]:
    """Canonical names of every catalogue entry, sorted."""
    return [s.name for s in all_specs()]


def spec(name: str) -> Spec:
    """The Spec for a name or alias (``ValueError`` with the closest names if unknown)."""
    return lookup(name)


def get(name: str, *args: Any, memory: str = "default", **kwargs: Any) -> torch.nn.Module:
    """An ``nn.Module`` for the activation ``name``: ``get("gelu", approximate="tanh")``.

    ``memory="lean"`` returns the lean-backward module (``actlab.kernels.lean``), which keeps less
    for backward than torch (a 1-bit mask, the output alone, or recomputation) with exact gradients.
    """
    if memory == "lean":
        from actlab.kernels import lean

        return lean(name, *args, **kwargs)
    if memory != "default":
        raise ValueError(f"memory = {memory!r} is not allowed; use 'default' or 'lean'")
    from actlab.nn import module_class

    return module_class(lookup(name))(*args, **kwargs)


def derivative(name: str, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """f'(x), the derivative backpropagation uses, from the catalogue's analytic formula.

    For vector entries (softmax, ...) this is the diagonal of the Jacobian along ``dim``; for gated
    entries (glu, swiglu, ...) the partials with respect to each half, concatenated along ``dim``.
    """
    from actlab.autograd import check_tensor, evaluate_derivative
    from actlab.dispatch import _broadcast_channels

    s = lookup(name)
    check_tensor(x, s.name)
    params = _broadcast_channels(s, x, s.bind(args, **kwargs))
    return evaluate_derivative(s, x, params)


def swap(model: torch.nn.Module, mapping: Any, *, inplace: bool = False, **options: Any) -> Any:
    """Swap activations inside a model and report every site; see ``actlab.surgery.swap`` for the
    options (``strict``, ``functional``, ``init``, ``fit_range``)."""
    from actlab.surgery import swap as _swap

    return _swap(model, mapping, inplace=inplace, **options)


def __getattr__(attr: str) -> Any:
    # functional and nn are generated from the whole catalogue: import them on first use.
    if attr in ("functional", "nn"):
        import importlib

        return importlib.import_module(f"actlab.{attr}")
    raise AttributeError(f"module 'actlab' has no attribute {attr!r}")


__all__ = ["Param", "Properties", "Spec", "derivative", "get", "names", "spec", "swap", "functional", "nn"]
