"""selu — self-normalisation (Klambauer et al., 2017): α and λ from their closed forms, and activations
that keep mean 0 and variance 1 through many layers under LeCun-normal initialisation."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import mpmath as mp
import torch

import actlab
from actlab.explain.common import DemoResult, at_least, at_most, close, save

PUBLISHED_ALPHA = "1.6732632423543772848"  # Klambauer et al. (2017), 20 significant digits
PUBLISHED_LAMBDA = "1.0507009873554804934"


def selu_constants() -> tuple[mp.mpf, mp.mpf]:
    """α01 and λ01: the fixed point (μ, ν) = (0, 1) of the mean/variance map (Klambauer et al., eq. 14)."""
    with mp.workdps(40):
        e = mp.e
        erfc_half = mp.erfc(1 / mp.sqrt(2))
        alpha = -mp.sqrt(2 / mp.pi) / (erfc_half * mp.exp(mp.mpf(1) / 2) - 1)
        lam = (
            (1 - erfc_half * mp.sqrt(e))
            * mp.sqrt(2 * mp.pi)
            * (
                2 * mp.erfc(mp.sqrt(2)) * e**2
                + mp.pi * erfc_half**2 * e
                - 2 * (2 + mp.pi) * erfc_half * mp.sqrt(e)
                + mp.pi
                + 2
            )
            ** (-mp.mpf(1) / 2)
        )
        return +alpha, +lam


def propagate(activation: str, depth: int, width: int, seed: int) -> tuple[list[float], list[float]]:
    """Mean and variance of the activations after each layer of a bias-free LeCun-normal network."""
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(2048, width, generator=g, dtype=torch.float64)
    means, variances = [], []
    for _ in range(depth):
        w = torch.randn(width, width, generator=g, dtype=torch.float64) / width**0.5  # LeCun normal
        h = actlab.functional.apply(activation, h @ w.T)
        means.append(float(h.mean()))
        variances.append(float(h.var()))
    return means, variances


def run(out_dir: Path | None = None, seed: int = 0, depth: int = 64, width: int = 256) -> DemoResult:
    alpha, lam = selu_constants()
    with mp.workdps(40):
        alpha_gap = abs(alpha - mp.mpf(PUBLISHED_ALPHA))
        lambda_gap = abs(lam - mp.mpf(PUBLISHED_LAMBDA))
    stats = {act: propagate(act, depth, width, seed) for act in ("selu", "relu", "tanh")}

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for act, (means, variances) in stats.items():
        axes[0].plot(range(1, depth + 1), means, label=act)
        axes[1].semilogy(range(1, depth + 1), variances, label=act)
    axes[0].set(title="mean of activations", xlabel="layer")
    axes[1].set(title="variance of activations", xlabel="layer")
    axes[1].axhline(1.0, color="k", lw=0.5)
    axes[0].legend(fontsize=8)
    figures = save(fig, out_dir, "selu")

    deep = slice(31, depth)
    selu_mean = max(abs(m) for m in stats["selu"][0][deep])
    selu_var_gap = max(abs(v - 1) for v in stats["selu"][1][deep])
    checks = [
        at_most(
            "α from the closed form matches the published 1.6732632423543772848", float(alpha_gap), 1e-18
        ),
        at_most(
            "λ from the closed form matches the published 1.0507009873554804934", float(lambda_gap), 1e-18
        ),
        close(
            "actlab's selu uses these α, λ: selu(-1e3)/(-λα) = 1",
            float(
                actlab.functional.selu(torch.tensor([-1e3], dtype=torch.float64))
                / -(float(lam) * float(alpha))
            ),
            1.0,
            1e-12,
        ),
        at_most(f"SELU: |mean| of layers 32..{depth} stays near 0", selu_mean, 0.1),
        at_most(f"SELU: |variance - 1| of layers 32..{depth} stays small", selu_var_gap, 0.2),
        at_most(
            "ReLU's variance collapses by layer 32 (LeCun init halves it per layer)",
            stats["relu"][1][31],
            1e-3,
        ),
        at_least(
            "tanh's variance drifts away from 1 by layer 32 (|var - 1|)", abs(stats["tanh"][1][31] - 1), 0.5
        ),
    ]
    return DemoResult(
        name="selu",
        title="SELU: self-normalising networks",
        claim="With α ≈ 1.6733 and λ ≈ 1.0507, SELU maps mean 0 / variance 1 to itself, so deep plain networks "
        "keep normalised activations without batch normalisation (Klambauer et al., 2017).",
        conclusion=(
            f"The closed forms give α = {mp.nstr(alpha, 20)} and λ = {mp.nstr(lam, 20)}, matching the "
            f"published constants to {float(max(alpha_gap, lambda_gap)):.0e}. Through {depth} LeCun-normal layers "
            f"of width {width}, SELU keeps |mean| ≤ {selu_mean:.3f} and |variance − 1| ≤ {selu_var_gap:.3f} "
            f"from layer 32 on, while ReLU's variance falls to {stats['relu'][1][31]:.1e} and tanh's to "
            f"{stats['tanh'][1][31]:.3f} by layer 32."
        ),
        numbers={"alpha": str(alpha), "lambda": str(lam), "mean_var_by_layer": stats},
        checks=checks,
        figures=figures,
    )
