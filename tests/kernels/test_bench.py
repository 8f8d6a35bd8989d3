"""The benchmark's estimator and tables (``actlab.kernels.bench``): what they compute, never how fast
anything is (speed lives in benchmarks/ and ``actlab bench``)."""

from __future__ import annotations

import pytest

from actlab.kernels import bench, ckernels


class FakeClock:
    """A clock that only the timed functions move: each call advances it by that function's cost."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def costing(self, seconds, log, tag):
        def fn():
            self.now += seconds() if callable(seconds) else seconds
            log.append(tag)

        return fn


def test_paired_ratio_is_the_median_of_per_round_ratios_in_alternating_order():
    clock, log = FakeClock(), []
    # the machine slows down 10x halfway: per-round ratios stay 2, whatever the drift
    speed = iter([1.0] * 20 + [10.0] * 1000)
    base = clock.costing(lambda: 2.0 * next(speed), log, "b")
    ours = clock.costing(lambda: 1.0 * next(speed), log, "o")
    r = bench.paired_ratio(base, ours, rounds=10, clock=clock)
    assert (r.median, r.q1, r.q3) == (2.0, 2.0, 2.0)
    # warm-up b o, then rounds of (settle, timed) pairs whose order alternates
    assert log[:2] == ["b", "o"]
    rounds = ["".join(log[2 + 4 * k : 6 + 4 * k]) for k in range(10)]
    assert rounds == ["bboo", "oobb"] * 5


def test_paired_ratio_quartiles_and_inner_calls():
    clock, log = FakeClock(), []
    # after the warm-up, round k's settle call costs 1 and its timed call k (base) or 1 (ours): ratios 1..5
    base_costs = iter([1.0] + [c for k in range(1, 6) for c in (1.0, float(k))])
    base = clock.costing(lambda: next(base_costs), log, "b")
    ours = clock.costing(1.0, log, "o")
    r = bench.paired_ratio(base, ours, rounds=5, clock=clock)
    assert (r.q1, r.median, r.q3) == (2.0, 3.0, 4.0)
    clock, log = FakeClock(), []
    r = bench.paired_ratio(
        clock.costing(3.0, log, "b"), clock.costing(1.0, log, "o"), rounds=2, inner=4, clock=clock
    )
    assert r.median == 3.0 and log.count("b") == 1 + 2 * (1 + 4)


def test_paired_ratio_rejects_too_few_rounds():
    with pytest.raises(ValueError, match="at least 2 rounds"):
        bench.paired_ratio(lambda: None, lambda: None, rounds=1)


def test_format_ratio():
    assert bench.format_ratio(0.9712, [0.9012, 1.0456]) == "0.97 (0.90–1.05)"


def test_cpu_speed_table_rows():
    rows = bench.cpu_speed_table(
        n=1024, repeats=3, compile_paths=False, names=["relu", "squareplus", "prelu"]
    )
    assert [r["name"] for r in rows] == ["relu", "squareplus"]  # prelu is learnable: not in the table
    relu, squareplus = rows
    assert (relu["baseline"], squareplus["baseline"]) == ("torch", "naive")
    for r in rows:
        q1, q3 = r["forward_quartiles"]
        assert 0 < q1 <= r["forward_ratio"] <= q3
        q1, q3 = r["fwd_bwd_quartiles"]
        assert 0 < q1 <= r["fwd_bwd_ratio"] <= q3
        assert r["copy_over_forward"] > 0
    assert relu["path"] == ("actlab C" if ckernels.enabled() else "torch op")
