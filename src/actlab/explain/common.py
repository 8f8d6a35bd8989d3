"""What every demonstration shares: its result type, small training loops and figure helpers.

A demo computes its own evidence: numbers, the checks that compare them with the theory it cites
(each with its tolerance), a figure, and a conclusion stated next to the evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from actlab.lab.tasks import Task  # noqa: E402

Tensor = torch.Tensor


@dataclass
class Check:
    """One comparison of a measured number with the theory: passed when |value - expected| <= tolerance
    (or, for one-sided claims, when the stated inequality holds)."""

    statement: str
    value: float
    expected: float | None
    tolerance: float | None
    passed: bool
    relation: str = "="  # "=" (within tolerance), "≤" or "≥"

    def expected_text(self) -> str:
        if self.expected is None:
            return "—"
        if self.relation != "=":
            return f"{self.relation} {self.expected:.4g}"
        return f"{self.expected:.4g}" + (f" ± {self.tolerance:g}" if self.tolerance else "")


@dataclass
class DemoResult:
    name: str
    title: str
    claim: str
    conclusion: str
    numbers: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        return d


def close(statement: str, value: float, expected: float, tolerance: float) -> Check:
    value, expected = float(value), float(expected)
    return Check(statement, value, expected, tolerance, abs(value - expected) <= tolerance)


def at_most(statement: str, value: float, bound: float) -> Check:
    return Check(statement, float(value), float(bound), None, float(value) <= bound, "≤")


def at_least(statement: str, value: float, bound: float) -> Check:
    return Check(statement, float(value), float(bound), None, float(value) >= bound, "≥")


def loss_for(task: Task) -> nn.Module:
    if task.kind == "binary":
        return nn.BCEWithLogitsLoss()
    if task.kind == "regression":
        return nn.MSELoss()
    return nn.CrossEntropyLoss()


def targets(task: Task, y: Tensor) -> Tensor:
    return y.float().reshape(-1, 1) if task.kind == "binary" else y


def accuracy(task: Task, model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        out = model(x)
    pred = (out.reshape(-1) > 0).long() if task.kind == "binary" else out.argmax(-1)
    return float((pred == y).float().mean())


def fit(
    model: nn.Module,
    task: Task,
    *,
    steps: int,
    lr: float,
    optimizer: str = "adam",
    batch_size: int | None = None,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Train on the task's training set; returns the loss curve and first-layer gradient norms."""
    opt_cls = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer]
    opt = opt_cls(model.parameters(), lr=lr)
    loss_fn = loss_for(task)
    x, y = task.x_train, targets(task, task.y_train)
    g = torch.Generator().manual_seed(seed)
    curve: list[float] = []
    grad_norms: list[list[float]] = []
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for _ in range(steps):
        if batch_size is not None and batch_size < len(x):
            idx = torch.randint(len(x), (batch_size,), generator=g)
            xb, yb = x[idx], y[idx]
        else:
            xb, yb = x, y
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        grad_norms.append([float(m.weight.grad.norm()) for m in linears])
        opt.step()
        curve.append(loss.item())
    return {"loss": curve, "grad_norms": grad_norms}


def boundary_grid(model: nn.Module, task: Task, resolution: int = 80) -> tuple[Tensor, Tensor, Tensor]:
    """The model's probability of class 1 on a grid over the data's bounding box."""
    x = torch.cat([task.x_train, task.x_test])
    lo, hi = x.min(0).values - 0.5, x.max(0).values + 0.5
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        z = torch.sigmoid(model(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))).reshape(gx.shape)
    return gx, gy, z


def draw_boundary(ax, model: nn.Module, task: Task, title: str) -> None:
    gx, gy, z = boundary_grid(model, task)
    ax.contourf(gx, gy, z, levels=20, cmap="RdBu_r", vmin=0, vmax=1, alpha=0.8)
    ax.contour(gx, gy, z, levels=[0.5], colors="k", linewidths=1)
    pts, lab = task.x_test, task.y_test
    ax.scatter(pts[:, 0], pts[:, 1], c=lab, cmap="RdBu_r", s=6, edgecolors="none")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def save(fig, out_dir: Path | None, name: str) -> list[str]:
    """Save a figure as PNG under out_dir (if given) and close it; returns the paths written."""
    paths = []
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=90, bbox_inches="tight")
        paths.append(str(path))
    plt.close(fig)
    return paths


def mlp(sizes: list[int], activation: str, **params: Any) -> nn.Sequential:
    """Linear layers of the given sizes with an actlab activation between them (none after the last)."""
    import actlab

    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(actlab.get(activation, **params))
    return nn.Sequential(*layers)
