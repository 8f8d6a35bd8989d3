"""The smooth activations: GELU, SiLU, Mish, softplus and their relatives.

Each Spec's forward/derivative receives x already in the compute dtype (float64 for fp32/fp64 inputs,
float32 for fp16/bf16; see actlab.autograd), so the work here is to keep every formula *stable*: no
exp that can overflow, no 1 + erf(x) or 1 - σ(x) that cancels, series where two terms cancel near 0.
The mp_* references are the truth for the tests and are written in equally stable forms (mpmath at
113 bits still cancels catastrophically in log(1 + e^-100) or in x + sqrt(x² + b) at x = -1e38).

Where torch is wrong this module is right: torch's fp32 ``F.gelu`` computes 0.5·x·(1 + erf(x/√2)), so
1 + erf cancels in the left tail (gelu(-5) off by 4 %, gelu(-6) = 0); ``F.softplus``'s ``threshold``
switches to the identity when β·x > threshold and makes the function jump (pytorch#31110). actlab's
gelu uses erfc and its softplus is exact for every input: ``threshold`` is accepted and ignored.
"""

from __future__ import annotations

import math

import mpmath as mp
import torch

from actlab.catalog.spec import INF, Param, Properties, Spec, register

SQRT1_2 = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
GELU_TANH_C = 0.044715
QUICK_GELU_SCALE = 1.702

# Minima of the non-monotonic self-gated functions (mpmath, 30 digits; see tests/catalog/
# test_family_smooth.py, which re-derives them). Declared as the lower end of each output range.
GELU_MIN = -0.16997120747990366169  # at x = -0.75179152469356445746
SILU_MIN = -0.27846454276107379511  # at x = -1.27846454276107379510
MISH_MIN = -0.30884341301725040663  # at x = -1.19243121451549521210
QUICK_GELU_MIN = -0.16361018963635358115  # at x = -0.75115425544128895130
SERF_MIN = -0.34843745875960642022  # at x = -1.19305996892818796620
TANH_EXP_MIN = -0.35328577784821127099  # at x = -1.07886005846462405670


# ----------------------------------------------------------------------------------------------------
# shared stable pieces
# ----------------------------------------------------------------------------------------------------
def _softplus(x):
    """log(1 + e^x) without overflow for large x and without log(1 + tiny) = 0 for very negative x."""
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))


def _sigmoid(x):
    """σ(x) from e = exp(-|x|): e/(1 + e) on the left keeps full precision down to the subnormals,
    where torch's float32 sigmoid (used for bf16 inputs) returns 0 once exp(-x) overflows (x < -88.7)."""
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_slope(x):
    """σ(x)·σ(-x) = e/(1 + e)², e = exp(-|x|): symmetric and free of 1 - σ cancellation."""
    e = torch.exp(-x.abs())
    return e / (1 + e) ** 2


def _mp_softplus(x):
    return max(x, 0) + mp.log1p(mp.exp(-abs(x)))


def _mp_sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _at_infinity(fn, minus, plus):
    """``fn`` with its limits at x = -inf and +inf, where the formulas would give inf·0 = NaN.

    ``minus``/``plus`` are numbers or functions of the parameters (isru's ±1/√α).
    """

    def wrapped(x, **params):
        y = fn(x, **params)
        lo = minus(**params) if callable(minus) else minus
        hi = plus(**params) if callable(plus) else plus
        return torch.where(x == -INF, lo, torch.where(x == INF, hi, y))

    return wrapped


# ----------------------------------------------------------------------------------------------------
# GELU
# ----------------------------------------------------------------------------------------------------
def _gelu_tanh_u(x):
    return SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)


def _gelu_forward(x, approximate):
    if approximate == "tanh":
        # 0.5·x·(1 + tanh u) = x·σ(2u): no 1 + tanh cancellation in the left tail
        return x * _sigmoid(2 * _gelu_tanh_u(x))
    # Φ(x) = erfc(-x/√2)/2 keeps full relative accuracy in the left tail, where 1 + erf(x/√2) cancels
    return 0.5 * x * torch.special.erfc(-x * SQRT1_2)


def _gelu_derivative(x, approximate):
    if approximate == "tanh":
        s = _sigmoid(2 * _gelu_tanh_u(x))
        # the second term is below 1e-300 beyond |x| = 50; clamping keeps x·u' from overflowing in
        # float32 (bf16 inputs) into inf·0 = NaN
        xc = x.clamp(-50.0, 50.0)
        uc = _gelu_tanh_u(xc)
        du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * xc * xc)
        return s + 2 * xc * du * _sigmoid_slope(2 * uc)
    xc = x.clamp(-1e4, 1e4)  # x·φ(x) is exactly 0 in any float beyond |x| = 40; avoids x² overflow
    return 0.5 * torch.special.erfc(-x * SQRT1_2) + xc * torch.exp(-0.5 * xc * xc) * INV_SQRT_2PI


