"""The training engine behind one playground session: data, network, optimiser, and the frames it sends.

A frame is what the page draws after some training: the output over a 100×100 grid of the plane (one
byte per cell), a 20×20 thumbnail per hidden neuron, the weights, the losses and accuracies, the
gradient norm per layer and which neurons are dead. ``Engine.advance`` trains up to one epoch (one pass
over the training points in mini-batches, as TensorFlow Playground counts them) within a time budget.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import actlab
from actlab.playground.data import VIEW, Points, features, split
from actlab.playground.settings import Settings

HEATMAP_SIZE = 100
THUMB_SIZE = 20
MOMENTUM = 0.9


def grid(size: int) -> torch.Tensor:
    """Cell centres of a size×size grid over the view, row-major from the top-left corner (x→, y↓)."""
    step = 2 * VIEW / size
    coords = -VIEW + step * (torch.arange(size, dtype=torch.float32) + 0.5)
    ys, xs = torch.meshgrid(coords.flip(0), coords, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).decode("ascii")


def build_network(
    n_inputs: int, layers: tuple[int, ...], activations: tuple[str, ...], n_outputs: int, init: str, seed: int
) -> nn.Sequential:
    """Linear → activation per hidden layer → Linear to the output logits, initialised from ``seed``.

    An ``nn.Sequential`` so that its state_dict loads into the code ``export.python_code`` writes.
    """
    modules: list[nn.Module] = []
    width = n_inputs
    for units, name in zip(layers, activations, strict=True):
        modules += [nn.Linear(width, units), actlab.get(name)]
        width = units
    modules.append(nn.Linear(width, n_outputs))
    net = nn.Sequential(*modules)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net:
            if isinstance(module, nn.Linear):
                _init_linear(module, init, generator)
    return net


def _init_linear(layer: nn.Linear, init: str, generator: torch.Generator) -> None:
    fan_in, fan_out = layer.in_features, layer.out_features
    if init == "default":  # torch's own default, drawn from our generator so a seed fixes it
        bound = 1 / math.sqrt(fan_in)
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
        return
    std = {
        "he": math.sqrt(2 / fan_in),
        "lecun": math.sqrt(1 / fan_in),
        "xavier": math.sqrt(2 / (fan_in + fan_out)),
    }[init]
    layer.weight.normal_(0.0, std, generator=generator)
    layer.bias.zero_()


class Engine:
    """Trains one network on one data set and renders frames of its state."""

    def __init__(self, settings: Settings, points: Points) -> None:
        self.settings = settings
        self.points = points
        train, test = split(len(points.y), settings.train_ratio)
        xy = torch.from_numpy(points.x)
        inputs = features(xy, settings.features)
        target = torch.from_numpy(points.y)
        if points.kind == "binary":
            target = target.float()  # what the loss takes; converted once, not per step
        self.x_train, self.y_train = inputs[train], target[train]
        self.x_test, self.y_test = inputs[test], target[test]
        self.n_outputs = points.n_classes if points.kind == "multiclass" else 1
        self.model = build_network(
            inputs.shape[1],
            settings.layers,
            settings.activations,
            self.n_outputs,
            settings.init,
            settings.seed,
        )
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        self.activations = [m for m in self.model if not isinstance(m, nn.Linear)]
        # the heatmap grid and the thumbnail grid go through the network in one pass
        self.grid_inputs = torch.cat(
            [features(grid(HEATMAP_SIZE), settings.features), features(grid(THUMB_SIZE), settings.features)]
        )
        self.shuffle = torch.Generator().manual_seed(settings.seed + 1)
        self.optimizer = self._make_optimizer()
        self.epoch = 0
        self.steps = 0
        self._batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._grad_sum = torch.zeros(len(self.linears))
        self._grad_count = 0
        self._last_grad_norms = [0.0] * len(self.linears)
        self.history: list[dict[str, float | None]] = []

    # ----- training -----
    def _make_optimizer(self) -> torch.optim.Optimizer:
        s = self.settings
        params = self.model.parameters()
        if s.optimizer == "adam":
            return torch.optim.Adam(params, lr=s.lr)
        return torch.optim.SGD(params, lr=s.lr, momentum=MOMENTUM if s.optimizer == "momentum" else 0.0)

    def update_training(self, settings: Settings) -> None:
        """Apply settings that do not reshape the network (optimiser, rate, batch, regularisation)."""
        old = self.settings
        self.settings = settings
        if settings.optimizer != old.optimizer:
            self.optimizer = self._make_optimizer()
        else:
            for group in self.optimizer.param_groups:
                group["lr"] = settings.lr
        if settings.batch_size != old.batch_size:
            self._batches = []

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        kind = self.points.kind
        if kind == "binary":
            return F.binary_cross_entropy_with_logits(out[:, 0], target)
        if kind == "multiclass":
            return F.cross_entropy(out, target)
        return F.mse_loss(out[:, 0], target)

    def _penalty(self) -> torch.Tensor | None:
        s = self.settings
        if s.regularization == "none" or s.reg_rate == 0:
            return None
        if s.regularization == "l1":
            return s.reg_rate * sum(layer.weight.abs().sum() for layer in self.linears)
        return s.reg_rate * 0.5 * sum(layer.weight.pow(2).sum() for layer in self.linears)

    def step(self, inputs: torch.Tensor, target: torch.Tensor) -> None:
        """One optimiser step on one mini-batch."""
        loss = self.loss(self.model(inputs), target)
        penalty = self._penalty()
        if penalty is not None:
            loss = loss + penalty  # per step, as TensorFlow Playground applies it
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [layer.weight.grad for layer in self.linears]
        if all(g is not None for g in grads):
            self._grad_sum += torch.stack(torch._foreach_norm(grads))
            self._grad_count += 1
        self.optimizer.step()
        self.steps += 1

    def advance(self, budget_s: float = math.inf) -> None:
        """Train until the current epoch ends, or until ``budget_s`` seconds have passed."""
        start = time.perf_counter()
        if not self._batches:
            perm = torch.randperm(len(self.y_train), generator=self.shuffle)
            size = self.settings.batch_size
            # one gather per epoch; the mini-batches are then cheap slices of it
            self._batches = list(
                zip(self.x_train[perm].split(size), self.y_train[perm].split(size), strict=True)
            )
            self._batches.reverse()
        self.model.train()
        while self._batches:
            self.step(*self._batches.pop())
            if time.perf_counter() - start > budget_s:
                break
        if not self._batches:
            self.epoch += 1

    # ----- what the page sees -----
    @torch.no_grad()
    def _metrics(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None, torch.Tensor]:
        out = self.model(x)
        loss = float(self.loss(out, y))
        if self.points.kind == "regression":
            return loss, None, out
        pred = out.argmax(1) if self.points.kind == "multiclass" else (out[:, 0] > 0).long()
        return loss, float((pred == y.long()).float().mean()), pred

    def _dead(self) -> list[list[bool]]:
        """A neuron is dead when its activation's derivative is zero at every training point: no
        gradient reaches the weights into it, so it can never recover (dying ReLU)."""
        dead = []
        h = self.x_train
        with torch.enable_grad():
            for linear, act in zip(self.linears, self.activations, strict=False):
                z = linear(h).detach().requires_grad_(True)
                a = act(z)
                (slope,) = torch.autograd.grad(a.sum(), z)
                dead.append((slope.abs().amax(0) == 0).tolist())
                h = a.detach()
        return dead

    @torch.no_grad()
    def frame(self) -> dict[str, Any]:
        self.model.eval()
        train_loss, train_acc, _ = self._metrics(self.x_train, self.y_train)
        test_loss, test_acc, test_pred = self._metrics(self.x_test, self.y_test)
        thumbs: list[list[str]] = []
        scales: list[list[float]] = []
        h = self.grid_inputs
        n_heat = HEATMAP_SIZE * HEATMAP_SIZE
        for module in self.model:
            h = module(h)
            if not isinstance(module, nn.Linear):
                thumb = h[n_heat:]
                peak = thumb.abs().amax(0).clamp_min(1e-12)
                level = (128 + 127 * thumb / peak).round().clamp(0, 255).to(torch.uint8).T.numpy()
                thumbs.append([b64(row) for row in level])
                scales.append([round(float(p), 4) for p in peak])
        out = h[:n_heat]
        kind = self.points.kind
        confidence = None
        if kind == "binary":
            heat = torch.sigmoid(out[:, 0]) * 255
        elif kind == "multiclass":
            prob = torch.softmax(out, 1)
            conf, cls = prob.max(1)
            heat = cls.float()
            confidence = b64((conf * 255).round().to(torch.uint8).numpy())
        else:
            heat = (out[:, 0].clamp(-1, 1) + 1) * 127.5
        heatmap = b64(heat.round().clamp(0, 255).to(torch.uint8).numpy())
        if self._grad_count:  # no steps since the last frame (pause, reset): show the last norms again
            self._last_grad_norms = (self._grad_sum / self._grad_count).tolist()
            self._grad_sum = torch.zeros(len(self.linears))
            self._grad_count = 0
        grad_norms = self._last_grad_norms
        confusion = None
        if kind != "regression":
            k = self.points.n_classes
            index = self.y_test.long() * k + test_pred
            confusion = torch.bincount(index, minlength=k * k).reshape(k, k).tolist()
        point = {
            "epoch": self.epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "train_acc": train_acc,
            "test_acc": test_acc,
        }
        self.history.append(point)
        if len(self.history) > 4000:
            del self.history[: len(self.history) // 2]
        finite = all(math.isfinite(v) for v in (train_loss, test_loss))
        return {
            "type": "frame",
            "epoch": self.epoch,
            "steps": self.steps,
            "train_loss": train_loss if finite else None,
            "test_loss": test_loss if finite else None,
            "train_acc": train_acc,
            "test_acc": test_acc,
            "diverged": not finite,
            "heatmap": heatmap,
            "confidence": confidence,
            "neurons": thumbs,
            "neuron_scale": scales,
            "weights": [_rounded(layer.weight) for layer in self.linears],
            "biases": [_rounded(layer.bias) for layer in self.linears],
            "grad_norms": [g if math.isfinite(g) else None for g in grad_norms],
            "dead": self._dead(),
            "confusion": confusion,
        }

    def data_message(self) -> dict[str, Any]:
        """The points themselves (sent when the data set changes, not with every frame)."""
        p = self.points
        n_train = len(self.y_train)
        xy = np.round(p.x, 3)
        labels = p.y.tolist() if p.kind != "regression" else np.round(p.y, 3).tolist()
        return {
            "type": "data",
            "kind": p.kind,
            "n_classes": p.n_classes,
            "label_names": p.label_names,
            "train": {"x": xy[:n_train].tolist(), "y": labels[:n_train]},
            "test": {"x": xy[n_train:].tolist(), "y": labels[n_train:]},
            "heatmap_size": HEATMAP_SIZE,
            "thumb_size": THUMB_SIZE,
            "view": VIEW,
            "output": {"binary": "sigmoid", "multiclass": "softmax", "regression": "identity"}[p.kind],
            "loss": {
                "binary": "binary cross-entropy",
                "multiclass": "cross-entropy",
                "regression": "mean squared error",
            }[p.kind],
        }


def _rounded(t: torch.Tensor) -> list:
    values = t.detach().nan_to_num(0.0, 1e6, -1e6)
    return (values * 1e4).round().div(1e4).tolist()


def activation_curve(name: str, points: int = 201) -> dict[str, Any]:
    """f and f′ of a catalogue entry over its plot range, for the page's activation plot."""
    spec = actlab.spec(name)
    lo, hi = spec.plot_range
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    y = actlab.functional.apply(spec.name, x)
    dy = actlab.derivative(spec.name, x)

    def clean(t: torch.Tensor) -> list[float | None]:
        return [round(v, 6) if math.isfinite(v) else None for v in t.tolist()]

    return {
        "name": spec.name,
        "x": clean(x),
        "f": clean(y),
        "df": clean(dy),
        "formula": spec.formula,
        "derivative_formula": spec.derivative_formula,
    }
