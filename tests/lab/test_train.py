"""Training: loss falls, an ensemble member equals the same run alone, determinism, probes, errors."""

from __future__ import annotations

import math

import pytest
import torch

from actlab.lab.ensemble import BatchedModel
from actlab.lab.models import build_model
from actlab.lab.tasks import make_task
from actlab.lab.train import evaluate_members, plan_groups, train_runs
from actlab.lab.types import RunSpec, TrainConfig

from .test_models import CHARS, CIRCLE, DIGITS, MNIST1D

SHORT = TrainConfig(steps=60, eval_every=20, batch_size=32)
SMALL = (("width", 8),)
TASK = (("n", 120),)


def run(
    activation="tanh", seed=0, task="circle", train=SHORT, model="mlp", model_options=SMALL, task_options=TASK
):
    return RunSpec(task, activation, seed, model, task_options, model_options, train)


def assert_same_result(a, b, rel=1e-5):
    assert a.spec == b.spec
    for key in a.final:
        assert a.final[key] == pytest.approx(b.final[key], rel=rel, abs=1e-7), key
    for row_a, row_b in zip(a.curve, b.curve, strict=True):
        assert row_a == pytest.approx(row_b, rel=rel, abs=1e-7)
    for row_a, row_b in zip(a.probes, b.probes, strict=True):
        assert row_a == pytest.approx(row_b, rel=rel, abs=1e-6)


# ----------------------------------------------------------------------------------------------------
# the batched model is the members, stacked
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model, task", [("mlp", DIGITS), ("vgg_small", DIGITS), ("mnist1d_cnn", MNIST1D), ("char_mlp", CHARS)]
)
def test_batched_forward_equals_each_member(model, task):
    acts = ["tanh", "sigmoid", "tanh", "identity"]
    members = []
    for seed, act in enumerate(acts):
        torch.manual_seed(seed)
        members.append(build_model(model, task, act, depth=2, width=8, residual=model == "mlp"))
    batched = BatchedModel(members)
    x = task.x_train[:6]
    outputs = batched(torch.stack([x] * len(members)))
    for e, member in enumerate(members):
        assert torch.allclose(outputs[e], member(x), atol=1e-5)
        exported = batched.member(e)
        assert torch.allclose(exported(x), member(x), atol=1e-5)


# ----------------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------------
def test_loss_falls_on_circle_with_tanh():
    config = TrainConfig(steps=300, eval_every=100, batch_size=32, lr=0.02)
    (result,) = train_runs([run(train=config, task_options=(("n", 200),))])
    assert result.curve[-1]["test_loss"] < 0.3 * result.curve[0]["test_loss"]
    assert result.final["test_metric"] > 0.9 and result.final["diverged"] == 0.0
    assert [row["step"] for row in result.curve] == [0, 100, 200, 300]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_optimizer_lowers_the_loss(optimizer):
    config = TrainConfig(optimizer=optimizer, lr=0.05, steps=80, eval_every=40, batch_size=32)
    (result,) = train_runs([run(task="gauss", train=config)])
    assert result.curve[-1]["train_loss"] < result.curve[0]["train_loss"]


def test_member_result_does_not_depend_on_its_ensemble():
    alone = run("sigmoid", seed=1)
    (result_alone,) = train_runs([alone])
    crowd = [run("tanh", 0), run("identity", 1), alone, run("tanh", 3), run("sigmoid", 2)]
    results = train_runs(crowd)
    assert_same_result(result_alone, results[2])


def test_conv_member_result_does_not_depend_on_its_ensemble():
    config = TrainConfig(steps=15, eval_every=5, batch_size=16)
    options = (("width", 8), ("depth", 1))
    alone = RunSpec("digits", "tanh", 4, "vgg_small", (), options, config)
    (result_alone,) = train_runs([alone])
    crowd = [
        RunSpec("digits", a, s, "vgg_small", (), options, config) for a, s in (("sigmoid", 0), ("tanh", 1))
    ]
    results = train_runs([*crowd, alone])
    assert_same_result(result_alone, results[2], rel=1e-4)


def test_same_runs_same_results_other_seed_other_results():
    runs = [run("tanh", 0), run("sigmoid", 1)]
    first, second = train_runs(runs), train_runs(runs)
    for a, b in zip(first, second, strict=True):
        assert a.final == b.final and a.curve == b.curve and a.probes == b.probes
    (other,) = train_runs([run("tanh", 5)])
    assert other.final["test_loss"] != first[0].final["test_loss"]


def test_results_come_back_in_order_with_progress_and_callbacks():
    runs = [run("tanh", 0), run("sigmoid", 0, task="xor"), run("identity", 1)]
    seen, progress = [], []
    results = train_runs(
        runs, on_result=seen.append, progress=lambda done, total: progress.append((done, total))
    )
    assert [r.spec for r in results] == runs
    assert sorted(r.spec.key() for r in seen) == sorted(r.key() for r in runs)
    assert progress[0] == (0, 180) and progress[-1] == (180, 180)
    assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:], strict=False))


def test_processes_give_the_same_results():
    runs = [run("tanh", 0, train=TrainConfig(steps=20, eval_every=10)), run("tanh", 0, task="gauss")]
    serial = train_runs(runs)
    parallel = train_runs(runs, jobs=2)
    for a, b in zip(serial, parallel, strict=True):
        assert a.final == b.final and a.curve == b.curve


def test_groups_are_split_for_processes_with_equal_activations_together():
    runs = [run(a, s) for s in range(3) for a in ("tanh", "sigmoid")] + [run("tanh", 0, task="xor")]
    assert sorted(map(len, plan_groups(runs))) == [1, 6]
    chunks = plan_groups(runs, parts=2)
    assert sorted(map(len, chunks)) == [1, 3, 3]
    for chunk in chunks:
        assert (
            len({runs[i].activation for i in chunk}) == 1 and len({runs[i].group_key() for i in chunk}) == 1
        )


