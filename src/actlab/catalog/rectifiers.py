"""The rectifiers: relu and its relatives (leaky, randomized, exponential, scaled, squared, smooth).

Convention at the kink x = 0 (and wherever a piece ends): actlab uses the derivative of the piece on the
*left* of a one-sided kink at 0 (relu'(0) = 0 as in JAX and torch, leaky_relu'(0) = negative_slope,
elu'(0) = alpha, selu'(0) = λα, as torch's backward gives), and 0 at the two corners of relu6. The
``mp_derivative`` references use the same conventions, so the tests check them exactly.

Wherever f' can be written in terms of y = f(x) (relu, leaky_relu, rrelu, elu, selu, celu, relu6, smelu),
``derivative_from_output`` is given and backward keeps only the output: for these rectifiers
y > 0 exactly when x > 0 (all slopes and alphas are ≥ 0), which is what makes it possible.
"""

from __future__ import annotations

import mpmath as mp
import torch

from actlab.catalog.spec import INF, Param, Properties, Spec, register

Tensor = torch.Tensor


def _where(cond: Tensor, a, b, like: Tensor) -> Tensor:
    """torch.where with Python numbers promoted to ``like``'s dtype (not the default dtype)."""
    if not isinstance(a, Tensor):
        a = torch.as_tensor(a, dtype=like.dtype, device=like.device)
    if not isinstance(b, Tensor):
        b = torch.as_tensor(b, dtype=like.dtype, device=like.device)
    return torch.where(cond, a, b)


def _indicator(cond: Tensor, like: Tensor) -> Tensor:
    return cond.to(like.dtype)


def _neg_exp(x: Tensor) -> Tensor:
    # exp on the negative piece only: exp(min(x, 0)) never overflows, so no inf lands in an unselected
    # branch (an inf there turns into NaN under double backward)
    return torch.exp(torch.clamp(x, max=0.0))


# ----------------------------------------------------------------------------------------------------
# relu
# ----------------------------------------------------------------------------------------------------
register(
    Spec(
        name="relu",
        family="rectifiers",
        summary="Rectified linear unit: the identity for positive inputs, 0 otherwise.",
        aliases=("rectifier", "rectified_linear"),
        formula="f(x) = max(x, 0)",
        latex=r"f(x) = \max(x, 0)",
        derivative_formula="f'(x) = 1 if x > 0 else 0   (f'(0) = 0)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}",
        forward=torch.relu,
        derivative=lambda x: _indicator(x > 0, x),
        derivative_from_output=lambda y: _indicator(y > 0, y),
        mp_forward=lambda x: x if x > 0 else mp.mpf(0),
        mp_derivative=lambda x: mp.mpf(1) if x > 0 else mp.mpf(0),
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="C0", zero_centred=False, saturating=False
        ),
        origin="Nair & Hinton, Rectified linear units improve restricted Boltzmann machines; "
        "Glorot, Bordes & Bengio, Deep sparse rectifier neural networks (2011)",
        year=2010,
        kink_note="relu has no derivative at 0; actlab uses relu'(0) = 0, as JAX documents and torch "
        "computes. A unit whose input is 0 therefore gets no gradient.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.relu",
        torch_module="torch.nn.ReLU",
        keras="keras.activations.relu",
        jax="jax.nn.relu",
        inplace=True,
    )
)


# ----------------------------------------------------------------------------------------------------
# leaky_relu and rrelu
# ----------------------------------------------------------------------------------------------------
def _leaky(x: Tensor, negative_slope) -> Tensor:
    # x * slope carries NaN through the x <= 0 branch
    return torch.where(x > 0, x, x * negative_slope)


def _leaky_derivative(x: Tensor, negative_slope) -> Tensor:
    return _where(x > 0, 1.0, negative_slope, x)


def _mp_leaky(x, negative_slope):
    return x if x > 0 else negative_slope * x


def _mp_leaky_derivative(x, negative_slope):
    return mp.mpf(1) if x > 0 else mp.mpf(negative_slope)


