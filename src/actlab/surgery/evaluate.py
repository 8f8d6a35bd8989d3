"""swap-eval: train a model with one activation, swap it for others, and measure the damage and repair.

For each seed: train the model with the source activation (or load a checkpoint), then for each
target activation swap every source site (modules and functional calls), measure the test metric
right after the swap, fine-tune for a few steps and measure again. Learnable targets are measured
twice: with their parameters fitted to the source function (``init="fit"``) and at the catalogue's
defaults, which shows what the fit buys right after the swap.

Seeds are paired: one seed fixes the task split, the trained source model and the fine-tuning batch
order for every target, so the drop of each target is measured against its own source model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

import actlab
from actlab.surgery.init import DEFAULT_RANGE
from actlab.surgery.swap import swap

Tensor = torch.Tensor
Progress = Callable[[str], None]

EVAL_CHUNK = 1024


@dataclass(frozen=True)
class SwapEvalConfig:
    """What swap-eval runs. ``model``: a lab model name (``vgg_small``), a torchvision name or
    ``package.module:factory``; ``checkpoint``: local weights for it (then nothing is trained)."""

    targets: tuple[str, ...]
    model: str = "vgg_small"
    task: str = "digits"
    source: str = "relu"
    seeds: tuple[int, ...] = (0, 1, 2)
    train_steps: int = 300
    finetune_steps: int = 40
    lr: float = 3e-3
    finetune_lr: float = 1e-3
    batch_size: int = 100
    checkpoint: str | None = None
    compare_init: bool = True
    fit_range: tuple[float, float] = DEFAULT_RANGE

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["targets"], d["seeds"], d["fit_range"] = list(self.targets), list(self.seeds), list(self.fit_range)
        return d


@dataclass
class SwapEvalRow:
    """One (target variant, seed): the metric before the swap, right after it and after fine-tuning."""

    variant: str
    target: str
    init: str
    seed: int
    base_metric: float
    swap_metric: float
    finetune_metric: float
    base_loss: float
    swap_loss: float
    finetune_loss: float
    sites: int
    distance_max: float | None
    distance_mean: float | None
    fitted_params: dict[str, list[float]] | None
    seconds: float


@dataclass
class SwapEvalOutcome:
    config: SwapEvalConfig
    metric_name: str
    higher_is_better: bool
    rows: list[SwapEvalRow]
    summary: list[dict[str, Any]] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------------
def _check_positive(value: Any, what: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} = {value!r} is not allowed; use an integer >= {minimum}")


def validate(config: SwapEvalConfig) -> None:
    """``ValueError`` naming the bad setting before any training starts."""
    from actlab.lab.models import parse_activation

    if not config.targets:
        raise ValueError("no target activations: give --to, e.g. --to gelu,silu,tanh")
    parse_activation(config.source)
    for target in config.targets:
        parse_activation(target)
    if not config.seeds:
        raise ValueError("seeds must not be empty")
    _check_positive(config.train_steps, "train_steps", 0)
    _check_positive(config.finetune_steps, "finetune_steps", 0)
    _check_positive(config.batch_size, "batch_size")
    for value, what in ((config.lr, "lr"), (config.finetune_lr, "finetune_lr")):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ValueError(f"{what} = {value!r} is not allowed; use a number > 0")


def variants(config: SwapEvalConfig) -> list[tuple[str, str, str]]:
    """(variant label, target string, init) — learnable targets twice when ``compare_init``."""
    from actlab.lab.models import parse_activation

    out = []
    for target in config.targets:
        name, kwargs = parse_activation(target)
        spec = actlab.spec(name)
        learnable = [p.name for p in spec.params if p.learnable and p.name not in kwargs]
        if learnable and config.compare_init:
            out.append((f"{target} [fitted]", target, "fit"))
            out.append((f"{target} [default]", target, "default"))
        else:
            out.append((target, target, "fit"))
    return out


# ----------------------------------------------------------------------------------------------------
# the pieces: model, training, evaluation
# ----------------------------------------------------------------------------------------------------
def build_source_model(config: SwapEvalConfig, task: Any, seed: int) -> nn.Module:
    """The model with the source activation, its weights drawn from ``seed``."""
    from actlab.lab.models import build_model, model_names

    torch.manual_seed(seed)
    if config.model in model_names():
        if config.checkpoint is None:
            return build_model(config.model, task, config.source)
        model = build_model(config.model, task, config.source)
        from actlab.surgery.load import load_weights

        return load_weights(model, config.checkpoint)
    from actlab.surgery.load import load_model

    return load_model(config.model, config.checkpoint)


def _batches(task: Any, steps: int, batch_size: int, seed: int) -> Any:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + 17)
    n = len(task.x_train)
    for _ in range(steps):
        yield torch.randint(n, (min(batch_size, n),), generator=generator)


def _loss(task: Any, output: Tensor, target: Tensor) -> Tensor:
    from actlab.lab.train import member_losses

    return member_losses(task, output.unsqueeze(0), target.unsqueeze(0))[0]


def train(model: nn.Module, task: Any, steps: int, lr: float, batch_size: int, seed: int) -> nn.Module:
    """Adam on the task's training split; the batch order comes from ``seed``."""
    if steps == 0:
        return model
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for index in _batches(task, steps, batch_size, seed):
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(task, model(task.x_train[index]), task.y_train[index])
        loss.backward()
        optimizer.step()
    return model


