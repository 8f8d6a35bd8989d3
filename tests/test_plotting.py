"""actlab.plotting: what the figures draw (checked against independent formulas), the three kinds,
discontinuities, file formats and input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import actlab
from actlab import plotting
from actlab.catalog import spec as registry
from actlab.catalog.spec import INF, Param, Properties, Spec, all_specs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _softmax_derivative(x, dim):
    s = torch.softmax(x, dim)
    return s * (1 - s)


FAKE_SOFTMAX = Spec(
    name="plotting_test_softmax",
    family="test",
    kind="vector",
    formula="softmax",
    latex="s",
    derivative_formula="s(1-s)",
    derivative_latex="s(1-s)",
    forward=lambda x, dim: torch.softmax(x, dim),
    derivative=_softmax_derivative,
    params=(Param("dim", -1),),
    properties=Properties((0.0, 1.0), monotonic=True, continuity="Cinf", zero_centred=False, saturating=True),
    origin="test",
    year=2000,
)

FAKE_GLU = Spec(
    name="plotting_test_glu",
    family="test",
    kind="gated",
    gate="sigmoid",
    formula="a * sigmoid(b)",
    latex="a",
    derivative_formula="-",
    derivative_latex="-",
    forward=lambda x, dim: x.chunk(2, dim)[0] * torch.sigmoid(x.chunk(2, dim)[1]),
    derivative=lambda x, dim: torch.ones_like(x),
    params=(Param("dim", -1),),
    properties=Properties(
        (-INF, INF), monotonic=False, continuity="Cinf", zero_centred=True, saturating=False
    ),
    origin="test",
    year=2000,
)


@pytest.fixture
def fakes(monkeypatch):
    """A vector and a gated entry, registered only for one test (the real ones may not exist yet)."""
    all_specs()  # load the real catalogue first
    for fake in (FAKE_SOFTMAX, FAKE_GLU):
        monkeypatch.setitem(registry._REGISTRY, fake.name, fake)
        monkeypatch.setitem(registry._ALIASES, fake.name, fake.name)
    return FAKE_SOFTMAX, FAKE_GLU


def test_elementwise_curve_is_the_function_and_its_derivative():
    curve = plotting.sample("sigmoid", (-6, 6), points=241)
    x = torch.from_numpy(curve.x)
    sigma = 1 / (1 + torch.exp(-x))
    assert curve.x[0] == -6 and curve.x[-1] == 6 and len(curve.x) == 241
    np.testing.assert_allclose(curve.y, sigma.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(curve.dy, (sigma * (1 - sigma)).numpy(), rtol=1e-12, atol=1e-15)
    assert curve.note == ""


def test_default_window_is_the_specs_plot_range():
    spec = actlab.spec("tanh")
    curve = plotting.sample(spec)
    assert (curve.x[0], curve.x[-1]) == spec.plot_range


def test_parameters_reach_the_function():
    curve = plotting.sample("step", (-3, 3), {"threshold": 1.0}, points=61)
    np.testing.assert_array_equal(curve.y, (curve.x > 1.0).astype(float))
    assert curve.label == "step(threshold=1.0)"
    with pytest.raises(ValueError, match="threshold"):
        plotting.sample("step", params={"threshold": "high"})


def test_vector_entries_show_the_first_of_two_outputs(fakes):
    softmax, _ = fakes
    curve = plotting.sample(softmax.name, (-4, 4), points=81)
    sigma = torch.sigmoid(torch.from_numpy(curve.x))  # softmax([x, 0])_0 = sigmoid(x)
    np.testing.assert_allclose(curve.y, sigma.numpy(), rtol=1e-12)
    np.testing.assert_allclose(curve.dy, (sigma * (1 - sigma)).numpy(), rtol=1e-12)
    assert "[x, 0]" in curve.note


def test_gated_entries_show_the_gate_with_a_equal_to_one(fakes, tmp_path):
    _, glu = fakes
    curve = plotting.sample(glu.name, (-4, 4), points=81)
    sigma = torch.sigmoid(torch.from_numpy(curve.x))
    np.testing.assert_allclose(curve.y, sigma.numpy(), rtol=1e-12)
    np.testing.assert_allclose(curve.dy, (sigma * (1 - sigma)).numpy(), rtol=1e-12)
    assert "sigmoid" in curve.note and "a = 1" in curve.note
    path = plotting.plot([glu.name], tmp_path / "glu.svg")
    assert "a = 1" in path.read_text()  # the title says what is drawn
    with pytest.raises(ValueError, match="no parameter 'beta'"):
        plotting.sample(glu.name, params={"beta": 2.0})
    for fake in fakes:  # the plot draws a fixed scalar slice; another dim would draw something else
        with pytest.raises(ValueError, match="dim"):
            plotting.sample(fake.name, params={"dim": 0})


def test_gallery_handles_every_kind(fakes, tmp_path):
    result = plotting.gallery(tmp_path, ["sigmoid", fakes[0].name, fakes[1].name])
    assert set(result.images) == {"sigmoid", fakes[0].name, fakes[1].name}
    page = result.index.read_text()
    assert "[x, 0]" in page and "a·sigmoid(b)" in page


def test_jumps_are_broken_not_joined():
    x = np.linspace(-1, 1, 21)
    y = (x > 0).astype(float)
    bx, by = plotting._broken(x, y, continuous=False)
    assert np.isnan(by).sum() == 1 and len(bx) == len(x) + 1
    nan_at = int(np.flatnonzero(np.isnan(by))[0])
    assert by[nan_at - 1] == 0 and by[nan_at + 1] == 1
    # smooth curves are left alone, however steep
    same_x, same_y = plotting._broken(x, np.tanh(5 * x), continuous=True)
    assert not np.isnan(same_y).any() and len(same_y) == len(x)


def test_step_curve_is_marked_discontinuous_and_smooth_ones_are_not():
    assert not plotting.sample("step").y_continuous
    tanh = plotting.sample("tanh")
    assert tanh.y_continuous and tanh.dy_continuous


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_writes_each_format(tmp_path, suffix):
    path = plotting.plot(["sigmoid", "tanh"], tmp_path / f"f{suffix}", derivative=True, x_range=(-2, 2))
    data = path.read_bytes()
    signature = {".png": PNG_SIGNATURE, ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix]
    assert data.startswith(signature) and len(data) > 2_000


def test_files_are_reproducible(tmp_path):
    a = plotting.plot(["tanh"], tmp_path / "a.svg")
    b = plotting.plot(["tanh"], tmp_path / "b.svg")
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": "f.jpg"}, r"\.png"),
        ({"path": "f"}, r"\.png"),
        ({"x_range": (1, 1)}, "A < B"),
        ({"x_range": (2, -2)}, "A < B"),
        ({"x_range": (0, math.inf)}, "finite"),
        ({"names": []}, "at least one"),
        ({"names": ["sigmod"]}, "sigmoid"),
    ],
)
def test_plot_rejects_bad_input(tmp_path, kwargs, match):
    args = {"names": ["tanh"], "path": "f.png", **kwargs}
    args["path"] = tmp_path / args["path"]
    with pytest.raises(ValueError, match=match):
        plotting.plot(args.pop("names"), args.pop("path"), **args)
    assert list(tmp_path.iterdir()) == []


def test_renderer_reuses_one_figure_for_different_pictures(tmp_path):
    renderer = plotting.Renderer()
    first = renderer.render("sigmoid", tmp_path / "a.png").read_bytes()
    second = renderer.render("tanh", tmp_path / "b.png").read_bytes()
    again = renderer.render("sigmoid", tmp_path / "c.png").read_bytes()
    assert first != second
    assert first == again  # nothing of the previous picture is left on the figure


def test_every_entry_samples_to_finite_numbers_on_its_plot_range():
    for spec in all_specs():
        curve = plotting.sample(spec, points=101)
        assert curve.y.shape == curve.dy.shape == (101,), spec.name
        assert np.isfinite(curve.y).all(), spec.name
        assert np.isfinite(curve.dy).all(), spec.name


def test_real_gated_entries_plot_their_own_output_at_a_equal_to_one():
    """The picture of a gated entry is the entry itself evaluated on the halves [a = 1, b = x]."""
    gated = [s for s in all_specs() if s.kind == "gated"]
    for spec in gated:
        curve = plotting.sample(spec, (-4, 4), points=81)
        b = torch.from_numpy(curve.x)
        halves = torch.cat([torch.ones_like(b)[:, None], b[:, None]], dim=-1)
        itself = actlab.functional.apply(spec, halves)[:, 0]
        np.testing.assert_allclose(curve.y, itself.numpy(), rtol=1e-12, atol=1e-15, err_msg=spec.name)
        # and the derivative is the partial in b at a = 1
        partial_b = actlab.derivative(spec.name, halves)[:, 1]
        np.testing.assert_allclose(curve.dy, partial_b.numpy(), rtol=1e-10, atol=1e-12, err_msg=spec.name)


def test_real_softmax_is_drawn_as_the_logistic_sigmoid():
    curve = plotting.sample("softmax", (-6, 6), points=121)
    sigma = torch.sigmoid(torch.from_numpy(curve.x))
    np.testing.assert_allclose(curve.y, sigma.numpy(), rtol=1e-12)
    np.testing.assert_allclose(curve.dy, (sigma * (1 - sigma)).numpy(), rtol=1e-10)
