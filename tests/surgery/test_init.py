"""Learnable replacements start as close as possible to the function they replace."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import actlab
from actlab.surgery import fit_learnable, function_distance, swap


def _grid_error(module: nn.Module, reference, lo: float = -3.0, hi: float = 3.0) -> float:
    x = torch.linspace(lo, hi, 2001, dtype=torch.float64)
    with torch.no_grad():
        return float((module.double()(x) - reference(x)).abs().max())


def test_function_distance_is_max_and_mean_gap() -> None:
    d = function_distance(actlab.get("identity"), nn.ReLU(), fit_range=(-3.0, 3.0), points=601)
    # |x - relu(x)| = |min(x, 0)|: max 3 at x = -3, mean 0.75 over a symmetric grid
    assert d["max_error"] == pytest.approx(3.0)
    assert d["mean_error"] == pytest.approx(0.75, rel=1e-2)


def test_prelu_fitted_to_relu_and_leaky_relu_is_exact() -> None:
    fit = fit_learnable(actlab.get("prelu"), nn.ReLU(inplace=True))  # in-place must not spoil the grid
    assert abs(fit.params["weight"][0]) < 1e-8
    assert fit.max_error < 1e-8 and fit.default_max_error == pytest.approx(0.75)
    fit = fit_learnable(actlab.get("prelu"), nn.LeakyReLU(0.2))
    assert fit.params["weight"][0] == pytest.approx(0.2, abs=1e-8)


def test_swish_fitted_to_relu_is_capped_and_within_its_bound() -> None:
    fit = fit_learnable(actlab.get("swish"), nn.ReLU(), max_abs=10.0)
    beta = fit.params["beta"][0]
    assert beta == pytest.approx(10.0) and fit.capped == ["beta"]
    # swish_β - relu has its largest gap 0.2785/β at x = -1.2785/β
    assert fit.max_error == pytest.approx(0.278464542761074 / beta, rel=1e-2)
    fit = fit_learnable(actlab.get("swish"), nn.SiLU())
    assert fit.params["beta"][0] == pytest.approx(1.0, abs=1e-6) and fit.max_error < 1e-6


@pytest.mark.parametrize("old", ["gelu", "tanh"])
def test_rational_fit_beats_its_default(old: str) -> None:
    fit = fit_learnable(actlab.get("rational"), actlab.get(old))
    assert fit.mean_error < fit.default_mean_error / 5
    assert fit.max_error < 0.05
    # the fitted coefficients reproduce the reported error when applied to a fresh module
    fresh = actlab.get("rational", numerator=fit.params["numerator"], denominator=fit.params["denominator"])
    reference = actlab.get(old).double()
    assert _grid_error(fresh, reference) == pytest.approx(fit.max_error, rel=0.2, abs=1e-4)


def test_fit_range_and_points_are_validated() -> None:
    with pytest.raises(ValueError, match="fit range"):
        fit_learnable(actlab.get("prelu"), nn.ReLU(), fit_range=(3.0, -3.0))
    with pytest.raises(ValueError, match="points"):
        fit_learnable(actlab.get("prelu"), nn.ReLU(), points=1)


def test_swap_fits_learnable_targets_and_the_model_changes_less() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 4))
    x = torch.randn(64, 8)
    reference = model(x)
    fitted, report = swap(model, {"gelu": "rational"})
    default, default_report = swap(model, {"gelu": "rational"}, init="default")
    assert {s.init for s in report.swapped} == {"fitted"}
    assert {s.init for s in default_report.swapped} == {"default"}
    fit = report.swapped[0].fit
    assert fit is not None and fit.max_error < fit.default_max_error
    with torch.no_grad():
        gap_fitted = float((fitted(x) - reference).abs().max())
        gap_default = float((default(x) - reference).abs().max())
    assert gap_fitted < gap_default / 5


def test_user_given_learnable_values_are_not_refitted() -> None:
    _, report = swap(nn.Sequential(nn.ReLU()), {"relu": ("prelu", {"init": 0.3})})
    # PReLU's init is its constructor argument, not the learnable parameter: still fitted
    assert report.swapped[0].init == "fitted"
    model, report = swap(nn.Sequential(nn.ReLU()), {"relu": ("swish", {"beta": 2.0})})
    assert report.swapped[0].init == "default" and float(model[0].beta.detach()) == 2.0


def test_functional_site_fit_uses_the_call_arguments() -> None:
    class Net(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.leaky_relu(x, 0.3)

    swapped, report = swap(Net(), {"leaky_relu": "prelu"})
    site = report.functions[0]
    assert site.fit is not None and site.fit.params["weight"][0] == pytest.approx(0.3, abs=1e-6)
    x = torch.randn(20)
    torch.testing.assert_close(swapped(x), F.leaky_relu(x, 0.3))
    assert math.isfinite(site.distance["max_error"])
