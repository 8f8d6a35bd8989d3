"""Many lab models trained as one: stack their weights and run every member in the same kernels.

``BatchedModel(members)`` takes E models of identical structure (built by ``models.build_model``, each
with its own activations and initial weights) and turns the tree into its batched counterpart:
tensors flow as (E, B, ...), ``nn.Linear`` becomes one ``baddbmm`` over stacked weights, convolutions
become one grouped convolution with E groups, embeddings one gather, and each activation layer applies
member e's own activation to slice e (members with equal activations share one call). Nothing mixes
members: a member's loss, gradient and optimiser update depend only on its own slice, so a run gives
the same result alone as inside any ensemble (tests/lab/test_train.py checks that).

Why not ``torch.func.vmap``: members differ in their activation functions, and actlab's autograd
Function is a classic ``ctx``-style Function that functorch transforms do not trace.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from actlab.lab.models import Residual
from actlab.lab.probes import LayerProbe

Tensor = torch.Tensor


def _stack(tensors: Sequence[Tensor | None]) -> nn.Parameter | None:
    if tensors[0] is None:
        return None
    return nn.Parameter(torch.stack([t.detach() for t in tensors]).clone())


class BatchedLinear(nn.Module):
    def __init__(self, layers: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.weight = _stack([m.weight for m in layers])  # (E, out, in)
        self.bias = _stack([m.bias for m in layers])  # (E, out)

    def forward(self, x: Tensor) -> Tensor:
        members, *middle, features = x.shape
        flat = x.reshape(members, -1, features)
        weight_t = self.weight.transpose(1, 2)
        if self.bias is None:
            y = torch.bmm(flat, weight_t)
        else:
            y = torch.baddbmm(self.bias.unsqueeze(1), flat, weight_t)
        return y.reshape(members, *middle, y.shape[-1])


class BatchedConv(nn.Module):
    """E convolutions as one grouped convolution: member e's channels are group e."""

    def __init__(self, layers: Sequence[nn.Conv1d | nn.Conv2d]) -> None:
        super().__init__()
        first = layers[0]
        if first.padding_mode != "zeros" or isinstance(first.padding, str):
            raise ValueError("batched training supports convolutions with numeric zero padding only")
        self.weight = _stack([m.weight for m in layers])  # (E, out, in / groups, *kernel)
        self.bias = _stack([m.bias for m in layers])
        self.stride, self.padding, self.dilation, self.groups = (
            first.stride,
            first.padding,
            first.dilation,
            first.groups,
        )
        self.conv = F.conv1d if isinstance(first, nn.Conv1d) else F.conv2d

    def forward(self, x: Tensor) -> Tensor:
        members, batch, channels, *spatial = x.shape
        folded = x.transpose(0, 1).reshape(batch, members * channels, *spatial)
        weight = self.weight.reshape(-1, *self.weight.shape[2:])
        bias = None if self.bias is None else self.bias.reshape(-1)
        y = self.conv(folded, weight, bias, self.stride, self.padding, self.dilation, self.groups * members)
        return y.reshape(batch, members, -1, *y.shape[2:]).transpose(0, 1)


class BatchedEmbedding(nn.Module):
    def __init__(self, layers: Sequence[nn.Embedding]) -> None:
        super().__init__()
        if layers[0].max_norm is not None:
            raise ValueError("batched training does not support nn.Embedding(max_norm=...)")
        self.weight = _stack([m.weight for m in layers])  # (E, vocab, dim)

    def forward(self, x: Tensor) -> Tensor:
        members, vocab = self.weight.shape[:2]
        offset = (torch.arange(members, device=x.device) * vocab).view(members, *([1] * (x.dim() - 1)))
        return F.embedding(x + offset, self.weight.reshape(members * vocab, -1))


