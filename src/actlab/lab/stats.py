"""Honest numbers for a comparison: n, mean ± std, a t confidence interval, ranks, and whether the gap
to the best activation is significant when the same seeds are paired.

Seeds are paired because a seed fixes the data split, the batch order and the initial weights for every
activation alike, so the per-seed difference removes the variance the activations share.
Everything here is a pure function of plain floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy import stats as scipy_stats

CONFIDENCE = 0.95
ALPHA = 0.05
PLUS_MINUS_MEANS = "± is one sample standard deviation (ddof=1) over seeds"
CI_MEANS = f"CI is the {CONFIDENCE:.0%} Student-t confidence interval of the mean"
TEST_USED = (
    f"gap to the best: two-sided paired t-test on matched seeds, Holm-corrected over the comparisons "
    f"with the best, significant at α = {ALPHA}"
)


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (ddof=1); None where undefined (no values / one value)."""
    n = len(values)
    if n == 0:
        return None, None
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance)


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean; None with fewer than two values."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    mean, std = mean_std(values)
    if mean is None or std is None:
        return None
    half = scipy_stats.t.ppf(0.5 + confidence / 2, df=len(values) - 1) * std / math.sqrt(len(values))
    return mean - half, mean + half


def paired_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided paired t-test p-value for matched samples; None with fewer than two pairs."""
    if len(a) != len(b):
        raise ValueError(f"paired samples must have equal length, got {len(a)} and {len(b)}")
    if len(a) < 2:
        return None
    differences = [x - y for x, y in zip(a, b, strict=True)]
    if max(differences) == min(differences):
        # No spread in the differences: t is 0/0 (identical) or ±inf (a constant gap).
        return 1.0 if differences[0] == 0 else 0.0
    return float(scipy_stats.ttest_rel(a, b).pvalue)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (None entries are skipped and stay None)."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for order, (p, index) in enumerate(present):
        running = max(running, min(1.0, (len(present) - order) * p))
        adjusted[index] = running
    return adjusted


@dataclass
class ActivationSummary:
    """One row of the comparison table."""

    activation: str
    n: int
    mean: float | None
    std: float | None
    ci_low: float | None
    ci_high: float | None
    rank: int
    diverged: int = 0  # runs whose metric was not finite; they are left out of n, mean and std
    paired_n: int = 0  # seeds shared with the best activation
    p_value: float | None = None  # raw paired t-test p-value against the best; None for the best / n/a
    p_holm: float | None = None
    significant: bool | None = None  # None: the best itself, or too few pairs to test
    seeds: list[int] = field(default_factory=list)
    is_best: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def gap_text(self) -> str:
        if self.is_best:
            return "best"
        if self.significant is None:
            return "n/a"
        verdict = "yes" if self.significant else "no"
        return f"{verdict} (p={self.p_holm:.2g})"


def summarize(
    metric_by_activation: Mapping[str, Mapping[int, float]],
    higher_is_better: bool,
    *,
    confidence: float = CONFIDENCE,
    alpha: float = ALPHA,
) -> list[ActivationSummary]:
    """Summaries ranked best first. ``metric_by_activation[activation][seed]`` is the final metric."""
    if not metric_by_activation:
        raise ValueError("nothing to summarize: no activation has a finished run")
    finite = {
        act: {seed: float(v) for seed, v in by_seed.items() if v is not None and math.isfinite(v)}
        for act, by_seed in metric_by_activation.items()
    }
    rows = []
    for act, by_seed in finite.items():
        values = [by_seed[s] for s in sorted(by_seed)]
        mean, std = mean_std(values)
        interval = t_interval(values, confidence) if len(values) >= 2 else None
        rows.append(
            ActivationSummary(
                activation=act,
                n=len(values),
                mean=mean,
                std=std,
                ci_low=interval[0] if interval else None,
                ci_high=interval[1] if interval else None,
                rank=0,
                diverged=len(metric_by_activation[act]) - len(values),
                seeds=sorted(by_seed),
            )
        )
    sign = -1.0 if higher_is_better else 1.0
    # Best first; activations with no finite run at all go last.
    rows.sort(key=lambda r: (r.mean is None, sign * r.mean if r.mean is not None else 0.0, r.activation))
    for position, row in enumerate(rows):
        tied = position > 0 and row.mean is not None and row.mean == rows[position - 1].mean
        row.rank = rows[position - 1].rank if tied else position + 1

    best = rows[0]
    others = rows[1:]
    for row in others:
        shared = sorted(set(finite[row.activation]) & set(finite[best.activation]))
        row.paired_n = len(shared)
        row.p_value = paired_p_value(
            [finite[best.activation][s] for s in shared], [finite[row.activation][s] for s in shared]
        )
    best.paired_n = best.n
    best.is_best = True
    for row, adjusted in zip(others, holm([r.p_value for r in others]), strict=True):
        row.p_holm = adjusted
        row.significant = None if adjusted is None else adjusted < alpha
    return rows
