"""``actlab.functional``: one function per catalogue entry, generated from the Specs.

Names and arguments follow ``torch.nn.functional`` where torch has the function
(``gelu(input, approximate='none')``, ``softplus(input, beta=1.0, threshold=20.0)``,
``leaky_relu(input, negative_slope=0.01, inplace=False)``, ...). ``inplace`` is accepted wherever torch
accepts it; ``training`` is accepted by stochastic entries (rrelu).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from actlab.catalog.spec import Spec, all_specs, lookup
from actlab.dispatch import call

Tensor = torch.Tensor


def apply(
    name: str | Spec, input: Tensor, *args: Any, inplace: bool = False, training: bool = False, **kwargs: Any
) -> Tensor:
    """Apply the activation ``name`` to ``input``: ``apply("gelu", x, approximate="tanh")``."""
    spec = lookup(name)
    if inplace and not spec.inplace:
        raise TypeError(
            f"{spec.name} does not take inplace (torch's {spec.torch_function or spec.name} does not)"
        )
    if spec.kind == "vector" and "dtype" in kwargs:
        dtype = kwargs.pop("dtype")
        if dtype is not None:
            input = input.to(dtype)
    params = spec.bind(args, **kwargs) if args or kwargs else _defaults(spec)
    return call(spec, input, params, inplace=inplace, training=training)


# Spec name -> its bound default parameters; call() never mutates the dict it is given.
_DEFAULTS: dict[str, dict[str, Any]] = {}


def _defaults(spec: Spec) -> dict[str, Any]:
    """The common call's parameters: the defaults, validated once per entry (bind is deterministic)."""
    params = _DEFAULTS.get(spec.name)
    if params is None:
        params = _DEFAULTS[spec.name] = spec.bind(())
    return params


def _make(spec: Spec) -> Callable[..., Tensor]:
    def fn(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if args or kwargs:
            return apply(spec, input, *args, **kwargs)
        return call(spec, input, _defaults(spec))  # the common call, straight to the dispatcher

    parameters = [inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for p in spec.params:
        parameters.append(
            inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default)
        )
    if spec.stochastic:
        parameters.append(inspect.Parameter("training", inspect.Parameter.KEYWORD_ONLY, default=False))
    if spec.inplace:
        parameters.append(inspect.Parameter("inplace", inspect.Parameter.KEYWORD_ONLY, default=False))
    fn.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    fn.__name__ = fn.__qualname__ = spec.name
    fn.__doc__ = _doc(spec)
    return fn


def _doc(spec: Spec) -> str:
    lines = [
        spec.summary or spec.name,
        "",
        f"    f(x)  = {spec.formula}",
        f"    f'(x) = {spec.derivative_formula}",
    ]
    if spec.kink_note:
        lines += ["", spec.kink_note]
    for p in spec.params:
        lines.append(
            f"    {p.name} = {p.default!r}: {p.allowed()}{'; learnable' if p.learnable else ''}. {p.doc}"
        )
    lines += ["", f"Origin: {spec.origin} ({spec.year})."]
    return "\n".join(lines)


def _export() -> list[str]:
    names = []
    for spec in all_specs():
        fn = _make(spec)
        globals()[spec.name] = fn
        names.append(spec.name)
        # torch's spelling too, where it differs (F.logsigmoid for log_sigmoid, ...)
        if spec.torch_function:
            short = spec.torch_function.rsplit(".", 1)[-1]
            if short.isidentifier() and short not in globals():
                globals()[short] = fn
                names.append(short)
    return names


__all__ = ["apply", *_export()]