class FoldMembers(nn.Module):
    """Shape-only layers (flatten, pooling) see the members folded into the batch: (E*B, ...)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        members, batch = x.shape[:2]
        y = self.layer(x.reshape(members * batch, *x.shape[2:]))
        return y.reshape(members, batch, *y.shape[1:])


def _same_activation(a: nn.Module, b: nn.Module) -> bool:
    """Equal activations share one call; learnable ones keep their own parameters, so never share."""
    return (
        type(a) is type(b)
        and not any(True for _ in a.parameters())
        and not any(True for _ in b.parameters())
        and getattr(a, "static_params", None) == getattr(b, "static_params", None)
    )


class BatchedActivation(nn.Module):
    """Member e's activation on slice e; consecutive equal activations run as one call."""

    def __init__(self, modules: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(modules)
        self.runs: list[tuple[int, int]] = []
        start = 0
        for e in range(1, len(modules) + 1):
            if e == len(modules) or not _same_activation(modules[start], modules[e]):
                self.runs.append((start, e))
                start = e
        self.probe: LayerProbe | None = None  # set by the trainer while it evaluates

    def forward(self, x: Tensor) -> Tensor:
        outputs = []
        for start, stop in self.runs:
            part = x[start:stop]
            y = self.members[start](part.reshape(-1, *part.shape[2:]))  # the layout torch's layers expect
            outputs.append(y.reshape(stop - start, part.shape[1], *y.shape[1:]))
        y = outputs[0] if len(outputs) == 1 else torch.cat(outputs)
        if self.probe is not None:
            self.probe.update(x, y, [(start, stop, self.members[start]) for start, stop in self.runs])
        return y


_SHAPE_ONLY = (nn.Flatten, nn.Unflatten, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.Identity)
WEIGHT_LAYERS = (BatchedLinear, BatchedConv, BatchedEmbedding)


def _batch(layers: Sequence[nn.Module]) -> nn.Module:
    from actlab.nn import Activation

    first = layers[0]
    if all(isinstance(m, Activation) or hasattr(m, "spec_name") for m in layers):
        return BatchedActivation(layers)  # members differ here, and only here
    if any(type(m) is not type(first) for m in layers):
        raise ValueError("ensemble members must have the same architecture")
    if isinstance(first, nn.Sequential):
        names = [n for n, _ in first.named_children()]
        return nn.Sequential(
            OrderedDict((name, _batch([m.get_submodule(name) for m in layers])) for name in names)
        )
    if isinstance(first, Residual):
        return Residual(_batch([m.body for m in layers]))
    if isinstance(first, nn.Linear):
        return BatchedLinear(layers)  # type: ignore[arg-type]
    if isinstance(first, (nn.Conv1d, nn.Conv2d)):
        return BatchedConv(layers)  # type: ignore[arg-type]
    if isinstance(first, nn.Embedding):
        return BatchedEmbedding(layers)  # type: ignore[arg-type]
    if isinstance(first, _SHAPE_ONLY):
        return FoldMembers(copy.deepcopy(first))
    raise ValueError(f"batched training does not support {type(first).__name__} layers")


class BatchedModel(nn.Module):
    """E models of one architecture, trained together; input and output are (E, B, ...)."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.size = len(members)
        self.net = _batch(members)
        self._templates = list(members)  # kept (not registered) so members can be exported again
        self.activations: list[BatchedActivation] = []
        self.weights_before: list[nn.Module] = []  # the weight layer feeding each activation layer
        last_weight: nn.Module | None = None
        for module in self.net.modules():  # registration order = forward order for these trees
            if isinstance(module, WEIGHT_LAYERS):
                last_weight = module
            elif isinstance(module, BatchedActivation):
                self.activations.append(module)
                self.weights_before.append(last_weight)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[0] != self.size:
            raise ValueError(
                f"input must start with the {self.size} ensemble members, got shape {tuple(x.shape)}"
            )
        return self.net(x)

    def member(self, index: int) -> nn.Module:
        """Member ``index`` as a plain model again, with its trained weights."""
        model = copy.deepcopy(self._templates[index])
        with torch.no_grad():
            for name, layer in model.named_modules():
                if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Embedding)):
                    batched = self.net.get_submodule(name)
                    layer.weight.copy_(batched.weight[index])
                    if getattr(layer, "bias", None) is not None:
                        layer.bias.copy_(batched.bias[index])
        return model
