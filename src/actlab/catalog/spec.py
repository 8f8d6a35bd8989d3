"""The Spec: one declarative description per activation function, and the registry that holds them.

Everything else in actlab — the functional and nn APIs, the autograd Function, the docs pages, the
plots, the CLI's `info` and the property tests — is generated from these Specs. Adding an activation
means adding one Spec to one of the family modules in this package.

Conventions every Spec follows
------------------------------
* ``forward(x, **params)`` and ``derivative(x, **params)`` receive ``x`` already promoted to the
  *compute dtype* (float64 for fp32/fp64 inputs, float32 for fp16/bf16) and return a tensor of the same
  dtype; the caller rounds back to the input dtype once. Computing one precision up is what makes
  actlab's fp32 results land within a few ULP of the true value where torch's own kernels do not.
* ``derivative_from_output(y, **params)`` is given when f'(x) can be written in terms of y = f(x);
  backward then keeps the output, which the next layer keeps anyway (no extra memory).
* ``mp_forward`` / ``mp_derivative`` are the high-precision references (mpmath), used by the tests.
* Parameters are plain Python numbers (or strings) unless ``Param.learnable``; learnable ones arrive as
  tensors broadcastable against ``x`` and need ``param_derivatives``.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

Tensor = torch.Tensor
Kind = Literal["elementwise", "vector", "gated"]
Continuity = Literal["discontinuous", "C0", "C1", "C2", "Cinf"]

INF = math.inf


@dataclass(frozen=True)
class Param:
    """One parameter of an activation: its default, the allowed range and whether it is learnable."""

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple[Any, ...] | None = None
    learnable: bool = False
    # Learnable parameters: one value per channel (dim 1 of the input, as torch's PReLU) when the
    # module is built with num_parameters > 1; otherwise a scalar or a coefficient vector.
    per_channel: bool = False
    # An integer parameter (a dimension, a count): floats, None and bools are refused.
    integer: bool = False
    doc: str = ""

    def allowed(self) -> str:
        """Human wording of the allowed values, used in error messages and docs."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.integer:
            return "an integer, e.g. -1 for the last dimension" if self.name == "dim" else "an integer"
        lo = "-inf" if self.low is None else repr(self.low)
        hi = "inf" if self.high is None else repr(self.high)
        left = "[" if (self.low is not None and self.low_inclusive) else "("
        right = "]" if (self.high is not None and self.high_inclusive) else ")"
        return f"a number in {left}{lo}, {hi}{right}"

    def validate(self, value: Any, activation: str) -> Any:
        """Return ``value`` if it is allowed, else raise ``ValueError`` naming the allowed range."""
        where = f"{activation}: parameter {self.name!r}"
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"{where} = {value!r} is not allowed; use {self.allowed()}")
            return value
        if self.integer:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where} = {value!r} is not allowed; use {self.allowed()}")
            return value
        if isinstance(value, (tuple, list)) and self.learnable:
            return value
        if isinstance(value, Tensor):
            if value.is_floating_point() and value.numel() > 0:
                finite = torch.isfinite(value).all().item()
                if not finite:
                    raise ValueError(f"{where} must be finite")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} = {value!r} is not a number; use {self.allowed()}")
        v = float(value)
        bad = math.isnan(v)
        if self.low is not None:
            bad |= v < self.low or (v == self.low and not self.low_inclusive)
        if self.high is not None:
            bad |= v > self.high or (v == self.high and not self.high_inclusive)
        if bad:
            raise ValueError(f"{where} = {value!r} is out of range; use {self.allowed()}")
        return value