register(
    Spec(
        name="leaky_relu",
        family="rectifiers",
        summary="Leaky ReLU: relu with a small fixed slope for negative inputs, so no unit dies.",
        aliases=("leakyrelu", "lrelu"),
        formula="f(x) = x if x > 0 else negative_slope · x",
        latex=r"f(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}",
        derivative_formula="f'(x) = 1 if x > 0 else negative_slope   (f'(0) = negative_slope)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}",
        params=(
            Param(
                "negative_slope",
                0.01,
                low=0.0,
                doc="slope for x <= 0 (torch and JAX default 0.01; Keras' leaky_relu defaults to 0.2)",
            ),
        ),
        forward=_leaky,
        derivative=_leaky_derivative,
        derivative_from_output=lambda y, negative_slope: _where(y > 0, 1.0, negative_slope, y),
        mp_forward=_mp_leaky,
        mp_derivative=_mp_leaky_derivative,
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="C0", zero_centred=True, saturating=False
        ),
        origin="Maas, Hannun & Ng, Rectifier nonlinearities improve neural network acoustic models",
        year=2013,
        kink_note="At x = 0 actlab uses the left slope, f'(0) = negative_slope, as torch does.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.leaky_relu",
        torch_module="torch.nn.LeakyReLU",
        keras="keras.activations.leaky_relu",
        jax="jax.nn.leaky_relu",
        inplace=True,
        examples=({"negative_slope": 0.2}, {"negative_slope": 0.0}),
    )
)


def _check_rrelu(lower, upper) -> None:
    if lower > upper:
        raise ValueError(f"rrelu: lower = {lower!r} must not exceed upper = {upper!r}")


def _rrelu_eval(x: Tensor, lower, upper) -> Tensor:
    # evaluation mode: the mean slope, as torch.nn.functional.rrelu(training=False)
    _check_rrelu(lower, upper)
    return _leaky(x, (lower + upper) / 2)


def _rrelu_eval_derivative(x: Tensor, lower, upper) -> Tensor:
    _check_rrelu(lower, upper)
    return _leaky_derivative(x, (lower + upper) / 2)


def _rrelu_sample(x: Tensor, lower, upper) -> Tensor:
    """Training mode: an independent slope a ~ U(lower, upper) for every element (Xu et al., 2015).

    Written with native ops (works in every float dtype, half on CPU included, and torch's autograd
    differentiates it), drawing from torch's global generator, so ``torch.manual_seed`` fixes it.
    """
    _check_rrelu(lower, upper)
    slopes = torch.rand_like(x) * (upper - lower) + lower
    return torch.where(x > 0, x, x * slopes)


register(
    Spec(
        name="rrelu",
        family="rectifiers",
        summary="Randomized leaky ReLU: in training each negative input gets a random slope from "
        "U(lower, upper); in evaluation the mean slope (lower + upper) / 2.",
        aliases=("randomized_leaky_relu", "randomized_relu"),
        formula="training: f(x) = x if x > 0 else a·x, a ~ U(lower, upper);  eval: a = (lower + upper) / 2",
        latex=r"f(x) = \begin{cases} x & x > 0 \\ \frac{l + u}{2} x & x \le 0 \end{cases}",
        derivative_formula="f'(x) = 1 if x > 0 else a   (the sampled slope in training, the mean in eval)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > 0 \\ \frac{l + u}{2} & x \le 0 \end{cases}",
        params=(
            Param("lower", 1 / 8, low=0.0, doc="lower bound of the slope distribution (<= upper)"),
            Param("upper", 1 / 3, low=0.0, doc="upper bound of the slope distribution (>= lower)"),
        ),
        forward=_rrelu_eval,
        derivative=_rrelu_eval_derivative,
        derivative_from_output=lambda y, lower, upper: _where(y > 0, 1.0, (lower + upper) / 2, y),
        mp_forward=lambda x, lower, upper: _mp_leaky(x, (lower + upper) / 2),
        mp_derivative=lambda x, lower, upper: _mp_leaky_derivative(x, (lower + upper) / 2),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="C0", zero_centred=True, saturating=False
        ),
        origin="Xu, Wang, Chen & Li, Empirical evaluation of rectified activations in convolutional network",
        year=2015,
        kink_note="At x = 0 actlab uses the left slope (the sampled or mean slope), as torch does. "
        "Properties and references describe evaluation mode.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.rrelu",
        torch_module="torch.nn.RReLU",
        inplace=True,
        stochastic=True,
        sample_forward=_rrelu_sample,
        examples=({"lower": 0.0, "upper": 0.5},),
    )
)


