"""The comparison statistics against hand-computed values and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from actlab.lab.stats import holm, mean_std, paired_p_value, summarize, t_interval


def test_mean_std_by_hand():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    mean, std = mean_std([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert mean == 5.0
    assert std == pytest.approx(math.sqrt(32 / 7))  # ddof=1, not the population 2.0
    assert mean_std([3.5]) == (3.5, None)
    assert mean_std([]) == (None, None)


def test_t_interval_by_hand_and_scipy():
    # t_{0.975, df=2} = 4.302652729..., std 1, n 3: half width 4.3027 / sqrt(3)
    low, high = t_interval([1.0, 2.0, 3.0])
    assert high - 2.0 == pytest.approx(4.302652729749464 / math.sqrt(3), rel=1e-9)
    assert 2.0 - low == pytest.approx(high - 2.0)
    rng = np.random.default_rng(0)
    values = list(rng.normal(0.7, 0.05, size=7))
    expected = scipy_stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values)
    )
    assert t_interval(values) == pytest.approx(expected, rel=1e-12)
    assert t_interval([1.0]) is None
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=1.5)


def test_paired_p_value_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(0.8, 0.02, size=5)
    b = a - rng.normal(0.01, 0.01, size=5)
    assert paired_p_value(list(a), list(b)) == pytest.approx(scipy_stats.ttest_rel(a, b).pvalue, rel=1e-12)


def test_pairing_matters():
    """A constant small gap hidden under a big seed-to-seed spread is found only by pairing."""
    seed_effect = [0.5, 0.7, 0.9, 0.6, 0.8]
    a = [v + 0.010 for v in seed_effect]
    b = [v + 0.002 * (i % 2) for i, v in enumerate(seed_effect)]
    paired = paired_p_value(a, b)
    unpaired = scipy_stats.ttest_ind(a, b).pvalue
    assert paired < 0.05 < unpaired


def test_paired_edge_cases():
    assert paired_p_value([1.0], [2.0]) is None
    assert paired_p_value([1.0, 2.0], [1.0, 2.0]) == 1.0
    assert paired_p_value([1.0, 2.0], [0.5, 1.5]) == 0.0
    with pytest.raises(ValueError, match="equal length"):
        paired_p_value([1.0, 2.0], [1.0])


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04 with 3 tests: 0.03, 0.04, 0.04 (monotone), None stays None
    assert holm([0.04, None, 0.01, 0.02]) == pytest.approx([0.04, None, 0.03, 0.04])


def test_summarize_ranks_and_tests_against_best():
    metric = {
        "relu": {0: 0.90, 1: 0.92, 2: 0.91},
        "tanh": {0: 0.80, 1: 0.83, 2: 0.81},
        "gelu": {0: 0.905, 1: 0.915, 2: 0.912},
    }
    rows = summarize(metric, higher_is_better=True)
    assert [r.activation for r in rows] == ["gelu", "relu", "tanh"]
    assert [r.rank for r in rows] == [1, 2, 3]
    best, relu, tanh = rows
    assert best.is_best and best.gap_text() == "best" and best.p_value is None
    assert relu.p_value == pytest.approx(
        scipy_stats.ttest_rel([0.905, 0.915, 0.912], [0.90, 0.92, 0.91]).pvalue
    )
    raw_tanh = scipy_stats.ttest_rel([0.905, 0.915, 0.912], [0.80, 0.83, 0.81]).pvalue
    assert tanh.p_value == pytest.approx(raw_tanh)
    assert tanh.p_holm == pytest.approx(min(1.0, 2 * raw_tanh))  # the smaller p of two is doubled
    assert tanh.significant is True and relu.significant is False
    assert tanh.mean == pytest.approx(np.mean([0.80, 0.83, 0.81]))
    assert tanh.std == pytest.approx(np.std([0.80, 0.83, 0.81], ddof=1))


def test_summarize_lower_is_better_and_ties():
    rows = summarize(
        {"a": {0: 2.0, 1: 2.0}, "b": {0: 1.0, 1: 1.0}, "c": {0: 1.0, 1: 1.0}}, higher_is_better=False
    )
    assert [(r.activation, r.rank) for r in rows] == [("b", 1), ("c", 1), ("a", 3)]


def test_summarize_pairs_only_shared_seeds_and_counts_divergence():
    rows = summarize({"a": {0: 0.9, 1: 0.95, 2: 0.93}, "b": {1: 0.5, 2: float("nan"), 3: 0.6}}, True)
    a, b = rows
    assert b.n == 2 and b.diverged == 1 and b.seeds == [1, 3]
    assert b.paired_n == 1  # only seed 1 is finite in both
    assert b.p_value is None and b.significant is None and b.gap_text() == "n/a"


def test_single_seed_says_na():
    rows = summarize({"a": {0: 0.9}, "b": {0: 0.8}}, True)
    assert rows[0].std is None and rows[0].ci_low is None
    assert rows[1].gap_text() == "n/a"


def test_summarize_refuses_nothing():
    with pytest.raises(ValueError, match="nothing to summarize"):
        summarize({}, True)