@dataclass(frozen=True)
class Properties:
    """Declared mathematical properties; the property tests check every one of them.

    ``output_range`` is the closure of the image for the default parameters, (lo, hi) with ±inf for
    unbounded sides. ``zero_centred`` means f(0) = 0 and the function takes both signs.
    ``saturating`` means f' → 0 as x → +∞ *and* as x → −∞ (Gulcehre et al., 2016): sigmoid and tanh
    saturate; ReLU, ELU and GELU do not (they are only left-saturating).
    ``self_gated`` means f(x) = x · g(x) for a gate g in [0, 1] (swish, gelu, mish, ...).
    """

    output_range: tuple[float, float]
    monotonic: bool
    continuity: Continuity
    zero_centred: bool
    saturating: bool
    self_gated: bool = False

    @property
    def bounded_below(self) -> bool:
        return math.isfinite(self.output_range[0])

    @property
    def bounded_above(self) -> bool:
        return math.isfinite(self.output_range[1])

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.output_range
        return {
            "output_range": [lo if math.isfinite(lo) else str(lo), hi if math.isfinite(hi) else str(hi)],
            "bounded_below": self.bounded_below,
            "bounded_above": self.bounded_above,
            "monotonic": self.monotonic,
            "continuity": self.continuity,
            "zero_centred": self.zero_centred,
            "saturating": self.saturating,
            "self_gated": self.self_gated,
        }


@dataclass(frozen=True)
class Spec:
    """Everything actlab knows about one activation function."""

    name: str
    family: str
    formula: str
    latex: str
    derivative_formula: str
    derivative_latex: str
    forward: Callable[..., Tensor]
    derivative: Callable[..., Tensor]
    properties: Properties
    origin: str
    year: int
    summary: str = ""
    aliases: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    kind: Kind = "elementwise"
    derivative_from_output: Callable[..., Tensor] | None = None
    # d f / d p for learnable parameters: name -> function(x, **params) giving the elementwise partial.
    param_derivatives: dict[str, Callable[..., Tensor]] = field(default_factory=dict)
    mp_forward: Callable[..., Any] | None = None
    mp_derivative: Callable[..., Any] | None = None
    # For gated (GLU-family) entries: the elementwise Spec applied to the gate half.
    gate: str | None = None
    # For vector entries: vector-Jacobian product given (grad, x, y, dim, **params).
    vjp: Callable[..., Tensor] | None = None
    # Names in other frameworks (None where they have no equivalent).
    torch_function: str | None = None
    torch_module: str | None = None
    keras: str | None = None
    jax: str | None = None
    module_name: str | None = None
    inplace: bool = False
    # Whether the function is defined by randomness in training (rrelu): tests then use eval mode.
    stochastic: bool = False
    # Derivative at kinks, documented as JAX does (relu'(0) = 0).
    kink_note: str = ""
    # Sampling window for plots and property tests (the interesting part of the real line).
    plot_range: tuple[float, float] = (-5.0, 5.0)
    # Some entries are exact only on part of the line or are approximations of another entry.
    approximates: str | None = None
    # Inputs where the derivative is undefined (kinks/jumps); tests skip gradcheck near them.
    kinks: tuple[float, ...] = ()
    # Whether torch's native op (torch_function) agrees with this entry closely enough to be compared.
    torch_agrees: bool = True
    # Double backward: True when the derivative is itself differentiable through the generic Function.
    double_backward: bool = True
    # f' is constant almost everywhere (identity, step): backward keeps nothing but the shape.
    derivative_is_constant: bool = False
    # Extra parameter sets the tests exercise besides the defaults, e.g. ({"beta": 10.0},).
    examples: tuple[dict[str, Any], ...] = ()
    # Learnable and stochastic entries may bring their own nn.Module class (PReLU's num_parameters/init).
    module_class: type | None = None
    # Stochastic entries (rrelu): the training-mode forward, written with native torch ops.
    sample_forward: Callable[..., Tensor] | None = None

    # ----- derived (cached: the dispatcher asks on every call; a frozen Spec never changes them) -----
    @functools.cached_property
    def saves(self) -> Literal["input", "output", "nothing"]:
        """What backward must keep: 'output' when f' is a function of f, 'nothing' when f' is constant."""
        if self.kind == "vector":
            return "output"
        if self.kind == "gated" or self.learnable:
            return "input"
        if self.derivative_is_constant:
            return "nothing"
        if self.derivative_from_output is not None:
            return "output"
        return "input"

    @functools.cached_property
    def learnable(self) -> bool:
        return any(p.learnable for p in self.params)

    @functools.cached_property
    def per_channel(self) -> bool:
        """Whether a parameter takes one value per channel (dim 1 of the input, as torch's PReLU)."""
        return any(p.per_channel for p in self.params)

    @property
    def class_name(self) -> str:
        if self.module_name:
            return self.module_name
        if self.torch_module:
            return self.torch_module.rsplit(".", 1)[-1]
        return "".join(part.capitalize() for part in self.name.split("_"))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def bind(self, activation_args: tuple = (), **kwargs: Any) -> dict[str, Any]:
        """Validate and complete parameters: positional in declared order, then keywords."""
        names = [p.name for p in self.params]
        if len(activation_args) > len(names):
            raise TypeError(
                f"{self.name} takes at most {len(names)} parameters ({', '.join(names) or 'none'}), "
                f"got {len(activation_args)} positional"
            )
        values = dict(zip(names, activation_args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                hint = difflib.get_close_matches(key, names, n=1)
                allowed = ", ".join(names) or "none"
                extra = f"; did you mean {hint[0]!r}?" if hint else ""
                raise TypeError(f"{self.name} has no parameter {key!r} (parameters: {allowed}){extra}")
            if key in values:
                raise TypeError(f"{self.name}: parameter {key!r} given twice")
            values[key] = value
        out = {}
        for p in self.params:
            value = values.get(p.name, p.default)
            out[p.name] = p.validate(value, self.name)
        return out

    def info(self) -> dict[str, Any]:
        """A JSON-ready description, used by `actlab list/info --json` and the docs."""
        return {
            "name": self.name,
            "family": self.family,
            "kind": self.kind,
            "summary": self.summary,
            "aliases": list(self.aliases),
            "formula": self.formula,
            "latex": self.latex,
            "derivative_formula": self.derivative_formula,
            "derivative_latex": self.derivative_latex,
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "allowed": p.allowed(),
                    "learnable": p.learnable,
                    "doc": p.doc,
                }
                for p in self.params
            ],
            "saves_for_backward": self.saves,
            "properties": self.properties.as_dict(),
            "origin": self.origin,
            "year": self.year,
            "torch": self.torch_function,
            "torch_module": self.torch_module,
            "keras": self.keras,
            "jax": self.jax,
            "inplace": self.inplace,
            "kink_note": self.kink_note,
            "approximates": self.approximates,
            "gate": self.gate,
        }


