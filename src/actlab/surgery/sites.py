"""Recognising activation sites: torch / actlab modules and functional calls, mapped to catalogue Specs.

The tables are built from the catalogue itself: a Spec's ``torch_module`` names the torch class that
implements it, its ``torch_function`` (and its name in ``torch``, ``torch.nn.functional``, as a
``Tensor`` method, plus the in-place ``name_`` variants) the functions. Nothing here hard-codes a list of
activations, so a Spec added to the catalogue is swappable at once.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from actlab.catalog.spec import Spec, all_specs

Tensor = torch.Tensor

# Arguments of torch's functional activations that select in-place operation or randomness,
# never a parameter of the function itself.
_CONTROL_ARGS = ("input", "self", "inplace", "training")


def _resolve(dotted: str) -> Any:
    """``"torch.nn.functional.gelu"`` -> the object, or None when it does not exist in this torch."""
    if dotted.startswith("F."):
        dotted = "torch.nn.functional." + dotted[2:]
    for split in range(dotted.count("."), 0, -1):
        parts = dotted.split(".")
        module_name, attrs = ".".join(parts[:split]), parts[split:]
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for a in attrs:
                obj = getattr(obj, a)
        except AttributeError:
            return None
        return obj
    return None


class _Tables:
    """Spec look-ups by torch class, by function object and by Tensor method name."""

    def __init__(self) -> None:
        self.by_class: dict[type, list[Spec]] = {}
        self.by_function: dict[Any, Spec] = {}
        self.by_method: dict[str, Spec] = {}
        self.inplace_functions: set[Any] = set()
        self.inplace_methods: set[str] = set()
        from actlab import functional as actlab_functional

        for spec in all_specs():
            if spec.torch_module:
                cls = _resolve(spec.torch_module)
                if isinstance(cls, type) and issubclass(cls, nn.Module):
                    self.by_class.setdefault(cls, []).append(spec)
            if spec.kind != "elementwise":
                continue  # softmax(x, dim), glu(x, dim): not a drop-in for an elementwise call
            candidates: list[Any] = []
            if spec.torch_function:
                candidates.append(_resolve(spec.torch_function))
            # Only the canonical name: aliases such as identity's "linear" would catch F.linear.
            for namespace in (torch, F):
                candidates.append(getattr(namespace, spec.name, None))
            candidates.append(getattr(actlab_functional, spec.name, None))
            functions = [c for c in candidates if callable(c) and not isinstance(c, type)]
            for fn in functions:
                self.by_function.setdefault(fn, spec)
                # Method forms exist for torch's own functions only (x.relu(), x.relu_()); requiring the
                # function keeps Tensor.exponential_ (a random fill) away from a Spec named "exponential".
                fn_name = getattr(fn, "__name__", "")
                if fn_name == spec.name and fn is not getattr(actlab_functional, spec.name, None):
                    if hasattr(Tensor, fn_name):
                        self.by_method.setdefault(fn_name, spec)
                    if hasattr(Tensor, fn_name + "_"):
                        self.by_method.setdefault(fn_name + "_", spec)
                        self.inplace_methods.add(fn_name + "_")
                for namespace in (torch, F):
                    fn_inplace = getattr(namespace, fn_name + "_", None)
                    if fn_name and callable(fn_inplace):
                        self.by_function.setdefault(fn_inplace, spec)
                        self.inplace_functions.add(fn_inplace)


_TABLES: _Tables | None = None
_TABLES_SIZE = -1


def tables() -> _Tables:
    """The look-up tables, rebuilt when the catalogue has grown since they were made."""
    global _TABLES, _TABLES_SIZE
    size = len(all_specs())
    if _TABLES is None or size != _TABLES_SIZE:
        _TABLES, _TABLES_SIZE = _Tables(), size
    return _TABLES


def module_specs(module: nn.Module) -> list[Spec]:
    """The catalogue entries a module implements: an actlab module's own Spec, or via torch's class."""
    from actlab.nn import Activation

    spec = getattr(module, "spec", None)
    if isinstance(module, Activation) or isinstance(spec, Spec):
        return [spec] if isinstance(spec, Spec) else []
    return list(tables().by_class.get(type(module), ()))


def is_activation_module(module: nn.Module) -> bool:
    """actlab modules, and torch's modules that the catalogue names as the implementation of a Spec."""
    from actlab.nn import Activation

    return isinstance(module, Activation) or bool(module_specs(module))


