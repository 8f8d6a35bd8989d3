"""`actlab compare` and `actlab runs` end to end on a tiny task, and their clean refusals of bad input."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from actlab.cli import app
from actlab.lab.stats import mean_std
from actlab.lab.store import Store

runner = CliRunner()
TINY = ["--task", "circle", "--acts", "tanh,sigmoid", "--seeds", "2", "--steps", "100", "--width", "8"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The same comparison twice: as JSON, then as a table (which must reuse every stored run)."""
    folder = tmp_path_factory.mktemp("compare")
    store, report = folder / "runs.sqlite", folder / "report"
    first = runner.invoke(app, ["compare", *TINY, "--store", str(store), "-o", str(report), "--json"])
    with Store(store) as opened:
        stored_before = opened.list_runs()
    again = runner.invoke(app, ["compare", *TINY, "--store", str(store), "-o", str(folder / "again")])
    return store, report, first, again, stored_before


def test_compare_json_is_one_object_with_the_summary(compared):
    store, report, first, _, _ = compared
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)  # stdout holds exactly one JSON document
    assert data["task"] == "circle" and data["metric"] == "accuracy"
    assert {row["activation"] for row in data["activations"]} == {"tanh", "sigmoid"}
    assert sorted(row["rank"] for row in data["activations"]) in ([1, 2], [1, 1])
    with Store(store) as opened:
        results = opened.results(task="circle")
    for row in data["activations"]:
        values = [r.final["test_metric"] for r in results if r.spec.activation == row["activation"]]
        mean, std = mean_std(values)
        assert row["n"] == 2
        assert row["mean"] == pytest.approx(mean) and row["std"] == pytest.approx(std)
        assert len(row["ci"]) == 2 and row["ci"][0] <= row["mean"] <= row["ci"][1]
        assert "p_value" in row
    assert data["config"]["train"]["steps"] == 100 and data["config"]["model_options"] == {"width": 8}
    assert data["runs"] == {"trained": 4, "reused": 0, "store": str(store)}
    assert data["report"] == str(report / "report.html")
    assert (report / "report.html").exists() and (report / "boundary_tanh.png").exists()
    assert "training" in first.stderr  # the progress bar goes to stderr


def test_compare_again_reuses_every_run_and_prints_a_table(compared):
    store, _, first, again, stored_before = compared
    assert again.exit_code == 0, again.stderr
    for text in (
        "activation",
        "mean ± std",
        "95% CI",
        "tanh",
        "sigmoid",
        "n = 2",
        "report:",
        "trained 0",
        "reused 4",
    ):
        assert text in again.stdout
    means = {row["activation"]: f"{row['mean']:.4f}" for row in json.loads(first.stdout)["activations"]}
    assert all(mean in again.stdout for mean in means.values())
    with Store(store) as opened:
        assert opened.list_runs() == stored_before  # nothing retrained, nothing added


def test_runs_lists_filters_and_exports(compared, tmp_path):
    store = compared[0]
    listed = runner.invoke(app, ["runs", "--store", str(store), "--json", "--activation", "tanh"])
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 2 and {r["activation"] for r in rows} == {"tanh"}
    exported = runner.invoke(app, ["runs", "--store", str(store), "--csv", str(tmp_path / "runs.csv")])
    assert exported.exit_code == 0 and "exported 4 run(s)" in exported.stdout
    with (tmp_path / "runs.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 4
    table = runner.invoke(app, ["runs", "--store", str(store), "--limit", "1"])
    assert table.exit_code == 0 and "1 run(s)" in table.stdout


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,label\n1,2,0\n3,abc,1\n5,6,0\n")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "circel"], "unknown task 'circel'; closest: circle"),
        (["--task", "circle", "--acts", "tanh,sigmiod"], "unknown activation 'sigmiod'; closest: sigmoid"),
        (["--task", "circle", "--model", "mlpp"], "unknown model 'mlpp'"),
        (["--task", "circle", "--steps", "0"], "steps = 0 is not allowed"),
        (["--task", "circle", "--seeds", "0"], "seeds must be at least 1"),
        (["--task", "circle", "--batch-size", "100000"], "batch size 100000 is larger"),
        (["--task", "circle", "--optimizer", "adamw"], "unknown optimizer 'adamw'"),
        (["--task", "circle", "--task-option", "noise"], "--task-option takes key=value"),
        (["--task", "circle", "--task-option", "colour=red"], "has no option 'colour'"),
        (["--task", "circle", "--target", "label"], "give the file with --data"),
        (["--task", "circle", "--jobs", "0"], "jobs"),
        (["--data", "BAD_CSV", "--target", "label"], "feature column 'x2' is not numeric"),
        (["--data", "BAD_CSV", "--target", "labl"], "did you mean 'label'"),
        (["--data", "BAD_CSV"], "--data needs --target"),
        (["--data", "missing.csv", "--target", "label"], "does not exist"),
    ],
)
def test_compare_refuses_bad_input(args, message, bad_csv, tmp_path):
    args = [str(bad_csv) if a == "BAD_CSV" else a for a in args]
    if "--steps" not in args:
        args += ["--steps", "20"]
    store = tmp_path / "s.sqlite"
    result = runner.invoke(app, ["compare", *args, "--store", str(store)])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.startswith("error:")
    assert message in " ".join(result.stderr.split())  # rich may wrap the line on narrow terminals
    assert result.stdout == ""
    assert not store.exists()  # refused before anything was stored


def test_runs_without_a_store_is_a_clean_error(tmp_path):
    result = runner.invoke(app, ["runs", "--store", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2 and "no results store" in result.stderr
