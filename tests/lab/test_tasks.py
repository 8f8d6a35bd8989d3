"""Tasks: shapes and dtypes, determinism by seed, offline generation, the safe expression, CSV errors."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from actlab.lab import tasks
from actlab.lab.tasks import make_task, task_names

PLANE = ["circle", "xor", "gauss", "spiral", "moons"]


@pytest.mark.parametrize("name", PLANE)
def test_plane_tasks_are_binary_2d_and_balanced(name):
    task = make_task(name, n=200)
    assert task.kind == "binary" and task.is_plane and task.n_outputs == 1 and task.input_shape == (2,)
    assert task.x_train.dtype == torch.float32 and task.y_train.dtype == torch.int64
    assert len(task.x_train) + len(task.x_test) == 200 and len(task.x_train) == 100  # train_ratio 0.5
    labels = torch.cat([task.y_train, task.y_test])
    assert set(labels.tolist()) == {0, 1}
    assert 0.3 < labels.float().mean().item() < 0.7


@pytest.mark.parametrize("name", PLANE + ["sin", "abs", "step", "digits", "chars"])
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = make_task(name, seed=3), make_task(name, seed=3)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert torch.equal(a.x_test, b.x_test)
    if name != "chars":  # the text is fixed; the seed only matters for generated or shuffled data
        c = make_task(name, seed=4)
        assert not torch.equal(a.x_train, c.x_train)


def test_circle_labels_follow_the_radius_without_noise():
    task = make_task("circle", n=400, noise=0.0)
    radius = task.x_train.norm(dim=1)
    assert torch.equal(task.y_train, (radius < 2.5).long())


def test_xor_labels_follow_the_quadrant_without_noise():
    task = make_task("xor", n=400)
    x = task.x_train
    assert torch.equal(task.y_train, (x[:, 0] * x[:, 1] >= 0).long())


@pytest.mark.parametrize("name, curve", [("sin", np.sin), ("abs", np.abs), ("step", lambda x: (x > 0) * 1.0)])
def test_regression_targets_are_the_curve(name, curve):
    task = make_task(name, n=100)
    assert task.kind == "regression" and task.y_train.shape == (50, 1) and task.y_train.dtype == torch.float32
    expected = curve(task.x_train.double().numpy())
    assert np.allclose(task.y_train.numpy(), expected, atol=1e-6)


def test_expression_is_evaluated_with_whitelisted_functions():
    task = make_task("expr", expr="2*x**2 - sin(pi*x) + abs(x)/3", n=64)
    x = task.x_train.double().numpy()
    assert np.allclose(task.y_train.numpy(), 2 * x**2 - np.sin(np.pi * x) + np.abs(x) / 3, atol=1e-5)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "x.real",
        "open('f')",
        "(lambda: 1)()",
        "[x]",
        "x if 1 else 2",
        "exp.__name__",
        "y + 1",
        "sin(x, 2)",
        "x ** 1000",
        "1/(x-x)",
        "",
        "x +",
    ],
)
def test_unsafe_or_broken_expressions_are_refused(expression):
    with pytest.raises(ValueError, match="expr"):
        make_task("expr", expr=expression)


def test_expression_task_needs_an_expression():
    with pytest.raises(ValueError, match="expr="):
        make_task("expr")


def test_digits_are_scaled_8x8_images_with_ten_classes():
    task = make_task("digits")
    assert task.x_train.shape[1:] == (1, 8, 8) and task.input_shape == (1, 8, 8)
    assert task.kind == "multiclass" and task.n_outputs == 10
    assert task.x_train.min() >= 0 and task.x_train.max() <= 1
    assert len(task.x_train) + len(task.x_test) == 1797


def test_everything_is_generated_offline(monkeypatch):
    """No task opens a socket, and MNIST-1D is generated, never downloaded."""
    import mnist1d.data

    def refuse(*args, **kwargs):
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(mnist1d.data, "get_dataset", refuse)
    tasks._MNIST1D_CACHE.clear()  # generate it here, under the refusal (later tests reuse the cache)
    for name in task_names():
        if name == "csv":
            continue
        options = {"expr": "x"} if name == "expr" else {}
        make_task(name, **options)
    task = make_task("mnist1d")
    assert task.x_train.shape == (4000, 40) and task.x_test.shape == (1000, 40)
    assert task.n_outputs == 10 and set(task.y_test.tolist()) == set(range(10))


def test_chars_windows_predict_the_next_character():
    task = make_task("chars", context=6)
    x, y = task.x_train, task.y_train
    assert task.kind == "sequence" and x.dtype == torch.int64 and x.shape[1] == 6
    assert task.n_outputs == len(task.meta["vocab"]) and int(x.max()) < task.n_outputs
    assert torch.equal(x[1:, :-1], x[:-1, 1:])  # consecutive windows slide by one character
    assert torch.equal(y[:-1], x[1:, -1])  # the target is the character that comes next
    text = "".join(task.meta["vocab"][i] for i in x[0].tolist())
    assert text == tasks.chars_text()[:6]


def test_unknown_task_names_the_closest():
    with pytest.raises(ValueError, match="circle"):
        make_task("circel")
    with pytest.raises(ValueError, match="noise"):
        make_task("circle", nosie=0.1)
    with pytest.raises(ValueError, match="train_ratio"):
        make_task("circle", train_ratio=1.5)
    with pytest.raises(ValueError, match="noise"):
        make_task("spiral", noise=-1)


# ----------------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------------
def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_csv_string_target_is_classification_and_features_are_standardised(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,species"] + [
        f"{rng.normal(5, 2):.4f},{rng.normal(-3, 0.5):.4f},{'xyz'[i % 3]}" for i in range(60)
    ]
    task = make_task("csv", path=write(tmp_path, "\n".join(rows)), target="species")
    assert task.kind == "multiclass" and task.n_outputs == 3 and task.meta["classes"] == ["x", "y", "z"]
    assert task.is_plane
    assert torch.allclose(task.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(task.x_train.std(0, unbiased=False), torch.ones(2), atol=1e-4)
    # the test features use the *train* statistics
    raw = np.array([[float(v) for v in r.split(",")[:2]] for r in rows[1:]])
    mean, std = np.array(task.meta["feature_mean"]), np.array(task.meta["feature_std"])
    test_raw = task.x_test.double().numpy() * std + mean
    assert all(np.isclose(raw, row, atol=1e-3).all(1).any() for row in test_raw)


def test_csv_numeric_targets(tmp_path):
    binary = make_task(
        "csv", path=write(tmp_path, "f,t\n" + "\n".join(f"{i},{i % 2}" for i in range(20))), target="t"
    )
    assert binary.kind == "binary" and binary.n_outputs == 1 and binary.y_train.dtype == torch.int64
    text = "f,t\n" + "\n".join(f"{i},{i * 0.37:.3f}" for i in range(40))
    regression = make_task("csv", path=write(tmp_path, text, "r.csv"), target="t")
    assert regression.kind == "regression" and regression.y_train.shape[1] == 1
    assert regression.y_train.dtype == torch.float32


@pytest.mark.parametrize(
    "text, target, message",
    [
        ("", "t", "empty"),
        ("a,t\n", "t", "no data rows"),
        ("a,b\n1,2\n3,4\n", "t", "columns: a, b"),
        ("a,b,t\n1,2,0\n3,4\n5,6,1\n", "t", "row 3 has 2 fields"),
        ("a,name,t\n1,bob,0\n2,eve,1\n", "t", "'name' is not numeric"),
        ("a,t\n1,0\n2,0\n", "t", "single value"),
    ],
)
def test_csv_errors_name_the_problem(tmp_path, text, target, message):
    with pytest.raises(ValueError, match=message):
        make_task("csv", path=write(tmp_path, text), target=target)


def test_csv_missing_file_and_missing_arguments(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        make_task("csv", path=str(tmp_path / "nope.csv"), target="t")
    with pytest.raises(ValueError, match="target="):
        make_task("csv", path=str(tmp_path / "nope.csv"))
