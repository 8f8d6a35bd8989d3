"""The trainer: RunSpecs in, RunResults out, each group of compatible runs trained as one ensemble.

Runs that share a ``group_key`` (task, model, options, training config) differ only in activation and
seed; they are stacked into one ``BatchedModel`` and trained together. Each member keeps its own
initial weights (drawn from its seed, so two activations with the same seed start from the same
weights: a paired comparison), its own data order (from its seed) and its own optimiser state.

    >>> results = train_runs([RunSpec("circle", "tanh", seed) for seed in range(5)])
"""

from __future__ import annotations

import math
import multiprocessing
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

import actlab
from actlab.lab.ensemble import BatchedModel
from actlab.lab.models import INITS, build_model, check_model, parse_activation
from actlab.lab.probes import LayerProbe, weight_norms
from actlab.lab.tasks import Task, make_task
from actlab.lab.types import RunResult, RunSpec, TrainConfig

Tensor = torch.Tensor

OPTIMIZERS = ("sgd", "momentum", "adam")
MAX_MEMBERS = 64  # larger groups are split: memory grows with the ensemble, speed-up saturates
TRAIN_EVAL_LIMIT = 1000  # train loss/metric measured on at most this many (evenly spaced) examples
BOUNDARY_GRID = 100
MODEL_OPTIONS = ("depth", "width", "residual")
# The lab's models are small: intra-op threads cost more than they bring, and on a shared machine
# OpenMP's spinning threads slow a 2-thread run down five-fold. More cores: use jobs (processes).
THREADS_PER_ENSEMBLE = 1

Progress = Callable[[int, int], None]


# ----------------------------------------------------------------------------------------------------
# validation: every run is checked before any training starts
# ----------------------------------------------------------------------------------------------------
def _positive_int(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{what} = {value!r} is not allowed; use an integer > 0")


def validate_config(config: TrainConfig) -> None:
    """``ValueError`` naming the bad field and the allowed values."""
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
    if config.init not in INITS:
        raise ValueError(f"unknown init {config.init!r}; use one of {', '.join(INITS)}")
    _positive_int(config.steps, "steps")
    _positive_int(config.batch_size, "batch_size")
    _positive_int(config.eval_every, "eval_every")
    lr = config.lr
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr = {lr!r} is not allowed; use a number > 0, e.g. 0.01")
    wd = config.weight_decay
    if isinstance(wd, bool) or not isinstance(wd, (int, float)) or not math.isfinite(wd) or wd < 0:
        raise ValueError(f"weight_decay = {wd!r} is not allowed; use a number >= 0")


def validate_run(run: RunSpec) -> None:
    validate_config(run.train)
    check_model(run.model)
    unknown = [k for k, _ in run.model_options if k not in MODEL_OPTIONS]
    if unknown:
        raise ValueError(f"unknown model option {unknown[0]!r}; use {', '.join(MODEL_OPTIONS)}")
    if isinstance(run.seed, bool) or not isinstance(run.seed, int):
        raise ValueError(f"seed = {run.seed!r} must be an integer")
    for part in run.activation.split("|"):
        parse_activation(part)


# ----------------------------------------------------------------------------------------------------
# losses and metrics, per member
# ----------------------------------------------------------------------------------------------------
def metric_of(task: Task) -> tuple[str, bool]:
    """The test metric's name and whether higher is better."""
    return ("mse", False) if task.kind == "regression" else ("accuracy", True)


def member_losses(task: Task, output: Tensor, target: Tensor) -> Tensor:
    """Mean loss of each member, shape (E,). ``output`` (E, B, outputs), ``target`` (E, B[, 1])."""
    members, batch = output.shape[:2]
    if task.kind == "binary":
        logits = output.reshape(members, batch)
        return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), reduction="none").mean(1)
    if task.kind == "regression":
        return (output.reshape(members, batch) - target.reshape(members, batch)).pow(2).mean(1)
    flat = output.reshape(members * batch, -1)
    return F.cross_entropy(flat, target.reshape(-1), reduction="none").reshape(members, batch).mean(1)


