"""A comparison as a plan of runs (task × activation × seed), and running only the runs the store lacks.

Every name and setting is checked in ``plan()``, before anything trains, so a typo costs nothing.
``run_sweep`` saves each run the moment the trainer reports it: a sweep killed at any point resumes
by running the same plan again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from actlab.lab.store import Store
from actlab.lab.types import RunResult, RunSpec, TrainConfig

Progress = Callable[[int, int], None]
Trainer = Callable[..., list[RunResult]]  # train_runs(runs, *, progress=, on_result=, jobs=)


def plan(
    task: str,
    activations: Sequence[str],
    seeds: int | Iterable[int] = 3,
    model: str = "mlp",
    task_options: Mapping[str, Any] | None = None,
    model_options: Mapping[str, Any] | None = None,
    train: TrainConfig | None = None,
) -> list[RunSpec]:
    """The runs of a comparison, seed by seed (each seed holds every activation), all validated.

    ``seeds`` is a count (seeds 0..n-1) or the seeds themselves. Unknown names raise ``ValueError``
    with the closest names; impossible settings raise ``ValueError`` saying what is allowed.
    """
    from actlab.lab.tasks import make_task
    from actlab.lab.train import validate_run

    train = train if train is not None else TrainConfig()
    seed_list = _seed_list(seeds)
    activation_list = _activation_list(activations)
    task_opts = tuple(dict(task_options or {}).items())
    model_opts = tuple(dict(model_options or {}).items())
    runs = [
        RunSpec(
            task=task,
            activation=activation,
            seed=seed,
            model=model,
            task_options=task_opts,
            model_options=model_opts,
            train=train,
        )
        for seed in seed_list
        for activation in activation_list
    ]
    # Settings, model name and options, activation strings: the trainer's own checks, run up front.
    validate_run(runs[0])
    # Building the task checks its name, options and data (a bad CSV fails here, not mid-sweep).
    built = make_task(task, **dict(task_opts))
    _check_model_fits(model, model_opts, activation_list, built)
    if train.batch_size > len(built.x_train):
        raise ValueError(
            f"batch size {train.batch_size} is larger than task {task!r}'s {len(built.x_train)} training "
            f"examples; use --batch-size {len(built.x_train)} or less"
        )
    return runs


def run_sweep(
    runs: Sequence[RunSpec],
    store: Store,
    progress: Progress | None = None,
    jobs: int = 1,
    chunk_size: int | None = None,
    trainer: Trainer | None = None,
) -> list[RunResult]:
    """Train the runs of ``runs`` the store lacks, saving each as it finishes; all of the plan's results.

    The missing runs go to the trainer ``chunk_size`` at a time (default: one seed's worth of
    activations, a paired block), so a kill loses at most one chunk while the trainer still batches
    each chunk into one ensemble. ``progress(done, total)`` counts run-steps (the trainer's unit) over
    the runs missing at the start. ``trainer`` defaults to ``actlab.lab.train.train_runs``.
    """
    if trainer is None:
        from actlab.lab.train import train_runs as trainer

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    todo = store.missing(runs)
    total = sum(spec.train.steps for spec in todo)
    size = chunk_size or len({spec.activation for spec in runs}) or 1
    if progress is not None:
        progress(0, total)
    finished = 0
    for start in range(0, len(todo), size):
        chunk = todo[start : start + size]

        def chunk_progress(done: int, _chunk_total: int, offset: int = finished) -> None:
            if progress is not None:
                progress(offset + done, total)

        trainer(chunk, progress=chunk_progress, on_result=store.save, jobs=jobs)
        finished += sum(spec.train.steps for spec in chunk)
        if progress is not None:
            progress(finished, total)
    return store.results([spec.key() for spec in runs])


def _seed_list(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds must be a count or a list of integers, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        return list(range(seeds))
    seed_list = list(seeds)
    if not seed_list or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seed_list):
        raise ValueError(f"seeds must be non-negative integers, got {seed_list!r}")
    if len(set(seed_list)) != len(seed_list):
        raise ValueError(f"seeds are repeated in {seed_list!r}; each seed is one run per activation")
    return seed_list


def _activation_list(activations: Sequence[str]) -> list[str]:
    if isinstance(activations, str):
        activations = [activations]
    names = [a.strip() for a in activations if a and a.strip()]
    if not names:
        raise ValueError("no activations given; e.g. --acts relu,tanh,gelu (`actlab list` shows all)")
    if len(set(names)) != len(names):
        repeated = sorted({a for a in names if names.count(a) > 1})
        raise ValueError(f"activation {repeated[0]!r} is listed twice")
    for name in names:
        _check_activation(name)
    return names


def _check_activation(activation: str) -> None:
    """Validate an activation string: catalogue names with parameters, '|' between per-layer choices."""
    from actlab.lab.models import parse_activation

    for part in activation.split("|"):
        parse_activation(part)


def _check_model_fits(model: str, model_opts: tuple, activations: Sequence[str], task: Any) -> None:
    """Build the model once per distinct activation layout so bad model options fail before training."""
    import torch

    from actlab.lab.models import build_model

    with torch.random.fork_rng(devices=[]):  # building draws weights: leave the caller's RNG alone
        for activation in dict.fromkeys(activations):
            build_model(model, task, activation, **dict(model_opts))
