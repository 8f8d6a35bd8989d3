"""Surgery: swap activation functions inside any PyTorch model and measure what that does.

    >>> import actlab, torchvision
    >>> vgg = torchvision.models.vgg16(weights=None)
    >>> model, report = actlab.swap(vgg, {"relu": "gelu"})      # 15 ReLU modules -> GELU
    >>> print(report)

* :func:`swap` — modules and functional calls (through ``torch.fx``), with a report of every site;
* :mod:`actlab.surgery.init` — learnable replacements fitted to the function they replace;
* :func:`load_model` — a torchvision / ``module:factory`` model with weights from a local file;
* :mod:`actlab.surgery.evaluate` — the swap-eval experiment behind ``actlab swap-eval``.
"""

from __future__ import annotations

from actlab.surgery.init import FitResult, fit_learnable, function_distance
from actlab.surgery.load import load_model, load_weights
from actlab.surgery.sites import FunctionCall
from actlab.surgery.swap import SkippedSite, SwapError, SwappedSite, SwapReport, SwapResult, swap

__all__ = [
    "FitResult",
    "FunctionCall",
    "SkippedSite",
    "SwapError",
    "SwapReport",
    "SwapResult",
    "SwappedSite",
    "fit_learnable",
    "function_distance",
    "load_model",
    "load_weights",
    "swap",
]
