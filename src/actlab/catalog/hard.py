"""Hard (piecewise-linear or piecewise-quadratic) activations: cheap stand-ins for tanh, sigmoid, swish
and softplus, and the shrinkage functions.

Convention at corners: where a piece ends, actlab uses the derivative of the flat (or replaced) side:
f' = 0 at both corners of hardtanh, hardsigmoid and sparse_sigmoid (the derivative is non-zero only on
the open interval between them, as torch and ``hardtanh_backward`` do), and hardswish'(-3) = 0,
hardswish'(3) = 1 (the product rule with that hardsigmoid convention; pytorch#87778/#147801). The
``mp_derivative`` references use the same conventions.
"""

from __future__ import annotations

import mpmath as mp
import torch

from actlab.catalog.rectifiers import (
    _indicator,
    _mp_smelu,
    _mp_smelu_derivative,
    _smelu,
    _smelu_derivative,
    _smelu_derivative_from_output,
    _where,
)
from actlab.catalog.spec import INF, Param, Properties, Spec, register

Tensor = torch.Tensor


def _check_range(min_val, max_val) -> None:
    if not min_val < max_val:
        raise ValueError(f"hardtanh: min_val = {min_val!r} must be less than max_val = {max_val!r}")


def _hardtanh(x: Tensor, min_val, max_val) -> Tensor:
    _check_range(min_val, max_val)
    return torch.clamp(x, min_val, max_val)  # clamp keeps NaN


def _hardtanh_derivative(x: Tensor, min_val, max_val) -> Tensor:
    _check_range(min_val, max_val)
    return _indicator((x > min_val) & (x < max_val), x)


def _mp_clip(x, lo, hi):
    return mp.mpf(lo) if x < lo else (mp.mpf(hi) if x > hi else x)


register(
    Spec(
        name="hardtanh",
        family="hard",
        summary="Hard tanh: the identity clipped to [min_val, max_val] (default [-1, 1]).",
        aliases=("hard_tanh",),
        formula="f(x) = min(max(x, min_val), max_val)",
        latex=r"f(x) = \min(\max(x, a), b)",
        derivative_formula="f'(x) = 1 if min_val < x < max_val else 0   (0 at both corners)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & a < x < b \\ 0 & \text{otherwise} \end{cases}",
        params=(
            Param("min_val", -1.0, doc="lower clip value (must be < max_val)"),
            Param("max_val", 1.0, doc="upper clip value (must be > min_val)"),
        ),
        forward=_hardtanh,
        derivative=_hardtanh_derivative,
        derivative_from_output=lambda y, min_val, max_val: _indicator((y > min_val) & (y < max_val), y),
        mp_forward=lambda x, min_val, max_val: _mp_clip(x, min_val, max_val),
        mp_derivative=lambda x, min_val, max_val: mp.mpf(1) if min_val < x < max_val else mp.mpf(0),
        properties=Properties(
            (-1.0, 1.0), monotonic=True, continuity="C0", zero_centred=True, saturating=True
        ),
        origin="Collobert, Large scale machine learning (PhD thesis, Université Paris VI)",
        year=2004,
        kink_note="At both corners actlab uses f' = 0, as torch's hardtanh_backward does.",
        kinks=(-1.0, 1.0),
        torch_function="torch.nn.functional.hardtanh",
        torch_module="torch.nn.Hardtanh",
        keras="keras.activations.hard_tanh",
        jax="jax.nn.hard_tanh",
        inplace=True,
        examples=({"min_val": -2.0, "max_val": 3.0},),
    )
)


def _hardsigmoid(x: Tensor) -> Tensor:
    return torch.clamp(x + 3, 0.0, 6.0) / 6


