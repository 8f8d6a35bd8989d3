"""Models to operate on: torchvision by name, ``module:factory`` or any factory, with local weights.

Nothing downloads: torchvision models are built with ``weights=None`` and pretrained weights come from
a local file — safetensors, or a torch checkpoint read with ``torch.load(..., weights_only=True)``
(never a pickle that could run code).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

Tensor = torch.Tensor


def _torchvision_factory(name: str) -> Callable[..., nn.Module] | None:
    try:
        import torchvision.models as tv_models
    except ImportError:
        return None
    available = tv_models.list_models()
    if name in available:
        return lambda **kwargs: tv_models.get_model(name, weights=None, **kwargs)
    return None


def resolve_factory(name_or_factory: str | Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """``"vgg16"`` (torchvision), ``"package.module:factory"`` or a callable -> a model factory."""
    if callable(name_or_factory) and not isinstance(name_or_factory, str):
        return name_or_factory
    if not isinstance(name_or_factory, str):
        raise TypeError(
            f"model must be a torchvision model name, 'module:factory' or a callable, "
            f"got {type(name_or_factory).__name__}"
        )
    name = name_or_factory.strip()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ValueError(f"cannot import {module_name!r} for model {name!r}: {err}") from None
        factory = getattr(module, attr, None)
        if not callable(factory):
            raise ValueError(f"{module_name!r} has no callable {attr!r} (model {name!r})")
        return factory
    factory = _torchvision_factory(name)
    if factory is not None:
        return factory
    try:
        import torchvision.models as tv_models

        known = tv_models.list_models()
    except ImportError:
        raise ValueError(
            f"unknown model {name!r}: torchvision is not installed (pip install 'actlab[vision]'); "
            "or give 'package.module:factory'"
        ) from None
    close = difflib.get_close_matches(name, known, n=4)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ValueError(
        f"unknown model {name!r}{hint}. Use a torchvision model name or 'package.module:factory'."
    )


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """A state dict from a local file: safetensors, or a torch checkpoint read with weights_only=True.

    Checkpoints that wrap the state dict (``{"state_dict": ...}`` or ``{"model": ...}``) are unwrapped
    and a DataParallel ``module.`` prefix is removed.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} is not a file")
    is_safetensors = path.suffix == ".safetensors" or path.read_bytes()[8:9] == b"{"
    try:
        if is_safetensors:
            from safetensors.torch import load_file

            state: Any = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - every reader failure means the same thing to the user
        kind = "safetensors" if is_safetensors else "torch checkpoint"
        raise ValueError(
            f"checkpoint {str(path)!r} could not be read as a {kind}: {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''} (expected a .safetensors file or a state dict "
            "saved with torch.save(model.state_dict(), path); pickled whole models are refused)"
        ) from None
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError(
            f"checkpoint {str(path)!r} does not hold a state dict of tensors (found {type(state).__name__})"
        )
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a local checkpoint into ``model``, checking keys and shapes first (clear error on mismatch)."""
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(
                f"{len(missing)} missing key(s): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
            )
        if unexpected:
            parts.append(
                f"{len(unexpected)} unexpected key(s): {', '.join(unexpected[:5])}"
                f"{' ...' if len(unexpected) > 5 else ''}"
            )
        if wrong:
            parts.append(
                f"{len(wrong)} shape mismatch(es): {'; '.join(wrong[:3])}{' ...' if len(wrong) > 3 else ''}"
            )
        raise ValueError(
            f"checkpoint {str(path)!r} does not fit {type(model).__name__}: "
            + "; ".join(parts)
            + " (was it saved from the same architecture and constructor arguments?)"
        )
    model.load_state_dict(state)
    return model


def load_model(
    name_or_factory: str | Callable[..., nn.Module],
    weights: str | Path | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a model and optionally load local weights.

    ``name_or_factory``: a torchvision model name (``"vgg16"``, built with ``weights=None``),
    ``"package.module:factory"`` or a callable; ``kwargs`` go to the factory (``num_classes=10``).
    ``weights``: a local ``.safetensors`` file or torch state-dict checkpoint, or None.
    """
    factory = resolve_factory(name_or_factory)
    model = factory(**kwargs)
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model factory {name_or_factory!r} returned {type(model).__name__}, not an nn.Module"
        )
    if weights is not None:
        load_weights(model, weights)
    return model
