"""`actlab demo`, `actlab advise` and `actlab guide`: the classic claims, the chooser and the user guide."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from actlab.commands.common import clean_errors, print_json, stderr, stdout


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @clean_errors
    def demo(
        name: str = typer.Argument(
            "all", help="collapse, step, saturation, dying-relu, selu, approximate, softmax, or all"
        ),
        output: Path = typer.Option(Path("demos"), "-o", "--output", help="folder for the figures"),
        seed: int = typer.Option(0, help="random seed"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
    ) -> None:
        """Run a demonstration: it computes its evidence, writes a figure and states its conclusion."""
        from actlab.explain import demo_names, run_demo

        names = demo_names() if name == "all" else [name]
        results = []
        for n in names:
            with stderr.status(f"running demo {n}…"):
                results.append(run_demo(n, output, seed=seed))
        if as_json:
            print_json(results[0].as_dict() if len(results) == 1 else [r.as_dict() for r in results])
        else:
            for r in results:
                table = Table(title=f"{r.title}  ({r.seconds:.1f} s)", show_lines=False)
                table.add_column("check")
                table.add_column("measured", justify="right")
                table.add_column("expected", justify="right")
                table.add_column("holds")
                for c in r.checks:
                    expected = c.expected_text()
                    table.add_row(
                        escape(c.statement),
                        f"{c.value:.4g}",
                        expected,
                        "[green]yes[/]" if c.passed else "[red]no[/]",
                    )
                stdout.print(table)
                stdout.print(f"[bold]Conclusion:[/] {escape(r.conclusion)}")
                for f in r.figures:
                    stdout.print(f"figure: {f}")
                stdout.print()
        if not all(r.passed for r in results):
            raise typer.Exit(code=1)

    @app.command("advise")
    @clean_errors
    def advise_cmd(
        task: str = typer.Option(None, help="binary, multiclass, regression or sequence"),
        layer: str = typer.Option("hidden", help="hidden or output"),
        depth: int = typer.Option(2, help="number of hidden layers"),
        data: Path = typer.Option(None, help="a CSV file: also rank candidates by a short comparison on it"),
        target: str = typer.Option(None, help="the CSV column to predict (with --data)"),
        seeds: int = typer.Option(3, help="seeds per candidate (with --data)"),
        steps: int = typer.Option(300, help="training steps per run (with --data)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
    ) -> None:
        """Recommend activations for a task and layer, with reasons; --data ranks them on your data."""
        from actlab.explain.advise import advise, rank_on_data

        if data is None and target is not None:
            raise ValueError("--target names a column of a CSV file; give the file with --data")
        if data is not None and target is None:
            raise ValueError("--data needs --target COLUMN: the CSV column to predict")
        if task is None and data is not None:
            from actlab.lab.tasks import make_task

            task = make_task("csv", path=str(data), target=target).kind
        if task is None:
            raise ValueError(
                "give --task (binary, multiclass, regression or sequence) or --data with --target"
            )
        recs = advise(task, layer, depth)
        ranking = None
        if data is not None:
            with stderr.status("comparing candidates on your data…"):
                ranking = rank_on_data(data, target, seeds=seeds, steps=steps)
        if as_json:
            print_json(
                {
                    "task": task,
                    "layer": layer,
                    "depth": depth,
                    "recommendations": [r.as_dict() for r in recs],
                    "measured": ranking,
                }
            )
            return
        table = Table(title=f"{layer} layer, {task} task, depth {depth}")
        for col in ("#", "activation", "why", "pair with", "evidence"):
            table.add_column(col)
        for i, r in enumerate(recs, 1):
            table.add_row(str(i), r.activation, escape(r.reason), escape(r.pair_with), escape(r.evidence))
        stdout.print(table)
        if ranking is not None:
            t = Table(
                title=f"measured on {data} (test {ranking['metric']}, {ranking['statistics']['plus_minus']})"
            )
            for col in ("rank", "activation", "n", "mean ± std", "significantly worse than best?"):
                t.add_column(col)
            for row in ranking["ranking"]:
                mean = "—" if row["mean"] is None else f"{row['mean']:.4f} ± {row['std'] or 0:.4f}"
                sig = (
                    "best"
                    if row["rank"] == 1
                    else ("n/a" if row["significant"] is None else str(row["significant"]))
                )
                t.add_row(str(row["rank"]), row["activation"], str(row["n"]), mean, sig)
            stdout.print(t)

    @app.command("guide")
    @clean_errors
    def guide(
        output: Path = typer.Option(Path("docs"), "-o", "--output", help="docs folder to (re)write"),
        seed: int = typer.Option(0, help="random seed for the demos"),
        no_pages: bool = typer.Option(False, "--no-pages", help="skip the per-activation pages"),
    ) -> None:
        """Regenerate the user guide: run every demo, write docs/guide.md, figures and activation pages."""
        from actlab.explain.guide import write_guide

        with stderr.status("running the demos…") as status:
            outcome = write_guide(
                output, seed=seed, pages=not no_pages, progress=lambda n: status.update(f"running demo {n}…")
            )
        stdout.print(
            f"wrote {outcome['guide']} ({len(outcome['demos'])} demos, {outcome['pages']} activation pages)"
        )
        if not outcome["all_checks_hold"]:
            failed = [n for n, ok in outcome["demos"].items() if not ok]
            stderr.print(f"[red]checks failed in: {', '.join(failed)}[/]")
            raise typer.Exit(code=1)
