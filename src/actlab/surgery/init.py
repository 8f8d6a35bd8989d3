"""Function-space comparison of an activation with the one it replaces, and the fit of learnable ones.

A learnable replacement (prelu, swish with learnable beta, the rational unit, ...) starts from the
parameters that make it closest, in least squares on a range of inputs, to the function it replaces:
the network then computes almost what it computed before the swap, and fine-tuning starts from there
rather than from the catalogue's default shape. The fit is generic — it only evaluates the replaced
module (or functional call) and differentiates the new module with respect to its parameters — so it
serves every learnable Spec, present and future, and any replaced function.

Why the parameters are capped (``max_abs``, default 10): some targets reach the replaced function only
in a limit. Swish x·σ(βx) tends to ReLU as β → ∞ and its largest error is 0.278/β, so least squares
drives β up without end while β's own gradient, x²σ'(βx), vanishes. Capping |β| at 10 leaves a gap
of at most 0.028 and a β that fine-tuning can still move. The cap binds only in such limit cases.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from actlab.catalog.spec import Spec

Tensor = torch.Tensor

DEFAULT_RANGE: tuple[float, float] = (-3.0, 3.0)
DEFAULT_POINTS = 601


@dataclass(frozen=True)
class FitResult:
    """Learnable parameters fitted to a replaced function, with the error before and after the fit.

    Errors are |new(x) - old(x)| over ``points`` equally spaced x in ``range``: ``max_error`` and
    ``mean_error`` after the fit, ``default_*`` with the parameters the module was built with.
    """

    params: dict[str, list[float]]
    max_error: float
    mean_error: float
    default_max_error: float
    default_mean_error: float
    range: tuple[float, float]
    points: int
    capped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "max_error": self.max_error,
            "mean_error": self.mean_error,
            "default_max_error": self.default_max_error,
            "default_mean_error": self.default_mean_error,
            "range": list(self.range),
            "points": self.points,
            "capped": list(self.capped),
        }


def _channels(module: nn.Module) -> int:
    """How many channels a per-channel module expects along dim 1 (1 when it has no per-channel values)."""
    if isinstance(module, nn.PReLU):
        return int(module.weight.numel())
    if _spec_of(module) is not None:
        counts = [
            int(getattr(module, p.name).numel())
            for p in module.spec.params
            if p.learnable and p.per_channel and isinstance(getattr(module, p.name, None), Tensor)
        ]
        return max(counts, default=1)
    return 1


def _spec_of(module: nn.Module) -> Spec | None:
    """The catalogue entry of an actlab module (generated or hand-written), else None."""
    spec = getattr(module, "spec", None)
    return spec if isinstance(spec, Spec) else None


def _float64_copy(module: nn.Module) -> nn.Module:
    clone = copy.deepcopy(module).to(device="cpu", dtype=torch.float64)
    clone.eval()  # stochastic activations (rrelu) are compared by their deterministic eval form
    return clone


def _grid(range_: tuple[float, float], points: int) -> Tensor:
    lo, hi = float(range_[0]), float(range_[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"fit range must be two finite numbers low < high, got {range_!r}")
    if points < 2:
        raise ValueError(f"fit points must be at least 2, got {points}")
    return torch.linspace(lo, hi, points, dtype=torch.float64)


def _evaluate(module: nn.Module, x: Tensor) -> Tensor:
    """``module`` on the grid, shaped (N, C) per channel when it is a per-channel module; mean over C."""
    channels = _channels(module)
    # a fresh copy every time: an in-place module (ReLU(inplace=True)) would overwrite the grid
    xin = x.clone() if channels == 1 else x[:, None].expand(-1, channels).contiguous()
    shape = xin.shape
    y = module(xin)
    if not isinstance(y, Tensor) or y.shape != shape:
        raise ValueError(
            f"{type(module).__name__} is not elementwise (output shape {getattr(y, 'shape', y)})"
        )
    return y if channels == 1 else y.mean(dim=1)


def reference_values(old: nn.Module | Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The replaced function on the grid (float64, CPU, no gradient)."""
    with torch.no_grad():
        if isinstance(old, nn.Module):
            return _evaluate(_float64_copy(old), x).detach()
        y = old(x.clone())
        return y.detach().to(torch.float64)


