"""The lab's models: plain PyTorch modules that take the activation as a parameter.

Every model is a tree of ``nn.Sequential`` blocks holding only standard layers (``nn.Linear``,
``nn.Conv1d/2d``, ``nn.Embedding``, pooling, ``nn.Flatten``/``nn.Unflatten``), ``Residual`` blocks and
actlab activation modules from ``actlab.get``. Activations are named submodules (``act0``, ``act1``,
...), so probes and ``actlab.swap`` find them; the batched trainer (``ensemble.py``) stacks several of
these trees into one. The output layer gives logits: the loss (BCE with logits, cross-entropy, MSE)
lives with the task in the trainer, which keeps sigmoid/softmax numerically stable.

    >>> model = build_model("mlp", make_task("circle"), "tanh", depth=2, width=8)
    >>> model = build_model("mlp", task, ["relu", "gelu:approximate=tanh"], depth=2)
"""

from __future__ import annotations

import difflib
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

import actlab
from actlab.lab.tasks import Task

INITS = ("default", "he", "xavier", "lecun")


class Residual(nn.Module):
    """h + body(h): the skip connection of residual MLPs (the body keeps the width)."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


# ----------------------------------------------------------------------------------------------------
# activation strings: "leaky_relu:negative_slope=0.1", "softplus:beta=2,threshold=10"
# ----------------------------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A command-line value: true/false, none, an int, a float, else the (unquoted) string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip().strip("'\"")


def parse_activation(text: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into the canonical name and its validated parameters."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"activation must be a catalogue name such as 'tanh', got {text!r}")
    name, _, rest = text.strip().partition(":")
    spec = actlab.spec(name.strip())  # unknown names raise ValueError with the closest names
    kwargs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"activation {text!r}: parameters are written key=value, got {item!r}")
        kwargs[key.strip()] = parse_value(value)
    try:
        spec.bind((), **kwargs)
    except TypeError as err:  # unknown parameter names: the catalogue's message already lists them
        raise ValueError(str(err)) from None
    return spec.name, kwargs


def activation_list(activation: str | Sequence[str], count: int) -> list[str]:
    """One activation string per hidden layer: a single name is repeated, 'a|b|c' or a list is per layer."""
    items = activation.split("|") if isinstance(activation, str) else list(activation)
    if len(items) == 1:
        items = items * count
    if len(items) != count:
        raise ValueError(
            f"this model has {count} activation layers; give one activation or a list of {count}"
        )
    for item in items:
        parse_activation(item)
    return items


def make_activation(text: str) -> nn.Module:
    name, kwargs = parse_activation(text)
    return actlab.get(name, **kwargs)


def _gated(text: str) -> bool:
    """GLU-family activations halve their input: the layer before them must be twice as wide."""
    return actlab.spec(parse_activation(text)[0]).kind == "gated"


# ----------------------------------------------------------------------------------------------------
# the architectures
# ----------------------------------------------------------------------------------------------------
def _flat_inputs(task: Task, model: str) -> int:
    if task.kind == "sequence":
        raise ValueError(
            f"model {model!r} does not take token sequences; for task {task.name!r} use char_mlp"
        )
    return math.prod(task.input_shape)


def _dense(features: int, width: int, act: str) -> list[nn.Module]:
    return [nn.Linear(features, width * 2 if _gated(act) else width), make_activation(act)]


def _hidden_stack(
    layers: OrderedDict[str, nn.Module],
    features: int,
    acts: list[str],
    width: int,
    residual: bool,
    outputs: int,
) -> nn.Sequential:
    """Append fc{i}/act{i} pairs (residual blocks h + act(W h) after the first when asked) and the output."""
    for i, act in enumerate(acts):
        linear, module = _dense(features, width, act)
        if residual and i > 0:
            layers[f"block{i}"] = Residual(
                nn.Sequential(OrderedDict([(f"fc{i}", linear), (f"act{i}", module)]))
            )
        else:
            layers[f"fc{i}"], layers[f"act{i}"] = linear, module
        features = width
    layers["out"] = nn.Linear(features, outputs)
    return nn.Sequential(layers)


def _mlp(task: Task, acts: list[str], depth: int, width: int, residual: bool) -> nn.Module:
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if len(task.input_shape) > 1:
        layers["flatten"] = nn.Flatten()
    return _hidden_stack(layers, _flat_inputs(task, "mlp"), acts, width, residual, task.n_outputs)


def _mnist1d_mlp(task: Task, acts: list[str]) -> nn.Module:
    """The MNIST-1D reference MLP: 40 -> 100, act, h + act(W h), 100 -> 10 (Greydanus 2020)."""
    a0, a1 = acts
    fc0, act0 = _dense(_flat_inputs(task, "mnist1d_mlp"), 100, a0)
    fc1, act1 = _dense(100, 100, a1)
    return nn.Sequential(
        OrderedDict(
            [
                ("fc0", fc0),
                ("act0", act0),
                ("block1", Residual(nn.Sequential(OrderedDict([("fc1", fc1), ("act1", act1)])))),
                ("out", nn.Linear(100, task.n_outputs)),
            ]
        )
    )


def _one_dimensional(task: Task, model: str) -> int:
    if task.kind == "sequence" or len(task.input_shape) != 1 or task.input_shape[0] < 8:
        raise ValueError(
            f"model {model!r} needs a 1-D signal of length >= 8 (mnist1d) or an image (digits); "
            f"task {task.name!r} has inputs of shape {task.input_shape}"
        )
    return task.input_shape[0]


def _mnist1d_cnn(task: Task, acts: list[str]) -> nn.Module:
    """The MNIST-1D reference CNN: conv(1->25, k5, s2, p1), conv(25->25, k3, s2, p1) x 2, linear -> 10."""
    length = _one_dimensional(task, "mnist1d_cnn")
    for kernel in (5, 3, 3):
        length = (length + 2 - kernel) // 2 + 1
    if any(_gated(a) for a in acts):
        raise ValueError("mnist1d_cnn does not take gated (GLU-family) activations; use mlp")
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        [("unflatten", nn.Unflatten(1, (1, task.input_shape[0])))]
    )
    channels = 1
    for i, kernel in enumerate((5, 3, 3)):
        layers[f"conv{i}"] = nn.Conv1d(channels, 25, kernel, stride=2, padding=1)
        layers[f"act{i}"] = make_activation(acts[i])
        channels = 25
    layers["flatten"] = nn.Flatten()
    layers["out"] = nn.Linear(25 * length, task.n_outputs)
    return nn.Sequential(layers)


def _vgg_small(task: Task, acts: list[str], depth: int, width: int) -> nn.Module:
    """VGG-style blocks (conv-act-conv-act-pool) for 8x8 images or 1-D signals; channels double per block."""
    if any(_gated(a) for a in acts):
        raise ValueError("vgg_small does not take gated (GLU-family) activations; use mlp")
    image = len(task.input_shape) == 3
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if image:
        channels, *spatial = task.input_shape
        conv, pool = nn.Conv2d, nn.MaxPool2d
    else:
        length = _one_dimensional(task, "vgg_small")
        channels, spatial = 1, [length]
        conv, pool = nn.Conv1d, nn.MaxPool1d
        layers["unflatten"] = nn.Unflatten(1, (1, length))
    if min(spatial) < 2**depth:
        raise ValueError(
            f"vgg_small with depth {depth} pools {depth} times; inputs {task.input_shape} are too small"
        )
    base = max(1, width // 4)
    for block in range(depth):
        out_channels = base * 2**block
        for j in range(2):
            k = 2 * block + j
            layers[f"conv{k}"] = conv(channels, out_channels, 3, padding=1)
            layers[f"act{k}"] = make_activation(acts[k])
            channels = out_channels
        layers[f"pool{block}"] = pool(2)
        spatial = [s // 2 for s in spatial]
    layers["flatten"] = nn.Flatten()
    layers["out"] = nn.Linear(channels * math.prod(spatial), task.n_outputs)
    return nn.Sequential(layers)


EMBEDDING_DIM = 16


def _char_mlp(task: Task, acts: list[str], depth: int, width: int, residual: bool) -> nn.Module:
    """Bengio-style (2003) character model: embed k previous characters, hidden layers, logits over vocab."""
    if task.kind != "sequence":
        raise ValueError(f"char_mlp is for sequence tasks (chars); task {task.name!r} is {task.kind}")
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        [("embed", nn.Embedding(task.n_outputs, EMBEDDING_DIM)), ("flatten", nn.Flatten())]
    )
    return _hidden_stack(layers, EMBEDDING_DIM * task.input_shape[0], acts, width, residual, task.n_outputs)


# name -> (number of activation layers given depth, builder)
_MODELS: dict[str, tuple[Callable[[int], int], Callable[..., nn.Module]]] = {
    "mlp": (lambda depth: depth, lambda t, a, d, w, r: _mlp(t, a, d, w, r)),
    "logistic": (lambda depth: 0, lambda t, a, d, w, r: _mlp(t, [], 0, w, False)),
    "vgg_small": (lambda depth: 2 * depth, lambda t, a, d, w, r: _vgg_small(t, a, d, w)),
    "mnist1d_mlp": (lambda depth: 2, lambda t, a, d, w, r: _mnist1d_mlp(t, a)),
    "mnist1d_cnn": (lambda depth: 3, lambda t, a, d, w, r: _mnist1d_cnn(t, a)),
    "char_mlp": (lambda depth: depth, lambda t, a, d, w, r: _char_mlp(t, a, d, w, r)),
}


def model_names() -> list[str]:
    """Every model ``build_model`` knows."""
    return list(_MODELS)


def activation_count(name: str, depth: int = 2) -> int:
    """How many activation layers the model ``name`` has at this depth."""
    return _MODELS[check_model(name)][0](depth)


def check_model(name: str) -> str:
    """``name`` if it is a known model, else ``ValueError`` with the closest names."""
    if name not in _MODELS:
        close = difflib.get_close_matches(str(name), list(_MODELS), n=3, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}. Models: {', '.join(_MODELS)}")
    return name


def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} = {value!r} is not allowed; use an integer >= {minimum}")
    return value


def initialise(model: nn.Module, init: str) -> nn.Module:
    """Re-initialise weights: 'he' (Kaiming normal, fan-in), 'xavier' (Glorot uniform), 'lecun'
    (normal, std 1/sqrt(fan-in)); biases zero. 'default' keeps PyTorch's own initialisation."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; use one of {', '.join(INITS)}")
    if init == "default":
        return model
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            if init == "he":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif init == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="linear")  # std = 1/sqrt(fan_in)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def build_model(
    name: str,
    task: Task,
    activation: str | Sequence[str],
    *,
    depth: int = 2,
    width: int = 64,
    residual: bool = False,
    init: str = "default",
) -> nn.Module:
    """A fresh model for ``task`` with the given activation(s); weights drawn from torch's global RNG
    (the trainer seeds it), then re-initialised by ``init``."""
    check_model(name)
    depth = _check_int(depth, "depth", 0)
    width = _check_int(width, "width", 1)
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; use one of {', '.join(INITS)}")
    count = activation_count(name, depth)
    acts = activation_list(activation, count) if count else []
    if not count:
        for item in [activation] if isinstance(activation, str) else activation:
            for part in item.split("|"):
                parse_activation(part)  # still refuse an unknown name, even where it is unused
    _, builder = _MODELS[name]
    return initialise(builder(task, acts, depth, width, bool(residual)), init)


def activation_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The activation layers of a lab model in forward order, with their qualified names."""
    from actlab.nn import Activation

    return [(n, m) for n, m in model.named_modules() if isinstance(m, Activation) or hasattr(m, "spec_name")]