def test_result_is_filled():
    (result,) = train_runs([run()])
    assert set(result.final) >= {"test_loss", "train_loss", "test_metric", "train_metric"}
    assert result.metric_name == "accuracy" and result.higher_is_better
    assert {row["layer"] for row in result.probes} == {0, 1}
    assert {row["step"] for row in result.probes} == {20, 40, 60}  # probes need a gradient: after step 0
    keys = {"dead_fraction", "saturated_fraction", "act_mean", "act_std", "grad_norm", "weight_norm"}
    assert all(keys <= set(row) and all(math.isfinite(row[k]) for k in keys) for row in result.probes)
    assert set(result.versions) == {"torch", "actlab", "python"} and result.seconds > 0
    boundary = result.boundary
    assert len(boundary["xs"]) == 100 and len(boundary["z"]) == 100 and len(boundary["z"][0]) == 100
    assert all(0.0 <= v <= 1.0 for row in boundary["z"] for v in row)
    task = make_task("circle", n=120)
    points = torch.cat([task.x_train, task.x_test])
    assert boundary["xs"][0] == pytest.approx(points[:, 0].min().item(), rel=1e-6)
    assert boundary["ys"][-1] == pytest.approx(points[:, 1].max().item(), rel=1e-6)


def test_regression_reports_mse():
    (result,) = train_runs([run(task="sin")])
    assert result.metric_name == "mse" and not result.higher_is_better
    assert result.final["test_metric"] == result.final["test_loss"] and result.boundary is None


def test_sequence_task_trains_a_character_model():
    config = TrainConfig(steps=60, eval_every=30, batch_size=64)
    (result,) = train_runs(
        [RunSpec("chars", "tanh", 0, "char_mlp", (), (("width", 32), ("depth", 1)), config)]
    )
    assert result.curve[-1]["train_loss"] < result.curve[0]["train_loss"]
    assert 0.0 <= result.final["test_metric"] <= 1.0


def test_batch_larger_than_the_data_is_fine():
    config = TrainConfig(steps=5, eval_every=5, batch_size=10_000)
    (result,) = train_runs([run(train=config, task_options=(("n", 20),))])
    assert result.final["diverged"] == 0.0


# ----------------------------------------------------------------------------------------------------
# probes
# ----------------------------------------------------------------------------------------------------
def probe(model, task=CIRCLE):
    evaluation = evaluate_members(BatchedModel([model]), task, task.x_test, task.y_test, with_probes=True)
    return [layer[0] for layer in evaluation.probes]


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_a_unit_pushed_far_negative_is_dead(activation):
    # relu outputs 0 there; sigmoid(-1e4) underflows to exactly 0 with f' = 0: no gradient passes
    torch.manual_seed(0)
    model = build_model("mlp", CIRCLE, activation, depth=2, width=6)
    with torch.no_grad():
        model.fc0.bias.fill_(-1e4)
    first, second = probe(model)
    assert first["dead_fraction"] == 1.0 and first["act_mean"] == 0.0 and first["act_std"] == 0.0
    assert second["dead_fraction"] < 1.0


def test_healthy_tanh_units_are_alive_and_huge_weights_saturate():
    torch.manual_seed(0)
    model = build_model("mlp", CIRCLE, "tanh", depth=1, width=16)
    (healthy,) = probe(model)
    assert healthy["dead_fraction"] == 0.0
    with torch.no_grad():
        model.fc0.weight.mul_(1e3)
    (saturated,) = probe(model)
    assert saturated["saturated_fraction"] > 0.95 > healthy["saturated_fraction"]


def test_probe_statistics_match_a_direct_computation():
    torch.manual_seed(0)
    model = build_model("mlp", CIRCLE, ["tanh", "sigmoid"], depth=2, width=5)
    first, second = probe(model)
    h0 = torch.tanh(model.fc0(CIRCLE.x_test))
    h1 = torch.sigmoid(model.fc1(h0))
    for stats, h in ((first, h0), (second, h1)):
        assert stats["act_mean"] == pytest.approx(h.mean().item(), rel=1e-5)
        assert stats["act_std"] == pytest.approx(h.std(unbiased=False).item(), rel=1e-4)
    d = 1 - torch.tanh(model.fc0(CIRCLE.x_test)) ** 2
    assert first["saturated_fraction"] == pytest.approx((d.abs() < 1e-3).float().mean().item())


# ----------------------------------------------------------------------------------------------------
# impossible settings
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, message",
    [
        (run(train=TrainConfig(steps=0)), "steps"),
        (run(train=TrainConfig(batch_size=0)), "batch_size"),
        (run(train=TrainConfig(lr=0.0)), "lr"),
        (run(train=TrainConfig(lr=-1.0)), "lr"),
        (run(train=TrainConfig(optimizer="rmsprop")), "sgd, momentum, adam"),
        (run(train=TrainConfig(init="zeros")), "default, he, xavier, lecun"),
        (run(train=TrainConfig(weight_decay=-0.1)), "weight_decay"),
        (run(model="resnet"), "unknown model"),
        (run(model="vgg_small"), "1-D signal"),
        (run(model_options=(("width", 0),)), "width"),
        (run(model_options=(("depth", -1),)), "depth"),
        (run(model_options=(("height", 3),)), "depth, width, residual"),
        (run(activation="tanhh"), "closest"),
        (run(task="circel"), "circle"),
    ],
)
def test_impossible_settings_are_refused_before_training(spec, message):
    with pytest.raises(ValueError, match=message):
        train_runs([run(), spec])
