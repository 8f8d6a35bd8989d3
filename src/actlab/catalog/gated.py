"""Gated linear units (the GLU family): split the input in two halves a, b along ``dim`` and return
a · g(b), where the gate g is an elementwise catalogue entry (sigmoid, relu, gelu, silu).

The output has half the input's size along ``dim``. ``actlab.derivative`` returns the two partials
concatenated along ``dim`` — ∂out/∂a = g(b) in the first half, ∂out/∂b = a·g'(b) in the second — and
backward (``vjp``) the gradient for both halves in the same layout. Backward keeps the input.

The declared ``properties`` of a gated entry describe its gate's scalar behaviour g(b) (range,
monotonicity, smoothness); the product a · g(b) itself is unbounded in both directions. Gates are
looked up by name at call time, so a gate's own numerics (gelu through erfc, ...) carry over.
"""

from __future__ import annotations

import torch

from actlab.catalog.spec import INF, Param, Properties, Spec, lookup, register

Tensor = torch.Tensor

# The gates' minima (where the gate is not monotone): gelu's at x = -0.75179, silu's at x = -1.27846.
_GELU_MIN = -0.16997120747990366169
_SILU_MIN = -0.27846454276107379511


def _halves(x: Tensor, dim: int, name: str) -> tuple[Tensor, Tensor]:
    if x.dim() == 0:
        raise ValueError(f"{name}: needs at least one dimension to split, got a 0-dimensional tensor")
    if not -x.dim() <= dim < x.dim():
        raise ValueError(f"{name}: dim = {dim} is out of range for an input with {x.dim()} dimensions")
    size = x.shape[dim]
    if size % 2:
        raise ValueError(
            f"{name}: dimension {dim} of the input has odd size {size}; a gated unit splits it into two "
            f"equal halves (value a, gate b), so its size must be even"
        )
    half = size // 2
    return x.narrow(dim, 0, half), x.narrow(dim, half, half)


def _gated(
    name: str,
    gate: str,
    *,
    summary: str,
    aliases: tuple[str, ...],
    gate_formula: str,
    gate_latex: str,
    properties: Properties,
    origin: str,
    year: int,
    kink_note: str = "",
    kinks: tuple[float, ...] = (),
    **names,
) -> Spec:
    """One GLU-family Spec: out = a · gate(b) with (a, b) the two halves of the input along ``dim``."""

    def g(b: Tensor) -> Tensor:
        spec = lookup(gate)
        return spec.forward(b, **spec.defaults())

    def g_prime(b: Tensor) -> Tensor:
        spec = lookup(gate)
        return spec.derivative(b, **spec.defaults())

    def forward(x: Tensor, dim: int) -> Tensor:
        a, b = _halves(x, dim, name)
        return a * g(b)

    def derivative(x: Tensor, dim: int) -> Tensor:
        a, b = _halves(x, dim, name)
        return torch.cat([g(b), a * g_prime(b)], dim=dim)

    def vjp(grad: Tensor, x: Tensor, dim: int) -> Tensor:
        a, b = _halves(x, dim, name)
        return torch.cat([grad * g(b), grad * a * g_prime(b)], dim=dim)

    return register(
        Spec(
            name=name,
            family="gated",
            kind="gated",
            gate=gate,
            summary=summary + " Declared properties are those of the gate g(b); a·g(b) is unbounded.",
            aliases=aliases,
            formula=f"f(x) = a · g(b),  (a, b) = x split in halves along dim,  g(b) = {gate_formula}",
            latex=rf"f(x) = a \odot g(b), \quad [a;\, b] = x, \quad g(b) = {gate_latex}",
            derivative_formula="∂f/∂a = g(b),  ∂f/∂b = a · g'(b)   (concatenated along dim)",
            derivative_latex=r"\frac{\partial f}{\partial a} = g(b), \quad \frac{\partial f}{\partial b} = a\,g'(b)",
            params=(
                Param(
                    "dim", -1, integer=True, doc="the dimension split into value and gate halves (even size)"
                ),
            ),
            forward=forward,
            derivative=derivative,
            vjp=vjp,
            properties=properties,
            origin=origin,
            year=year,
            kink_note=kink_note,
            kinks=kinks,
            **names,
        )
    )


_gated(
    "glu",
    "sigmoid",
    summary="Gated linear unit: the first half times the sigmoid of the second.",
    aliases=("gated_linear_unit",),
    gate_formula="σ(b)",
    gate_latex=r"\sigma(b)",
    properties=Properties((0.0, 1.0), monotonic=True, continuity="Cinf", zero_centred=False, saturating=True),
    origin="Dauphin, Fan, Auli & Grangier, Language modeling with gated convolutional networks",
    year=2017,
    torch_function="torch.nn.functional.glu",
    torch_module="torch.nn.GLU",
    keras="keras.activations.glu",
    jax="jax.nn.glu",
)
_gated(
    "reglu",
    "relu",
    summary="ReGLU: the first half times relu of the second (Shazeer's GLU variant).",
    aliases=("relu_glu",),
    gate_formula="max(b, 0)",
    gate_latex=r"\max(b, 0)",
    properties=Properties((0.0, INF), monotonic=True, continuity="C0", zero_centred=False, saturating=False),
    origin="Shazeer, GLU variants improve transformer",
    year=2020,
    kink_note="relu'(0) = 0: where b = 0 the gate half gets no gradient, as for relu.",
    kinks=(0.0,),
    module_name="ReGLU",
)
_gated(
    "geglu",
    "gelu",
    summary="GEGLU: the first half times gelu (exact, erf form) of the second.",
    aliases=("gelu_glu",),
    gate_formula="b·Φ(b)",
    gate_latex=r"b\,\Phi(b)",
    properties=Properties(
        (_GELU_MIN, INF),
        monotonic=False,
        continuity="Cinf",
        zero_centred=True,
        saturating=False,
        self_gated=True,
    ),
    origin="Shazeer, GLU variants improve transformer",
    year=2020,
    module_name="GEGLU",
)
_gated(
    "swiglu",
    "silu",
    summary="SwiGLU: the first half times silu (swish, β = 1) of the second; the feed-forward gate of "
    "LLaMA and PaLM.",
    aliases=("swish_glu", "silu_glu"),
    gate_formula="b·σ(b)",
    gate_latex=r"b\,\sigma(b)",
    properties=Properties(
        (_SILU_MIN, INF),
        monotonic=False,
        continuity="Cinf",
        zero_centred=True,
        saturating=False,
        self_gated=True,
    ),
    origin="Shazeer, GLU variants improve transformer",
    year=2020,
    module_name="SwiGLU",
)