def member_correct(task: Task, output: Tensor, target: Tensor) -> Tensor:
    """Number of correct predictions of each member (classification and sequence tasks)."""
    members, batch = output.shape[:2]
    if task.kind == "binary":
        predicted = (output.reshape(members, batch) > 0).long()
    else:
        predicted = output.reshape(members, batch, -1).argmax(-1)
    return (predicted == target.reshape(members, batch)).sum(1)


# ----------------------------------------------------------------------------------------------------
# one ensemble
# ----------------------------------------------------------------------------------------------------
def _data_seed(seed: int) -> int:
    # A stream apart from the init stream (both start from the run seed).
    return (seed * 1_000_003 + 12345) % (2**63)


class _MemberBatches:
    """Epochs of shuffled indices for one member; each epoch drops its last partial batch."""

    def __init__(self, n: int, batch: int, seed: int) -> None:
        self.n, self.batch = n, min(batch, n)
        self.generator = torch.Generator().manual_seed(_data_seed(seed))
        self.order = torch.randperm(n, generator=self.generator)
        self.position = 0

    def next(self) -> Tensor:
        if self.position + self.batch > self.n:
            self.order = torch.randperm(self.n, generator=self.generator)
            self.position = 0
        indices = self.order[self.position : self.position + self.batch]
        self.position += self.batch
        return indices


def _optimizer(config: TrainConfig, parameters) -> torch.optim.Optimizer:
    # foreach=False: the per-parameter loop is the reference implementation; it is elementwise, so a
    # member's update never depends on its batch-mates.
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay, foreach=False)
    momentum = 0.9 if config.optimizer == "momentum" else 0.0
    return torch.optim.SGD(
        parameters, lr=config.lr, momentum=momentum, weight_decay=config.weight_decay, foreach=False
    )


@dataclass
class Evaluation:
    loss: list[float]
    metric: list[float]
    probes: list[list[dict[str, float]]] | None  # [layer][member]


