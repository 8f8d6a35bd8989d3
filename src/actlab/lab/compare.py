"""The lab's main job as one call: plan → train what the store lacks → statistics → report folder.

``actlab compare`` is a thin wrapper around ``run_compare``; so is anything else that wants the same
comparison from Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from actlab.lab.report import seconds_per_run, summarize_results, write_report
from actlab.lab.stats import CI_MEANS, PLUS_MINUS_MEANS, TEST_USED, ActivationSummary
from actlab.lab.store import Store, default_store_path
from actlab.lab.sweep import plan, run_sweep
from actlab.lab.types import RunResult, TrainConfig

DEFAULT_TASK = "mnist1d"


@dataclass
class CompareSettings:
    """What to compare; None means the default (of the task, model or TrainConfig)."""

    task: str | None = None
    acts: str | list[str] = "relu,tanh"
    seeds: int = 3
    model: str = "mlp"
    steps: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    init: str | None = None
    depth: int | None = None
    width: int | None = None
    data: Path | None = None
    target: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    store: Path | None = None
    output: Path | None = None
    jobs: int = 1
    eval_every: int | None = None

    def resolved_task(self) -> tuple[str, dict[str, Any]]:
        """The task name and options, with --data/--target turned into the csv task's options."""
        options = dict(self.task_options)
        if self.data is None:
            if self.target is not None:
                raise ValueError("--target names a column of a CSV file; give the file with --data")
            return self.task or DEFAULT_TASK, options
        if self.task not in (None, "csv"):
            raise ValueError(
                f"--data trains on a CSV file, so --task {self.task!r} cannot apply; drop one of them"
            )
        if self.target is None:
            raise ValueError("--data needs --target COLUMN: the CSV column to predict")
        options.update(path=str(self.data), target=self.target)
        return "csv", options

    def train_config(self) -> TrainConfig:
        base = TrainConfig()
        changes: dict[str, Any] = {}
        for name in ("steps", "lr", "batch_size", "optimizer", "init"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        steps = changes.get("steps", base.steps)
        # About twenty points per learning curve, however long the runs are.
        changes["eval_every"] = self.eval_every or max(1, min(base.eval_every, steps // 20 or 1))
        return TrainConfig(**{**{f.name: getattr(base, f.name) for f in fields(TrainConfig)}, **changes})

    def model_options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ("depth", "width") if getattr(self, name) is not None}

    def activations(self) -> list[str]:
        if isinstance(self.acts, str):
            return [a.strip() for a in self.acts.split(",") if a.strip()]
        return list(self.acts)


@dataclass
class CompareOutcome:
    """A finished comparison: its results, ranked summary and report files."""

    results: list[RunResult]
    summary: list[ActivationSummary]
    paths: dict[str, Path]
    config: dict[str, Any]
    trained: int
    reused: int
    store_path: Path

    @property
    def metric_name(self) -> str:
        return self.results[0].metric_name

    @property
    def statement(self) -> str:
        ns = sorted({row.n for row in self.summary})
        n_text = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]}–{ns[-1]}"
        return f"Final test {self.metric_name}, {n_text} seeds per activation. {PLUS_MINUS_MEANS}; {CI_MEANS}; {TEST_USED}."

    def as_json(self) -> dict[str, Any]:
        timing = seconds_per_run(self.results)
        return {
            "task": self.config["task"],
            "metric": self.metric_name,
            "higher_is_better": self.results[0].higher_is_better,
            "activations": [
                {
                    "activation": row.activation,
                    "rank": row.rank,
                    "n": row.n,
                    "mean": row.mean,
                    "std": row.std,
                    "ci": None if row.ci_low is None else [row.ci_low, row.ci_high],
                    "p_value": row.p_value,
                    "p_holm": row.p_holm,
                    "significant": row.significant,
                    "diverged": row.diverged,
                    "seconds_per_run": timing[row.activation],
                }
                for row in self.summary
            ],
            "statistics": {"plus_minus": PLUS_MINUS_MEANS, "ci": CI_MEANS, "test": TEST_USED},
            "config": self.config,
            "runs": {"trained": self.trained, "reused": self.reused, "store": str(self.store_path)},
            "report": str(self.paths["html"]),
            "report_dir": str(self.paths["html"].parent),
        }


def run_compare(
    settings: CompareSettings, progress: Callable[[int, int], None] | None = None
) -> CompareOutcome:
    """Plan, train the missing runs (saving each as it finishes), summarise and write the report."""
    if isinstance(settings.jobs, bool) or not isinstance(settings.jobs, int) or settings.jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {settings.jobs!r}")
    task, task_options = settings.resolved_task()
    train = settings.train_config()
    runs = plan(
        task,
        settings.activations(),
        seeds=settings.seeds,
        model=settings.model,
        task_options=task_options,
        model_options=settings.model_options(),
        train=train,
    )
    store_path = settings.store if settings.store is not None else default_store_path()
    with Store(store_path) as store:
        missing = len(store.missing(runs))
        results = run_sweep(runs, store, progress=progress, jobs=settings.jobs)
    config = {
        "task": task,
        "task_options": task_options,
        "activations": settings.activations(),
        "seeds": sorted({spec.seed for spec in runs}),
        "model": settings.model,
        "model_options": settings.model_options(),
        "train": {f.name: getattr(train, f.name) for f in fields(TrainConfig)},
    }
    output = settings.output if settings.output is not None else Path("reports") / task
    paths = write_report(results, output, config=config, task_points=_task_points(task, task_options))
    return CompareOutcome(
        results=results,
        summary=summarize_results(results),
        paths=paths,
        config=config,
        trained=missing,
        reused=len(runs) - missing,
        store_path=store_path,
    )


def _task_points(task: str, task_options: Mapping[str, Any]) -> Callable[[RunResult], Any]:
    """Training points of a plane task for the boundary maps (the data does not depend on the run seed)."""

    def points(result: RunResult) -> Any:
        from actlab.lab.tasks import make_task

        built = make_task(task, **dict(task_options))
        if not built.is_plane:
            return None
        return built.x_train.numpy(), built.y_train.numpy()

    return points
