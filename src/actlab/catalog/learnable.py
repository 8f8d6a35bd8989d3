"""Learnable activations: prelu, swish (learnable β), snake and the rational (Padé) unit.

Their parameters are ``nn.Parameter``s of the module and ordinary arguments of the function; backward
keeps the input and returns, besides df/dx, the elementwise partials df/dp (``param_derivatives``),
which the generic Function reduces to each parameter's shape (a trailing coefficient axis for the
rational unit's coefficient vectors). Per-channel parameters (``PReLU(num_parameters=C)``,
``Snake(in_features=C)``) act along dim 1, as torch's PReLU does.
"""

from __future__ import annotations

from typing import Any, ClassVar

import mpmath as mp
import torch
from torch import nn

from actlab.catalog.spec import INF, Param, Properties, Spec, lookup, register

Tensor = torch.Tensor


class LearnableActivation(nn.Module):
    """Base of the hand-written modules of this family (the same interface as ``actlab.nn.Activation``:
    ``spec``, ``params()``, ``static_params``, ``inplace``)."""

    spec_name: ClassVar[str] = ""
    inplace = False

    def __init__(self) -> None:
        super().__init__()
        self.static_params: dict[str, Any] = {}

    @property
    def spec(self) -> Spec:
        return lookup(self.spec_name)

    def params(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in self.spec.params}

    def forward(self, input: Tensor) -> Tensor:
        from actlab.dispatch import call

        return call(self.spec, input, self.params(), training=self.training)


def _as_tensor(value, like: Tensor) -> Tensor:
    return torch.as_tensor(value, dtype=like.dtype, device=like.device)


# ----------------------------------------------------------------------------------------------------
# prelu
# ----------------------------------------------------------------------------------------------------
def _prelu(x: Tensor, weight) -> Tensor:
    return torch.where(x > 0, x, weight * x)


def _prelu_derivative(x: Tensor, weight) -> Tensor:
    return torch.where(x > 0, torch.ones_like(x), _as_tensor(weight, x))


class PReLU(LearnableActivation):
    """torch.nn.PReLU's interface: ``PReLU(num_parameters=1, init=0.25)``; ``weight`` has shape
    ``(num_parameters,)`` and acts per channel along dim 1 when ``num_parameters > 1``."""

    spec_name = "prelu"

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters = {num_parameters!r} must be a positive integer")
        self.spec.param("weight").validate(init, "prelu")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = nn.Parameter(torch.full((num_parameters,), float(init), device=device, dtype=dtype))

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


register(
    Spec(
        name="prelu",
        family="learnable",
        summary="Parametric ReLU: leaky relu whose negative slope is learned (one per channel or shared).",
        aliases=("parametric_relu",),
        formula="f(x) = x if x > 0 else a·x   (a learnable)",
        latex=r"f(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}",
        derivative_formula="f'(x) = 1 if x > 0 else a   (f'(0) = a);  ∂f/∂a = min(x, 0)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}, \quad"
        r" \frac{\partial f}{\partial a} = \min(x, 0)",
        params=(
            Param(
                "weight",
                0.25,
                learnable=True,
                per_channel=True,
                doc="the negative slope a (torch's PReLU calls it weight; initialised to 0.25)",
            ),
        ),
        forward=_prelu,
        derivative=_prelu_derivative,
        param_derivatives={"weight": lambda x, weight: torch.clamp(x, max=0.0)},
        mp_forward=lambda x, weight: x if x > 0 else weight * x,
        mp_derivative=lambda x, weight: mp.mpf(1) if x > 0 else mp.mpf(weight),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="C0", zero_centred=True, saturating=False
        ),
        origin="He, Zhang, Ren & Sun, Delving deep into rectifiers: surpassing human-level performance "
        "on ImageNet classification",
        year=2015,
        kink_note="At x = 0 actlab uses the left slope, f'(0) = a, and ∂f/∂a(0) = 0, as torch does.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.prelu",
        torch_module="torch.nn.PReLU",
        module_class=PReLU,
        examples=({"weight": -0.5}, {"weight": 1.5}),
    )
)


# ----------------------------------------------------------------------------------------------------
# swish with learnable β
# ----------------------------------------------------------------------------------------------------
SWISH_MIN = -0.27846454276107379511  # β = 1: the minimum of x·σ(x), at x = -1.27846454276107379511


