"""The advisor: which activation for which task and layer, with the reason and the evidence behind it.

Rules first (what the literature and the demos establish), then — given the user's own data — a short
comparison on that data that ranks the candidates by measured results.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TASKS = ("binary", "multiclass", "regression", "sequence")
LAYERS = ("hidden", "output")
DEEP_PLAIN_MLP = 16  # from this many hidden layers on, self-normalisation starts to matter


@dataclass
class Recommendation:
    activation: str
    reason: str
    pair_with: str = ""
    evidence: str = ""  # the demo (actlab demo NAME) or lab result that shows it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(task: str, layer: str, depth: int) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task kind {task!r}; use one of {', '.join(TASKS)}")
    if layer not in LAYERS:
        raise ValueError(f"unknown layer kind {layer!r}; use one of {', '.join(LAYERS)}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth = {depth!r} must be a non-negative integer (number of hidden layers)")


def _output(task: str) -> list[Recommendation]:
    if task == "binary":
        return [
            Recommendation(
                "sigmoid",
                "maps one logit to a probability in (0, 1); threshold at 0.5 to decide",
                "binary cross-entropy, computed from the logit (BCEWithLogitsLoss) for stability",
                "actlab demo softmax",
            )
        ]
    if task == "multiclass":
        return [
            Recommendation(
                "softmax",
                "turns one score per class into probabilities that sum to one; predict the argmax",
                "cross-entropy on the logits (log_softmax inside the loss)",
                "actlab demo softmax",
            )
        ]
    if task == "regression":
        return [
            Recommendation(
                "identity",
                "targets are unbounded real numbers; any squashing would cap the prediction",
                "mean squared error",
            ),
            Recommendation(
                "softplus",
                "only if the target is positive (a rate, a variance): smooth and > 0",
                "mean squared error or a likelihood loss",
            ),
        ]
    return [
        Recommendation(
            "softmax",
            "a distribution over the next token or character",
            "cross-entropy",
            "actlab compare --task chars",
        )
    ]


def _hidden(task: str, depth: int) -> list[Recommendation]:
    recs: list[Recommendation] = []
    if task == "sequence":
        recs.append(
            Recommendation(
                "tanh",
                "bounded, zero-centred recurrent hidden state; gates use sigmoid (LSTM/GRU)",
                "Xavier/Glorot initialisation; gradient clipping",
                "actlab demo saturation",
            )
        )
    if depth >= DEEP_PLAIN_MLP and task != "sequence":
        recs.append(
            Recommendation(
                "selu",
                f"{depth} plain layers: SELU keeps activations at mean 0, variance 1 without normalisation layers",
                "LeCun-normal initialisation, no batch norm, alpha-dropout",
                "actlab demo selu",
            )
        )
    recs += [
        Recommendation(
            "relu",
            "cheap, non-saturating for x > 0, sparse; the default that usually works",
            "He initialisation",
            "actlab demo dying-relu (and its cures)",
        ),
        Recommendation(
            "gelu",
            "smooth ReLU-like gate; standard in transformers, often a little better than ReLU",
            "He or default initialisation",
            "actlab compare",
        ),
        Recommendation(
            "silu",
            "smooth, self-gated (x·σ(x)); strong in modern CNNs (EfficientNet)",
            "He initialisation",
            "actlab compare",
        ),
        Recommendation(
            "leaky_relu",
            "no dead units: use when many ReLU units die (high learning rates, narrow nets)",
            "He initialisation",
            "actlab demo dying-relu",
        ),
    ]
    if task != "sequence":
        recs.append(
            Recommendation(
                "tanh",
                "zero-centred and bounded; fine for shallow nets, saturates when deep",
                "Xavier/Glorot initialisation",
                "actlab demo saturation",
            )
        )
    recs.append(
        Recommendation(
            "sigmoid",
            "avoid in hidden layers: σ′ ≤ 1/4 makes gradients vanish through depth",
            "",
            "actlab demo saturation",
        )
    )
    return recs


def advise(task: str, layer: str = "hidden", depth: int = 2) -> list[Recommendation]:
    """Ranked recommendations for a task kind and layer kind, each with its reason."""
    _check(task, layer, depth)
    return _output(task) if layer == "output" else _hidden(task, depth)


def rank_on_data(
    path: str | Path,
    target: str,
    candidates: list[str] | None = None,
    *,
    seeds: int = 3,
    steps: int = 300,
    store: str | Path | None = None,
    output: str | Path | None = None,
    progress=None,
) -> dict[str, Any]:
    """A short comparison on the user's CSV: every candidate hidden activation over ``seeds`` seeds,
    ranked by the measured test metric (mean over seeds, with the lab's paired significance test)."""
    from actlab.lab.compare import CompareSettings, run_compare

    if candidates is None:
        candidates = ["relu", "gelu", "silu", "leaky_relu", "tanh", "selu"]
    tmp = None
    if store is None:
        tmp = tempfile.TemporaryDirectory()
        store = Path(tmp.name) / "advise.sqlite"
    try:
        outcome = run_compare(
            CompareSettings(
                data=Path(path),
                target=target,
                acts=candidates,
                seeds=seeds,
                steps=steps,
                store=Path(store),
                output=Path(output) if output else Path(store).parent / "advise-report",
            ),
            progress=progress,
        )
        summary = outcome.as_json()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return {
        "metric": summary["metric"],
        "higher_is_better": summary["higher_is_better"],
        "ranking": summary["activations"],
        "statistics": summary["statistics"],
        "report": summary["report"] if tmp is None else None,
    }
