"""saturation — σ′ = σ(1 − σ) is at most 1/4, so gradients shrink through sigmoid layers; the right
initialisation (Glorot & Bengio, 2010; He et al., 2015) keeps them flowing."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import actlab
from actlab.explain.common import DemoResult, at_least, at_most, close, save

INITS = ("standard", "xavier", "he")
ACTIVATIONS = ("sigmoid", "tanh", "relu")


def init_weight(w: torch.Tensor, init: str, g: torch.Generator) -> None:
    fan_out, fan_in = w.shape
    if init == "standard":  # U(-1/√n, 1/√n): the heuristic Glorot & Bengio analyse
        bound = 1 / math.sqrt(fan_in)
    elif init == "xavier":  # Glorot & Bengio (2010): variance 2 / (fan_in + fan_out)
        bound = math.sqrt(6 / (fan_in + fan_out))
    else:  # He et al. (2015): variance 2 / fan_in (as a uniform of the same variance)
        bound = math.sqrt(6 / fan_in)
    with torch.no_grad():
        w.uniform_(-bound, bound, generator=g)


def gradient_norms(
    activation: str, init: str, depth: int = 10, width: int = 256, seed: int = 0
) -> list[float]:
    """‖∂L/∂W_l‖ for each layer l of a depth-layer network on one batch (L = squared error vs noise)."""
    g = torch.Generator().manual_seed(seed)
    weights = [torch.empty(width, width, dtype=torch.float64) for _ in range(depth)]
    for w in weights:
        init_weight(w, init, g)
        w.requires_grad_(True)
    h = torch.randn(512, width, generator=g, dtype=torch.float64)
    for w in weights:
        h = actlab.functional.apply(activation, h @ w.T)
    target = torch.randn(512, width, generator=g, dtype=torch.float64)
    ((h - target) ** 2).mean().backward()
    return [float(w.grad.norm()) for w in weights]


def run(out_dir: Path | None = None, seed: int = 0) -> DemoResult:
    x = torch.linspace(-10, 10, 20001, dtype=torch.float64)
    d = actlab.derivative("sigmoid", x)
    s = torch.sigmoid(x)
    identity_gap = float((d - s * (1 - s)).abs().max())
    h = 1e-5
    fd_gap = float((d - (torch.sigmoid(x + h) - torch.sigmoid(x - h)) / (2 * h)).abs().max())
    peak, at = float(d.max()), float(x[d.argmax()])

    norms = {f"{act}/{init}": gradient_norms(act, init, seed=seed) for act in ACTIVATIONS for init in INITS}
    ratio = {k: v[0] / v[-1] for k, v in norms.items()}  # first layer / last layer

    fig, axes = plt.subplots(1, len(ACTIVATIONS), figsize=(11, 3.2), sharey=True)
    for ax, act in zip(axes, ACTIVATIONS):
        for init in INITS:
            ax.semilogy(range(1, 11), norms[f"{act}/{init}"], marker="o", ms=3, label=init)
        ax.set(title=act, xlabel="layer (1 = input side)")
    axes[0].set_ylabel("‖∂L/∂W‖")
    axes[0].legend(fontsize=8)
    figures = save(fig, out_dir, "saturation")

    checks = [
        at_most("σ′(x) = σ(x)(1 − σ(x)) numerically (max |Δ| on [-10, 10], float64)", identity_gap, 1e-15),
        at_most("actlab's σ′ agrees with central differences (max |Δ|)", fd_gap, 1e-9),
        close("the maximum of σ′ is 1/4", peak, 0.25, 1e-12),
        close("… reached at x = 0", at, 0.0, 1e-9),
        at_most(
            "sigmoid with the standard init: the first layer's gradient is vanishingly small "
            "(first/last gradient-norm ratio)",
            ratio["sigmoid/standard"],
            1e-3,
        ),
        at_least(
            "tanh with Glorot init keeps gradients flowing (first/last ratio)", ratio["tanh/xavier"], 0.1
        ),
        at_least("ReLU with He init keeps gradients flowing (first/last ratio)", ratio["relu/he"], 0.1),
        at_most("ReLU with He init does not explode either (first/last ratio)", ratio["relu/he"], 10.0),
    ]
    return DemoResult(
        name="saturation",
        title="Saturation and vanishing gradients",
        claim="σ′ ≤ 1/4, so each sigmoid layer multiplies the gradient by at most a quarter of the weights' "
        "gain: under the old 'standard' initialisation gradients vanish towards the input; Glorot (tanh) "
        "and He (ReLU) initialisation keep them of the same size in every layer.",
        conclusion=(
            f"σ′ peaks at {peak:.6f} at x = {at:+.1e}. In a 10-layer network the first layer's gradient is "
            f"{ratio['sigmoid/standard']:.1e}× the last one's for sigmoid with the standard init, "
            f"{ratio['tanh/xavier']:.2f}× for tanh with Glorot init and {ratio['relu/he']:.2f}× for ReLU with He init."
        ),
        numbers={
            "sigmoid_derivative_peak": peak,
            "peak_at": at,
            "grad_norms": norms,
            "first_over_last": ratio,
        },
        checks=checks,
        figures=figures,
    )
