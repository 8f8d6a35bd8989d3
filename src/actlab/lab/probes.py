"""Diagnostics of each hidden layer, per ensemble member: dead units, saturation, activation statistics.

A ``LayerProbe`` is attached to a batched activation layer while the trainer evaluates; it sees the
pre-activations ``x`` and outputs ``y`` of every evaluation batch and accumulates, per member:

* ``dead_fraction`` — units (features; channels in convolutions) that never pass a gradient on the
  evaluation set: for every sample and position the output is exactly 0 or f'(x) is exactly 0. A ReLU
  unit whose pre-activation is negative everywhere is dead (Lu et al., 2019, "Dying ReLU").
* ``saturated_fraction`` — share of all activations whose |f'(x)| < 1e-3 (Glorot & Bengio, 2010:
  saturated sigmoid/tanh units stop learning), with f' from the catalogue (``actlab.derivative``).
* ``act_mean``, ``act_std`` — of the outputs over every sample, unit and position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

import actlab

Tensor = torch.Tensor

SATURATION_THRESHOLD = 1e-3


class LayerProbe:
    """Accumulates one activation layer's statistics for E members over several batches."""

    def __init__(self, members: int) -> None:
        self.members = members
        self.active: Tensor | None = None  # (E, units): True once a unit passed a gradient
        self.saturated = torch.zeros(members, dtype=torch.float64)
        self.derivative_count = torch.zeros(members, dtype=torch.float64)
        self.total = torch.zeros(members, dtype=torch.float64)
        self.total_squares = torch.zeros(members, dtype=torch.float64)
        self.count = torch.zeros(members, dtype=torch.float64)

    def update(self, x: Tensor, y: Tensor, runs: Sequence[tuple[int, int, nn.Module]]) -> None:
        """``x``, ``y``: (E, B, units, *positions); ``runs``: (start, stop, activation module)."""
        if self.active is None:
            self.active = torch.zeros(self.members, y.shape[2], dtype=torch.bool)
        y64 = y.detach().double()
        flat = y64.reshape(self.members, -1)
        self.total += flat.sum(1)
        self.total_squares += (flat * flat).sum(1)
        self.count += flat.shape[1]
        for start, stop, module in runs:
            spec = actlab.spec(module.spec_name)
            params = module.params() if hasattr(module, "params") else {}
            part = x[start:stop].detach()
            d = actlab.derivative(spec.name, part.reshape(-1, *part.shape[2:]), **params)
            d = d.reshape(stop - start, -1)
            self.saturated[start:stop] += (d.abs() < SATURATION_THRESHOLD).sum(1).double()
            self.derivative_count[start:stop] += d.shape[1]
            inactive = y[start:stop] == 0
            if spec.kind == "elementwise":
                inactive = inactive | (d.reshape(inactive.shape) == 0)
            passes = ~inactive  # (members, B, units, *positions)
            passes = passes.any(dim=1)
            if passes.dim() > 2:
                passes = passes.flatten(2).any(dim=2)
            self.active[start:stop] |= passes

    def summary(self) -> list[dict[str, float]]:
        """One row per member: dead_fraction, saturated_fraction, act_mean, act_std."""
        rows = []
        for e in range(self.members):
            n = max(self.count[e].item(), 1.0)
            mean = self.total[e].item() / n
            variance = max(self.total_squares[e].item() / n - mean * mean, 0.0)
            dead = 1.0 - self.active[e].float().mean().item() if self.active is not None else math.nan
            rows.append(
                {
                    "dead_fraction": dead,
                    "saturated_fraction": self.saturated[e].item()
                    / max(self.derivative_count[e].item(), 1.0),
                    "act_mean": mean,
                    "act_std": math.sqrt(variance) if math.isfinite(variance) else math.nan,
                }
            )
        return rows


def weight_norms(layer: nn.Module | None) -> tuple[list[float], list[float]]:
    """Per member: the norm of a batched weight layer's weight and of its current gradient."""
    if layer is None:
        return [], []
    weight = layer.weight.detach()
    members = weight.shape[0]
    norms = weight.reshape(members, -1).norm(dim=1).tolist()
    if layer.weight.grad is None:
        grads = [math.nan] * members
    else:
        grads = layer.weight.grad.reshape(members, -1).norm(dim=1).tolist()
    return norms, grads
