"""dying-relu — a deep, narrow ReLU network can be born dead (Lu et al., 2019), and a high learning rate
kills units during training; Leaky ReLU and an asymmetric initialisation are the cures.

Closed form (bias-free network, one input x ≠ 0, weights drawn from any distribution symmetric about 0):
given a non-zero hidden vector h ≥ 0, each pre-activation w·h of the next layer is symmetric and
non-zero with probability one, so each of the N units is active with probability 1/2, independently of
the others (their weight rows are independent). A layer is all-zero with probability 2^-N, and once a
layer is all-zero every later layer is too. The first layer behaves the same way (w·x is symmetric). So

    P(the network is dead at x after L layers) = 1 − (1 − 2^−N)^L,

which tends to 1 as L → ∞ for every fixed width N.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from actlab.explain.common import DemoResult, at_least, at_most, fit, save
from actlab.lab.tasks import make_task

WIDTHS = (2, 3, 4, 6)
DEPTHS = (5, 10, 20, 40)


def born_dead_probability(width: int, depth: int) -> float:
    return 1 - (1 - 2.0**-width) ** depth


def monte_carlo_dead(
    width: int, depth: int, trials: int, g: torch.Generator, asymmetric: bool = False
) -> float:
    """Fraction of random bias-free ReLU networks whose hidden vector at x = 1 is all-zero at depth L."""
    h = torch.ones(trials, 1, dtype=torch.float64)
    for _ in range(depth):
        fan_in = h.shape[1]
        w = torch.randn(trials, fan_in, width, generator=g, dtype=torch.float64) / math.sqrt(fan_in)
        if asymmetric:
            # randomized asymmetric initialisation (Lu et al., 2019): one incoming weight of each unit is
            # drawn positive (Beta(2, 1)), which makes an all-zero layer far less likely
            pick = torch.randint(fan_in, (trials, 1, width), generator=g)
            beta = torch.distributions.Beta(2.0, 1.0).sample((trials, 1, width)).double()
            w = w.scatter(1, pick, beta)
        h = torch.relu(torch.bmm(h.unsqueeze(1), w).squeeze(1))
    return float((h.abs().sum(1) == 0).double().mean())


def dead_fraction(model: torch.nn.Sequential, x: torch.Tensor) -> float:
    """Fraction of hidden units whose activation has zero derivative on every input (never active)."""
    import actlab

    dead, total = 0, 0
    h = x
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                pre = layer(h)
                h = pre
                continue
            d = (
                actlab.derivative(layer.spec.name, pre, **layer.static_params)
                if hasattr(layer, "spec")
                else None
            )
            h = layer(pre)
            if d is not None:
                never = (d == 0).all(0)
                dead += int(never.sum())
                total += never.numel()
    return dead / max(total, 1)


def run(out_dir: Path | None = None, seed: int = 0, trials: int = 4000) -> DemoResult:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    table = {}
    worst_gap = 0.0
    for width in WIDTHS:
        for depth in DEPTHS:
            mc = monte_carlo_dead(width, depth, trials, g)
            theory = born_dead_probability(width, depth)
            tolerance = 4 * math.sqrt(theory * (1 - theory) / trials) + 2 / trials
            table[f"{width}x{depth}"] = {"monte_carlo": mc, "closed_form": theory, "tolerance": tolerance}
            worst_gap = max(worst_gap, abs(mc - theory) / tolerance)
    rai = monte_carlo_dead(3, 40, trials, g, asymmetric=True)
    sym = table["3x40"]["monte_carlo"]

    # training with a high learning rate kills ReLU units; Leaky ReLU has no zero-gradient region
    from actlab.explain.common import mlp

    task = make_task("moons", seed=seed, n=400, noise=0.1)
    trained = {}
    for act, lr in (("relu", 0.003), ("relu", 0.3), ("leaky_relu", 0.3)):
        torch.manual_seed(seed)
        model = mlp([2, 32, 32, 32, 1], act)
        before = dead_fraction(model, task.x_test)
        fit(model, task, steps=300, lr=lr)
        trained[f"{act} lr={lr}"] = {"dead_before": before, "dead_after": dead_fraction(model, task.x_test)}

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
    for width in WIDTHS:
        ls = [table[f"{width}x{d}"]["monte_carlo"] for d in DEPTHS]
        axes[0].plot(DEPTHS, ls, "o", label=f"width {width} (Monte Carlo)")
        dense = range(1, max(DEPTHS) + 1)
        axes[0].plot(
            dense, [born_dead_probability(width, d) for d in dense], "-", color=axes[0].lines[-1].get_color()
        )
    axes[0].set(xlabel="depth L", ylabel="P(born dead)", title="1 − (1 − 2^−N)^L (lines) vs Monte Carlo")
    axes[0].legend(fontsize=7)
    names = list(trained)
    axes[1].bar(names, [trained[n]["dead_after"] for n in names], color=["C0", "C3", "C2"])
    axes[1].set(ylabel="dead unit fraction after training", title="high learning rate kills ReLU units")
    axes[1].tick_params(axis="x", labelsize=7)
    figures = save(fig, out_dir, "dying_relu")

    checks = [
        at_most(
            "Monte Carlo agrees with 1 − (1 − 2^−N)^L everywhere (worst gap in units of 4σ + 2/n)",
            worst_gap,
            1.0,
        ),
        at_least(
            "a width-2 ReLU network 40 layers deep is born dead more often than not",
            table["2x40"]["monte_carlo"],
            0.5,
        ),
        at_most("randomized asymmetric initialisation lowers P(born dead) at width 3, depth 40", rai, sym),
        at_least(
            "a high learning rate leaves at least 10 points more dead ReLU units than a small one",
            trained["relu lr=0.3"]["dead_after"] - trained["relu lr=0.003"]["dead_after"],
            0.1,
        ),
        at_most(
            "Leaky ReLU has no dead units (its derivative is never 0)",
            trained["leaky_relu lr=0.3"]["dead_after"],
            0.0,
        ),
    ]
    return DemoResult(
        name="dying-relu",
        title="Dying ReLU: born dead, and killed by large steps",
        claim="A bias-free ReLU network of width N is dead at an input after L layers with probability "
        "1 − (1 − 2^−N)^L (derived in this demo's docstring): deep and narrow networks are likely born dead. "
        "High learning rates kill units in training; Leaky ReLU and asymmetric initialisation help.",
        conclusion=(
            f"Monte Carlo over {trials} networks per cell matches the closed form in every width × depth cell "
            f"(worst gap {worst_gap:.2f} of the tolerance); width 2, depth 40: {table['2x40']['monte_carlo']:.1%} born dead "
            f"(theory {table['2x40']['closed_form']:.1%}). Asymmetric initialisation lowers width 3, depth 40 from "
            f"{sym:.1%} to {rai:.1%}. After training at lr 0.3 {trained['relu lr=0.3']['dead_after']:.0%} of ReLU units "
            f"are dead (lr 0.003: {trained['relu lr=0.003']['dead_after']:.0%}); Leaky ReLU: "
            f"{trained['leaky_relu lr=0.3']['dead_after']:.0%}."
        ),
        numbers={"born_dead": table, "asymmetric_init_3x40": rai, "training": trained},
        checks=checks,
        figures=figures,
    )
