"""Reproduce MNIST-1D's reference results (Greydanus 2020) with the lab's own trainer.

Paper / notebook (Adam lr 1e-2, batch 100, 6000 steps): logistic 32% / 31.5%, MLP 68% / 65.1%,
CNN 94% / 92.3%. Measured with this trainer, seed 0 (test accuracy at steps 500 / 1000 / 3000):
logistic 0.33 / 0.32 / 0.33, ReLU MLP 0.62 / 0.65 / 0.68, identity MLP 0.31 / 0.32 / 0.31,
CNN 0.85 / 0.89 / 0.92. The curves flatten early, so the test stops at 500 steps for the linear
models and 1000 for the others (about a sixth of the paper's budget) and allows for that:
logistic in [0.25, 0.40]; ReLU MLP >= 0.58 (paper 0.65-0.68 after 6000 steps; 0.62-0.65 here after
500-1000); CNN >= 0.85 (0.89 here at 1000 steps, 0.92 at 3000). A linear "MLP" (identity activation)
is a linear model: it must not beat logistic regression by more than 3 points — the point of a
non-linearity.
"""

from __future__ import annotations

import pytest

from actlab.lab.train import train_runs
from actlab.lab.types import RunSpec, TrainConfig

pytestmark = pytest.mark.slow


def config(steps: int) -> TrainConfig:
    return TrainConfig(optimizer="adam", lr=1e-2, batch_size=100, steps=steps, eval_every=steps)


def test_mnist1d_reference_accuracies():
    linear = RunSpec("mnist1d", "relu", 0, "logistic", train=config(500))
    mlps = [RunSpec("mnist1d", act, 0, "mnist1d_mlp", train=config(1000)) for act in ("relu", "identity")]
    cnn = RunSpec("mnist1d", "relu", 0, "mnist1d_cnn", train=config(1000))
    logistic, relu_mlp, identity_mlp, relu_cnn = (
        r.final["test_metric"] for r in train_runs([linear, *mlps, cnn])
    )
    assert 0.25 <= logistic <= 0.40
    assert relu_mlp >= 0.58
    assert relu_cnn >= 0.85
    assert identity_mlp <= logistic + 0.03