# ----------------------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------------------
_REGISTRY: dict[str, Spec] = {}
_ALIASES: dict[str, str] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def register(spec: Spec) -> Spec:
    """Add a Spec to the registry; names and aliases must be unique (case- and dash-insensitive)."""
    for label in (spec.name, *spec.aliases):
        k = _key(label)
        owner = _ALIASES.get(k)
        if owner is not None and owner != spec.name:
            raise ValueError(f"activation name {label!r} of {spec.name!r} is already used by {owner!r}")
        _ALIASES[k] = spec.name
    _REGISTRY[spec.name] = spec
    return spec


def lookup(name: str) -> Spec:
    """The Spec for a name or alias; unknown names raise ``ValueError`` listing the closest names."""
    if isinstance(name, Spec):
        return name
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is not None:  # a canonical name: the common case, on every forward
        return spec
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a string, got {type(name).__name__}")
    _load_families()
    canonical = _ALIASES.get(_key(name))
    if canonical is None:
        close = difflib.get_close_matches(_key(name), list(_ALIASES), n=6, cutoff=0.5)
        close_names = list(dict.fromkeys(_ALIASES[c] for c in close))[:4]
        hint = f"; closest: {', '.join(close_names)}" if close_names else ""
        raise ValueError(f"unknown activation {name!r}{hint}. `actlab list` shows all {len(_REGISTRY)}.")
    return _REGISTRY[canonical]


def all_specs() -> list[Spec]:
    _load_families()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


_FAMILY_MODULES = ("classic", "rectifiers", "smooth", "hard", "vector", "gated", "periodic", "learnable")
_loaded = False


def _load_families() -> None:
    """Import the family modules once; each registers its Specs on import."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for module in _FAMILY_MODULES:
        try:
            importlib.import_module(f"actlab.catalog.{module}")
        except ModuleNotFoundError as err:  # a family not written yet must not break the rest
            if err.name != f"actlab.catalog.{module}":
                raise