def function_distance(
    new: nn.Module,
    old: nn.Module | Callable[[Tensor], Tensor],
    fit_range: tuple[float, float] = DEFAULT_RANGE,
    points: int = DEFAULT_POINTS,
) -> dict[str, float]:
    """max and mean |new(x) - old(x)| over ``points`` equally spaced x in ``fit_range``."""
    x = _grid(fit_range, points)
    y_old = reference_values(old, x)
    with torch.no_grad():
        y_new = _evaluate(_float64_copy(new), x)
    gap = (y_new - y_old).abs()
    return {"max_error": float(gap.max()), "mean_error": float(gap.mean())}


def _bounds(module: nn.Module, name: str, max_abs: float) -> tuple[float, float]:
    """Allowed interval of a learnable parameter: the Spec's declared range intersected with ±max_abs."""
    lo, hi = -max_abs, max_abs
    if _spec_of(module) is not None:
        try:
            param = module.spec.param(name)
        except KeyError:
            return lo, hi
        tiny = 1e-6
        if param.low is not None:
            lo = max(lo, float(param.low) + (0.0 if param.low_inclusive else tiny))
        if param.high is not None:
            hi = min(hi, float(param.high) - (0.0 if param.high_inclusive else tiny))
    return lo, hi


def fit_learnable(
    new: nn.Module,
    old: nn.Module | Callable[[Tensor], Tensor],
    *,
    names: list[str] | None = None,
    fit_range: tuple[float, float] = DEFAULT_RANGE,
    points: int = DEFAULT_POINTS,
    max_abs: float = 10.0,
    rounds: int = 3,
    max_iter: int = 50,
) -> FitResult:
    """Least-squares fit of ``new``'s parameters (``names``, default all) to ``old`` on ``fit_range``.

    L-BFGS in float64 from the module's current parameters, projected back into each parameter's
    allowed interval after every round; the best parameters seen (the starting ones included, so the
    fit is never worse than the default) are returned. ``new`` itself is not modified: apply
    ``result.params`` with :func:`apply_params`.
    """
    x = _grid(fit_range, points)
    y_old = reference_values(old, x)
    if not torch.isfinite(y_old).all():
        raise ValueError("the replaced function is not finite on the fit range; choose a smaller range")
    work = _float64_copy(new)
    named = dict(work.named_parameters())
    chosen = list(named) if names is None else [n for n in names if n in named]
    for n, p in named.items():
        p.requires_grad_(n in chosen)
    params = [named[n] for n in chosen]
    bounds = {n: _bounds(work, n, max_abs) for n in chosen}

    def error() -> Tensor:
        return ((_evaluate(work, x) - y_old) ** 2).mean()

    def snapshot() -> dict[str, Tensor]:
        return {n: named[n].detach().clone() for n in chosen}

    with torch.no_grad():
        gap = (_evaluate(work, x) - y_old).abs()
    default_max, default_mean = float(gap.max()), float(gap.mean())
    with torch.no_grad():
        for n in chosen:
            named[n].clamp_(*bounds[n])
        best_loss, best = float(error()), snapshot()

    if params:
        optimizer = torch.optim.LBFGS(
            params,
            lr=1.0,
            max_iter=max_iter,
            history_size=20,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-15,
        )

        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = error()
            loss.backward()
            return loss

        for _ in range(rounds):
            try:
                optimizer.step(closure)
            except (RuntimeError, ValueError):  # a line search into a pole of a rational unit
                break
            with torch.no_grad():
                for n in chosen:
                    named[n].nan_to_num_(nan=0.0).clamp_(*bounds[n])
                loss = float(error())
            if not math.isfinite(loss):
                break
            improved = loss < best_loss * (1 - 1e-9)
            if loss < best_loss:
                best_loss, best = loss, snapshot()
            if not improved:
                break

    with torch.no_grad():
        for n in chosen:
            named[n].copy_(best[n])
        gap = (_evaluate(work, x) - y_old).abs()
    capped = [
        n for n in chosen if bool(((best[n].abs() - max_abs).abs() < 1e-9).any()) and max_abs < math.inf
    ]
    return FitResult(
        params={n: best[n].flatten().tolist() for n in chosen},
        max_error=float(gap.max()),
        mean_error=float(gap.mean()),
        default_max_error=default_max,
        default_mean_error=default_mean,
        range=(float(fit_range[0]), float(fit_range[1])),
        points=points,
        capped=capped,
    )


def apply_params(module: nn.Module, params: dict[str, list[float]]) -> None:
    """Copy fitted values into ``module``'s parameters, keeping their shape, dtype and device."""
    named = dict(module.named_parameters())
    with torch.no_grad():
        for name, values in params.items():
            p = named[name]
            p.copy_(torch.tensor(values, dtype=p.dtype, device=p.device).reshape(p.shape))