register(
    Spec(
        name="hardsigmoid",
        family="hard",
        summary="Hard sigmoid relu6(x + 3) / 6: piecewise-linear sigmoid (torch, Keras 3 and JAX definition).",
        aliases=("hard_sigmoid",),
        formula="f(x) = relu6(x + 3) / 6 = min(max(x/6 + 1/2, 0), 1)",
        latex=r"f(x) = \frac{\min(\max(x + 3, 0), 6)}{6}",
        derivative_formula="f'(x) = 1/6 if -3 < x < 3 else 0   (0 at ±3)",
        derivative_latex=r"f'(x) = \begin{cases} \frac16 & -3 < x < 3 \\ 0 & \text{otherwise} \end{cases}",
        forward=_hardsigmoid,
        derivative=lambda x: _where((x > -3) & (x < 3), 1 / 6, 0.0, x),
        # from the output: 0 < y < 1 exactly when -3 < x < 3, even after rounding y to the input's dtype
        # (the float just below 3 maps 2/3 of an ULP below 1, which rounds to 1 - ULP, not to 1)
        derivative_from_output=lambda y: _where((y > 0) & (y < 1), 1 / 6, 0.0, y),
        mp_forward=lambda x: _mp_clip(x + 3, 0, 6) / 6,
        mp_derivative=lambda x: mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0),
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="C0", zero_centred=False, saturating=True
        ),
        origin="Howard et al., Searching for MobileNetV3 (the relu6(x + 3)/6 form); earlier hard sigmoids: "
        "Courbariaux, Bengio & David, BinaryConnect (2015)",
        year=2019,
        kink_note="At ±3 actlab uses f' = 0, as torch does. Keras 2's hard_sigmoid was a different "
        "function (slope 0.2, corners at ±2.5); this is the relu6(x + 3)/6 of torch, Keras 3 and JAX.",
        kinks=(-3.0, 3.0),
        torch_function="torch.nn.functional.hardsigmoid",
        torch_module="torch.nn.Hardsigmoid",
        keras="keras.activations.hard_sigmoid",
        jax="jax.nn.hard_sigmoid",
        inplace=True,
    )
)


def _hardswish(x: Tensor) -> Tensor:
    return x * torch.clamp(x + 3, 0.0, 6.0) / 6


def _hardswish_derivative(x: Tensor) -> Tensor:
    # NaN fails both comparisons and lands in the middle piece, which keeps it NaN
    return _where(x <= -3, 0.0, _where(x >= 3, 1.0, (2 * x + 3) / 6, x), x)


def _mp_hardswish_derivative(x):
    if x <= -3:
        return mp.mpf(0)
    if x >= 3:
        return mp.mpf(1)
    return (2 * x + 3) / 6


register(
    Spec(
        name="hardswish",
        family="hard",
        summary="Hard swish x·relu6(x + 3)/6: piecewise-quadratic swish from MobileNetV3 "
        "(Keras and JAX call it hard_silu).",
        aliases=("hard_swish", "hard_silu", "hardsilu"),
        formula="f(x) = x · relu6(x + 3) / 6",
        latex=r"f(x) = x \, \frac{\min(\max(x + 3, 0), 6)}{6}",
        derivative_formula="f'(x) = 0 if x <= -3; (2x + 3)/6 if -3 < x < 3; 1 if x >= 3",
        derivative_latex=r"f'(x) = \begin{cases} 0 & x \le -3 \\ \frac{2x + 3}{6} & -3 < x < 3 \\ 1 & x \ge 3"
        r" \end{cases}",
        forward=_hardswish,
        derivative=_hardswish_derivative,
        mp_forward=lambda x: x * _mp_clip(x + 3, 0, 6) / 6,
        mp_derivative=_mp_hardswish_derivative,
        properties=Properties(
            (-0.375, INF),
            monotonic=False,
            continuity="C0",
            zero_centred=True,
            saturating=False,
            self_gated=True,
        ),
        origin="Howard et al., Searching for MobileNetV3",
        year=2019,
        kink_note="f' jumps at -3 (0 | -1/2) and at 3 (3/2 | 1). actlab uses the outer pieces there: "
        "f'(-3) = 0 and f'(3) = 1, the product rule with hardsigmoid'(±3) = 0. torch 2.14 computes the "
        "same; older torch gave -1/2 and 3/2 (pytorch#87778, #147801).",
        kinks=(-3.0, 3.0),
        torch_function="torch.nn.functional.hardswish",
        torch_module="torch.nn.Hardswish",
        keras="keras.activations.hard_silu",
        jax="jax.nn.hard_silu",
        inplace=True,
    )
)