# ----------------------------------------------------------------------------------------------------
# elu, selu, celu
# ----------------------------------------------------------------------------------------------------
def _elu(x: Tensor, alpha) -> Tensor:
    return torch.where(x > 0, x, alpha * torch.expm1(x))


register(
    Spec(
        name="elu",
        family="rectifiers",
        summary="Exponential linear unit: the identity for x > 0, alpha·(e^x − 1) below; saturates at −alpha.",
        aliases=("exponential_linear_unit",),
        formula="f(x) = x if x > 0 else alpha · (exp(x) − 1)",
        latex=r"f(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}",
        derivative_formula="f'(x) = 1 if x > 0 else alpha · exp(x) = f(x) + alpha",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^x = f(x) + \alpha & x \le 0 \end{cases}",
        params=(Param("alpha", 1.0, low=0.0, doc="the negative saturation value is -alpha"),),
        forward=_elu,
        derivative=lambda x, alpha: _where(x > 0, 1.0, alpha * _neg_exp(x), x),
        derivative_from_output=lambda y, alpha: _where(y > 0, 1.0, y + alpha, y),
        mp_forward=lambda x, alpha: x if x > 0 else alpha * mp.expm1(x),
        mp_derivative=lambda x, alpha: mp.mpf(1) if x > 0 else alpha * mp.exp(x),
        properties=Properties(
            (-1.0, INF), monotonic=True, continuity="C1", zero_centred=True, saturating=False
        ),
        origin="Clevert, Unterthiner & Hochreiter, Fast and accurate deep network learning by "
        "exponential linear units (ELUs)",
        year=2015,
        kink_note="For alpha = 1 elu is C1 (f'(0) = 1 from both sides). For other alpha actlab uses the "
        "left derivative at 0, f'(0) = alpha, as torch does.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.elu",
        torch_module="torch.nn.ELU",
        keras="keras.activations.elu",
        jax="jax.nn.elu",
        inplace=True,
        examples=({"alpha": 0.5},),
    )
)

# Klambauer et al. (2017), eq. 14: the fixed point (mean 0, variance 1) of the SELU mapping.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_MP_SELU_ALPHA = "1.6732632423543772848170429916717"
_MP_SELU_SCALE = "1.0507009873554804934193349852946"


def _mp_selu(x):
    a, s = mp.mpf(_MP_SELU_ALPHA), mp.mpf(_MP_SELU_SCALE)
    return s * x if x > 0 else s * a * mp.expm1(x)


def _mp_selu_derivative(x):
    a, s = mp.mpf(_MP_SELU_ALPHA), mp.mpf(_MP_SELU_SCALE)
    return s if x > 0 else s * a * mp.exp(x)


register(
    Spec(
        name="selu",
        family="rectifiers",
        summary="Scaled ELU with the constants that make activations self-normalising "
        "(mean 0, variance 1 is a stable fixed point).",
        aliases=("scaled_elu",),
        formula="f(x) = λ·x if x > 0 else λ·α·(exp(x) − 1),  α ≈ 1.6732632, λ ≈ 1.0507010",
        latex=r"f(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}",
        derivative_formula="f'(x) = λ if x > 0 else λ·α·exp(x) = f(x) + λα   (f'(0) = λα)",
        derivative_latex=r"f'(x) = \begin{cases} \lambda & x > 0 \\ \lambda\alpha e^x & x \le 0 \end{cases}",
        forward=lambda x: SELU_SCALE * _elu(x, SELU_ALPHA),
        derivative=lambda x: _where(x > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * _neg_exp(x), x),
        derivative_from_output=lambda y: _where(y > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA, y),
        mp_forward=_mp_selu,
        mp_derivative=_mp_selu_derivative,
        properties=Properties(
            (-SELU_SCALE * SELU_ALPHA, INF),
            monotonic=True,
            continuity="C0",
            zero_centred=True,
            saturating=False,
        ),
        origin="Klambauer, Unterthiner, Mayr & Hochreiter, Self-normalizing neural networks",
        year=2017,
        kink_note="selu has a kink at 0 (slopes λα on the left, λ on the right); actlab uses the left "
        "derivative f'(0) = λα, as torch does.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.selu",
        torch_module="torch.nn.SELU",
        keras="keras.activations.selu",
        jax="jax.nn.selu",
        inplace=True,
    )
)


