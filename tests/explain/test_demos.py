"""Every demonstration runs, writes its figure, and its numbers match the theory it cites within the
tolerances each check states. Plus the pieces of theory tested on their own."""

from __future__ import annotations

import json
import math

import mpmath as mp
import pytest
import torch

from actlab.explain import demo_names, run_demo
from actlab.explain.collapse import collapse_to_one_linear_map
from actlab.explain.common import mlp
from actlab.explain.dying_relu import born_dead_probability, monte_carlo_dead
from actlab.explain.selu import PUBLISHED_ALPHA, PUBLISHED_LAMBDA, selu_constants


@pytest.mark.slow
@pytest.mark.parametrize("name", demo_names())
def test_demo_evidence_matches_theory(name, tmp_path):
    result = run_demo(name, tmp_path)
    failed = [f"{c.statement}: {c.value}" for c in result.checks if not c.passed]
    assert failed == [], failed
    assert len(result.checks) >= 3
    assert result.figures and all((tmp_path / p.split("/")[-1]).stat().st_size > 5000 for p in result.figures)
    json.dumps(result.as_dict())  # --json must be able to print it
    assert result.conclusion and result.claim


def test_identity_network_collapses_to_one_map():
    torch.manual_seed(1)
    net = mlp([3, 7, 5, 2], "identity").double()
    w, b = collapse_to_one_linear_map(net)
    assert w.shape == (2, 3) and b.shape == (2,)
    x = torch.randn(50, 3, dtype=torch.float64)
    torch.testing.assert_close(net(x), x @ w.T + b, rtol=1e-12, atol=1e-12)


def test_selu_closed_forms_give_published_constants():
    alpha, lam = selu_constants()
    mp.mp.dps = 40
    assert abs(alpha - mp.mpf(PUBLISHED_ALPHA)) < 1e-18
    assert abs(lam - mp.mpf(PUBLISHED_LAMBDA)) < 1e-18


def test_born_dead_closed_form():
    assert born_dead_probability(1, 1) == 0.5
    assert born_dead_probability(3, 0) == 0.0
    assert math.isclose(born_dead_probability(2, 2), 1 - 0.75**2)
    g = torch.Generator().manual_seed(0)
    mc = monte_carlo_dead(2, 6, 20000, g)
    p = born_dead_probability(2, 6)
    assert abs(mc - p) < 4 * math.sqrt(p * (1 - p) / 20000)


def test_unknown_demo_names_closest():
    with pytest.raises(ValueError, match="closest: dying-relu"):
        run_demo("dying-relo")