def function_spec(op: str, target: Any) -> Spec | None:
    """The Spec of an fx call site (``call_function`` target or ``call_method`` name), if it is one."""
    t = tables()
    if op == "call_function":
        try:
            return t.by_function.get(target)
        except TypeError:  # unhashable target
            return None
    if op == "call_method" and isinstance(target, str):
        return t.by_method.get(target)
    return None


def is_inplace_call(op: str, target: Any, kwargs: dict[str, Any], args: tuple[Any, ...]) -> bool:
    """``torch.relu_``, ``x.relu_()`` and ``F.relu(x, inplace=True)`` (keyword or positional)."""
    t = tables()
    if op == "call_method":
        return target in t.inplace_methods
    if target in t.inplace_functions:
        return True
    if kwargs.get("inplace") is True:
        return True
    try:
        names = list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return False
    if "inplace" in names:
        index = names.index("inplace")
        return len(args) > index and args[index] is True
    return False


def describe_call(op: str, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``F.relu(inplace=True)``, ``torch.sigmoid``, ``Tensor.relu_`` — for reports."""
    if op == "call_method":
        name = f"Tensor.{target}"
    else:
        module = getattr(target, "__module__", "") or ""
        short = {"torch.nn.functional": "F", "torch._C._nn": "F", "torch": "torch", "torch._C": "torch"}
        prefix = short.get(module, module or "torch")
        if getattr(F, getattr(target, "__name__", ""), None) is target:
            prefix = "F"
        elif getattr(torch, getattr(target, "__name__", ""), None) is target:
            prefix = "torch"
        name = f"{prefix}.{getattr(target, '__name__', repr(target))}"
    extra = [repr(a) for a in args[1:] if not hasattr(a, "op")]
    extra += [f"{k}={v!r}" for k, v in kwargs.items() if not hasattr(v, "op")]
    return f"{name}({', '.join(extra)})" if extra else name


class FunctionCall(nn.Module):
    """A functional activation call packaged as a module: what a per-site callable mapping receives
    for a call site that has no torch module equivalent, and how the replaced function is evaluated.

    ``fn(x)`` calls ``target(x, *rest, **kwargs)`` on a copy of ``x`` (in-place forms never touch the
    caller's tensor). ``spec`` is the catalogue entry of the call.
    """

    def __init__(
        self, target: Any, rest: tuple[Any, ...], kwargs: dict[str, Any], spec: Spec | None, method: bool
    ) -> None:
        super().__init__()
        self.target = target
        self.rest = rest
        self.call_kwargs = kwargs
        self.spec = spec
        self.method = method

    def forward(self, input: Tensor) -> Tensor:
        x = input.clone()
        if self.method:
            return getattr(x, self.target)(*self.rest, **self.call_kwargs)
        return self.target(x, *self.rest, **self.call_kwargs)

    def extra_repr(self) -> str:
        return describe_call(
            "call_method" if self.method else "call_function",
            self.target,
            (None, *self.rest),
            self.call_kwargs,
        )


def stand_in(
    op: str, target: Any, rest: tuple[Any, ...], kwargs: dict[str, Any], spec: Spec | None
) -> nn.Module:
    """The module that stands for a functional call: torch's module class when the catalogue names one
    and the call's arguments fit its constructor (``F.leaky_relu(x, 0.2)`` -> ``nn.LeakyReLU(0.2)``),
    else a :class:`FunctionCall`."""
    call = FunctionCall(target, rest, kwargs, spec, op == "call_method")
    if spec is None or not spec.torch_module:
        return call
    cls = _resolve(spec.torch_module)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        return call
    values: dict[str, Any] = {}
    if op == "call_function":
        try:
            bound = inspect.signature(target).bind(None, *rest, **kwargs)
        except (TypeError, ValueError):
            if rest or kwargs:
                return call
            bound = None
        if bound is not None:
            values = {k: v for k, v in list(bound.arguments.items())[1:] if k not in _CONTROL_ARGS}
    elif rest or kwargs:
        return call
    try:
        module = cls(**values)
    except TypeError:
        return call
    return module
