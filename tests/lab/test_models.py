"""Models: output shapes per task, per-layer activations, initialisation schemes, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actlab.lab.models import (
    Residual,
    activation_modules,
    build_model,
    model_names,
    parse_activation,
)
from actlab.lab.tasks import Task


def fake_task(kind="binary", input_shape=(2,), n_outputs=1, name="fake", n=16) -> Task:
    """A Task with random data of the given shape: models only look at shapes and kinds."""
    if kind == "sequence":
        x = torch.randint(0, n_outputs, (n, *input_shape))
    else:
        x = torch.randn(n, *input_shape)
    y = torch.zeros(n, 1) if kind == "regression" else torch.zeros(n, dtype=torch.int64)
    return Task(
        name, kind, x, y, x, y, n_outputs, tuple(input_shape), len(input_shape) == 1 and input_shape[0] == 2
    )


CIRCLE = fake_task()
SINE = fake_task("regression", (1,), 1, "sin")
DIGITS = fake_task("multiclass", (1, 8, 8), 10, "digits")
MNIST1D = fake_task("multiclass", (40,), 10, "mnist1d")
CHARS = fake_task("sequence", (8,), 30, "chars")


@pytest.mark.parametrize(
    "model, task, outputs",
    [
        ("mlp", CIRCLE, 1),
        ("mlp", SINE, 1),
        ("mlp", DIGITS, 10),
        ("logistic", CIRCLE, 1),
        ("logistic", MNIST1D, 10),
        ("vgg_small", DIGITS, 10),
        ("vgg_small", MNIST1D, 10),
        ("mnist1d_mlp", MNIST1D, 10),
        ("mnist1d_cnn", MNIST1D, 10),
        ("char_mlp", CHARS, 30),
    ],
)
def test_output_shape_follows_the_task(model, task, outputs):
    net = build_model(model, task, "tanh", depth=2, width=16)
    assert net(task.x_train[:5]).shape == (5, outputs)


def test_every_model_is_covered():
    assert set(model_names()) == {"mlp", "logistic", "vgg_small", "mnist1d_mlp", "mnist1d_cnn", "char_mlp"}


def test_activation_per_hidden_layer_in_order():
    net = build_model("mlp", CIRCLE, ["tanh", "sigmoid", "identity"], depth=3, width=4)
    found = activation_modules(net)
    assert [name for name, _ in found] == ["act0", "act1", "act2"]
    assert [m.spec.name for _, m in found] == ["tanh", "sigmoid", "identity"]
    same = build_model("mlp", CIRCLE, "tanh|sigmoid|identity", depth=3, width=4)
    assert [m.spec.name for _, m in activation_modules(same)] == ["tanh", "sigmoid", "identity"]
    single = build_model("mlp", CIRCLE, "sigmoid", depth=3, width=4)
    assert [m.spec.name for _, m in activation_modules(single)] == ["sigmoid"] * 3


def test_activation_parameters_reach_the_module():
    assert parse_activation("step:threshold=0.5") == ("step", {"threshold": 0.5})
    assert parse_activation("tanh") == ("tanh", {})
    net = build_model("mlp", CIRCLE, "step:threshold=0.25", depth=1, width=3)
    (_, module), *_ = activation_modules(net)
    assert module.static_params == {"threshold": 0.25}


@pytest.mark.parametrize("bad", ["tanhh", "step:thresh=1", "step:threshold", "", "step:threshold=abc"])
def test_bad_activation_strings(bad):
    with pytest.raises(ValueError):
        parse_activation(bad)


def test_hidden_layers_compute_act_of_linear():
    net = build_model("mlp", CIRCLE, ["tanh", "sigmoid"], depth=2, width=5)
    x = torch.randn(7, 2)
    h = torch.tanh(net.fc0(x))
    h = torch.sigmoid(net.fc1(h))
    assert torch.allclose(net(x), net.out(h), atol=1e-6)


def test_residual_mlp_adds_the_skip():
    net = build_model("mlp", CIRCLE, "tanh", depth=3, width=6, residual=True)
    assert sum(isinstance(m, Residual) for m in net.modules()) == 2  # the first layer changes width
    x = torch.randn(4, 2)
    h = torch.tanh(net.fc0(x))
    h = h + torch.tanh(net.block1.body.fc1(h))
    h = h + torch.tanh(net.block2.body.fc2(h))
    assert torch.allclose(net(x), net.out(h), atol=1e-6)


def count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_mnist1d_reference_models_have_the_papers_sizes():
    # 40*100+100 + 100*100+100 + 100*10+10 ; conv 1->25 k5, 25->25 k3 twice, 125 -> 10
    assert count(build_model("mnist1d_mlp", MNIST1D, "tanh")) == 15210
    cnn = build_model("mnist1d_cnn", MNIST1D, "tanh")
    assert count(cnn) == (25 * 5 + 25) + 2 * (25 * 25 * 3 + 25) + (125 * 10 + 10)
    assert cnn.out.in_features == 125


def test_logistic_has_no_hidden_layer():
    net = build_model("logistic", MNIST1D, "tanh")
    assert activation_modules(net) == [] and count(net) == 410


@pytest.mark.parametrize(
    "init, std",
    [("he", lambda fan_in: math.sqrt(2 / fan_in)), ("lecun", lambda fan_in: math.sqrt(1 / fan_in)),
     ("xavier", lambda fan_in: math.sqrt(2 / (fan_in + 400)))],
)  # fmt: skip
def test_init_schemes_set_the_weight_scale(init, std):
    torch.manual_seed(0)
    wide = fake_task("binary", (400,))
    net = build_model("mlp", wide, "tanh", depth=2, width=400, init=init)
    weight = net.fc1.weight
    assert abs(weight.std().item() / std(400) - 1) < 0.03
    assert torch.count_nonzero(net.fc1.bias) == 0


def test_default_init_is_pytorchs_own():
    torch.manual_seed(1)
    net = build_model("mlp", CIRCLE, "tanh", depth=1, width=8)
    torch.manual_seed(1)
    reference = nn.Linear(2, 8)
    assert torch.equal(net.fc0.weight, reference.weight) and torch.equal(net.fc0.bias, reference.bias)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="mpl"), "closest: mlp"),
        (dict(width=0), "width"),
        (dict(depth=-1), "depth"),
        (dict(init="orthogonal"), "he, xavier, lecun"),
        (dict(activation=["tanh", "tanh", "tanh"]), "2 activation layers"),
        (dict(activation="relux_unknown"), "unknown activation"),
        (dict(name="vgg_small"), "1-D signal"),
        (dict(name="char_mlp"), "sequence"),
        (dict(name="mnist1d_cnn"), "1-D signal"),
    ],
)
def test_bad_model_arguments(kwargs, message):
    args = dict(name="mlp", task=CIRCLE, activation="tanh") | kwargs
    name, task, activation = args.pop("name"), args.pop("task"), args.pop("activation")
    with pytest.raises(ValueError, match=message):
        build_model(name, task, activation, **args)


def test_token_tasks_need_a_character_model():
    with pytest.raises(ValueError, match="char_mlp"):
        build_model("mlp", CHARS, "tanh")


def test_vgg_small_refuses_more_pooling_than_the_input_allows():
    with pytest.raises(ValueError, match="too small"):
        build_model("vgg_small", DIGITS, "tanh", depth=4)
