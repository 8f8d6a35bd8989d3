"""The contract between the lab's parts: what a run is, and what a finished run reports.

The trainer (train.py) turns RunSpecs into RunResults; the sweep and store (sweep.py, store.py) only
ever see these two types, so either side can change without the other noticing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TaskKind = Literal["binary", "multiclass", "regression", "sequence"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimiser, learning rate, batch size, length, weight decay, evaluation cadence."""

    optimizer: Literal["sgd", "momentum", "adam"] = "adam"
    lr: float = 1e-2
    batch_size: int = 100
    steps: int = 2000
    weight_decay: float = 0.0
    eval_every: int = 100
    init: Literal["default", "he", "xavier", "lecun"] = "default"


@dataclass(frozen=True)
class RunSpec:
    """One training run. ``activation`` is a catalogue name, optionally with parameters
    ("leaky_relu:negative_slope=0.1"), or a comma-free list joined by '|' for per-layer choices
    ("relu|tanh|gelu")."""

    task: str
    activation: str
    seed: int
    model: str = "mlp"
    task_options: tuple[tuple[str, Any], ...] = ()
    model_options: tuple[tuple[str, Any], ...] = ()
    train: TrainConfig = field(default_factory=TrainConfig)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["task_options"] = dict(self.task_options)
        d["model_options"] = dict(self.model_options)
        return d

    def key(self) -> str:
        """Stable identity of the run: the store skips a run whose key is already complete."""
        blob = json.dumps(self.as_dict(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def group_key(self) -> str:
        """Runs with the same group key share an architecture and train together as one ensemble."""
        d = self.as_dict()
        d.pop("activation")
        d.pop("seed")
        return json.dumps(d, sort_keys=True, default=str)


@dataclass
class RunResult:
    """What a finished run reports. ``final`` holds at least test_loss, train_loss and test_metric
    (accuracy for classification and sequence tasks, MSE for regression) and ``metric_name``.
    ``curve`` rows: {"step", "train_loss", "test_loss", "test_metric"}. ``probes`` rows: {"step",
    "layer", "dead_fraction", "saturated_fraction", "act_mean", "act_std", "grad_norm",
    "weight_norm"}. ``boundary`` is the model's output on a grid over the plane for 2-D tasks
    ({"xs", "ys", "z"}), else None."""

    spec: RunSpec
    final: dict[str, float]
    curve: list[dict[str, float]]
    probes: list[dict[str, float]]
    seconds: float
    metric_name: str = "accuracy"
    higher_is_better: bool = True
    boundary: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=dict)
