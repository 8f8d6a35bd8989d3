"""A comparison's report folder: report.html (self-contained, figures embedded), report.md,
results.json and the PNG figures. Built only from RunResults, so it can be rebuilt from the store.
"""

from __future__ import annotations

import base64
import html
import json
import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from actlab.lab import plots
from actlab.lab.stats import CI_MEANS, PLUS_MINUS_MEANS, TEST_USED, ActivationSummary, summarize
from actlab.lab.types import RunResult


def group_by_activation(results: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    """Results per activation, activations in first-seen order, seeds sorted."""
    grouped: dict[str, list[RunResult]] = {}
    for result in results:
        grouped.setdefault(result.spec.activation, []).append(result)
    return {act: sorted(rs, key=lambda r: r.spec.seed) for act, rs in grouped.items()}


def summarize_results(results: Sequence[RunResult]) -> list[ActivationSummary]:
    """The comparison table of a set of runs of one task: final test metric per activation and seed."""
    if not results:
        raise ValueError("no finished runs to summarize")
    metric_names = {r.metric_name for r in results}
    if len(metric_names) > 1:
        raise ValueError(
            f"runs measure different metrics ({', '.join(sorted(metric_names))}); compare one task"
        )
    by_act = group_by_activation(results)
    metric = {
        act: {r.spec.seed: r.final.get("test_metric", float("nan")) for r in rs} for act, rs in by_act.items()
    }
    return summarize(metric, higher_is_better=results[0].higher_is_better)


def seconds_per_run(results: Sequence[RunResult]) -> dict[str, float]:
    return {act: sum(r.seconds for r in rs) / len(rs) for act, rs in group_by_activation(results).items()}


def environment(results: Sequence[RunResult]) -> dict[str, str]:
    """Machine and versions the runs were made with (the trainer records versions per run)."""
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    processor = platform.processor()
    if processor:
        env["processor"] = processor
    for result in results:
        env.update({k: str(v) for k, v in result.versions.items()})
    return env


def write_report(
    results: Sequence[RunResult],
    out_dir: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    title: str | None = None,
    task_points: Any = None,
) -> dict[str, Path]:
    """Write the report folder and return its files by role ("html", "md", "json", figure names).

    ``task_points(result) -> (features, labels) | None`` supplies training points for boundary maps.
    """
    results = list(results)
    summary = summarize_results(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_act = group_by_activation(results)
    metric_name = results[0].metric_name
    task = results[0].spec.task
    title = title or f"actlab compare: {task}"

    figures: dict[str, Path] = {
        "learning_curves": plots.learning_curves(by_act, out / "learning_curves.png", metric_name),
    }
    if any(r.probes for r in results):
        figures["gradient_flow"] = plots.gradient_flow(by_act, out / "gradient_flow.png")
        figures["unit_health"] = plots.unit_health(by_act, out / "unit_health.png")
    for act, runs in by_act.items():
        with_boundary = [r for r in runs if r.boundary]
        if with_boundary:
            first = with_boundary[0]
            points = task_points(first) if task_points is not None else None
            name = f"boundary_{plots.safe_name(act)}"
            figures[name] = plots.decision_boundary(act, first, out / f"{name}.png", points)

    timing = seconds_per_run(results)
    env = environment(results)
    document = {
        "title": title,
        "task": task,
        "metric": metric_name,
        "higher_is_better": results[0].higher_is_better,
        "n_runs": len(results),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "statistics": {"plus_minus": PLUS_MINUS_MEANS, "ci": CI_MEANS, "test": TEST_USED},
        "activations": [dict(row.as_dict(), seconds_per_run=timing[row.activation]) for row in summary],
        "config": dict(config or {}),
        "environment": env,
        "figures": {name: path.name for name, path in figures.items()},
    }
    paths = {"json": out / "results.json", "md": out / "report.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(document, indent=2, default=str) + "\n")
    paths["md"].write_text(_markdown(document, summary, figures))
    paths["html"].write_text(_html(document, summary, figures))
    return {**paths, **figures}


def _fmt(value: float | None) -> str:
    """Four decimals for the usual metric range (keeps 0.9000 vs 0.9 aligned), scientific outside it."""
    if value is None:
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4f}"
    return f"{value:.3e}"


def table_rows(summary: Sequence[ActivationSummary], timing: Mapping[str, float]) -> list[list[str]]:
    """The comparison table as text cells (shared by the CLI, Markdown and HTML)."""
    rows = []
    for row in summary:
        spread = f"{_fmt(row.mean)} ± {_fmt(row.std)}" if row.std is not None else _fmt(row.mean)
        ci = f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]" if row.ci_low is not None else "n/a"
        n = f"{row.n}" + (f" (+{row.diverged} diverged)" if row.diverged else "")
        rows.append(
            [str(row.rank), row.activation, n, spread, ci, row.gap_text(), f"{timing[row.activation]:.2f} s"]
        )
    return rows


TABLE_HEADER = ["rank", "activation", "n", "mean ± std", "95% CI", "gap to best significant?", "time/run"]


def _statement(document: Mapping[str, Any]) -> str:
    ns = sorted({a["n"] for a in document["activations"]})
    n_text = (
        f"n = {ns[0]} seeds per activation" if len(ns) == 1 else f"n = {ns[0]}–{ns[-1]} seeds per activation"
    )
    direction = "higher is better" if document["higher_is_better"] else "lower is better"
    stats = document["statistics"]
    return (
        f"Final test {document['metric']} ({direction}); {n_text}. {stats['plus_minus']}; {stats['ci']}; "
        f"{stats['test']}."
    )


def _environment_line(env: Mapping[str, str]) -> str:
    return "Machine and versions: " + ", ".join(f"{k} {v}" for k, v in env.items())


def _timing(document: Mapping[str, Any]) -> dict[str, float]:
    return {a["activation"]: a["seconds_per_run"] for a in document["activations"]}


def _markdown(
    document: Mapping[str, Any], summary: Sequence[ActivationSummary], figures: Mapping[str, Path]
) -> str:
    lines = [f"# {document['title']}", "", _statement(document), ""]
    lines.append("| " + " | ".join(TABLE_HEADER) + " |")
    lines.append("|" + "---|" * len(TABLE_HEADER))
    for cells in table_rows(summary, _timing(document)):
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Figures", ""]
    lines += [f"![{name}]({path.name})" for name, path in figures.items()]
    lines += [
        "",
        "## Configuration",
        "",
        "```json",
        json.dumps(document["config"], indent=2, default=str),
        "```",
    ]
    lines += ["", _environment_line(document["environment"]), ""]
    return "\n".join(lines)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; }
