"""The store keeps whole runs only, never twice, and gives back exactly what it was given."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from actlab.lab import store as store_module
from actlab.lab.store import Store, default_store_path, spec_from_dict
from actlab.lab.types import RunResult, RunSpec, TrainConfig


def make_result(
    activation: str = "relu",
    seed: int = 0,
    task: str = "circle",
    metric: float = 0.9,
    steps: int = 200,
    boundary: bool = False,
    task_options: tuple = (),
) -> RunResult:
    """A RunResult as the trainer would report it (values derived from the inputs, so they differ)."""
    spec = RunSpec(
        task=task, activation=activation, seed=seed, task_options=task_options, train=TrainConfig(steps=steps)
    )
    curve = [
        {
            "step": s,
            "train_loss": 1.0 / (s + 1 + seed),
            "test_loss": 1.2 / (s + 1),
            "test_metric": metric * s / steps,
        }
        for s in range(0, steps + 1, 100)
    ]
    probes = [
        {
            "step": s,
            "layer": layer,
            "dead_fraction": 0.1 * layer,
            "saturated_fraction": 0.05 * (seed + 1),
            "act_mean": 0.0,
            "act_std": 1.0,
            "grad_norm": 10.0 ** -(layer + seed),
            "weight_norm": 1.0,
        }
        for s in (0, steps)
        for layer in (0, 1, 2)
    ]
    grid = None
    if boundary:
        xs = [-1.0 + 0.5 * i for i in range(5)]
        ys = [-1.0 + 0.25 * i for i in range(9)]
        grid = {"xs": xs, "ys": ys, "z": [[1 / (1 + x * x + y * y) for x in xs] for y in ys]}
    return RunResult(
        spec=spec,
        final={"test_metric": metric, "test_loss": 1.0 - metric, "train_loss": 0.5 - metric / 2},
        curve=curve,
        probes=probes,
        seconds=1.5 + seed,
        boundary=grid,
        versions={"torch": "2.x", "actlab": "0.1.0"},
    )


def test_saved_run_comes_back_identical(tmp_path):
    result = make_result("tanh", seed=3, boundary=True, task_options=(("noise", 0.1), ("points", (1, 2))))
    with Store(tmp_path / "s.sqlite") as store:
        assert store.save(result) is True
        [back] = store.results([result.spec.key()])
    assert back == result
    assert back.spec.key() == result.spec.key()


def test_reopened_store_keeps_runs(tmp_path):
    path = tmp_path / "nested" / "s.sqlite"
    with Store(path) as store:
        store.save(make_result("relu", 0))
    with Store(path) as store:
        assert store.count() == 1
        assert store.results(task="circle")[0].spec.activation == "relu"


def test_a_key_is_never_stored_twice(tmp_path):
    result = make_result("relu", 1)
    with Store(tmp_path / "s.sqlite") as store:
        assert store.save(result) is True
        first = store.list_runs()[0]
        assert store.save(make_result("relu", 1, metric=0.1)) is False
        assert store.count() == 1
        assert store.list_runs()[0] == first  # the first write is kept untouched
        raw = sqlite3.connect(store.path)
        assert raw.execute("SELECT COUNT(*) FROM run_details").fetchone()[0] == 1


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    """A run whose details cannot be written must not leave its row behind (one transaction)."""
    with Store(tmp_path / "s.sqlite") as store:
        real_dumps = store_module._dumps
        calls = []

        def failing_dumps(value):
            calls.append(value)
            if len(calls) == 4:  # the first details column, after the runs row's three JSON columns
                raise RuntimeError("disk full")
            return real_dumps(value)

        monkeypatch.setattr(store_module, "_dumps", failing_dumps)
        with pytest.raises(RuntimeError):
            store.save(make_result("relu", 0))
        monkeypatch.setattr(store_module, "_dumps", real_dumps)
        assert store.count() == 0
        assert store.missing([make_result("relu", 0).spec]) == [make_result("relu", 0).spec]
        assert store.save(make_result("relu", 0)) is True  # and the store is usable afterwards


def test_missing_lists_unstored_runs_in_order(tmp_path):
    specs = [make_result(act, seed).spec for seed in range(3) for act in ("relu", "tanh")]
    with Store(tmp_path / "s.sqlite") as store:
        for index in (0, 3, 4):
            store.save(make_result(specs[index].activation, specs[index].seed))
        assert store.missing(specs) == [specs[1], specs[2], specs[5]]
        other_steps = make_result("relu", 0, steps=300).spec  # any config change is a different run
        assert store.missing([other_steps]) == [other_steps]


def test_missing_handles_more_keys_than_sqlite_parameters(tmp_path):
    specs = [RunSpec(task="circle", activation="relu", seed=s) for s in range(1200)]
    with Store(tmp_path / "s.sqlite") as store:
        store.save(make_result("relu", 0, steps=2000))
        assert len(store.missing(specs)) == 1199


def test_filters_and_listing(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        for seed in range(3):
            store.save(make_result("relu", seed))
            store.save(make_result("tanh", seed, task="xor"))
        assert len(store.results(activation="relu")) == 3
        assert {r.spec.task for r in store.results(task="xor")} == {"xor"}
        listed = store.list_runs(limit=2)
        assert len(listed) == 2
        assert listed[0]["id"] > listed[1]["id"]  # newest first
        assert set(listed[0]) == set(store_module.LIST_COLUMNS)
        with pytest.raises(ValueError, match="unknown run filter 'colour'.*allowed"):
            store.results(colour="red")
        with pytest.raises(ValueError, match="limit"):
            store.list_runs(limit=0)


def test_export_csv(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save(make_result("relu", 0, metric=0.75))
        store.save(make_result("tanh", 0, metric=0.5))
        assert store.export_csv(tmp_path / "out" / "runs.csv", activation="tanh") == 1
    with (tmp_path / "out" / "runs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["activation"] for r in rows] == ["tanh"]
    assert float(rows[0]["test_metric"]) == 0.5
    assert float(rows[0]["test_loss"]) == 0.5


def test_schema_version_and_wal(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        raw = sqlite3.connect(store.path)
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [
            (store_module.SCHEMA_VERSION,)
        ]
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE schema_version SET version = 99")
    raw.commit()
    raw.close()
    with pytest.raises(ValueError, match="schema version 99"):
        Store(path)


def test_not_a_store(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not sqlite " * 100)
    with pytest.raises(ValueError, match="not an actlab store"):
        Store(junk)
    with pytest.raises(ValueError, match="folder"):
        Store(tmp_path)


def test_default_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("ACTLAB_STORE", raising=False)
    assert str(default_store_path()) == "runs/actlab.sqlite"
    monkeypatch.setenv("ACTLAB_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"


def test_spec_round_trip_keeps_key():
    spec = RunSpec(
        task="spiral",
        activation="leaky_relu:negative_slope=0.1",
        seed=7,
        model="mlp",
        task_options=(("noise", 0.2),),
        model_options=(("depth", 3), ("width", 16)),
        train=TrainConfig(optimizer="sgd", lr=0.1, steps=50),
    )
    assert spec_from_dict(spec.as_dict()) == spec
    assert spec_from_dict(spec.as_dict()).key() == spec.key()