def _celu(x: Tensor, alpha) -> Tensor:
    return torch.where(x > 0, x, alpha * torch.expm1(x / alpha))


register(
    Spec(
        name="celu",
        family="rectifiers",
        summary="Continuously differentiable ELU: elu with the exponent scaled by 1/alpha, C1 for every alpha.",
        aliases=("continuously_differentiable_elu",),
        formula="f(x) = x if x > 0 else alpha · (exp(x / alpha) − 1)",
        latex=r"f(x) = \begin{cases} x & x > 0 \\ \alpha (e^{x/\alpha} - 1) & x \le 0 \end{cases}",
        derivative_formula="f'(x) = 1 if x > 0 else exp(x / alpha) = f(x) / alpha + 1",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > 0 \\ e^{x/\alpha} & x \le 0 \end{cases}",
        params=(
            Param("alpha", 1.0, low=0.0, low_inclusive=False, doc="negative saturation value is -alpha"),
        ),
        forward=_celu,
        derivative=lambda x, alpha: _where(x > 0, 1.0, _neg_exp(x / alpha), x),
        derivative_from_output=lambda y, alpha: _where(y > 0, 1.0, y / alpha + 1, y),
        mp_forward=lambda x, alpha: x if x > 0 else alpha * mp.expm1(x / alpha),
        mp_derivative=lambda x, alpha: mp.mpf(1) if x > 0 else mp.exp(x / alpha),
        properties=Properties(
            (-1.0, INF), monotonic=True, continuity="C1", zero_centred=True, saturating=False
        ),
        origin="Barron, Continuously differentiable exponential linear units",
        year=2017,
        kink_note="f' is continuous (f'(0) = 1 from both sides); f'' jumps at 0 (1/alpha vs 0).",
        kinks=(0.0,),
        torch_function="torch.nn.functional.celu",
        torch_module="torch.nn.CELU",
        keras="keras.activations.celu",
        jax="jax.nn.celu",
        inplace=True,
        examples=({"alpha": 2.5},),
    )
)


# ----------------------------------------------------------------------------------------------------
# relu6, squared_relu, isrlu, threshold, smelu
# ----------------------------------------------------------------------------------------------------
def _mp_clip(x, lo, hi):
    return mp.mpf(lo) if x < lo else (mp.mpf(hi) if x > hi else x)


register(
    Spec(
        name="relu6",
        family="rectifiers",
        summary="ReLU capped at 6 (robust in low precision; used in MobileNets).",
        aliases=("relu_6",),
        formula="f(x) = min(max(x, 0), 6)",
        latex=r"f(x) = \min(\max(x, 0), 6)",
        derivative_formula="f'(x) = 1 if 0 < x < 6 else 0   (f'(0) = f'(6) = 0)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & 0 < x < 6 \\ 0 & \text{otherwise} \end{cases}",
        forward=lambda x: torch.clamp(x, 0.0, 6.0),
        derivative=lambda x: _indicator((x > 0) & (x < 6), x),
        derivative_from_output=lambda y: _indicator((y > 0) & (y < 6), y),
        mp_forward=lambda x: _mp_clip(x, 0, 6),
        mp_derivative=lambda x: mp.mpf(1) if 0 < x < 6 else mp.mpf(0),
        properties=Properties(
            (0.0, 6.0), monotonic=True, continuity="C0", zero_centred=False, saturating=True
        ),
        origin="Krizhevsky, Convolutional deep belief networks on CIFAR-10",
        year=2010,
        kink_note="At both corners (0 and 6) actlab uses f' = 0, as torch and JAX do.",
        kinks=(0.0, 6.0),
        torch_function="torch.nn.functional.relu6",
        torch_module="torch.nn.ReLU6",
        keras="keras.activations.relu6",
        jax="jax.nn.relu6",
        inplace=True,
        plot_range=(-3.0, 9.0),
    )
)