td:nth-child(2) { text-align: left; font-family: monospace; }
img { max-width: 100%; margin: 0.5em 0; }
.boundaries img { max-width: 32%; }
.note { color: #555; font-size: 0.92em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""


def _img(path: Path, alt: str) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _html(
    document: Mapping[str, Any], summary: Sequence[ActivationSummary], figures: Mapping[str, Path]
) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in TABLE_HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>"
        for cells in table_rows(summary, _timing(document))
    )
    main_figures = "".join(_img(p, name) for name, p in figures.items() if not name.startswith("boundary_"))
    boundaries = "".join(_img(p, name) for name, p in figures.items() if name.startswith("boundary_"))
    boundary_section = (
        f"<h2>Decision boundaries</h2><div class='boundaries'>{boundaries}</div>" if boundaries else ""
    )
    config = esc(json.dumps(document["config"], indent=2, default=str))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(document['title'])}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(document['title'])}</h1>"
        f"<p class='note'>{esc(_statement(document))}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<h2>Figures</h2>{main_figures}{boundary_section}"
        f"<h2>Configuration</h2><pre>{config}</pre>"
        f"<p class='note'>{esc(_environment_line(document['environment']))}</p>"
        f"<p class='note'>Generated {esc(document['created_at'])} from {document['n_runs']} runs.</p>"
        "</body></html>\n"
    )
