"""Every declared property of every entry, checked with hypothesis (and its converse where it is
declared false, so a wrong declaration fails either way)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import actlab
from actlab.functional import apply
from tests.catalog.harness import specs_of_kind

ELEMENTWISE = specs_of_kind("elementwise")
IDS = [s.name for s in ELEMENTWISE]
WIDE = arrays(np.float64, 64, elements=st.floats(-1e4, 1e4, allow_nan=False))
LINE = np.concatenate([np.linspace(-60, 60, 24001), -np.logspace(-8, 4, 400), np.logspace(-8, 4, 400)])

settings.register_profile("actlab", max_examples=40, deadline=None, derandomize=True)
settings.load_profile("actlab")


def f(spec, x: np.ndarray) -> np.ndarray:
    return apply(spec.name, torch.as_tensor(x, dtype=torch.float64)).numpy()


def fprime(spec, x: np.ndarray) -> np.ndarray:
    return actlab.derivative(spec.name, torch.as_tensor(x, dtype=torch.float64)).numpy()


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
@given(x=WIDE)
def test_output_range(spec, x):
    lo, hi = spec.properties.output_range
    y = f(spec, x)
    tol = 1e-12 * (1 + np.abs(y))
    assert np.all(y >= lo - tol), f"{spec.name} below its declared range at x={x[np.argmin(y)]}"
    assert np.all(y <= hi + tol), f"{spec.name} above its declared range at x={x[np.argmax(y)]}"


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
def test_output_range_is_tight(spec):
    # the declared bounds are attained or approached, not loose
    lo, hi = spec.properties.output_range
    y = f(spec, np.concatenate([LINE, [-1e6, 1e6, -1e30, 1e30]]))
    y = y[np.isfinite(y)]
    if math.isfinite(lo):
        assert y.min() - lo < 1e-3 * (1 + abs(lo)), f"{spec.name}: lower bound {lo} is loose (min {y.min()})"
    else:
        assert y.min() < -1e3, f"{spec.name}: declared unbounded below but min is {y.min()}"
    if math.isfinite(hi):
        assert hi - y.max() < 1e-3 * (1 + abs(hi)), f"{spec.name}: upper bound {hi} is loose (max {y.max()})"
    else:
        assert y.max() > 1e3, f"{spec.name}: declared unbounded above but max is {y.max()}"


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
@given(a=WIDE, b=WIDE)
def test_monotonic(spec, a, b):
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    if spec.properties.monotonic:
        assert np.all(f(spec, lo) <= f(spec, hi) + 1e-12), f"{spec.name} is declared monotonic"


@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE if not s.properties.monotonic], ids=lambda s: s.name)
def test_non_monotonic_has_a_witness(spec):
    y = f(spec, LINE[:24001])
    assert np.any(np.diff(y) < -1e-12) and np.any(np.diff(y) > 1e-12), f"{spec.name} looks monotonic"


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
def test_zero_centred(spec):
    y0 = f(spec, np.array([0.0]))[0]
    y = f(spec, LINE)
    both_signs = bool(np.any(y < 0) and np.any(y > 0))
    assert spec.properties.zero_centred == (y0 == 0 and both_signs), (
        f"{spec.name}: f(0) = {y0}, takes both signs: {both_signs}"
    )


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
def test_saturating(spec):
    far = np.array([-1e4, 1e4])
    d = np.abs(fprime(spec, far))
    saturates_both = bool(np.all(d < 1e-6))
    assert spec.properties.saturating == saturates_both, f"{spec.name}: |f'(-1e4)|, |f'(1e4)| = {d}"


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
def test_continuity(spec):
    c = spec.properties.continuity
    eps = 1e-9
    kinks = np.array(spec.kinks, dtype=np.float64)
    if c == "Cinf":
        assert len(kinks) == 0, f"{spec.name}: C∞ with kinks {spec.kinks}"
        return
    assert len(kinks) > 0, f"{spec.name}: continuity {c} needs its kinks declared"
    jump = np.abs(f(spec, kinks + eps) - f(spec, kinks - eps))
    djump = np.abs(fprime(spec, kinks + eps) - fprime(spec, kinks - eps))
    if c == "discontinuous":
        assert np.any(jump > 1e-6), f"{spec.name}: declared discontinuous, no jump at {spec.kinks}"
    else:
        assert np.all(jump < 1e-6), f"{spec.name}: declared {c} but jumps by {jump} at {spec.kinks}"
    if c == "C0":
        assert np.any(djump > 1e-6), f"{spec.name}: declared C0 but f' is continuous at {spec.kinks}"
    if c in ("C1", "C2"):
        assert np.all(djump < 1e-5), f"{spec.name}: declared {c} but f' jumps by {djump}"


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=IDS)
@given(x=WIDE)
def test_self_gated(spec, x):
    x = x[x != 0]
    gate = f(spec, x) / x
    inside = bool(np.all((gate >= -1e-12) & (gate <= 1 + 1e-12)))
    if spec.properties.self_gated:
        assert inside, f"{spec.name}: f(x)/x leaves [0, 1] at x={x[np.argmax(np.abs(gate - 0.5))]}"


@pytest.mark.parametrize(
    "spec", [s for s in ELEMENTWISE if not s.properties.self_gated], ids=lambda s: s.name
)
def test_not_self_gated_has_a_witness_or_is_not_a_gate_form(spec):
    # declared not self-gated: either f(x)/x leaves [0, 1] somewhere, or f is not x·g(x) with g → 0 and
    # g → 1 at the two ends (identity's gate is constantly 1; relu is x·step, a hard gate, and counts)
    x = LINE[LINE != 0]
    gate = f(spec, x) / x
    leaves = bool(np.any(gate < -1e-9) or np.any(gate > 1 + 1e-9))
    ends_like_a_gate = abs(gate[0]) < 1e-6 and abs(gate[24000 - 1] - 1) < 1e-6
    smooth = spec.properties.continuity == "Cinf"
    assert leaves or not (ends_like_a_gate and smooth), f"{spec.name} looks self-gated"