register(
    Spec(
        name="squared_relu",
        family="rectifiers",
        summary="Squared ReLU, found by architecture search for Transformer feed-forward layers (Primer).",
        aliases=("relu_squared", "relu2", "relu_square"),
        formula="f(x) = max(x, 0)²",
        latex=r"f(x) = \max(x, 0)^2",
        derivative_formula="f'(x) = 2·max(x, 0)",
        derivative_latex=r"f'(x) = 2 \max(x, 0)",
        forward=lambda x: torch.relu(x) ** 2,
        # from the input: 2·sqrt(y) would overflow where y does (x > 2^64 in fp32) while f' is finite
        derivative=lambda x: 2 * torch.relu(x),
        mp_forward=lambda x: x * x if x > 0 else mp.mpf(0),
        mp_derivative=lambda x: 2 * x if x > 0 else mp.mpf(0),
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="C1", zero_centred=False, saturating=False
        ),
        origin="So, Mańke, Liu, Dai, Shazeer & Le, Primer: searching for efficient transformers for "
        "language modeling",
        year=2021,
        kink_note="f' is continuous (f'(0) = 0); f'' jumps from 0 to 2 at x = 0.",
        kinks=(0.0,),
        module_name="SquaredReLU",
    )
)


def _isrlu(x: Tensor, alpha) -> Tensor:
    # x / sqrt(1 + αx²) with hypot: no overflow of x² for huge inputs (the limit is -1/sqrt(α))
    return torch.where(x >= 0, x, x / torch.hypot(torch.ones_like(x), alpha**0.5 * x))


def _isrlu_derivative(x: Tensor, alpha) -> Tensor:
    inv = 1 / torch.hypot(torch.ones_like(x), alpha**0.5 * torch.clamp(x, max=0.0))
    return _where(x >= 0, 1.0, inv * inv * inv, x)


register(
    Spec(
        name="isrlu",
        family="rectifiers",
        summary="Inverse square root linear unit: the identity for x >= 0, x/sqrt(1 + αx²) below; "
        "an ELU-like curve without exponentials.",
        aliases=("inverse_square_root_linear_unit",),
        formula="f(x) = x if x >= 0 else x / sqrt(1 + alpha·x²)",
        latex=r"f(x) = \begin{cases} x & x \ge 0 \\ \frac{x}{\sqrt{1 + \alpha x^2}} & x < 0 \end{cases}",
        derivative_formula="f'(x) = 1 if x >= 0 else (1 + alpha·x²)^(-3/2)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x \ge 0 \\ (1 + \alpha x^2)^{-3/2} & x < 0 \end{cases}",
        params=(Param("alpha", 1.0, low=0.0, doc="negative saturation value is -1/sqrt(alpha)"),),
        forward=_isrlu,
        derivative=_isrlu_derivative,
        mp_forward=lambda x, alpha: x if x >= 0 else x / mp.sqrt(1 + alpha * x * x),
        mp_derivative=lambda x, alpha: mp.mpf(1) if x >= 0 else (1 + alpha * x * x) ** mp.mpf(-1.5),
        properties=Properties(
            (-1.0, INF), monotonic=True, continuity="C2", zero_centred=True, saturating=False
        ),
        origin="Carlile, Delamarter, Kinney, Marti & Whitney, Improving deep learning by inverse square "
        "root linear units (ISRLUs)",
        year=2017,
        kink_note="f' and f'' are continuous at 0 (f'(0) = 1, f''(0) = 0); f''' jumps there.",
        kinks=(0.0,),
        module_name="ISRLU",
        examples=({"alpha": 3.0},),
    )
)


def _threshold(x: Tensor, threshold, value) -> Tensor:
    # written as torch does (x <= t ? value : x) so that NaN inputs stay NaN
    return _where(x <= threshold, value, x, x)


