"""step — the Heaviside step has zero derivative almost everywhere, so gradient descent cannot move the
layers below it; sigmoid learns the same task, and the straight-through estimator is what people use
to train step (binary) units anyway (Bengio, Léonard & Courville, 2013)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch import nn

from actlab.explain.common import DemoResult, accuracy, at_least, close, fit, mlp, save
from actlab.lab.tasks import make_task


class StraightThroughStep(torch.autograd.Function):
    """Forward: the step. Backward: pretend it was the identity on [−1, 1] (hard-tanh STE)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


class STEStep(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return StraightThroughStep.apply(x)


def run(out_dir: Path | None = None, seed: int = 0, steps: int = 500) -> DemoResult:
    task = make_task("circle", seed=seed, n=400)
    results = {}
    for label in ("step", "sigmoid", "step + straight-through"):
        torch.manual_seed(seed)
        model = mlp([2, 16, 16, 1], "step" if label.startswith("step") else label)
        if label == "step + straight-through":
            model = nn.Sequential(*[STEStep() if not isinstance(m, nn.Linear) else m for m in model])
        first = model[0].weight.detach().clone()
        history = fit(model, task, steps=steps, lr=0.02)
        results[label] = {
            "loss": history["loss"],
            "first_layer_grad_norm": [g[0] for g in history["grad_norms"]],
            "first_layer_moved": float((model[0].weight.detach() - first).abs().max()),
            "test_accuracy": accuracy(task, model, task.x_test, task.y_test),
        }

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for label, r in results.items():
        axes[0].plot(r["loss"], label=label)
        axes[1].semilogy([max(g, 1e-12) for g in r["first_layer_grad_norm"]], label=label)
    axes[0].set(title="training loss", xlabel="step")
    axes[1].set(title="‖∂L/∂W₁‖ (first layer; 1e-12 = exactly 0)", xlabel="step")
    axes[0].legend(fontsize=8)
    figures = save(fig, out_dir, "step")

    step, sig, ste = results["step"], results["sigmoid"], results["step + straight-through"]
    checks = [
        close(
            "with the step, the first layer's gradient is exactly 0 at every step (max norm)",
            max(step["first_layer_grad_norm"]),
            0.0,
            0.0,
        ),
        close("… so its weights never move (max |ΔW₁|)", step["first_layer_moved"], 0.0, 0.0),
        at_least("sigmoid learns circle (test accuracy)", sig["test_accuracy"], 0.9),
        at_least(
            "sigmoid ends with a training loss at least 0.1 lower than the step's",
            step["loss"][-1] - sig["loss"][-1],
            0.1,
        ),
        at_least("the straight-through estimator moves the first layer", ste["first_layer_moved"], 1e-3),
        at_least(
            "… and trains the step network at least 5 points above the plain step (test accuracy gain)",
            ste["test_accuracy"] - step["test_accuracy"],
            0.05,
        ),
    ]
    return DemoResult(
        name="step",
        title="Why a step function cannot be trained",
        claim="The step's derivative is 0 wherever it exists, so backpropagation sends no signal to the layers "
        "below it; a smooth squashing function (sigmoid) learns, and the straight-through estimator trains "
        "step units by pretending their derivative is 1 near 0.",
        conclusion=(
            f"With the step the first layer's gradient stayed exactly 0 for all {steps} steps and its weights did not "
            f"move; only the output layer learned (test accuracy {step['test_accuracy']:.0%}, final loss "
            f"{step['loss'][-1]:.3f}). Sigmoid reached {sig['test_accuracy']:.0%} (loss {sig['loss'][-1]:.3f}); the "
            f"straight-through estimator {ste['test_accuracy']:.0%}."
        ),
        numbers={
            k: {kk: vv for kk, vv in v.items() if kk != "loss"} | {"final_loss": v["loss"][-1]}
            for k, v in results.items()
        },
        checks=checks,
        figures=figures,
    )
