"""Export of a trained playground network: its state_dict as safetensors, and the Python that rebuilds it."""

from __future__ import annotations

from safetensors.torch import save

from actlab.playground.data import FEATURE_LABELS
from actlab.playground.engine import Engine

_FEATURE_CODE = {
    "x1": "x1",
    "x2": "x2",
    "x1sq": "x1 * x1",
    "x2sq": "x2 * x2",
    "x1x2": "x1 * x2",
    "sinx1": "torch.sin(x1)",
    "sinx2": "torch.sin(x2)",
}


def state_dict_bytes(engine: Engine) -> bytes:
    """The network's state_dict in the safetensors format."""
    state = {k: v.detach().contiguous().clone() for k, v in engine.model.state_dict().items()}
    s = engine.settings
    metadata = {
        "format": "pt",
        "actlab": "playground",
        "dataset": s.dataset,
        "activations": ",".join(s.activations),
        "features": ",".join(s.features),
    }
    return save(state, metadata=metadata)


def python_code(engine: Engine, weights_file: str = "playground_model.safetensors") -> str:
    """A self-contained script that rebuilds the network with actlab and loads the exported weights."""
    s = engine.settings
    n_in = len(s.features)
    lines = []
    width = n_in
    for units, act in zip(s.layers, s.activations, strict=True):
        lines.append(f"    nn.Linear({width}, {units}),")
        lines.append(f"    actlab.get({act!r}),")
        width = units
    lines.append(f"    nn.Linear({width}, {engine.n_outputs}),")
    layers = "\n".join(lines)
    feats = ", ".join(_FEATURE_CODE[f] for f in s.features)
    labels = ", ".join(FEATURE_LABELS[f] for f in s.features)
    kind = engine.points.kind
    if kind == "binary":
        head = "torch.sigmoid(logits[:, 0])  # probability of class 1"
    elif kind == "multiclass":
        head = "torch.softmax(logits, dim=1)  # class probabilities"
    else:
        head = "logits[:, 0]  # regression output (targets were scaled to [-1, 1])"
    return f'''"""A network trained in the actlab playground.

Data set: {s.dataset} (noise {s.noise:g}%, seed {s.seed}); inputs: {labels}.
Hidden layers: {list(s.layers)} with activations {list(s.activations)}; output: {kind}.
Trained {engine.epoch} epochs ({engine.steps} steps) with {s.optimizer}, lr {s.lr:g}, batch {s.batch_size}.
Points live in the playground's view window [-6, 6]^2.
"""

import torch
from safetensors.torch import load_file
from torch import nn

import actlab

model = nn.Sequential(
{layers}
)
model.load_state_dict(load_file({weights_file!r}))
model.eval()


def features(xy: torch.Tensor) -> torch.Tensor:
    """The input features the network was trained on, from points of shape (n, 2)."""
    x1, x2 = xy[:, 0], xy[:, 1]
    return torch.stack([{feats}], dim=1)


@torch.no_grad()
def predict(xy: torch.Tensor) -> torch.Tensor:
    logits = model(features(xy))
    return {head}


if __name__ == "__main__":
    print(predict(torch.tensor([[0.0, 0.0], [3.0, -2.0]])))
'''