register(
    Spec(
        name="threshold",
        family="rectifiers",
        summary="torch's Threshold: keeps x above the threshold and replaces the rest by a constant "
        "(with the defaults threshold = value = 0 it is relu; other choices make it jump).",
        aliases=("thresholded_linear",),
        formula="f(x) = x if x > threshold else value",
        latex=r"f(x) = \begin{cases} x & x > t \\ v & x \le t \end{cases}",
        derivative_formula="f'(x) = 1 if x > threshold else 0   (f'(threshold) = 0)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & x > t \\ 0 & x \le t \end{cases}",
        params=(
            Param("threshold", 0.0, doc="inputs at or below it are replaced"),
            Param("value", 0.0, doc="what replaces them"),
        ),
        forward=_threshold,
        derivative=lambda x, threshold, value: _indicator(x > threshold, x),
        mp_forward=lambda x, threshold, value: x if x > threshold else mp.mpf(value),
        mp_derivative=lambda x, threshold, value: mp.mpf(1) if x > threshold else mp.mpf(0),
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="C0", zero_centred=False, saturating=False
        ),
        origin="torch.nn.Threshold (PyTorch); thresholded units date back to McCulloch & Pitts (1943)",
        year=2016,
        kink_note="At x = threshold actlab uses f' = 0 (the replaced side), as torch does. Properties "
        "describe the defaults (threshold = value = 0, i.e. relu); with value != threshold the function "
        "jumps by threshold - value at the threshold.",
        kinks=(0.0,),
        torch_function="torch.nn.functional.threshold",
        torch_module="torch.nn.Threshold",
        keras="keras.activations.threshold",
        inplace=True,
        examples=({"threshold": 1.0, "value": -2.0}, {"threshold": -0.5, "value": 0.25}),
    )
)


def _smelu(x: Tensor, beta) -> Tensor:
    quad = (x + beta) ** 2 / (4 * beta)
    # NaN fails both comparisons and lands in the quadratic piece, which keeps it NaN
    return torch.where(x >= beta, x, _where(x <= -beta, 0.0, quad, x))


def _smelu_derivative(x: Tensor, beta) -> Tensor:
    return torch.where(x >= beta, torch.ones_like(x), _where(x <= -beta, 0.0, (x + beta) / (2 * beta), x))


def _smelu_derivative_from_output(y: Tensor, beta) -> Tensor:
    # middle piece: y = (x+β)²/(4β), so f' = (x+β)/(2β) = sqrt(y/β); right piece: y >= β, f' = 1.
    # The inner where keeps sqrt away from 0, whose infinite slope would poison double backward.
    positive = y > 0
    r = torch.clamp(torch.where(positive, y, torch.ones_like(y)) / beta, max=1.0)
    return _where(positive, torch.sqrt(r), 0.0, y)


def _mp_smelu(x, beta):
    if x >= beta:
        return x
    if x <= -beta:
        return mp.mpf(0)
    return (x + beta) ** 2 / (4 * beta)


def _mp_smelu_derivative(x, beta):
    if x >= beta:
        return mp.mpf(1)
    if x <= -beta:
        return mp.mpf(0)
    return (x + beta) / (2 * beta)


register(
    Spec(
        name="smelu",
        family="rectifiers",
        summary="Smooth ReLU: 0 on the left, x on the right, joined by a quadratic on [-beta, beta] "
        "(continuous gradient, cheap; proposed for reproducible training).",
        aliases=("smooth_rectifier",),
        formula="f(x) = 0 if x <= -beta; (x + beta)² / (4 beta) if |x| < beta; x if x >= beta",
        latex=r"f(x) = \begin{cases} 0 & x \le -\beta \\ \frac{(x + \beta)^2}{4\beta} & |x| < \beta"
        r" \\ x & x \ge \beta \end{cases}",
        derivative_formula="f'(x) = 0 if x <= -beta; (x + beta) / (2 beta) if |x| < beta; 1 if x >= beta"
        "   (= min(1, sqrt(f(x) / beta)))",
        derivative_latex=r"f'(x) = \begin{cases} 0 & x \le -\beta \\ \frac{x + \beta}{2\beta} & |x| < \beta"
        r" \\ 1 & x \ge \beta \end{cases}",
        params=(Param("beta", 2.0, low=0.0, low_inclusive=False, doc="half-width of the quadratic piece"),),
        forward=_smelu,
        derivative=_smelu_derivative,
        derivative_from_output=_smelu_derivative_from_output,
        mp_forward=_mp_smelu,
        mp_derivative=_mp_smelu_derivative,
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="C1", zero_centred=False, saturating=False
        ),
        origin="Shamir, Lin & Coviello, Smooth activations and reproducibility in deep networks",
        year=2020,
        kink_note="f' is continuous (0 at -beta, 1 at beta); f'' jumps at ±beta (0 ↔ 1/(2 beta)).",
        kinks=(-2.0, 2.0),
        module_name="SmeLU",
        examples=({"beta": 0.5},),
    )
)
