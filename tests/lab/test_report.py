"""The report folder: files, embedded figures, the table and the honest-numbers statement."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from actlab.lab.report import summarize_results, write_report
from tests.lab.test_store import make_result

ACTS = {"relu": [0.91, 0.93, 0.92], "tanh": [0.81, 0.84, 0.80]}


def _results(boundary: bool = False):
    return [
        make_result(act, seed, metric=value, boundary=boundary)
        for act, values in ACTS.items()
        for seed, value in enumerate(values)
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    points = (np.array([[0.0, 0.5], [-0.5, 0.2]]), np.array([0, 1]))
    paths = write_report(
        _results(boundary=True), out, config={"task": "circle", "steps": 200}, task_points=lambda r: points
    )
    return out, paths


def test_report_writes_every_file(report):
    out, paths = report
    for role in (
        "html",
        "md",
        "json",
        "learning_curves",
        "gradient_flow",
        "unit_health",
        "boundary_relu",
        "boundary_tanh",
    ):
        assert paths[role].exists() and paths[role].stat().st_size > 0, role
        assert paths[role].parent == out
    for name in ("learning_curves", "gradient_flow", "unit_health", "boundary_relu"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_self_contained_with_table_and_statement(report):
    _, paths = report
    page = paths["html"].read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    figure_names = [k for k in paths if k not in ("html", "md", "json")]
    assert len(embedded) == len(figure_names)
    assert base64.b64decode(embedded[0])[:4] == b"\x89PNG"
    assert 'src="http' not in page and "<script" not in page
    assert "<table>" in page and "<td>relu</td>" in page and "<td>tanh</td>" in page
    assert "n = 3 seeds per activation" in page
    assert "± is one sample standard deviation" in page
    assert "paired t-test" in page
    assert "torch 2.x" in page  # the versions the runs recorded


def test_results_json_carries_summary_and_config(report):
    _, paths = report
    document = json.loads(paths["json"].read_text())
    rows = {row["activation"]: row for row in document["activations"]}
    assert rows["relu"]["mean"] == pytest.approx(np.mean(ACTS["relu"]))
    assert rows["tanh"]["std"] == pytest.approx(np.std(ACTS["tanh"], ddof=1))
    assert rows["relu"]["rank"] == 1 and rows["tanh"]["rank"] == 2
    assert rows["relu"]["n"] == 3
    assert rows["relu"]["seconds_per_run"] == pytest.approx(np.mean([1.5, 2.5, 3.5]))
    assert document["config"] == {"task": "circle", "steps": 200}
    assert document["metric"] == "accuracy"


def test_markdown_has_table_and_figure_links(report):
    _, paths = report
    text = paths["md"].read_text()
    assert "| rank | activation |" in text
    assert "(learning_curves.png)" in text and "(boundary_tanh.png)" in text


def test_no_boundary_maps_for_non_plane_tasks(tmp_path):
    paths = write_report(_results(boundary=False), tmp_path)
    assert not [k for k in paths if k.startswith("boundary_")]
    assert not list(tmp_path.glob("boundary_*.png"))


def test_summary_refuses_mixed_metrics():
    mixed = _results()
    mixed[0].metric_name = "mse"
    with pytest.raises(ValueError, match="different metrics"):
        summarize_results(mixed)
    with pytest.raises(ValueError, match="no finished runs"):
        summarize_results([])