def _mp_gelu(x, approximate):
    if approximate == "tanh":
        u = mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3)
        return x / (1 + mp.exp(-2 * u))
    return x * mp.erfc(-x / mp.sqrt(2)) / 2


def _mp_gelu_derivative(x, approximate):
    if approximate == "tanh":
        c = mp.mpf("0.044715")
        u = mp.sqrt(2 / mp.pi) * (x + c * x**3)
        du = mp.sqrt(2 / mp.pi) * (1 + 3 * c * x**2)
        e = mp.exp(-2 * u)
        return 1 / (1 + e) + 2 * x * du * e / (1 + e) ** 2
    return mp.erfc(-x / mp.sqrt(2)) / 2 + x * mp.npdf(x)


register(
    Spec(
        name="gelu",
        family="smooth",
        summary="Gaussian error linear unit: x weighted by the standard normal CDF. The transformer default.",
        aliases=("gaussian_error_linear_unit",),
        formula="f(x) = x·Φ(x) = x/2 · erfc(-x/√2);  approximate='tanh': x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))",
        latex=r"f(x) = x\,\Phi(x) = \tfrac{x}{2}\operatorname{erfc}\!\big(-\tfrac{x}{\sqrt 2}\big)"
        r"\quad\text{tanh: } \tfrac{x}{2}\big(1+\tanh\!\big(\sqrt{2/\pi}\,(x+0.044715x^3)\big)\big)",
        derivative_formula="f'(x) = Φ(x) + x·φ(x);  tanh form: σ(2u) + 2x·u'·σ(2u)·σ(-2u), "
        "u = √(2/π)(x + 0.044715x³)",
        derivative_latex=r"f'(x) = \Phi(x) + x\,\varphi(x)",
        params=(
            Param(
                "approximate",
                "none",
                choices=("none", "tanh"),
                doc="'none' is the exact x·Φ(x) (torch's and Keras' default); 'tanh' is the "
                "Hendrycks-Gimpel tanh approximation (jax.nn.gelu's default, approximate=True).",
            ),
        ),
        forward=_at_infinity(_gelu_forward, 0.0, INF),
        derivative=_gelu_derivative,
        mp_forward=_mp_gelu,
        mp_derivative=_mp_gelu_derivative,
        examples=({"approximate": "tanh"},),
        properties=Properties(
            (GELU_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Hendrycks & Gimpel, Gaussian Error Linear Units (GELUs), arXiv:1606.08415",
        year=2016,
        torch_function="torch.nn.functional.gelu",
        torch_module="torch.nn.GELU",
        keras="keras.activations.gelu",
        jax="jax.nn.gelu",
        kink_note="Minimum -0.16997 at x = -0.75179. Exact form computed through erfc: torch's fp32 "
        "F.gelu returns -1.49e-6 at x = -5 (true -1.4333e-6) and 0 at x = -6 (true -5.92e-9). "
        "jax.nn.gelu defaults to the tanh approximation, torch and Keras to the exact form.",
    )
)


# ----------------------------------------------------------------------------------------------------
# SiLU
# ----------------------------------------------------------------------------------------------------
def _silu_derivative(x):
    return _sigmoid(x) + x * _sigmoid_slope(x)


register(
    Spec(
        name="silu",
        family="smooth",
        summary="Sigmoid-weighted linear unit (Swish with β = 1): x·σ(x).",
        aliases=("sigmoid_linear_unit", "swish1"),
        formula="f(x) = x·σ(x) = x / (1 + exp(-x))",
        latex=r"f(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}",
        derivative_formula="f'(x) = σ(x) + x·σ(x)·σ(-x) = σ(x)(1 + x(1 - σ(x)))",
        derivative_latex=r"f'(x) = \sigma(x)\big(1 + x\,(1 - \sigma(x))\big)",
        forward=_at_infinity(lambda x: x * _sigmoid(x), 0.0, INF),
        derivative=_at_infinity(_silu_derivative, 0.0, 1.0),
        mp_forward=lambda x: x * _mp_sigmoid(x),
        mp_derivative=lambda x: _mp_sigmoid(x) + x * _mp_sigmoid(x) * _mp_sigmoid(-x),
        properties=Properties(
            (SILU_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Elfwing, Uchibe & Doya, Sigmoid-Weighted Linear Units for Neural Network Function "
        "Approximation in Reinforcement Learning (also Hendrycks & Gimpel 2016; Ramachandran, Zoph & "
        "Le 2017 named it Swish)",
        year=2017,
        torch_function="torch.nn.functional.silu",
        torch_module="torch.nn.SiLU",
        keras="keras.activations.silu",
        jax="jax.nn.silu",
        inplace=True,
        kink_note="Minimum -0.278465 at x = -1.278466. Keras and JAX also call it swish; in actlab "
        "'swish' is the learnable-β version and silu is swish with β = 1.",
    )
)


# ----------------------------------------------------------------------------------------------------
# Mish
# ----------------------------------------------------------------------------------------------------
def _mish_derivative(x):
    sp = _softplus(x)
    # sech² = 1/cosh² has no 1 - tanh² cancellation; cosh overflow gives the right 0
    return torch.tanh(sp) + x * _sigmoid(x) / torch.cosh(sp) ** 2


register(
    Spec(
        name="mish",
        family="smooth",
        summary="Mish: x·tanh(softplus(x)), a self-regularised non-monotonic activation.",
        formula="f(x) = x·tanh(softplus(x)) = x·tanh(ln(1 + e^x))",
        latex=r"f(x) = x \tanh\big(\ln(1 + e^{x})\big)",
        derivative_formula="f'(x) = tanh(sp(x)) + x·σ(x)·sech²(sp(x)),  sp = softplus",
        derivative_latex=r"f'(x) = \tanh(\operatorname{sp}(x)) + x\,\sigma(x)\,\operatorname{sech}^2"
        r"(\operatorname{sp}(x))",
        forward=_at_infinity(lambda x: x * torch.tanh(_softplus(x)), 0.0, INF),
        derivative=_at_infinity(_mish_derivative, 0.0, 1.0),
        mp_forward=lambda x: x * mp.tanh(_mp_softplus(x)),
        mp_derivative=lambda x: mp.tanh(_mp_softplus(x)) + x * _mp_sigmoid(x) * mp.sech(_mp_softplus(x)) ** 2,
        properties=Properties(
            (MISH_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Misra, Mish: A Self Regularized Non-Monotonic Activation Function, arXiv:1908.08681",
        year=2019,
        torch_function="torch.nn.functional.mish",
        torch_module="torch.nn.Mish",
        keras="keras.activations.mish",
        jax="jax.nn.mish",
        inplace=True,
        kink_note="Minimum -0.308843 at x = -1.192431. softplus is computed as max(x, 0) + "
        "log1p(exp(-|x|)), so fp16/bf16 never overflow (a naive exp overflows fp16 above x ≈ 11.09).",
    )
)


# ----------------------------------------------------------------------------------------------------
# softplus
# ----------------------------------------------------------------------------------------------------
def _softplus_forward(x, beta, threshold):
    # relu(x) + log1p(exp(-β|x|))/β: β·x is never formed where it could overflow (bf16 near its max)
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-beta * x.abs())) / beta


register(
    Spec(
        name="softplus",
        family="smooth",
        summary="Softplus: a smooth ReLU, ln(1 + e^(βx))/β. Exact everywhere (no threshold switch).",
        formula="f(x) = ln(1 + exp(β·x)) / β = max(x, 0) + ln(1 + exp(-β|x|)) / β",
        latex=r"f(x) = \frac{1}{\beta}\ln\!\big(1 + e^{\beta x}\big)",
        derivative_formula="f'(x) = σ(β·x) = 1 - exp(-β·f(x))",
        derivative_latex=r"f'(x) = \sigma(\beta x) = 1 - e^{-\beta f(x)}",
        params=(
            Param("beta", 1.0, low=0.0, low_inclusive=False, doc="sharpness; β → ∞ approaches relu"),
            Param(
                "threshold",
                20.0,
                doc="accepted for torch compatibility and ignored: torch switches to the identity "
                "when β·x > threshold, which makes the function jump (pytorch#31110); actlab's "
                "softplus is exact for every input, so the switch is not needed.",
            ),
        ),
        forward=_softplus_forward,
        derivative=lambda x, beta, threshold: _sigmoid(beta * x),
        # σ(βx) = 1 - e^(-βy): accurate in both tails from the rounded output
        derivative_from_output=lambda y, beta, threshold: -torch.expm1(-beta * y),
        mp_forward=lambda x, beta, threshold: max(x, 0) + mp.log1p(mp.exp(-beta * abs(x))) / beta,
        mp_derivative=lambda x, beta, threshold: _mp_sigmoid(beta * x),
        examples=({"beta": 10.0, "threshold": 0.4}, {"beta": 0.5}),
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="Cinf", zero_centred=False, saturating=False
        ),
        origin="Dugas, Bengio, Bélisle, Nadeau & Garcia, Incorporating Second-Order Functional "
        "Knowledge for Better Option Pricing (NeurIPS 2000)",
        year=2000,
        torch_function="torch.nn.functional.softplus",
        torch_module="torch.nn.Softplus",
        keras="keras.activations.softplus",
        jax="jax.nn.softplus",
        kink_note="threshold never changes the value: torch's F.softplus(beta=10, threshold=0.4) "
        "jumps from 0.0913 to 0.0400 at x = 0.04; actlab's is continuous there.",
    )
)


# ----------------------------------------------------------------------------------------------------
# softsign, log-sigmoid, tanhshrink
# ----------------------------------------------------------------------------------------------------
register(
    Spec(
        name="softsign",
        family="smooth",
        summary="Softsign: x/(1 + |x|), a sigmoid-shaped function with polynomial tails.",
        aliases=("soft_sign",),
        formula="f(x) = x / (1 + |x|)",
        latex=r"f(x) = \frac{x}{1 + |x|}",
        derivative_formula="f'(x) = 1 / (1 + |x|)² = (1 - |f(x)|)²",
        derivative_latex=r"f'(x) = \frac{1}{(1 + |x|)^2} = (1 - |f(x)|)^2",
        forward=_at_infinity(lambda x: x / (1 + x.abs()), -1.0, 1.0),
        derivative=lambda x: 1 / (1 + x.abs()) ** 2,
        derivative_from_output=lambda y: (1 - y.abs()) ** 2,
        mp_forward=lambda x: x / (1 + abs(x)),
        mp_derivative=lambda x: 1 / (1 + abs(x)) ** 2,
        properties=Properties(
            (-1.0, 1.0), monotonic=True, continuity="C1", zero_centred=True, saturating=True
        ),
        origin="Turian, Bergstra & Bengio, Quadratic Features and Deep Architectures for Chunking "
        "(NAACL 2009); studied by Glorot & Bengio 2010",
        year=2009,
        kinks=(0.0,),
        kink_note="f'' jumps from 2 to -2 at x = 0 (f is C¹, not C²); f'(0) = 1.",
        torch_function="torch.nn.functional.softsign",
        torch_module="torch.nn.Softsign",
        keras="keras.activations.softsign",
        jax="jax.nn.soft_sign",
    )
)

register(
    Spec(
        name="log_sigmoid",
        family="smooth",
        summary="Logarithm of the sigmoid, computed without overflow or log(0): -softplus(-x).",
        aliases=("logsigmoid",),
        formula="f(x) = ln σ(x) = -softplus(-x) = min(x, 0) - ln(1 + exp(-|x|))",
        latex=r"f(x) = \ln \sigma(x) = -\ln\!\big(1 + e^{-x}\big)",
        derivative_formula="f'(x) = σ(-x) = 1 - exp(f(x))",
        derivative_latex=r"f'(x) = \sigma(-x) = 1 - e^{f(x)}",
        forward=lambda x: torch.clamp(x, max=0) - torch.log1p(torch.exp(-x.abs())),
        derivative=lambda x: _sigmoid(-x),
        derivative_from_output=lambda y: -torch.expm1(y),
        mp_forward=lambda x: min(x, 0) - mp.log1p(mp.exp(-abs(x))),
        mp_derivative=lambda x: _mp_sigmoid(-x),
        properties=Properties(
            (-INF, 0.0), monotonic=True, continuity="Cinf", zero_centred=False, saturating=False
        ),
        origin="the log-likelihood of logistic regression (Cox 1958); as a layer in torch and Keras",
        year=1958,
        torch_function="torch.nn.functional.logsigmoid",
        torch_module="torch.nn.LogSigmoid",
        keras="keras.activations.log_sigmoid",
        jax="jax.nn.log_sigmoid",
    )
)

# x - tanh x = x³/3 - 2x⁵/15 + 17x⁷/315 - 62x⁹/2835 + 1382x¹¹/155925 - ...; below |x| = 1/16 the
# omitted terms are < 1e-14 relative, and the direct difference would lose up to 30 bits there.
_TANHSHRINK_SERIES = (1 / 3, -2 / 15, 17 / 315, -62 / 2835, 1382 / 155925, -21844 / 6081075)
_TANHSHRINK_CUT = 0.0625


def _tanhshrink_forward(x):
    small = x.abs() < _TANHSHRINK_CUT
    xs = torch.where(small, x, torch.zeros_like(x))
    x2 = xs * xs
    poly = torch.zeros_like(x)
    for c in reversed(_TANHSHRINK_SERIES):
        poly = poly * x2 + c
    return torch.where(small, xs * x2 * poly, x - torch.tanh(x))


register(
    Spec(
        name="tanhshrink",
        family="smooth",
        summary="Tanhshrink: x - tanh(x); near zero it behaves like x³/3.",
        aliases=("tanh_shrink",),
        formula="f(x) = x - tanh(x)   (x³/3 - 2x⁵/15 + ... for |x| < 1/16)",
        latex=r"f(x) = x - \tanh x",
        derivative_formula="f'(x) = tanh²(x)",
        derivative_latex=r"f'(x) = \tanh^2 x",
        forward=_tanhshrink_forward,
        derivative=lambda x: torch.tanh(x) ** 2,
        mp_forward=lambda x: x - mp.tanh(x),
        mp_derivative=lambda x: mp.tanh(x) ** 2,
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="Torch7 (nn.TanhShrink), Collobert, Kavukcuoglu & Farabet, Torch7: A Matlab-like "
        "Environment for Machine Learning",
        year=2011,
        torch_function="torch.nn.functional.tanhshrink",
        torch_module="torch.nn.Tanhshrink",
        keras="keras.activations.tanh_shrink",
    )
)


# ----------------------------------------------------------------------------------------------------
# squareplus
# ----------------------------------------------------------------------------------------------------
def _squareplus_forward(x, b):
    h = torch.hypot(x, torch.full_like(x, math.sqrt(b)))
    # x < 0: (x + h)/2 cancels; b / (2(h - x)) is the same number without the cancellation
    neg = x < 0
    # x/2 + h/2, not (x + h)/2: the sum overflows float32 (bf16 inputs) near the top of the range
    # b/(2(h - x)) is evaluated as (b/4)/(h/2 - x/2) for the same reason
    gap = torch.where(neg, 0.5 * h - 0.5 * x, torch.ones_like(x))
    return torch.where(neg, (0.25 * b) / gap, 0.5 * x + 0.5 * h)


def _squareplus_derivative(x, b):
    h = torch.hypot(x, torch.full_like(x, math.sqrt(b)))
    neg = x < 0
    safe_h = torch.where(neg, h, torch.ones_like(x))
    return torch.where(neg, b / (2 * safe_h * (safe_h - x)), (1 + x / torch.where(neg, 1.0, h)) / 2)


def _squareplus_from_output(y, b):
    # f' = y / sqrt(x² + b) and sqrt(x² + b) = y + b/(4y)  =>  f' = 4y²/(4y² + b) = 1/(1 + (b/4)/y/y),
    # the last form free of overflow at large y and of 0/0 at y = 0 (b > 0)
    if b == 0:
        return (y > 0).to(y.dtype)
    return 1 / (1 + (0.25 * b) / y / y)


def _mp_squareplus(x, b):
    s = mp.sqrt(x * x + b)
    return (x + s) / 2 if x >= 0 else b / (2 * (s - x))


def _mp_squareplus_derivative(x, b):
    s = mp.sqrt(x * x + b)
    return (1 + x / s) / 2 if x >= 0 else b / (2 * s * (s - x))


register(
    Spec(
        name="squareplus",
        family="smooth",
        summary="Squareplus: an algebraic softplus, (x + √(x² + b))/2; b = 0 is relu.",
        aliases=("square_plus",),
        formula="f(x) = (x + √(x² + b)) / 2   (= b / (2(√(x² + b) - x)) for x < 0, no cancellation)",
        latex=r"f(x) = \frac{x + \sqrt{x^2 + b}}{2}",
        derivative_formula="f'(x) = (1 + x/√(x² + b)) / 2 = 4f² / (4f² + b)",
        derivative_latex=r"f'(x) = \frac{1}{2}\Big(1 + \frac{x}{\sqrt{x^2 + b}}\Big) = \frac{4f^2}{4f^2 + b}",
        params=(Param("b", 4.0, low=0.0, doc="curvature near 0; b = 0 gives relu"),),
        forward=_squareplus_forward,
        derivative=_at_infinity(_squareplus_derivative, 0.0, 1.0),
        derivative_from_output=_at_infinity(_squareplus_from_output, 0.0, 1.0),
        mp_forward=_mp_squareplus,
        mp_derivative=_mp_squareplus_derivative,
        examples=({"b": 1.0},),
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="Cinf", zero_centred=False, saturating=False
        ),
        origin="Barron, Squareplus: A Softplus-Like Algebraic Rectifier, arXiv:2112.11687",
        year=2021,
        keras="keras.activations.squareplus",
        jax="jax.nn.squareplus",
    )
)


# ----------------------------------------------------------------------------------------------------
# QuickGELU, Elliott, bent identity, ISRU, LiSHT, exponential, SERF, TanhExp
# ----------------------------------------------------------------------------------------------------
def _quick_gelu_derivative(x):
    # z·σ'(z) is exactly 0 beyond |z| = 1e4; the clamp keeps 1.702·x from overflowing into inf·0
    z = QUICK_GELU_SCALE * x.clamp(-1e4, 1e4)
    return _sigmoid(QUICK_GELU_SCALE * x) + z * _sigmoid_slope(z)


def _mp_quick_gelu_derivative(x):
    z = mp.mpf("1.702") * x
    return _mp_sigmoid(z) + z * _mp_sigmoid(z) * _mp_sigmoid(-z)


register(
    Spec(
        name="quick_gelu",
        family="smooth",
        summary="QuickGELU: x·σ(1.702x), the sigmoid approximation of GELU used by CLIP.",
        aliases=("quickgelu",),
        formula="f(x) = x·σ(1.702·x)",
        latex=r"f(x) = x\,\sigma(1.702\,x)",
        derivative_formula="f'(x) = σ(z) + z·σ(z)·σ(-z),  z = 1.702·x",
        derivative_latex=r"f'(x) = \sigma(z) + z\,\sigma(z)\,\sigma(-z),\; z = 1.702x",
        forward=_at_infinity(lambda x: x * _sigmoid(QUICK_GELU_SCALE * x), 0.0, INF),
        derivative=_at_infinity(_quick_gelu_derivative, 0.0, 1.0),
        mp_forward=lambda x: x * _mp_sigmoid(mp.mpf("1.702") * x),
        mp_derivative=_mp_quick_gelu_derivative,
        properties=Properties(
            (QUICK_GELU_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Hendrycks & Gimpel, Gaussian Error Linear Units (the σ(1.702x) approximation); "
        "named QuickGELU in OpenAI CLIP (Radford et al., 2021)",
        year=2016,
        approximates="gelu",
    )
)


def _elliott_forward(x):
    # 1/2 + x/(2(1 + |x|)), written per side so neither tail cancels: 1/(2(1 - x)) for x < 0
    neg = x < 0
    return torch.where(neg, 0.5 / (1 - x), 1 - 0.5 / (1 + x.clamp(min=0)))


def _elliott_from_output(y):
    # f' = 1/(2(1 + |x|)²) and 1/(1 + |x|) = 2·min(f, 1 - f)
    m = torch.minimum(y, 1 - y)
    return 2 * m * m


register(
    Spec(
        name="elliott",
        family="smooth",
        summary="Elliott sigmoid: a cheap algebraic sigmoid with range (0, 1), (softsign + 1)/2.",
        aliases=("elliott_sigmoid", "elliot"),
        formula="f(x) = 1/2 + x / (2(1 + |x|))",
        latex=r"f(x) = \frac{1}{2} + \frac{x}{2(1 + |x|)}",
        derivative_formula="f'(x) = 1 / (2(1 + |x|)²) = 2·min(f, 1 - f)²",
        derivative_latex=r"f'(x) = \frac{1}{2(1 + |x|)^2}",
        forward=_elliott_forward,
        derivative=lambda x: 0.5 / (1 + x.abs()) ** 2,
        derivative_from_output=_elliott_from_output,
        mp_forward=lambda x: 1 / (2 * (1 - x)) if x < 0 else 1 - 1 / (2 * (1 + x)),
        mp_derivative=lambda x: 1 / (2 * (1 + abs(x)) ** 2),
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="C1", zero_centred=False, saturating=True
        ),
        origin="Elliott, A Better Activation Function for Artificial Neural Networks, ISR Technical "
        "Report TR 93-8, University of Maryland (the FANN library's ELLIOT)",
        year=1993,
        kinks=(0.0,),
        kink_note="f'' jumps at x = 0 (C¹, not C²); f'(0) = 1/2.",
    )
)


def _bent_identity_forward(x):
    h = torch.hypot(x, torch.ones_like(x))
    # (√(x²+1) - 1)/2 = x²/(2(√(x²+1) + 1)), written as x·(x/(h+1))/2 so x² never overflows
    return x + 0.5 * x * (x / (h + 1))


register(
    Spec(
        name="bent_identity",
        family="smooth",
        summary="Bent identity: x + (√(x² + 1) - 1)/2, slope 1/2 on the left and 3/2 on the right.",
        aliases=("bent_id",),
        formula="f(x) = x + (√(x² + 1) - 1) / 2",
        latex=r"f(x) = x + \frac{\sqrt{x^2 + 1} - 1}{2}",
        derivative_formula="f'(x) = 1 + x / (2√(x² + 1))",
        derivative_latex=r"f'(x) = 1 + \frac{x}{2\sqrt{x^2 + 1}}",
        forward=_at_infinity(_bent_identity_forward, -INF, INF),
        # 0.5·(x/h), not x/(2h): 2h overflows float32 (bf16 inputs) near the top of the range
        derivative=_at_infinity(lambda x: 1 + 0.5 * (x / torch.hypot(x, torch.ones_like(x))), 0.5, 1.5),
        mp_forward=lambda x: x + x * x / (2 * (mp.sqrt(x * x + 1) + 1)),
        mp_derivative=lambda x: 1 + x / (2 * mp.sqrt(x * x + 1)),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="no primary paper: a folklore smooth rectifier listed in activation-function surveys "
        "(e.g. the Wikipedia table of activation functions, c. 2016)",
        year=2016,
    )
)


def _isru_forward(x, alpha):
    # x/√(1 + αx²) = x / hypot(1, √α·x): no overflow of x² in float32 (bf16 inputs). Where √α·|x| >
    # 1e18 the value is ±1/√α to 1e-36 relative, and there √α·x itself could overflow.
    root = math.sqrt(alpha)
    far = x.abs() > 1e18 / root
    near = torch.where(far, torch.zeros_like(x), x)
    return torch.where(far, torch.sign(x) / root, near / torch.hypot(torch.ones_like(x), root * near))


def _isru_derivative(x, alpha):
    return 1 / torch.hypot(torch.ones_like(x), math.sqrt(alpha) * x) ** 3


register(
    Spec(
        name="isru",
        family="smooth",
        summary="Inverse square root unit: x/√(1 + αx²), a sigmoid with range (-1/√α, 1/√α).",
        aliases=("inverse_square_root_unit",),
        formula="f(x) = x / √(1 + α·x²)",
        latex=r"f(x) = \frac{x}{\sqrt{1 + \alpha x^2}}",
        derivative_formula="f'(x) = (1 + α·x²)^(-3/2) = (1 - α·f²)^(3/2)",
        derivative_latex=r"f'(x) = \big(1 + \alpha x^2\big)^{-3/2} = \big(1 - \alpha f^2\big)^{3/2}",
        params=(Param("alpha", 1.0, low=0.0, low_inclusive=False, doc="the output range is ±1/√α"),),
        forward=_at_infinity(
            _isru_forward, lambda alpha: -1 / math.sqrt(alpha), lambda alpha: 1 / math.sqrt(alpha)
        ),
        derivative=_isru_derivative,
        derivative_from_output=lambda y, alpha: torch.clamp(1 - alpha * y * y, min=0) ** 1.5,
        mp_forward=lambda x, alpha: x / mp.sqrt(1 + alpha * x * x),
        mp_derivative=lambda x, alpha: (1 + alpha * x * x) ** mp.mpf(-1.5),
        examples=({"alpha": 3.0},),
        properties=Properties(
            (-1.0, 1.0), monotonic=True, continuity="Cinf", zero_centred=True, saturating=True
        ),
        origin="Carlile, Delamarter, Kinney, Marti & Whitney, Improving Deep Learning by Inverse "
        "Square Root Linear Units (ISRLUs), arXiv:1710.09967",
        year=2017,
    )
)

register(
    Spec(
        name="lisht",
        family="smooth",
        summary="LiSHT: the linearly scaled hyperbolic tangent x·tanh(x); non-negative and symmetric.",
        aliases=("linearly_scaled_tanh",),
        formula="f(x) = x·tanh(x)",
        latex=r"f(x) = x \tanh x",
        derivative_formula="f'(x) = tanh(x) + x·sech²(x)",
        derivative_latex=r"f'(x) = \tanh x + x\,\operatorname{sech}^2 x",
        forward=lambda x: x * torch.tanh(x),
        derivative=_at_infinity(lambda x: torch.tanh(x) + x / torch.cosh(x) ** 2, -1.0, 1.0),
        mp_forward=lambda x: x * mp.tanh(x),
        mp_derivative=lambda x: mp.tanh(x) + x * mp.sech(x) ** 2,
        properties=Properties(
            (0.0, INF), monotonic=False, continuity="Cinf", zero_centred=False, saturating=False
        ),
        origin="Roy, Manna, Dubey & Chaudhuri, LiSHT: Non-Parametric Linearly Scaled Hyperbolic "
        "Tangent Activation Function for Neural Networks, arXiv:1901.05894",
        year=2019,
    )
)

register(
    Spec(
        name="exponential",
        family="smooth",
        summary="The exponential e^x (Keras' 'exponential'); overflows where e^x is not representable.",
        aliases=("exp",),
        formula="f(x) = exp(x)",
        latex=r"f(x) = e^{x}",
        derivative_formula="f'(x) = exp(x) = f(x)",
        derivative_latex=r"f'(x) = e^{x} = f(x)",
        forward=torch.exp,
        derivative=torch.exp,
        derivative_from_output=lambda y: y,
        mp_forward=mp.exp,
        mp_derivative=mp.exp,
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="Cinf", zero_centred=False, saturating=False
        ),
        origin="Keras (keras.activations.exponential), Chollet et al.",
        year=2015,
        keras="keras.activations.exponential",
        kink_note="Overflows to inf above x ≈ 88.72 in fp32 and 11.09 in fp16: the true value is not "
        "representable there.",
    )
)


def _serf_derivative(x):
    # the second term is exactly 0 beyond |x| = 1e4 (either factor underflows); the clamp keeps
    # x·2/√π from overflowing into inf·0 = NaN
    xc = x.clamp(-1e4, 1e4)
    sp = _softplus(xc)
    return torch.erf(_softplus(x)) + xc * TWO_OVER_SQRT_PI * torch.exp(-sp * sp) * _sigmoid(xc)


register(
    Spec(
        name="serf",
        family="smooth",
        summary="SERF: x·erf(softplus(x)), a Mish-like self-gated unit built on the error function.",
        aliases=("log_softplus_erf",),
        formula="f(x) = x·erf(ln(1 + e^x))",
        latex=r"f(x) = x \operatorname{erf}\big(\ln(1 + e^{x})\big)",
        derivative_formula="f'(x) = erf(sp(x)) + x·(2/√π)·exp(-sp(x)²)·σ(x),  sp = softplus",
        derivative_latex=r"f'(x) = \operatorname{erf}(\operatorname{sp}) + x\,\tfrac{2}{\sqrt\pi}"
        r"e^{-\operatorname{sp}^2}\sigma(x)",
        forward=_at_infinity(lambda x: x * torch.erf(_softplus(x)), 0.0, INF),
        derivative=_at_infinity(_serf_derivative, 0.0, 1.0),
        mp_forward=lambda x: x * mp.erf(_mp_softplus(x)),
        mp_derivative=lambda x: (
            mp.erf(_mp_softplus(x))
            + x * 2 / mp.sqrt(mp.pi) * mp.exp(-(_mp_softplus(x) ** 2)) * _mp_sigmoid(x)
        ),
        properties=Properties(
            (SERF_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Nag, Bhattacharyya et al., SERF: Towards Better Training of Deep Neural "
        "Networks Using Log-Softplus ERror Activation Function (WACV 2023)",
        year=2023,
        kink_note="Minimum -0.348437 at x = -1.193060.",
    )
)


def _tanh_exp_derivative(x):
    # the second term x·e^x·sech²(e^x) is below e^(-1e13) beyond x = 30; clamping avoids inf·0
    xc = x.clamp(max=30.0)
    t = torch.exp(xc)
    return torch.tanh(torch.exp(x)) + xc * t / torch.cosh(t) ** 2


def _mp_tanh_exp(x):
    # beyond x = 40, tanh(e^x) = 1 - 2e^(-2e^x) is 1 at any precision (and e^(e^x) would not fit
    # in memory)
    return x if x > 40 else x * mp.tanh(mp.exp(x))


def _mp_tanh_exp_derivative(x):
    if x > 40:
        return mp.mpf(1)
    t = mp.exp(x)
    return mp.tanh(t) + x * t * mp.sech(t) ** 2


register(
    Spec(
        name="tanh_exp",
        family="smooth",
        summary="TanhExp: x·tanh(e^x), a self-gated unit with a steep rise for lightweight networks.",
        aliases=("tanhexp",),
        formula="f(x) = x·tanh(exp(x))",
        latex=r"f(x) = x \tanh\big(e^{x}\big)",
        derivative_formula="f'(x) = tanh(e^x) + x·e^x·sech²(e^x)",
        derivative_latex=r"f'(x) = \tanh(e^{x}) + x\,e^{x}\operatorname{sech}^2(e^{x})",
        forward=_at_infinity(lambda x: x * torch.tanh(torch.exp(x)), 0.0, INF),
        derivative=_at_infinity(_tanh_exp_derivative, 0.0, 1.0),
        mp_forward=_mp_tanh_exp,
        mp_derivative=_mp_tanh_exp_derivative,
        properties=Properties(
            (TANH_EXP_MIN, INF),
            monotonic=False,
            continuity="Cinf",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Liu & Di, TanhExp: A Smooth Activation Function with High Convergence Speed for "
        "Lightweight Neural Networks, arXiv:2003.09855 (IET Computer Vision 2021)",
        year=2020,
        kink_note="Minimum -0.353286 at x = -1.078860.",
    )
)
