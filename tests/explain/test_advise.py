from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from actlab.cli import app
from actlab.explain.advise import LAYERS, TASKS, advise

runner = CliRunner()


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("layer", LAYERS)
def test_every_task_and_layer_gets_reasoned_answers(task, layer):
    recs = advise(task, layer)
    assert recs and all(r.reason for r in recs)


def test_the_classic_answers():
    assert advise("binary", "output")[0].activation == "sigmoid"
    assert advise("multiclass", "output")[0].activation == "softmax"
    assert advise("regression", "output")[0].activation == "identity"
    assert advise("sequence", "hidden")[0].activation == "tanh"
    assert advise("multiclass", "hidden", depth=32)[0].activation == "selu"
    hidden = [r.activation for r in advise("binary", "hidden")]
    assert hidden[0] == "relu" and {"gelu", "silu"} <= set(hidden)
    assert hidden[-1] == "sigmoid"  # listed last, as the one to avoid


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown task kind 'images'"):
        advise("images")
    with pytest.raises(ValueError, match="unknown layer kind"):
        advise("binary", "middle")
    result = runner.invoke(app, ["advise", "--task", "images"])
    assert result.exit_code == 2 and "unknown task kind" in result.output


def test_cli_json():
    result = runner.invoke(app, ["advise", "--task", "multiclass", "--layer", "output", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["recommendations"][0]["activation"] == "softmax"


@pytest.mark.slow
def test_data_mode_ranks_by_measured_results(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = (np.hypot(x[:, 0], x[:, 1]) < 1.0).astype(int)  # a circle: identity cannot do it
    path = tmp_path / "data.csv"
    rows = ["a,b,label"] + [f"{p:.5f},{q:.5f},{t}" for (p, q), t in zip(x, y)]
    path.write_text("\n".join(rows))
    result = runner.invoke(
        app, ["advise", "--data", str(path), "--target", "label", "--seeds", "2", "--steps", "150", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["task"] == "binary"
    ranking = data["measured"]["ranking"]
    assert [r["rank"] for r in ranking] == sorted(r["rank"] for r in ranking)
    means = [r["mean"] for r in ranking]
    assert means == sorted(means, reverse=True)  # accuracy: higher is better, ranked by measurement
