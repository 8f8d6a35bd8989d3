"""``actlab.nn``: one ``nn.Module`` class per catalogue entry, generated from the Specs.

Class names and constructor arguments follow ``torch.nn`` where torch has the module (``GELU``,
``Softplus(beta, threshold)``, ``LeakyReLU(negative_slope, inplace)``, ...); other entries get the
CamelCase of their name (``Squareplus``, ``SparsePlus``, ``QuickGelu``). Learnable parameters are
``nn.Parameter``s initialised from the Spec's default.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from actlab.catalog.spec import Spec, all_specs, lookup
from actlab.dispatch import call

Tensor = torch.Tensor


class Activation(nn.Module):
    """Base class of every generated activation module."""

    spec_name: ClassVar[str] = ""

    def __init__(self, *args: Any, inplace: bool = False, **kwargs: Any) -> None:
        super().__init__()
        spec = self.spec
        if inplace and not spec.inplace:
            raise TypeError(f"{spec.class_name} does not take inplace (torch's does not either)")
        self.inplace = inplace
        bound = spec.bind(args, **kwargs)
        self.static_params: dict[str, Any] = {}
        for p in spec.params:
            if p.learnable:
                value = torch.as_tensor(bound[p.name], dtype=torch.get_default_dtype())
                self.register_parameter(p.name, nn.Parameter(value.clone()))
            else:
                self.static_params[p.name] = bound[p.name]

    @property
    def spec(self) -> Spec:
        return lookup(self.spec_name)

    def params(self) -> dict[str, Any]:
        out = dict(self.static_params)
        spec = self.spec
        if spec.learnable:
            for p in spec.params:
                if p.learnable:
                    out[p.name] = getattr(self, p.name)
        return out

    def forward(self, input: Tensor) -> Tensor:
        return call(self.spec, input, self.params(), inplace=self.inplace, training=self.training)

    def extra_repr(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.static_params.items()]
        if self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


def module_class(spec: Spec) -> type[Activation]:
    """The nn.Module class for a Spec (its own ``module_class`` if it brings one)."""
    if spec.module_class is not None:
        return spec.module_class
    cls = _CLASSES.get(spec.name)
    if cls is None:
        cls = type(
            spec.class_name,
            (Activation,),
            {"spec_name": spec.name, "__doc__": spec.summary, "__module__": __name__},
        )
        _CLASSES[spec.name] = cls
    return cls


_CLASSES: dict[str, type[Activation]] = {}


def _export() -> list[str]:
    names = []
    for spec in all_specs():
        cls = module_class(spec)
        globals()[cls.__name__] = cls
        names.append(cls.__name__)
    return names


__all__ = ["Activation", "module_class", *_export()]