@torch.no_grad()
def evaluate(model: nn.Module, task: Any) -> tuple[float, float]:
    """(test metric, test loss): accuracy for classification, MSE for regression."""
    from actlab.lab.train import member_correct, metric_of

    was_training = model.training
    model.eval()
    losses, correct, n = 0.0, 0, len(task.x_test)
    for start in range(0, n, EVAL_CHUNK):
        x = task.x_test[start : start + EVAL_CHUNK]
        y = task.y_test[start : start + EVAL_CHUNK]
        out = model(x)
        losses += float(_loss(task, out, y)) * len(x)
        if metric_of(task)[0] == "accuracy":
            correct += int(member_correct(task, out.unsqueeze(0), y.unsqueeze(0))[0])
    model.train(was_training)
    loss = losses / n
    metric = correct / n if metric_of(task)[0] == "accuracy" else loss
    return metric, loss


def _replacement(target: str) -> Any:
    from actlab.lab.models import parse_activation

    name, kwargs = parse_activation(target)
    return (name, kwargs) if kwargs else name


# ----------------------------------------------------------------------------------------------------
# the experiment
# ----------------------------------------------------------------------------------------------------
def run_swap_eval(
    config: SwapEvalConfig,
    *,
    progress: Progress | None = None,
    skip: Callable[[str, int], bool] | None = None,
    on_row: Callable[[SwapEvalRow], None] | None = None,
) -> SwapEvalOutcome:
    """Run the experiment; ``skip(variant, seed)`` leaves out rows already done (a store resumes)."""
    from actlab.lab.models import parse_activation
    from actlab.lab.tasks import make_task
    from actlab.lab.train import metric_of

    validate(config)
    plan = variants(config)
    source_name, _ = parse_activation(config.source)
    rows: list[SwapEvalRow] = []
    metric_name, higher = "accuracy", True
    for seed in config.seeds:
        todo = [v for v in plan if skip is None or not skip(v[0], seed)]
        if not todo:
            continue
        task = make_task(config.task, seed=seed)
        metric_name, higher = metric_of(task)
        if progress:
            progress(
                f"seed {seed}: training {config.model} with {config.source} ({config.train_steps} steps)"
            )
        base = build_source_model(config, task, seed)
        train(base, task, 0 if config.checkpoint else config.train_steps, config.lr, config.batch_size, seed)
        base_metric, base_loss = evaluate(base, task)
        for label, target, how in todo:
            if progress:
                progress(f"seed {seed}: {label}")
            started = time.perf_counter()
            swapped, report = swap(
                base,
                {source_name: _replacement(target)},
                init=how,
                fit_range=config.fit_range,  # type: ignore[arg-type]
            )
            if not report.swapped:
                raise ValueError(
                    f"the model has no {config.source} to swap ({report.summary()}); check --from"
                )
            swap_metric, swap_loss = evaluate(swapped, task)
            train(swapped, task, config.finetune_steps, config.finetune_lr, config.batch_size, seed + 10_000)
            finetune_metric, finetune_loss = evaluate(swapped, task)
            distances = [s.distance for s in report.swapped if s.distance is not None]
            fitted = next((s.fit.params for s in report.swapped if s.fit is not None), None)
            row = SwapEvalRow(
                variant=label,
                target=target,
                init="fitted" if fitted is not None else ("default" if how == "default" else "-"),
                seed=seed,
                base_metric=base_metric,
                swap_metric=swap_metric,
                finetune_metric=finetune_metric,
                base_loss=base_loss,
                swap_loss=swap_loss,
                finetune_loss=finetune_loss,
                sites=len(report.swapped),
                distance_max=max((d["max_error"] for d in distances), default=None),
                distance_mean=(sum(d["mean_error"] for d in distances) / len(distances))
                if distances
                else None,
                fitted_params=fitted,
                seconds=time.perf_counter() - started,
            )
            rows.append(row)
            if on_row is not None:
                on_row(row)
    outcome = SwapEvalOutcome(config, metric_name, higher, rows)
    outcome.summary = summarize_rows(rows, [v[0] for v in plan])
    return outcome