def evaluate_members(model: BatchedModel, task: Task, x: Tensor, y: Tensor, with_probes: bool) -> Evaluation:
    """Loss and metric of every member on (x, y); with probes, the per-layer diagnostics too."""
    members = model.size
    probes = [LayerProbe(members) for _ in model.activations] if with_probes else []
    for layer, probe in zip(model.activations, probes, strict=False):
        layer.probe = probe
    chunk = max(32, 16384 // members)
    loss_sum = torch.zeros(members, dtype=torch.float64)
    correct = torch.zeros(members, dtype=torch.float64)
    try:
        with torch.no_grad():
            for start in range(0, len(x), chunk):
                xc, yc = x[start : start + chunk], y[start : start + chunk]
                output = model(xc.unsqueeze(0).expand(members, *xc.shape))
                target = yc.unsqueeze(0).expand(members, *yc.shape)
                loss_sum += member_losses(task, output, target).double() * len(xc)
                if task.kind != "regression":
                    correct += member_correct(task, output, target).double()
    finally:
        for layer in model.activations:
            layer.probe = None
    loss = (loss_sum / len(x)).tolist()
    metric = loss if task.kind == "regression" else (correct / len(x)).tolist()
    return Evaluation(loss, metric, [p.summary() for p in probes] if with_probes else None)


def _boundary(model: BatchedModel, task: Task) -> list[dict[str, Any]]:
    """Each member's output on a 100x100 grid over the data's bounding box (probabilities)."""
    points = torch.cat([task.x_train, task.x_test])
    low, high = points.min(0).values, points.max(0).values
    xs = torch.linspace(low[0].item(), high[0].item(), BOUNDARY_GRID)
    ys = torch.linspace(low[1].item(), high[1].item(), BOUNDARY_GRID)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
    with torch.no_grad():
        output = model(grid.unsqueeze(0).expand(model.size, *grid.shape))
    if task.kind == "binary":
        z = torch.sigmoid(output.squeeze(-1))
    else:  # multiclass planes (CSV): the probability of the predicted class, and the class itself
        z = output.softmax(-1).max(-1).values
    z = z.reshape(model.size, BOUNDARY_GRID, BOUNDARY_GRID)
    rows = []
    for e in range(model.size):
        entry = {
            "xs": xs.tolist(),
            "ys": ys.tolist(),
            "z": [[round(v, 5) for v in row] for row in z[e].tolist()],
        }
        if task.kind == "multiclass":
            entry["classes"] = output[e].argmax(-1).reshape(BOUNDARY_GRID, BOUNDARY_GRID).tolist()
        rows.append(entry)
    return rows


def _versions() -> dict[str, str]:
    return {"torch": torch.__version__, "actlab": actlab.__version__, "python": platform.python_version()}


def _train_split_for_eval(task: Task) -> tuple[Tensor, Tensor]:
    n = len(task.x_train)
    if n <= TRAIN_EVAL_LIMIT:
        return task.x_train, task.y_train
    indices = torch.linspace(0, n - 1, TRAIN_EVAL_LIMIT).round().long()
    return task.x_train[indices], task.y_train[indices]


def _make_task(run: RunSpec) -> Task:
    return make_task(run.task, **dict(run.task_options))


def train_ensemble(
    runs: Sequence[RunSpec], *, step_done: Callable[[int], None] | None = None
) -> list[RunResult]:
    """Train runs of one group together; results in the order of ``runs``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS_PER_ENSEMBLE)
    try:
        # Only stochastic activations (rrelu) draw from the global generator while training: seed it
        # from the runs, and leave the caller's generator as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(min(run.seed for run in runs))
            return _train_ensemble(runs, step_done)
    finally:
        torch.set_num_threads(threads)


def _train_ensemble(runs: Sequence[RunSpec], step_done: Callable[[int], None] | None) -> list[RunResult]:
    started = time.perf_counter()
    first = runs[0]
    if any(r.group_key() != first.group_key() for r in runs):
        raise ValueError("train_ensemble needs runs of one group (same task, model, options and training)")
    config = first.train
    task = _make_task(first)
    # Members sorted by activation so equal activations sit side by side and share one call.
    order = sorted(range(len(runs)), key=lambda i: runs[i].activation)
    members = [runs[i] for i in order]
    models = []
    for run in members:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(run.seed)
            models.append(
                build_model(run.model, task, run.activation, init=config.init, **dict(run.model_options))
            )
    model = BatchedModel(models)
    optimizer = _optimizer(config, model.parameters())
    batches = [_MemberBatches(len(task.x_train), config.batch_size, run.seed) for run in members]
    size = len(members)
    train_x, train_y = _train_split_for_eval(task)
    curves: list[list[dict[str, float]]] = [[] for _ in members]
    probes: list[list[dict[str, float]]] = [[] for _ in members]
    test: Evaluation | None = None
    train: Evaluation | None = None

    def record(step: int) -> None:
        nonlocal test, train
        test = evaluate_members(model, task, task.x_test, task.y_test, with_probes=step > 0)
        train = evaluate_members(model, task, train_x, train_y, with_probes=False)
        for e in range(size):
            curves[e].append(
                {
                    "step": step,
                    "train_loss": train.loss[e],
                    "test_loss": test.loss[e],
                    "test_metric": test.metric[e],
                    "train_metric": train.metric[e],
                }
            )
        if test.probes is None:
            return  # at step 0 there is no gradient yet: probes start after the first update
        for layer, (rows, weight_layer) in enumerate(zip(test.probes, model.weights_before, strict=True)):
            weight, grad = weight_norms(weight_layer)
            for e in range(size):
                probes[e].append(
                    {"step": step, "layer": layer, **rows[e], "grad_norm": grad[e], "weight_norm": weight[e]}
                )

    model.eval()
    record(0)
    model.train()
    for step in range(1, config.steps + 1):
        indices = torch.stack([b.next() for b in batches])  # (E, B): each member's own data order
        output = model(task.x_train[indices])
        loss = member_losses(task, output, task.y_train[indices]).sum()  # members never mix: sum is safe
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % config.eval_every == 0 or step == config.steps:
            model.eval()
            record(step)
            model.train()
        if step_done is not None:
            step_done(size)

    model.eval()
    boundaries = _boundary(model, task) if task.is_plane else [None] * size
    metric_name, higher_is_better = metric_of(task)
    seconds = (time.perf_counter() - started) / size  # the ensemble's time, shared by its members
    results: list[RunResult | None] = [None] * len(runs)
    for e, original in enumerate(order):
        final = {
            "test_loss": test.loss[e],
            "train_loss": train.loss[e],
            "test_metric": test.metric[e],
            "train_metric": train.metric[e],
            "diverged": 0.0 if math.isfinite(test.loss[e]) and math.isfinite(train.loss[e]) else 1.0,
        }
        results[original] = RunResult(
            spec=runs[original],
            final=final,
            curve=curves[e],
            probes=probes[e],
            seconds=seconds,
            metric_name=metric_name,
            higher_is_better=higher_is_better,
            boundary=boundaries[e],
            versions=_versions(),
        )
    return results  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------
# many groups, in this process or in several
# ----------------------------------------------------------------------------------------------------
def plan_groups(runs: Sequence[RunSpec], *, parts: int = 1) -> list[list[int]]:
    """Indices of ``runs`` grouped by ``group_key`` (first-seen order), each group cut into ``parts``
    chunks (so that that many processes can share it) of at most ``MAX_MEMBERS``; inside a group,
    runs are ordered by activation so that chunks keep equal activations together."""
    groups: dict[str, list[int]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(run.group_key(), []).append(i)
    chunks = []
    for members in groups.values():
        members = sorted(members, key=lambda i: runs[i].activation)
        size = min(MAX_MEMBERS, math.ceil(len(members) / parts))
        chunks.extend(members[i : i + size] for i in range(0, len(members), size))
    return chunks


def _worker(runs: list[RunSpec], queue: Any) -> list[RunResult]:
    every = max(1, runs[0].train.steps // 50)  # a few dozen progress messages per ensemble, not one per step
    unsent = {"steps": 0, "count": 0}

    def step_done(count: int) -> None:
        unsent["steps"] += 1
        unsent["count"] += count
        if unsent["steps"] == every:
            queue.put(unsent["count"])
            unsent.update(steps=0, count=0)

    results = train_ensemble(runs, step_done=step_done)
    if unsent["count"]:
        queue.put(unsent["count"])
    return results


def check_fit(runs: Sequence[RunSpec]) -> None:
    """Build each group's task and one model up front: a model unfit for its task fails before training."""
    seen: set[str] = set()
    for run in runs:
        if run.group_key() in seen:
            continue
        seen.add(run.group_key())
        task = _make_task(run)
        with torch.random.fork_rng(devices=[]):
            build_model(run.model, task, run.activation, init=run.train.init, **dict(run.model_options))


def train_runs(
    runs: Sequence[RunSpec],
    *,
    progress: Progress | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    jobs: int = 1,
) -> list[RunResult]:
    """Train every run; results come back in the order of ``runs``.

    ``progress(done, total)`` counts run-steps (an ensemble of E members advances by E per step).
    ``on_result`` sees each result as soon as its ensemble finishes, so a caller that stores it there
    loses at most the runs in flight when killed. ``jobs > 1`` trains whole ensembles in that many
    spawned processes.
    """
    runs = list(runs)
    for run in runs:
        validate_run(run)
    _positive_int(jobs, "jobs")
    check_fit(runs)
    chunks = plan_groups(runs)
    if 1 < jobs and len(chunks) < jobs:  # few large groups: split them so every process has work
        chunks = plan_groups(runs, parts=math.ceil(jobs / len(chunks)))
    total = sum(run.train.steps for run in runs)
    done = 0
    results: list[RunResult | None] = [None] * len(runs)

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    def deliver(chunk: list[int], chunk_results: list[RunResult]) -> None:
        for index, result in zip(chunk, chunk_results, strict=True):
            results[index] = result
            if on_result is not None:
                on_result(result)

    if progress is not None:
        progress(0, total)
    if jobs == 1 or len(chunks) == 1:
        for chunk in chunks:
            deliver(chunk, train_ensemble([runs[i] for i in chunk], step_done=advance))
        return results  # type: ignore[return-value]

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        queue = manager.Queue()
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            futures = {pool.submit(_worker, [runs[i] for i in chunk], queue): chunk for chunk in chunks}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                while not queue.empty():
                    advance(queue.get())
                for future in finished:
                    deliver(futures[future], future.result())
    return results  # type: ignore[return-value]
