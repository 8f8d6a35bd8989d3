"""softmax — scores become probabilities that sum to one; the max-shift keeps it stable for huge
scores; and for two classes a 0.5 threshold on a sigmoid is the same decision as argmax of softmax."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import torch

import actlab
from actlab.explain.common import DemoResult, at_most, close, save


def naive_softmax(scores: torch.Tensor) -> torch.Tensor:
    e = torch.exp(scores)
    return e / e.sum(-1, keepdim=True)


def run(out_dir: Path | None = None, seed: int = 0) -> DemoResult:
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(1000, 10, generator=g) * 4
    probs = actlab.functional.softmax(scores, dim=-1)
    sum_error = float((probs.sum(-1) - 1).abs().max())

    huge = torch.tensor([1000.0, 1001.0, 1002.0])
    stable = actlab.functional.softmax(huge, dim=-1)
    naive = naive_softmax(huge)
    expected = naive_softmax(huge - 1002.0)  # the same scores shifted: softmax is shift-invariant

    z = torch.randn(10000, generator=g) * 3
    sigmoid_decision = actlab.functional.sigmoid(z) > 0.5
    two_class = actlab.functional.softmax(torch.stack([torch.zeros_like(z), z], -1), dim=-1)
    argmax_decision = two_class.argmax(-1) == 1
    agreement = float((sigmoid_decision == argmax_decision).float().mean())
    sigmoid_gap = float((two_class[:, 1] - actlab.functional.sigmoid(z)).abs().max())

    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    axes[0].bar(range(10), scores[0].numpy(), color="0.6")
    axes[0].set_title("scores (logits)", fontsize=9)
    axes[1].bar(range(10), probs[0].numpy(), color="C0")
    axes[1].set_title(f"softmax: probabilities, sum = {float(probs[0].sum()):.6f}", fontsize=9)
    figures = save(fig, out_dir, "softmax")

    checks = [
        at_most("softmax rows sum to one (max |sum - 1|, float32)", sum_error, 1e-6),
        at_most(
            "softmax of [1000, 1001, 1002] equals softmax of the shifted scores (max |Δ|)",
            float((stable - expected).abs().max()),
            1e-7,
        ),
        close(
            "the naive exp(x)/Σexp gives NaN for huge scores (1 = NaN present)",
            float(torch.isnan(naive).any()),
            1.0,
            0.0,
        ),
        close(
            "sigmoid(z) > 0.5 agrees with argmax softmax([0, z]) (fraction of 10000 inputs)",
            agreement,
            1.0,
            0.0,
        ),
        at_most("softmax([0, z])[1] equals sigmoid(z) (max |Δ|)", sigmoid_gap, 1e-6),
    ]
    return DemoResult(
        name="softmax",
        title="Softmax: from scores to probabilities",
        claim="softmax turns any scores into probabilities summing to one, is stable for huge scores when "
        "the maximum is subtracted, and for two classes equals the sigmoid.",
        conclusion=(
            f"Rows sum to one within {sum_error:.1e}. For scores [1000, 1001, 1002] actlab gives "
            f"{[round(v, 4) for v in stable.tolist()]} while the naive formula gives {naive.tolist()}. "
            f"A 0.5 threshold on sigmoid(z) and argmax of softmax([0, z]) make the same decision on "
            f"{agreement:.0%} of inputs: softmax([0, z])[1] = sigmoid(z) (max gap {sigmoid_gap:.1e})."
        ),
        numbers={
            "sum_error": sum_error,
            "stable_huge": stable.tolist(),
            "naive_huge": [str(v) for v in naive.tolist()],
            "decision_agreement": agreement,
            "sigmoid_gap": sigmoid_gap,
        },
        checks=checks,
        figures=figures,
    )
