"""Runs per minute of a sweep: the lab's batched ensembles against one run at a time.

The sweep is MNIST-1D's reference MLP (40 -> 100, act, h + act(W h), 100 -> 10) with 10 activations x 5
seeds, Adam lr 1e-2, batch 100. The reference trains the same models (plain ``nn.Linear`` + actlab
activation modules, built by ``build_model``) one after the other with an ordinary PyTorch loop. Both
sides use one thread (the trainer's setting for small models) and are measured in this run. Also
printed: both accuracy distributions, which should agree (same models, same optimiser, same steps).

    .venv/bin/python benchmarks/bench_sweep.py [--steps 300] [--seeds 5] [--fast-paths]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

import actlab
from actlab.lab.models import build_model
from actlab.lab.tasks import make_task
from actlab.lab.train import train_runs
from actlab.lab.types import RunSpec, TrainConfig

PREFERRED = ["relu", "gelu", "silu", "tanh", "sigmoid", "elu", "leaky_relu", "softplus", "mish", "selu"]


def activations(count: int = 10) -> list[str]:
    """The preferred ten where the catalogue has them, topped up with other elementwise entries."""
    names = actlab.names()
    chosen = [a for a in PREFERRED if a in names]
    extra = [
        n
        for n in names
        if n not in chosen and actlab.spec(n).kind == "elementwise" and not actlab.spec(n).stochastic
    ]
    return (chosen + extra)[:count]


def plain_run(task, activation: str, seed: int, steps: int, batch: int = 100, lr: float = 1e-2) -> float:
    """One run the ordinary way: a model, Adam, shuffled mini-batches, test accuracy at the end."""
    torch.manual_seed(seed)
    model = build_model("mnist1d_mlp", task, activation)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed + 1)
    n = len(task.x_train)
    order, position = torch.randperm(n, generator=generator), 0
    for _ in range(steps):
        if position + batch > n:
            order, position = torch.randperm(n, generator=generator), 0
        indices = order[position : position + batch]
        position += batch
        loss = F.cross_entropy(model(task.x_train[indices]), task.y_train[indices])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return (model(task.x_test).argmax(1) == task.y_test).float().mean().item()


def activation_path() -> str:
    """What actlab's activations run on: its verified fast paths (the default) or the reference only."""
    off = os.environ.get("ACTLAB_FAST", "1").strip().lower() in ("0", "false", "no", "off")
    return "exact reference path only (ACTLAB_FAST=0)" if off else "default dispatch (verified fast paths)"


def describe(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f} (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--fast-paths", action="store_true", help="(the default now) register actlab.kernels' fast paths"
    )
    args = parser.parse_args()
    if args.fast_paths:
        import actlab.kernels

        actlab.kernels.register()

    torch.set_num_threads(1)
    task = make_task("mnist1d")  # generated before either clock starts
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # its first use imports for seconds: not timed
    acts = activations()
    config = TrainConfig(steps=args.steps, eval_every=args.steps, lr=1e-2, batch_size=100)
    runs = [RunSpec("mnist1d", a, s, "mnist1d_mlp", train=config) for a in acts for s in range(args.seeds)]

    print(f"machine: {platform.machine()} {platform.processor() or ''} · {os.cpu_count()} cores · "
          f"load {os.getloadavg()[0]:.1f} · torch {torch.__version__} · 1 thread · "
          f"activations: {activation_path()}")  # fmt: skip
    print(f"sweep: MNIST-1D mnist1d_mlp · {len(acts)} activations x {args.seeds} seeds · {args.steps} steps")
    print(f"activations: {', '.join(acts)}")

    started = time.perf_counter()
    batched = train_runs(runs)
    batched_seconds = time.perf_counter() - started

    started = time.perf_counter()
    plain = [plain_run(task, r.activation, r.seed, args.steps) for r in runs]
    plain_seconds = time.perf_counter() - started

    batched_rate = len(runs) / batched_seconds * 60
    plain_rate = len(runs) / plain_seconds * 60
    print(f"batched ensembles (train_runs): {batched_seconds:7.1f} s  {batched_rate:8.1f} runs/min")
    print(f"one run at a time (plain loop): {plain_seconds:7.1f} s  {plain_rate:8.1f} runs/min")
    print(f"speed-up: {batched_rate / plain_rate:.1f}x (train_runs also evaluates, probes and maps)")
    print(f"test accuracy, batched: {describe([r.final['test_metric'] for r in batched])}")
    print(f"test accuracy, plain:   {describe(plain)}")


if __name__ == "__main__":
    main()
