"""The report's figures (matplotlib Agg, written as PNG): learning curves with spread bands, decision
boundaries, gradient flow and dead/saturated units per layer. Each function takes RunResults grouped by
activation (in the plan's order) and returns the path it wrote.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are written headless, on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from actlab.lab.types import RunResult  # noqa: E402

ByActivation = Mapping[str, Sequence[RunResult]]
DPI = 110


def _colors(activations: Sequence[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10" if len(activations) <= 10 else "tab20")
    return {act: cmap(i % cmap.N) for i, act in enumerate(activations)}


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def safe_name(activation: str) -> str:
    """A file-name-safe form of an activation string ("leaky_relu:negative_slope=0.1" → ...)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", activation).strip("_") or "activation"


def _mean_std_over_seeds(rows_per_seed: Sequence[Sequence[dict[str, float]]], column: str) -> tuple:
    """Steps present in every seed, and the mean and std (ddof=1, 0 for one seed) of ``column`` there."""
    per_seed = [{row["step"]: row.get(column) for row in rows} for rows in rows_per_seed if rows]
    if not per_seed:
        return np.array([]), np.array([]), np.array([])
    steps = sorted(set.intersection(*(set(d) for d in per_seed)))
    values = np.array([[_float(d[s]) for s in steps] for d in per_seed], dtype=float)
    mean = np.nanmean(values, axis=0) if values.size else np.array([])
    std = np.nanstd(values, axis=0, ddof=1) if len(per_seed) > 1 else np.zeros_like(mean)
    return np.array(steps, dtype=float), mean, std


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def learning_curves(by_act: ByActivation, path: Path, metric_name: str) -> Path:
    """Test metric and train loss against step: mean over seeds with a ±1 std band."""
    colors = _colors(list(by_act))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    panels = (("test_metric", f"test {metric_name}"), ("train_loss", "train loss"))
    for ax, (column, label) in zip(axes, panels, strict=True):
        for act, results in by_act.items():
            steps, mean, std = _mean_std_over_seeds([r.curve for r in results], column)
            if steps.size == 0:
                continue
            ax.plot(steps, mean, color=colors[act], label=f"{act} (n={len(results)})")
            lower = mean - std
            if column == "train_loss":  # drawn on a log axis: a band below 0 cannot be shown there
                lower = np.maximum(lower, mean / 10)
            ax.fill_between(steps, lower, mean + std, color=colors[act], alpha=0.18, linewidth=0)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        if column == "train_loss" and _all_positive(ax):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Learning curves: mean over seeds, band = ±1 std (loss band clipped at mean/10 on the log axis)"
    )
    return _save(fig, path)


def _all_positive(ax: plt.Axes) -> bool:
    ys = [y for line in ax.get_lines() for y in np.asarray(line.get_ydata(), dtype=float)]
    return bool(ys) and all(y > 0 for y in ys if math.isfinite(y))


def decision_boundary(
    activation: str, result: RunResult, path: Path, points: tuple[np.ndarray, np.ndarray] | None
) -> Path:
    """The model's output over the plane (one seed), with the training points when known."""
    grid = result.boundary or {}
    xs, ys = np.asarray(grid["xs"], dtype=float), np.asarray(grid["ys"], dtype=float)
    fig, ax = plt.subplots(figsize=(4.2, 4))
    if "classes" in grid:  # multiclass: colour by the predicted class
        classes = np.asarray(grid["classes"], dtype=float)
        ax.pcolormesh(xs, ys, classes, cmap="tab10", vmin=0, vmax=9, shading="auto", alpha=0.6)
        point_cmap, point_range = "tab10", (0, 9)
    else:  # binary: the probability of class 1, with the 0.5 contour as the decision boundary
        z = np.asarray(grid["z"], dtype=float)
        mesh = ax.pcolormesh(xs, ys, z, cmap="RdBu", vmin=0.0, vmax=1.0, shading="auto")
        if np.nanmin(z) < 0.5 < np.nanmax(z):
            ax.contour(xs, ys, z, levels=[0.5], colors="k", linewidths=1.0)
        fig.colorbar(mesh, ax=ax, shrink=0.8, label="P(class 1)")
        point_cmap, point_range = "RdBu", (0, 1)
    if points is not None:
        features, labels = points
        ax.scatter(
            features[:, 0],
            features[:, 1],
            c=labels,
            cmap=point_cmap,
            vmin=point_range[0],
            vmax=point_range[1],
            edgecolors="k",
            s=10,
            linewidths=0.4,
        )
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(ys.min(), ys.max())
    metric = result.final.get("test_metric")
    metric_text = f", test {result.metric_name} {metric:.3f}" if metric is not None else ""
    ax.set_title(f"{activation} (seed {result.spec.seed}{metric_text})", fontsize=9)
    ax.set_aspect("equal")
    return _save(fig, path)


