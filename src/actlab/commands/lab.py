"""`actlab compare` (a sweep, its statistics and its report) and `actlab runs` (the store's contents)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from actlab.commands.common import clean_errors, print_json, stderr, stdout
from actlab.lab.models import parse_value

# The demo: `actlab compare` with no arguments. MNIST-1D (Greydanus 2020) separates activations
# clearly and is generated offline in seconds; these settings finish in a few minutes on 2 CPU cores.
DEFAULT_ACTS = "relu,tanh,sigmoid,gelu,silu,identity,step"
DEFAULT_SEEDS = 5
DEFAULT_STEPS = 2000


def parse_task_options(items: list[str] | None) -> dict[str, Any]:
    """``["noise=0.1", "n=400"]`` → ``{"noise": 0.1, "n": 400}`` (numbers, true/false, none, else text)."""
    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--task-option takes key=value, got {item!r} (e.g. --task-option noise=0.1)")
        options[key.strip()] = parse_value(value.strip())
    return options


class _LazyProgress:
    """A rich progress bar (stderr, with ETA) that appears on the first report of progress, so input
    refused during planning prints its one-line error and no empty bar."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.handle: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=stderr,
            )
            self.bar.start()
            self.handle = self.bar.add_task("training (run-steps)", total=total)
        self.bar.update(self.handle, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _summary_table(outcome: Any) -> Table:
    from actlab.lab.report import TABLE_HEADER, seconds_per_run, table_rows

    direction = "higher" if outcome.results[0].higher_is_better else "lower"
    table = Table(title=f"{outcome.config['task']}: test {outcome.metric_name} ({direction} is better)")
    for column in TABLE_HEADER:
        table.add_column(column, justify="left" if column == "activation" else "right")
    for cells in table_rows(outcome.summary, seconds_per_run(outcome.results)):
        table.add_row(*cells)
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    @clean_errors
    def compare(
        task: str = typer.Option(None, help="Task to train on (default mnist1d; csv with --data)."),
        acts: str = typer.Option(DEFAULT_ACTS, help="Comma-separated activations; 'a|b' sets one per layer."),
        seeds: int = typer.Option(
            DEFAULT_SEEDS, help="Seeds per activation (0..N-1), paired across activations."
        ),
        model: str = typer.Option("mlp", help="Model architecture."),
        steps: int = typer.Option(DEFAULT_STEPS, help="Training steps per run."),
        lr: float = typer.Option(None, help="Learning rate (default 0.01)."),
        batch_size: int = typer.Option(None, "--batch-size", help="Mini-batch size (default 100)."),
        optimizer: str = typer.Option(None, help="sgd, momentum or adam (default adam)."),
        init: str = typer.Option(None, help="Weight init: default, he, xavier, lecun."),
        depth: int = typer.Option(None, help="Hidden layers (models that take a depth)."),
        width: int = typer.Option(None, help="Units per hidden layer (models that take a width)."),
        data: Path = typer.Option(None, help="A CSV file to learn from (sets --task csv)."),
        target: str = typer.Option(None, help="The CSV column to predict (with --data)."),
        task_option: list[str] = typer.Option(
            None, "--task-option", help="Task option key=value, repeatable."
        ),
        store: Path = typer.Option(None, help="Results store (default $ACTLAB_STORE or runs/actlab.sqlite)."),
        output: Path = typer.Option(None, "-o", "--output", help="Report folder (default reports/<task>)."),
        jobs: int = typer.Option(1, help="Parallel training jobs."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    ) -> None:
        """Train one model with several activations over paired seeds; report which learns better and why."""
        from actlab.lab.compare import CompareSettings, run_compare

        settings = CompareSettings(
            task=task,
            acts=acts,
            seeds=seeds,
            model=model,
            steps=steps,
            lr=lr,
            batch_size=batch_size,
            optimizer=optimizer,
            init=init,
            depth=depth,
            width=width,
            data=data,
            target=target,
            task_options=parse_task_options(task_option),
            store=store,
            output=output,
            jobs=jobs,
        )
        progress = _LazyProgress()
        started = time.perf_counter()
        try:
            outcome = run_compare(settings, progress=progress)
        finally:
            progress.close()
        if as_json:
            print_json(outcome.as_json())
            return
        stdout.print(_summary_table(outcome))
        stdout.print(outcome.statement, highlight=False)
        trained = f"trained {outcome.trained} run(s), reused {outcome.reused} from {outcome.store_path}"
        stdout.print(f"{trained} in {time.perf_counter() - started:.1f} s", highlight=False)
        stdout.print(f"report: {outcome.paths['html']}", highlight=False)

    @app.command()
    @clean_errors
    def runs(
        task: str = typer.Option(None, help="Only runs of this task."),
        activation: str = typer.Option(None, help="Only runs of this activation."),
        model: str = typer.Option(None, help="Only runs of this model."),
        limit: int = typer.Option(50, help="At most this many runs, newest first."),
        csv: Path = typer.Option(None, "--csv", help="Export the listed runs to this CSV file."),
        store: Path = typer.Option(None, help="Results store (default $ACTLAB_STORE or runs/actlab.sqlite)."),
        as_json: bool = typer.Option(False, "--json", help="Print the runs as one JSON list on stdout."),
    ) -> None:
        """List, filter and export the runs in the results store."""
        from actlab.lab.store import Store, default_store_path

        path = store if store is not None else default_store_path()
        if not path.exists():
            raise FileNotFoundError(
                f"no results store at {str(path)!r}; run `actlab compare` or pass --store"
            )
        with Store(path) as opened:
            filters = {"task": task, "activation": activation, "model": model}
            listed = opened.list_runs(limit=limit, **filters)
            if csv is not None:
                opened.export_csv(csv, limit=limit, **filters)
        if as_json:
            print_json(listed)
            return
        table = Table(title=f"{len(listed)} run(s) in {path}")
        for column in ("id", "task", "activation", "seed", "model", "metric", "test", "seconds", "created"):
            table.add_column(column, justify="left" if column in ("task", "activation", "model") else "right")
        for row in listed:
            metric = "n/a" if row["test_metric"] is None else f"{row['test_metric']:.4g}"
            table.add_row(
                str(row["id"]),
                row["task"],
                row["activation"],
                str(row["seed"]),
                row["model"],
                row["metric_name"],
                metric,
                f"{row['seconds']:.2f}",
                row["created_at"][:19],
            )
        stdout.print(table)
        if csv is not None:
            stdout.print(f"exported {len(listed)} run(s) to {csv}", highlight=False)