def _swish(x: Tensor, beta) -> Tensor:
    # torch.sigmoid is exact in both tails, so x·σ(βx) has no overflow or cancellation for any βx
    return x * torch.sigmoid(beta * x)


def _swish_derivative(x: Tensor, beta) -> Tensor:
    # σ(βx) + βx·σ(βx)·σ(-βx): written with σ(-βx) rather than 1 - σ(βx), exact for large βx
    bx = beta * x
    s = torch.sigmoid(bx)
    return s + bx * s * torch.sigmoid(-bx)


def _swish_beta_partial(x: Tensor, beta) -> Tensor:
    bx = beta * x
    return x * x * torch.sigmoid(bx) * torch.sigmoid(-bx)


def _mp_sigmoid(t):
    return 1 / (1 + mp.exp(-t))


register(
    Spec(
        name="swish",
        family="learnable",
        summary="Swish x·σ(βx) with a learnable β: silu at β = 1, x/2 at β = 0, relu as β → ∞.",
        aliases=("swish_beta", "learnable_swish"),
        formula="f(x) = x·σ(βx) = x / (1 + exp(-βx))   (β learnable)",
        latex=r"f(x) = x\,\sigma(\beta x) = \frac{x}{1 + e^{-\beta x}}",
        derivative_formula="f'(x) = σ(βx) + βx·σ(βx)·σ(-βx);  ∂f/∂β = x²·σ(βx)·σ(-βx)",
        derivative_latex=r"f'(x) = \sigma(\beta x) + \beta x\,\sigma(\beta x)\,\sigma(-\beta x), \quad"
        r" \frac{\partial f}{\partial \beta} = x^2 \sigma(\beta x)\,\sigma(-\beta x)",
        params=(Param("beta", 1.0, learnable=True, doc="gate sharpness β (learned; 1 gives silu)"),),
        forward=_swish,
        derivative=_swish_derivative,
        param_derivatives={"beta": _swish_beta_partial},
        mp_forward=lambda x, beta: x * _mp_sigmoid(beta * x),
        mp_derivative=lambda x, beta: (
            _mp_sigmoid(beta * x) + beta * x * _mp_sigmoid(beta * x) * _mp_sigmoid(-beta * x)
        ),
        properties=Properties(
            (SWISH_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Ramachandran, Zoph & Le, Searching for activation functions",
        year=2017,
        kink_note="Smooth everywhere. Properties describe β = 1 (silu): minimum -0.278465 at x = -1.278466.",
        module_name="Swish",
        examples=({"beta": 4.0}, {"beta": 0.25}),
    )
)


# ----------------------------------------------------------------------------------------------------
# snake
# ----------------------------------------------------------------------------------------------------
def _snake_parts(x: Tensor, alpha) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """u = αx, sin(u), r = sin(u)/α (→ x as α → 0), and the α = 0 mask."""
    alpha = _as_tensor(alpha, x)
    zero = alpha == 0
    safe = torch.where(zero, torch.ones_like(alpha), alpha)  # no 0/0, not even in an unselected branch
    u = alpha * x
    s = torch.sin(u)
    r = torch.where(zero, x, s / safe)
    return u, s, r, zero


def _snake(x: Tensor, alpha) -> Tensor:
    # sin²(αx)/α as sin(αx)·(sin(αx)/α): no underflow of the square for tiny α, exact limit at α = 0
    _, s, r, _ = _snake_parts(x, alpha)
    return x + s * r


def _snake_derivative(x: Tensor, alpha) -> Tensor:
    return 1 + torch.sin(2 * _as_tensor(alpha, x) * x)


def _snake_alpha_partial(x: Tensor, alpha) -> Tensor:
    # ∂/∂α [sin²(αx)/α] = (x·sin(2αx) - sin(αx)·sin(αx)/α) / α, whose limit at α = 0 is x²
    u, s, r, zero = _snake_parts(x, alpha)
    alpha = _as_tensor(alpha, x)
    safe = torch.where(zero, torch.ones_like(alpha), alpha)
    return torch.where(zero, x * x, (x * torch.sin(2 * u) - s * r) / safe)


class Snake(LearnableActivation):
    """Snake x + sin²(αx)/α with learnable frequency α: ``Snake(in_features=None, alpha=1.0)``; with
    ``in_features = C`` one α per channel along dim 1 (the (batch, channels, time) layout of audio
    models), otherwise one shared α."""

    spec_name = "snake"

    def __init__(self, in_features: int | None = None, alpha: float = 1.0, device=None, dtype=None) -> None:
        super().__init__()
        self.spec.param("alpha").validate(alpha, "snake")
        if in_features is not None and (
            isinstance(in_features, bool) or not isinstance(in_features, int) or in_features < 1
        ):
            raise ValueError(f"Snake: in_features = {in_features!r} must be a positive integer or None")
        self.in_features = in_features
        shape = () if in_features is None else (in_features,)
        self.alpha = nn.Parameter(torch.full(shape, float(alpha), device=device, dtype=dtype))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"


register(
    Spec(
        name="snake",
        family="learnable",
        summary="Snake x + sin²(αx)/α: monotone, with a periodic ripple of learnable frequency, so networks "
        "can extrapolate periodic signals.",
        aliases=("snake_alpha",),
        formula="f(x) = x + sin²(αx)/α   (α learnable; α → 0 gives x)",
        latex=r"f(x) = x + \frac{\sin^2(\alpha x)}{\alpha}",
        derivative_formula="f'(x) = 1 + sin(2αx);  ∂f/∂α = x·sin(2αx)/α - sin²(αx)/α²",
        derivative_latex=r"f'(x) = 1 + \sin(2\alpha x), \quad \frac{\partial f}{\partial \alpha} = "
        r"\frac{x \sin(2\alpha x)}{\alpha} - \frac{\sin^2(\alpha x)}{\alpha^2}",
        params=(
            Param(
                "alpha",
                1.0,
                low=0.0,
                low_inclusive=False,
                learnable=True,
                per_channel=True,
                doc="frequency α > 0 (learned; one per channel with Snake(in_features=C))",
            ),
        ),
        forward=_snake,
        derivative=_snake_derivative,
        param_derivatives={"alpha": _snake_alpha_partial},
        mp_forward=lambda x, alpha: x + mp.sin(alpha * x) ** 2 / alpha,
        mp_derivative=lambda x, alpha: 1 + mp.sin(2 * alpha * x),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="Liu Ziyin, Hartwig & Ueda, Neural networks fail to learn periodic functions and how to fix it",
        year=2020,
        kink_note="Smooth everywhere; f' = 1 + sin(2αx) touches 0 at x = (kπ - π/4)/α, so f is monotone "
        "with flat inflection points. The α → 0 limit (f = x) is taken exactly.",
        module_class=Snake,
        examples=({"alpha": 0.25}, {"alpha": 8.0}),
    )
)


# ----------------------------------------------------------------------------------------------------
# rational (Padé activation unit)
# ----------------------------------------------------------------------------------------------------
# Default coefficients: a least-squares fit of P(x)/(1 + |Q(x)|) to leaky_relu(x, 0.01) on 2001 evenly
# spaced points of [-3, 3] (scipy.optimize.least_squares, method="lm"), with a0 = 0 so that f(0) = 0 as
# for leaky_relu, and b1 = b3 = 0: the unconstrained fit converges there (|b1|, |b3| < 1e-8), and fixing
# them leaves Q = b2·x² + b4·x⁴ <= 0, so 1 + |Q| is a polynomial and the default unit is smooth. The
# numbers are rounded to float32 so a module holding them in float32 computes exactly this function.
# tests/catalog/test_learnable.py repeats the fit. Max error on [-3, 3]: 0.027 (RMS 0.0086).
RATIONAL_NUMERATOR = (
    0.0,
    0.5049999952316284,
    2.484358549118042,
    3.6724917888641357,
    1.910125732421875,
    0.33665621280670166,
)
RATIONAL_DENOMINATOR = (0.0, -7.272260665893555, 0.0, -0.6666460037231445)
NUMERATOR_DEGREE = 5
DENOMINATOR_DEGREE = 4


def _coefficients(value, like: Tensor, size: int, name: str) -> Tensor:
    c = _as_tensor(value, like)
    if c.dim() != 1 or c.numel() != size:
        raise ValueError(f"rational: {name} must hold {size} coefficients, got shape {tuple(c.shape)}")
    return c


def _horner(coefficients: list[Tensor], z: Tensor) -> Tensor:
    """Σ c_i z^i with coefficients lowest degree first."""
    acc = coefficients[-1] * torch.ones_like(z)
    for c in reversed(coefficients[:-1]):
        acc = acc * z + c
    return acc


def _rational_parts(x: Tensor, numerator, denominator) -> dict[str, Tensor]:
    """Everything f, f' and the coefficient partials need, evaluated stably on the whole line.

    For |x| <= 1 in powers of x; for |x| > 1 in powers of t = 1/x, with P = x⁵·p(t) and
    1 + |Q| = x⁴·q(t), so nothing overflows (x⁸ would, for fp32 inputs in the half types' fp32
    compute) and large inputs keep full relative accuracy. Each branch sees a safe input, so no inf
    or NaN sits in an unselected branch (it would turn into NaN under double backward).
    """
    a = list(_coefficients(numerator, x, NUMERATOR_DEGREE + 1, "numerator").unbind())
    b = list(_coefficients(denominator, x, DENOMINATOR_DEGREE, "denominator").unbind())
    small = x.abs() <= 1
    xs = torch.where(small, x, torch.zeros_like(x))
    xl = torch.where(small, torch.ones_like(x), x)
    t = 1 / xl
    # |x| <= 1
    p = _horner(a, xs)
    dp = _horner([j * a[j] for j in range(1, 6)], xs)
    q = xs * _horner(b, xs)  # Σ b_k x^k, k = 1..4
    dq = _horner([k * b[k - 1] for k in range(1, 5)], xs)
    sign_s = torch.sign(q)
    d = 1 + q.abs()
    # |x| > 1, in t = 1/x: p~ = P/x⁵, dp~ = P'/x⁴, r = Q/x⁴, dr = Q'/x³, q~ = (1 + |Q|)/x⁴
    pt = _horner(a[::-1], t)
    dpt = _horner([(5 - i) * a[5 - i] for i in range(5)], t)
    r = _horner(b[::-1], t)
    drt = _horner([(4 - i) * b[3 - i] for i in range(4)], t)
    sign_l = torch.sign(r)
    t2 = t * t
    qt = t2 * t2 + r.abs()
    return {
        "small": small,
        "x_small": xs,
        "x_large": xl,
        "t": t,
        "p": p,
        "dp": dp,
        "dq": dq,
        "sign_s": sign_s,
        "d": d,
        "pt": pt,
        "dpt": dpt,
        "drt": drt,
        "sign_l": sign_l,
        "qt": qt,
    }


def _rational(x: Tensor, numerator, denominator) -> Tensor:
    v = _rational_parts(x, numerator, denominator)
    return torch.where(v["small"], v["p"] / v["d"], v["x_large"] * v["pt"] / v["qt"])


def _rational_derivative(x: Tensor, numerator, denominator) -> Tensor:
    v = _rational_parts(x, numerator, denominator)
    # f' = (P'·D - P·sign(Q)·Q') / D²; in t: (p~'·q~ - p~·sign·(Q'/x³)) / q~²
    small = (v["dp"] * v["d"] - v["p"] * v["sign_s"] * v["dq"]) / (v["d"] * v["d"])
    large = (v["dpt"] * v["qt"] - v["pt"] * v["sign_l"] * v["drt"]) / (v["qt"] * v["qt"])
    return torch.where(v["small"], small, large)


def _powers(z: Tensor, n: int) -> Tensor:
    """z^0 .. z^(n-1) on a trailing axis."""
    out = [torch.ones_like(z)]
    for _ in range(n - 1):
        out.append(out[-1] * z)
    return torch.stack(out, dim=-1)


def _rational_numerator_partial(x: Tensor, numerator, denominator) -> Tensor:
    # ∂f/∂a_j = x^j / D;  for |x| > 1: x^(j-4) / q~ = t^(4-j)/q~ (j <= 4), x/q~ (j = 5)
    v = _rational_parts(x, numerator, denominator)
    small = _powers(v["x_small"], 6) / v["d"].unsqueeze(-1)
    tp = _powers(v["t"], 5)  # t^0 .. t^4
    large = torch.cat([tp.flip(-1), v["x_large"].unsqueeze(-1)], dim=-1) / v["qt"].unsqueeze(-1)
    return torch.where(v["small"].unsqueeze(-1), small, large)


def _rational_denominator_partial(x: Tensor, numerator, denominator) -> Tensor:
    # ∂f/∂b_k = -P·sign(Q)·x^k / D²;  for |x| > 1: -p~·sign·x^(k-3) / q~² = t^(3-k) (k <= 3), x (k = 4)
    v = _rational_parts(x, numerator, denominator)
    xs = v["x_small"]
    small = -(v["p"] * v["sign_s"] / (v["d"] * v["d"])).unsqueeze(-1) * (_powers(xs, 4) * xs.unsqueeze(-1))
    tp = _powers(v["t"], 4)  # t^0 .. t^3
    scale = -(v["pt"] * v["sign_l"] / (v["qt"] * v["qt"])).unsqueeze(-1)
    large = scale * torch.cat([tp[..., :3].flip(-1), v["x_large"].unsqueeze(-1)], dim=-1)
    return torch.where(v["small"].unsqueeze(-1), small, large)


def _mp_poly(coefficients, x):
    return mp.fsum(c * x**j for j, c in enumerate(coefficients))


def _mp_rational(x, numerator, denominator):
    q = _mp_poly([0, *denominator], x)
    return _mp_poly(numerator, x) / (1 + abs(q))


def _mp_rational_derivative(x, numerator, denominator):
    p = _mp_poly(numerator, x)
    dp = _mp_poly([j * c for j, c in enumerate(numerator)][1:], x)
    q = _mp_poly([0, *denominator], x)
    dq = _mp_poly([(k + 1) * c for k, c in enumerate(denominator)], x)
    d = 1 + abs(q)
    return (dp * d - p * mp.sign(q) * dq) / d**2


register(
    Spec(
        name="rational",
        family="learnable",
        summary="Padé activation unit (safe PAU): a learnable rational function P(x)/(1 + |Q(x)|) of "
        "degrees 5/4, initialised to a fit of leaky_relu.",
        aliases=("pau", "pade", "safe_pau", "rational_activation"),
        formula="f(x) = (a0 + a1 x + … + a5 x⁵) / (1 + |b1 x + b2 x² + b3 x³ + b4 x⁴|)   (a, b learnable)",
        latex=r"f(x) = \frac{\sum_{j=0}^{5} a_j x^j}{1 + \left|\sum_{k=1}^{4} b_k x^k\right|}",
        derivative_formula="f'(x) = (P'(x)·D - P(x)·sign(Q)·Q'(x)) / D²,  D = 1 + |Q(x)|;  "
        "∂f/∂a_j = x^j / D;  ∂f/∂b_k = -P·sign(Q)·x^k / D²",
        derivative_latex=r"f'(x) = \frac{P'(x)\,D(x) - P(x)\,\operatorname{sign}(Q)\,Q'(x)}{D(x)^2},"
        r" \quad D = 1 + |Q|",
        params=(
            Param(
                "numerator",
                RATIONAL_NUMERATOR,
                learnable=True,
                doc="a0 … a5, lowest degree first (default: least-squares fit to leaky_relu(0.01))",
            ),
            Param(
                "denominator",
                RATIONAL_DENOMINATOR,
                learnable=True,
                doc="b1 … b4, lowest degree first (default: least-squares fit to leaky_relu(0.01))",
            ),
        ),
        forward=_rational,
        derivative=_rational_derivative,
        param_derivatives={
            "numerator": _rational_numerator_partial,
            "denominator": _rational_denominator_partial,
        },
        mp_forward=_mp_rational,
        mp_derivative=_mp_rational_derivative,
        # default coefficients: f ~ (a5/|b4|)·x = 0.505x at both ends, so unbounded both ways; the fit
        # wiggles around leaky_relu's kink (decreasing on about [-2.18, -0.12]), so not monotonic
        properties=Properties(
            (-INF, INF), monotonic=False, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="Molina, Schramowski & Kersting, Padé activation units: end-to-end learning of flexible "
        "activation functions in deep networks",
        year=2019,
        kink_note="|Q| has a kink wherever Q changes sign; actlab uses sign(0) = 0 there. The default "
        "coefficients have Q = b2·x² + b4·x⁴ <= 0 (b1 = b3 = 0), so the default unit is smooth; trained "
        "coefficients can introduce kinks. A rational of degrees 5/4 grows like (a5/|b4|)·x outside "
        "the fitted interval [-3, 3].",
        module_name="Rational",
        examples=(
            {
                "numerator": (0.02, 1.0, -0.5, 0.25, 0.125, 0.0625),
                "denominator": (0.5, -1.0, 0.75, 0.25),
            },
        ),
    )
)