def _probes_by_layer(
    results: Sequence[RunResult], column: str, first: bool = False
) -> dict[Any, list[float]]:
    """Per layer, the value of ``column`` at each seed's last (or first) probed step."""
    by_layer: dict[Any, list[float]] = defaultdict(list)
    for result in results:
        if not result.probes:
            continue
        steps = [row["step"] for row in result.probes]
        chosen = min(steps) if first else max(steps)
        for row in result.probes:
            if row["step"] == chosen and row.get(column) is not None:
                by_layer[row["layer"]].append(float(row[column]))
    return dict(sorted(by_layer.items(), key=lambda item: _layer_order(item[0])))


def _layer_order(layer: Any) -> tuple[int, Any]:
    return (0, float(layer)) if isinstance(layer, (int, float)) else (1, str(layer))


def _per_layer_panel(
    ax: plt.Axes, by_act: ByActivation, column: str, colors: Mapping[str, Any], first: bool = False
) -> bool:
    drew = False
    # A small sideways shift per activation keeps equal values from hiding each other.
    dodge = 0.25 / max(1, len(by_act))
    for index, (act, results) in enumerate(by_act.items()):
        by_layer = _probes_by_layer(results, column, first)
        if not by_layer:
            continue
        layers = list(by_layer)
        mean = np.array([np.mean(v) for v in by_layer.values()])
        std = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in by_layer.values()])
        positions = np.arange(len(layers))
        shifted = positions + (index - (len(by_act) - 1) / 2) * dodge
        # these panels use log axes: a lower error bar reaching 0 or below is clipped at mean/10
        lower = np.minimum(std, mean - mean / 10) if column == "grad_norm" else std
        ax.errorbar(shifted, mean, yerr=[lower, std], color=colors[act], marker="o", capsize=3, label=act)
        ax.set_xticks(positions, [str(layer) for layer in layers])
        drew = True
    ax.set_xlabel("layer")
    ax.grid(alpha=0.3)
    return drew


def gradient_flow(by_act: ByActivation, path: Path) -> Path:
    """Gradient norm of each layer's weights early in training and at the end (mean ± std over seeds).

    Early is where vanishing gradients show: saturating activations shrink them layer by layer."""
    colors = _colors(list(by_act))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, first, label in (
        (axes[0], True, "first probe (early training)"),
        (axes[1], False, "end of training"),
    ):
        if _per_layer_panel(ax, by_act, "grad_norm", colors, first=first):
            ax.set_yscale("log")
            ax.legend(fontsize=8)
        ax.set_title(label, fontsize=10)
    axes[0].set_ylabel("gradient norm of the layer's weights (log)")
    fig.suptitle("Gradient flow per layer (error bar = ±1 std over seeds)")
    return _save(fig, path)


def unit_health(by_act: ByActivation, path: Path) -> Path:
    """Fraction of dead units and of saturated units per layer at the last probed step."""
    colors = _colors(list(by_act))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column, label in (
        (axes[0], "dead_fraction", "dead units (pass no gradient on the test set)"),
        (axes[1], "saturated_fraction", "saturated activations (|f'(x)| < 1e-3)"),
    ):
        if _per_layer_panel(ax, by_act, column, colors):
            ax.legend(fontsize=8)
        ax.set_ylabel("fraction")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(label, fontsize=10)
    fig.suptitle("Unit health at the end of training (error bar = ±1 std over seeds)")
    return _save(fig, path)
