"""approximate — universal approximation: one hidden layer fits sin and |x| ever better as it widens,
and |x| = relu(x) + relu(−x) exactly with two units."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import actlab
from actlab.explain.common import DemoResult, at_most, close, save

WIDTHS = (1, 2, 4, 8, 16, 32)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu")
TARGETS = {
    "sin": (lambda x: torch.sin(x), (-math.pi, math.pi)),
    "abs": (lambda x: x.abs(), (-1.0, 1.0)),
}


def fit_widths(activation: str, target: str, steps: int, seed: int) -> list[float]:
    """Train one-hidden-layer networks of every width at once (an ensemble with masked units); returns
    the RMS error on a dense grid for each width."""
    fn, (lo, hi) = TARGETS[target]
    g = torch.Generator().manual_seed(seed)
    members, width = len(WIDTHS), max(WIDTHS)
    mask = torch.tensor([[1.0 if j < w else 0.0 for j in range(width)] for w in WIDTHS]).unsqueeze(1)
    x = torch.linspace(lo, hi, 256).reshape(1, -1, 1).expand(members, -1, -1)
    y = fn(x)
    scale = 2 / (hi - lo)
    w1 = (torch.randn(members, 1, width, generator=g) * 2 * scale).requires_grad_(True)
    b1 = (torch.randn(members, 1, width, generator=g) * 2).requires_grad_(True)
    w2 = (torch.randn(members, width, 1, generator=g) / math.sqrt(width)).requires_grad_(True)
    b2 = torch.zeros(members, 1, 1).requires_grad_(True)
    params = [w1, b1, w2, b2]
    opt = torch.optim.Adam(params, lr=0.03)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        hidden = actlab.functional.apply(activation, torch.bmm(inputs, w1) + b1) * mask
        return torch.bmm(hidden, w2) + b2

    for _ in range(steps):
        opt.zero_grad()
        # summed over members: each member's gradient is its own (they share nothing)
        ((forward(x) - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
        sched.step()
    grid = torch.linspace(lo, hi, 2001).reshape(1, -1, 1).expand(members, -1, -1)
    with torch.no_grad():
        return ((forward(grid) - fn(grid)) ** 2).mean(dim=(1, 2)).sqrt().tolist()


def run(out_dir: Path | None = None, seed: int = 0, steps: int = 1200) -> DemoResult:
    errors = {t: {a: fit_widths(a, t, steps, seed) for a in ACTIVATIONS} for t in TARGETS}

    x = torch.linspace(-5, 5, 100001, dtype=torch.float64)
    two_units = actlab.functional.relu(x) + actlab.functional.relu(-x)
    exact_gap = float((two_units - x.abs()).abs().max())

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, target in zip(axes, TARGETS):
        for act in ACTIVATIONS:
            ax.loglog(WIDTHS, errors[target][act], marker="o", ms=3, label=act)
        ax.set(title=f"fitting {target}(x)", xlabel="hidden units")
    axes[0].set_ylabel("RMS error")
    axes[0].legend(fontsize=8)
    figures = save(fig, out_dir, "approximate")

    checks = [close("|x| = relu(x) + relu(−x) exactly (max |Δ| on [−5, 5], float64)", exact_gap, 0.0, 0.0)]
    for target in TARGETS:
        for act in ACTIVATIONS:
            e = errors[target][act]
            checks.append(
                at_most(f"{act} on {target}: 32 units err at most a fifth of 1 unit's error", e[-1], e[0] / 5)
            )
    checks.append(at_most("tanh with 32 units fits sin to RMS error 0.02", errors["sin"]["tanh"][-1], 0.02))
    return DemoResult(
        name="approximate",
        title="Universal approximation with one hidden layer",
        claim="A single hidden layer with a non-polynomial activation approximates any continuous function on an "
        "interval as well as you like, given enough units (Cybenko 1989; Hornik 1991; Leshno et al. 1993).",
        conclusion=(
            "The error falls as the layer widens for every activation: sin with tanh goes from "
            f"{errors['sin']['tanh'][0]:.3f} (1 unit) to {errors['sin']['tanh'][-1]:.4f} (32 units); |x| with ReLU from "
            f"{errors['abs']['relu'][0]:.3f} to {errors['abs']['relu'][-1]:.4f}. Two ReLU units represent |x| exactly "
            f"(max error {exact_gap})."
        ),
        numbers={"widths": list(WIDTHS), "rms_error": errors, "abs_two_relu_units_max_error": exact_gap},
        checks=checks,
        figures=figures,
    )