def _hardshrink(x: Tensor, lambd) -> Tensor:
    # |NaN| <= λ is False, so NaN stays NaN
    return _where(x.abs() <= lambd, 0.0, x, x)


register(
    Spec(
        name="hardshrink",
        family="hard",
        summary="Hard shrinkage: zeroes inputs with |x| <= lambd, keeps the rest unchanged.",
        aliases=("hard_shrink",),
        formula="f(x) = x if |x| > lambd else 0",
        latex=r"f(x) = \begin{cases} x & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}",
        derivative_formula="f'(x) = 1 if |x| > lambd else 0   (0 at ±lambd)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}",
        params=(Param("lambd", 0.5, low=0.0, doc="half-width of the zeroed band (torch spells it lambd)"),),
        forward=_hardshrink,
        derivative=lambda x, lambd: _indicator(x.abs() > lambd, x),
        # y != 0 exactly when |x| > lambd >= 0 (then y = x != 0)
        derivative_from_output=lambda y, lambd: _indicator(y != 0, y),
        mp_forward=lambda x, lambd: x if abs(x) > lambd else mp.mpf(0),
        mp_derivative=lambda x, lambd: mp.mpf(1) if abs(x) > lambd else mp.mpf(0),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="discontinuous", zero_centred=True, saturating=False
        ),
        origin="Donoho & Johnstone, Ideal spatial adaptation by wavelet shrinkage",
        year=1994,
        kink_note="f jumps by lambd at ±lambd; actlab uses f'(±lambd) = 0 (the zeroed side), as torch does.",
        kinks=(-0.5, 0.5),
        torch_function="torch.nn.functional.hardshrink",
        torch_module="torch.nn.Hardshrink",
        keras="keras.activations.hard_shrink",
        examples=({"lambd": 1.5},),
    )
)


def _softshrink(x: Tensor, lambd) -> Tensor:
    # x - sign(x)·λ outside the band; |NaN| <= λ is False, so NaN stays NaN
    return _where(x.abs() <= lambd, 0.0, x - torch.sign(x) * lambd, x)


def _mp_softshrink(x, lambd):
    if x > lambd:
        return x - lambd
    if x < -lambd:
        return x + lambd
    return mp.mpf(0)


register(
    Spec(
        name="softshrink",
        family="hard",
        summary="Soft shrinkage (soft thresholding): moves every input lambd towards 0, zeroing the band "
        "|x| <= lambd; the proximal operator of lambd·|x|.",
        aliases=("soft_shrink", "soft_threshold"),
        formula="f(x) = x - lambd if x > lambd; x + lambd if x < -lambd; 0 otherwise",
        latex=r"f(x) = \operatorname{sign}(x)\max(|x| - \lambda, 0)",
        derivative_formula="f'(x) = 1 if |x| > lambd else 0   (0 at ±lambd)",
        derivative_latex=r"f'(x) = \begin{cases} 1 & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases}",
        params=(Param("lambd", 0.5, low=0.0, doc="half-width of the zeroed band (torch spells it lambd)"),),
        forward=_softshrink,
        # from the input: an output just outside the band can round to 0 in half precision
        derivative=lambda x, lambd: _indicator(x.abs() > lambd, x),
        mp_forward=_mp_softshrink,
        mp_derivative=lambda x, lambd: mp.mpf(1) if abs(x) > lambd else mp.mpf(0),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="C0", zero_centred=True, saturating=False
        ),
        origin="Donoho, De-noising by soft-thresholding",
        year=1995,
        kink_note="At ±lambd actlab uses f' = 0 (the zeroed side), as torch does.",
        kinks=(-0.5, 0.5),
        torch_function="torch.nn.functional.softshrink",
        torch_module="torch.nn.Softshrink",
        keras="keras.activations.soft_shrink",
        examples=({"lambd": 0.3},),
    )
)

