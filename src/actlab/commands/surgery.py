"""`actlab swap` (swap activations in a model and show the report) and `actlab swap-eval` (measure it)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from actlab.commands.common import clean_errors, print_json, stderr, stdout

# Fixed-function targets plus the learnable ones (each measured fitted and at its defaults).
DEFAULT_TARGETS = "gelu,silu,tanh,sigmoid,leaky_relu,prelu,swish,rational"
DEFAULT_SEEDS = 3
DEFAULT_TRAIN_STEPS = 300
DEFAULT_FINETUNE_STEPS = 40


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parse_map(items: list[str]) -> dict[str, object]:
    """``["relu=gelu", "sigmoid=leaky_relu:negative_slope=0.1"]`` -> a swap mapping."""
    from actlab.lab.models import parse_activation

    mapping: dict[str, object] = {}
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f"--map takes old=new, e.g. --map relu=gelu; got {item!r}")
        name, kwargs = parse_activation(target)
        mapping[source.strip()] = (name, kwargs) if kwargs else name
    return mapping


def register(app: typer.Typer) -> None:
    @app.command("swap")
    @clean_errors
    def swap_command(
        model: str = typer.Argument(
            ..., help="torchvision model name (vgg16, resnet18, ...) or package.module:factory."
        ),
        map_: list[str] = typer.Option(
            ..., "--map", help="old=new, repeatable: --map relu=gelu --map sigmoid=tanh."
        ),
        weights: Path = typer.Option(None, help="Local weights: .safetensors or a torch state dict."),
        init: str = typer.Option(
            "fit", help="Learnable targets: 'fit' to the replaced function or 'default'."
        ),
        strict: bool = typer.Option(
            False, help="Fail if a mapping key matches nothing or a forward cannot be traced."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object on stdout."),
    ) -> None:
        """Swap activations inside a model (modules and functional calls) and show every site."""
        from actlab.surgery import load_model, swap

        built = load_model(model, weights)
        _, report = swap(built, _parse_map(map_), strict=strict, init=init)  # type: ignore[arg-type]
        if as_json:
            print_json(report.as_dict())
            return
        table = Table(title=f"{model}: {report.summary()}")
        for column in ("site", "old", "new", "init", "max |Δf|"):
            table.add_column(column)
        for site in report.swapped:
            distance = "-" if site.distance is None else f"{site.distance['max_error']:.3g}"
            table.add_row(site.path, site.old, site.new, site.init, distance)
        stdout.print(table)
        for skipped in report.skipped:
            stdout.print(f"skipped {skipped.path}: {skipped.reason}", highlight=False)
        for note in report.notes:
            stdout.print(f"note: {note}", highlight=False)

    @app.command("swap-eval")
    @clean_errors
    def swap_eval(
        model: str = typer.Option(
            "vgg_small", help="Lab model (vgg_small, mlp, ...) or package.module:factory."
        ),
        task: str = typer.Option("digits", help="Lab task the model is trained and tested on."),
        to: str = typer.Option(DEFAULT_TARGETS, "--to", help="Comma-separated target activations."),
        source: str = typer.Option("relu", "--from", help="The activation the model is trained with."),
        seeds: int = typer.Option(DEFAULT_SEEDS, help="Seeds 0..N-1, paired across targets."),
        train_steps: int = typer.Option(DEFAULT_TRAIN_STEPS, help="Training steps of the source model."),
        finetune_steps: int = typer.Option(DEFAULT_FINETUNE_STEPS, help="Fine-tuning steps after the swap."),
        lr: float = typer.Option(3e-3, help="Adam learning rate for training."),
        finetune_lr: float = typer.Option(1e-3, help="Adam learning rate for fine-tuning."),
        checkpoint: Path = typer.Option(None, help="Weights for --model (then nothing is trained)."),
        compare_init: bool = typer.Option(
            True, help="Measure learnable targets both fitted and at defaults."
        ),
        threads: int = typer.Option(1, help="CPU threads for torch (1 is fastest on a shared machine)."),
        store: Path = typer.Option(None, help="Save each (target, seed) to this lab store; resumes."),
        output: Path = typer.Option(
            None, "-o", "--output", help="Report folder (results.json, report.md, PNG)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the results as one JSON object on stdout."),
    ) -> None:
        """Train with one activation, swap in others, and measure accuracy right after and after fine-tuning."""
        import torch

        from actlab.surgery.evaluate import (
            TABLE_HEADER,
            SwapEvalConfig,
            document,
            run_swap_eval,
            run_with_store,
            table_rows,
            write_report,
        )

        if seeds < 1:
            raise ValueError(f"--seeds {seeds} is not allowed; use an integer >= 1")
        if threads < 1:
            raise ValueError(f"--threads {threads} is not allowed; use an integer >= 1")
        if checkpoint is not None and not checkpoint.exists():
            raise FileNotFoundError(f"checkpoint {str(checkpoint)!r} does not exist")
        torch.set_num_threads(threads)
        config = SwapEvalConfig(
            targets=tuple(_split(to)),
            model=model,
            task=task,
            source=source,
            seeds=tuple(range(seeds)),
            train_steps=train_steps,
            finetune_steps=finetune_steps,
            lr=lr,
            finetune_lr=finetune_lr,
            checkpoint=None if checkpoint is None else str(checkpoint),
            compare_init=compare_init,
        )
        started = time.perf_counter()

        def progress(message: str) -> None:
            stderr.print(
                f"[dim]{time.perf_counter() - started:6.1f} s[/]  {escape(message)}", highlight=False
            )

        if store is not None:
            outcome = run_with_store(config, store, progress=progress)
        else:
            outcome = run_swap_eval(config, progress=progress)
        paths = write_report(outcome, output) if output is not None else None
        if as_json:
            print_json(document(outcome))
            return
        direction = "higher" if outcome.higher_is_better else "lower"
        table = Table(
            title=f"{model} on {task}, swapping {source}: test {outcome.metric_name} ({direction} is better)"
        )
        for column in TABLE_HEADER:
            table.add_column(column, justify="left" if column == "target" else "right")
        for cells in table_rows(outcome):
            table.add_row(*cells)
        stdout.print(table)
        stdout.print(
            "± is one sample standard deviation over seeds; drop = before − right after the swap, paired per "
            f"seed, with its 95% t interval; max |Δf| on [{config.fit_range[0]:g}, {config.fit_range[1]:g}].",
            highlight=False,
        )
        for entry in outcome.summary:
            f = entry.get("fit_vs_default")
            if f and f["mean_gain"] is not None:
                p = "n/a" if f["p_value"] is None else f"{f['p_value']:.2g}"
                stdout.print(
                    f"{entry['target']}: fitted init scores {f['mean_gain']:+.3f} vs default right after the swap "
                    f"(paired n={f['paired_n']}, p={p})",
                    highlight=False,
                )
        stdout.print(f"done in {time.perf_counter() - started:.1f} s", highlight=False)
        if paths is not None:
            stdout.print(f"report: {paths['md']}", highlight=False)