def summarize_rows(rows: Sequence[SwapEvalRow], order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per variant: n, mean ± std (ddof=1) of the metric before, right after the swap and after
    fine-tuning; the paired drop with its 95% t interval; and, for fitted learnable targets, the paired
    p-value of fitted vs default right after the swap."""
    from actlab.lab.stats import mean_std, paired_p_value, t_interval

    by_variant: dict[str, list[SwapEvalRow]] = {}
    for row in rows:
        by_variant.setdefault(row.variant, []).append(row)
    labels = [v for v in (order or by_variant) if v in by_variant]
    out = []
    for label in labels:
        rs = sorted(by_variant[label], key=lambda r: r.seed)
        entry: dict[str, Any] = {"variant": label, "target": rs[0].target, "init": rs[0].init, "n": len(rs)}
        for key in ("base_metric", "swap_metric", "finetune_metric"):
            values = [getattr(r, key) for r in rs]
            entry[key] = dict(zip(("mean", "std"), mean_std(values), strict=True))
        drops = [r.base_metric - r.swap_metric for r in rs]
        mean, std = mean_std(drops)
        interval = t_interval(drops) if len(drops) >= 2 else None
        entry["swap_drop"] = {"mean": mean, "std": std, "ci": list(interval) if interval else None}
        ft = [r.base_metric - r.finetune_metric for r in rs]
        mean, std = mean_std(ft)
        entry["finetune_drop"] = {"mean": mean, "std": std}
        maxes = [r.distance_max for r in rs if r.distance_max is not None]
        entry["distance_max"] = max(maxes) if maxes else None
        entry["sites"] = rs[0].sites
        entry["seeds"] = [r.seed for r in rs]
        entry["fitted_params"] = rs[0].fitted_params
        out.append(entry)
    # fitted vs default, paired by seed, right after the swap
    for entry in out:
        if entry["init"] != "fitted":
            continue
        other = next((e for e in out if e["target"] == entry["target"] and e["init"] == "default"), None)
        if other is None:
            continue
        a = {r.seed: r.swap_metric for r in by_variant[entry["variant"]]}
        b = {r.seed: r.swap_metric for r in by_variant[other["variant"]]}
        seeds = sorted(set(a) & set(b))
        entry["fit_vs_default"] = {
            "paired_n": len(seeds),
            "mean_gain": (sum(a[s] - b[s] for s in seeds) / len(seeds)) if seeds else None,
            "p_value": paired_p_value([a[s] for s in seeds], [b[s] for s in seeds])
            if len(seeds) >= 2
            else None,
        }
    return out


# ----------------------------------------------------------------------------------------------------
# report: results.json + report.md + swap_eval.png
# ----------------------------------------------------------------------------------------------------
def _pm(stat: dict[str, Any], digits: int = 3) -> str:
    mean, std = stat.get("mean"), stat.get("std")
    if mean is None:
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if std is not None else f"{mean:.{digits}f}"


TABLE_HEADER = ["target", "n", "before", "right after swap", "drop (95% CI)", "after fine-tune", "max |Δf|"]


def table_rows(outcome: SwapEvalOutcome) -> list[list[str]]:
    rows = []
    for e in outcome.summary:
        drop = e["swap_drop"]
        ci = drop.get("ci")
        drop_text = f"{drop['mean']:+.3f}" if drop["mean"] is not None else "-"
        if ci:
            drop_text += f" [{ci[0]:+.3f}, {ci[1]:+.3f}]"
        distance = e["distance_max"]
        rows.append(
            [
                e["variant"],
                str(e["n"]),
                _pm(e["base_metric"]),
                _pm(e["swap_metric"]),
                drop_text,
                _pm(e["finetune_metric"]),
                "-" if distance is None else f"{distance:.3g}",
            ]
        )
    return rows


def document(outcome: SwapEvalOutcome) -> dict[str, Any]:
    from actlab.lab.stats import CI_MEANS, PLUS_MINUS_MEANS

    return {
        "title": f"actlab swap-eval: {outcome.config.model} on {outcome.config.task}, from {outcome.config.source}",
        "kind": "swap-eval",
        "metric": outcome.metric_name,
        "higher_is_better": outcome.higher_is_better,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "statistics": {
            "plus_minus": PLUS_MINUS_MEANS,
            "ci": CI_MEANS + " (of the paired per-seed drop: before − right after the swap)",
            "fit_vs_default": "two-sided paired t-test over seeds of the metric right after the swap",
            "distance": "max |new(x) − old(x)| for x in the fit range, over the swapped sites",
        },
        "config": outcome.config.as_dict(),
        "summary": outcome.summary,
        "runs": [asdict(r) for r in outcome.rows],
        "versions": {"actlab": actlab.__version__, "torch": torch.__version__},
    }


def plot(outcome: SwapEvalOutcome, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = outcome.summary
    labels = [e["variant"] for e in summary]
    xs = list(range(len(labels)))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.2))
    width = 0.38
    for offset, key, name in (
        (-width / 2, "swap_metric", "right after swap"),
        (width / 2, "finetune_metric", "after fine-tuning"),
    ):
        means = [e[key]["mean"] for e in summary]
        stds = [e[key]["std"] or 0.0 for e in summary]
        ax.bar([x + offset for x in xs], means, width, yerr=stds, capsize=3, label=name)
    bases = [e["base_metric"]["mean"] for e in summary if e["base_metric"]["mean"] is not None]
    if bases:
        ax.axhline(
            sum(bases) / len(bases),
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"{outcome.config.source} before swap",
        )
    ax.set_xticks(xs, labels, rotation=30, ha="right")
    ax.set_ylabel(f"test {outcome.metric_name}")
    n = max((e["n"] for e in summary), default=0)
    ax.set_title(
        f"{outcome.config.model} on {outcome.config.task}: swapping {outcome.config.source} (mean ± std, n={n})"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(outcome: SwapEvalOutcome, out_dir: str | Path) -> dict[str, Path]:
    """results.json, report.md and swap_eval.png in ``out_dir``; returns the paths by role."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = document(outcome)
    paths = {"json": out / "results.json", "md": out / "report.md", "plot": out / "swap_eval.png"}
    paths["json"].write_text(json.dumps(doc, indent=2, default=str) + "\n")
    plot(outcome, paths["plot"])
    lines = [
        f"# {doc['title']}",
        "",
        f"Test {outcome.metric_name} of a model trained with **{outcome.config.source}**, right after every "
        f"{outcome.config.source} is swapped for the target and after {outcome.config.finetune_steps} "
        "fine-tuning steps. Seeds are paired (same split, same trained model, same batches for every target).",
        "",
        "| " + " | ".join(TABLE_HEADER) + " |",
        "|" + "---|" * len(TABLE_HEADER),
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(outcome)]
    lines += [
        "",
        f"± is {doc['statistics']['plus_minus'].removeprefix('± is ')}; {doc['statistics']['ci']}.",
        "",
    ]
    fits = [e for e in outcome.summary if "fit_vs_default" in e]
    if fits:
        lines += ["## Learnable targets: fitted vs default initialisation", ""]
        for e in fits:
            f = e["fit_vs_default"]
            p = "n/a" if f["p_value"] is None else f"{f['p_value']:.2g}"
            gain = "n/a" if f["mean_gain"] is None else f"{f['mean_gain']:+.3f}"
            lines.append(
                f"- **{e['target']}**: fitted parameters {e['fitted_params']}; right after the swap the fitted "
                f"unit scores {gain} vs the default (paired n={f['paired_n']}, p={p})."
            )
        lines.append("")
    lines += ["![swap-eval](swap_eval.png)", "", "```", json.dumps(doc["config"], indent=1), "```", ""]
    paths["md"].write_text("\n".join(lines))
    return paths


# ----------------------------------------------------------------------------------------------------
# the lab's store: each (variant, seed) is one run, so a killed swap-eval resumes
# ----------------------------------------------------------------------------------------------------
def run_spec(config: SwapEvalConfig, variant: str, target: str, init: str, seed: int) -> Any:
    from actlab.lab.types import RunSpec, TrainConfig

    options = (
        ("swap_from", config.source),
        ("swap_init", init),
        ("swap_variant", variant),
        ("finetune_steps", config.finetune_steps),
        ("finetune_lr", config.finetune_lr),
        ("checkpoint", config.checkpoint),
        ("fit_range", tuple(config.fit_range)),
    )
    train_config = TrainConfig(
        optimizer="adam", lr=config.lr, batch_size=config.batch_size, steps=max(config.train_steps, 1)
    )
    return RunSpec(
        task=config.task,
        activation=target,
        seed=seed,
        model=config.model,
        model_options=options,
        train=train_config,
    )


def to_run_result(config: SwapEvalConfig, row: SwapEvalRow, metric_name: str, higher: bool) -> Any:
    from actlab.lab.types import RunResult

    how = (
        "fit"
        if row.init == "fitted" or "[fitted]" in row.variant
        else ("default" if row.init == "default" else "fit")
    )
    return RunResult(
        spec=run_spec(config, row.variant, row.target, how, row.seed),
        final={
            "test_metric": row.finetune_metric,
            "test_loss": row.finetune_loss,
            "train_loss": float("nan"),
            "swap_metric": row.swap_metric,
            "swap_loss": row.swap_loss,
            "base_metric": row.base_metric,
            "base_loss": row.base_loss,
            "sites": float(row.sites),
            "distance_max": float("nan") if row.distance_max is None else row.distance_max,
            "distance_mean": float("nan") if row.distance_mean is None else row.distance_mean,
        },
        curve=[],
        probes=[],
        seconds=row.seconds,
        metric_name=metric_name,
        higher_is_better=higher,
        versions={"actlab": actlab.__version__, "torch": torch.__version__},
    )


def from_run_result(result: Any) -> SwapEvalRow:
    options = dict(result.spec.model_options)
    final = result.final

    def maybe(value: Any) -> float | None:
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

    return SwapEvalRow(
        variant=options["swap_variant"],
        target=result.spec.activation,
        init="fitted"
        if "[fitted]" in options["swap_variant"]
        else ("default" if options["swap_init"] == "default" else "-"),
        seed=result.spec.seed,
        base_metric=final["base_metric"],
        swap_metric=final["swap_metric"],
        finetune_metric=final["test_metric"],
        base_loss=final["base_loss"],
        swap_loss=final["swap_loss"],
        finetune_loss=final["test_loss"],
        sites=int(final["sites"]),
        distance_max=maybe(final.get("distance_max")),
        distance_mean=maybe(final.get("distance_mean")),
        fitted_params=None,
        seconds=result.seconds,
    )


def run_with_store(
    config: SwapEvalConfig, store_path: str | Path, *, progress: Progress | None = None
) -> SwapEvalOutcome:
    """``run_swap_eval`` that saves every row to the lab's store and skips rows already stored."""
    from actlab.lab.store import Store

    plan = variants(config)
    specs = {
        (label, seed): run_spec(config, label, target, how, seed)
        for label, target, how in plan
        for seed in config.seeds
    }
    with Store(store_path) as store:
        done = store.keys()
        stored = {k for k, s in specs.items() if s.key() in done}
        holder: dict[str, Any] = {}

        def save(row: SwapEvalRow) -> None:
            store.save(
                to_run_result(config, row, holder.get("metric", "accuracy"), holder.get("higher", True))
            )

        validate(config)
        from actlab.lab.tasks import make_task
        from actlab.lab.train import metric_of

        holder["metric"], holder["higher"] = metric_of(make_task(config.task, seed=config.seeds[0]))
        fresh = run_swap_eval(config, progress=progress, skip=lambda v, s: (v, s) in stored, on_row=save)
        old_rows = [
            from_run_result(r) for r in store.results([specs[k].key() for k in sorted(stored, key=str)])
        ]
    rows = fresh.rows + old_rows
    outcome = SwapEvalOutcome(config, holder["metric"], holder["higher"], rows)
    outcome.summary = summarize_rows(rows, [v[0] for v in plan])
    return outcome