register(
    Spec(
        name="sparse_plus",
        family="hard",
        summary="Sparse plus: the piecewise-quadratic twin of softplus, exactly 0 for x <= -1 and exactly "
        "x for x >= 1 (smelu with beta = 1).",
        aliases=("sparseplus",),
        formula="f(x) = 0 if x <= -1; (x + 1)² / 4 if -1 < x < 1; x if x >= 1",
        latex=r"f(x) = \begin{cases} 0 & x \le -1 \\ \frac14 (x + 1)^2 & -1 < x < 1 \\ x & x \ge 1 \end{cases}",
        derivative_formula="f'(x) = 0 if x <= -1; (x + 1)/2 if -1 < x < 1; 1 if x >= 1   (= min(1, sqrt(f(x))))",
        derivative_latex=r"f'(x) = \begin{cases} 0 & x \le -1 \\ \frac{x + 1}{2} & -1 < x < 1 \\ 1 & x \ge 1"
        r" \end{cases}",
        forward=lambda x: _smelu(x, 1.0),
        derivative=lambda x: _smelu_derivative(x, 1.0),
        derivative_from_output=lambda y: _smelu_derivative_from_output(y, 1.0),
        mp_forward=lambda x: _mp_smelu(x, 1),
        mp_derivative=lambda x: _mp_smelu_derivative(x, 1),
        properties=Properties(
            (0.0, INF), monotonic=True, continuity="C1", zero_centred=False, saturating=False
        ),
        origin="Blondel, Martins & Niculae, Learning with Fenchel-Young losses (the sparsemax twin of "
        "softplus)",
        year=2020,
        kink_note="f' is continuous (0 at -1, 1 at 1); f'' jumps at ±1 (0 ↔ 1/2).",
        kinks=(-1.0, 1.0),
        keras="keras.activations.sparse_plus",
        jax="jax.nn.sparse_plus",
    )
)

register(
    Spec(
        name="sparse_sigmoid",
        family="hard",
        summary="Sparse sigmoid: the two-class sparsemax, clip((x + 1)/2, 0, 1); exactly 0 and 1 outside "
        "[-1, 1].",
        aliases=("sparsesigmoid",),
        formula="f(x) = 0 if x <= -1; (x + 1)/2 if -1 < x < 1; 1 if x >= 1",
        latex=r"f(x) = \min\left(\max\left(\tfrac{x + 1}{2}, 0\right), 1\right)",
        derivative_formula="f'(x) = 1/2 if -1 < x < 1 else 0   (0 at ±1)",
        derivative_latex=r"f'(x) = \begin{cases} \frac12 & -1 < x < 1 \\ 0 & \text{otherwise} \end{cases}",
        forward=lambda x: torch.clamp(x + 1, 0.0, 2.0) / 2,
        derivative=lambda x: _where((x > -1) & (x < 1), 0.5, 0.0, x),
        # from the input: near 1 the output rounds onto its bound (x = 1 - 2^-24 gives y = 1.0 in fp32),
        # where a test on y would read f' = 0
        mp_forward=lambda x: _mp_clip(x + 1, 0, 2) / 2,
        mp_derivative=lambda x: mp.mpf(0.5) if -1 < x < 1 else mp.mpf(0),
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="C0", zero_centred=False, saturating=True
        ),
        origin="Martins & Astudillo, From softmax to sparsemax (sparsemax of [x, 0])",
        year=2016,
        kink_note="At ±1 actlab uses f' = 0, as for hardsigmoid.",
        kinks=(-1.0, 1.0),
        keras="keras.activations.sparse_sigmoid",
        jax="jax.nn.sparse_sigmoid",
    )
)
