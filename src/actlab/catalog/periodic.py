"""The periodic and bump-shaped activations: sine (SIREN), gaussian, growing cosine unit.

sin and cos of large arguments need a correct argument reduction. torch's float64 sin/cos (libm/SLEEF
on CPU) reduce exactly — checked against mpmath for every fp32 binade up to 2^127 — so for an fp32
input x, sin(x) evaluated in float64 and rounded once is within an ULP. What float64 cannot do is form
ω₀·x exactly: its rounding error is ~1e-16·|ω₀x| radians, a wrong phase as soon as |ω₀x| > 1e8.
``sine`` therefore splits the product into two doubles (Dekker's TwoProduct, exact) and uses
sin(p + e) = sin p·cos e + cos p·sin e.
"""

from __future__ import annotations

import mpmath as mp
import torch

from actlab.catalog.spec import INF, Param, Properties, Spec, register

# Veltkamp splitting constants: 2^ceil(t/2) + 1 for t mantissa bits
_SPLIT = {torch.float64: 134217729.0, torch.float32: 4097.0}


def _split(a):
    c = _SPLIT[a.dtype] * a
    hi = c - (c - a)
    return hi, a - hi


def _two_product(w0: float, x):
    """p + e == w0·x exactly (Dekker), for finite products that do not overflow the split."""
    w = torch.full_like(x, w0)
    p = w * x
    xh, xl = _split(x)
    wh, wl = _split(w)
    e = ((wh * xh - p) + wh * xl + wl * xh) + wl * xl
    return p, torch.where(torch.isfinite(e), e, torch.zeros_like(e))


def _sin_cos_scaled(x, w0):
    """sin(w0·x) and cos(w0·x) with the product formed exactly."""
    if w0 == 1.0:
        return torch.sin(x), torch.cos(x)
    # half-precision inputs arrive as float32, whose split constant would overflow near bf16's
    # maximum; every fp16/bf16/fp32 value is exact in float64, so reduce there and round once more
    work = x.to(torch.float64)
    p, e = _two_product(w0, work)
    sp, cp = torch.sin(p), torch.cos(p)
    se, ce = torch.sin(e), torch.cos(e)
    return (sp * ce + cp * se).to(x.dtype), (cp * ce - sp * se).to(x.dtype)


def _sine_forward(x, w0):
    return _sin_cos_scaled(x, w0)[0]


def _sine_derivative(x, w0):
    return w0 * _sin_cos_scaled(x, w0)[1]


register(
    Spec(
        name="sine",
        family="periodic",
        summary="Sine activation sin(ω₀x), the periodic unit of SIREN implicit neural representations.",
        aliases=("sin", "siren"),
        formula="f(x) = sin(ω₀·x)",
        latex=r"f(x) = \sin(\omega_0 x)",
        derivative_formula="f'(x) = ω₀·cos(ω₀·x)",
        derivative_latex=r"f'(x) = \omega_0 \cos(\omega_0 x)",
        params=(
            Param(
                "w0",
                1.0,
                low=0.0,
                low_inclusive=False,
                doc="frequency ω₀; SIREN uses 30 in the first layer (and folds it into the weights after)",
            ),
        ),
        forward=_sine_forward,
        derivative=_sine_derivative,
        mp_forward=lambda x, w0: mp.sin(w0 * x),
        mp_derivative=lambda x, w0: w0 * mp.cos(w0 * x),
        examples=({"w0": 30.0}, {"w0": 0.1}),
        properties=Properties(
            (-1.0, 1.0), monotonic=False, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="Sitzmann, Martel, Bergman, Lindell & Wetzstein, Implicit Neural Representations with "
        "Periodic Activation Functions (SIREN), NeurIPS 2020",
        year=2020,
        plot_range=(-7.0, 7.0),
        kink_note="Exact for every finite input: ω₀·x is formed as an exact sum of two doubles and "
        "float64 sin/cos reduce the argument exactly.",
    )
)


def _gaussian_derivative(x):
    # e^(-x²) is exactly 0 beyond |x| = 1e4; the clamp keeps -2x from overflowing (bf16 inputs near
    # the top of the range, and ±inf) into inf·0 = NaN
    xc = x.clamp(-1e4, 1e4)
    return -2 * xc * torch.exp(-xc * xc)


register(
    Spec(
        name="gaussian",
        family="periodic",
        summary="Gaussian bump e^(-x²): the radial-basis activation; 1 at 0, vanishing on both sides.",
        aliases=("gauss", "gaussian_bump"),
        formula="f(x) = exp(-x²)",
        latex=r"f(x) = e^{-x^2}",
        derivative_formula="f'(x) = -2x·exp(-x²)",
        derivative_latex=r"f'(x) = -2x\,e^{-x^2}",
        # x² is exact in the compute dtype for every fp16/bf16/fp32 input (twice the mantissa bits fit)
        forward=lambda x: torch.exp(-x * x),
        derivative=_gaussian_derivative,
        mp_forward=lambda x: mp.exp(-x * x),
        mp_derivative=lambda x: -2 * x * mp.exp(-x * x),
        properties=Properties(
            (0.0, 1.0), monotonic=False, continuity="Cinf", zero_centred=False, saturating=True
        ),
        origin="Broomhead & Lowe, Multivariable Functional Interpolation and Adaptive Networks "
        "(radial basis function networks)",
        year=1988,
        plot_range=(-3.0, 3.0),
    )
)

register(
    Spec(
        name="gcu",
        family="periodic",
        summary="Growing cosine unit x·cos(x): oscillatory, lets a single neuron learn XOR.",
        aliases=("growing_cosine_unit",),
        formula="f(x) = x·cos(x)",
        latex=r"f(x) = x \cos x",
        derivative_formula="f'(x) = cos(x) - x·sin(x)",
        derivative_latex=r"f'(x) = \cos x - x \sin x",
        forward=lambda x: x * torch.cos(x),
        derivative=lambda x: torch.cos(x) - x * torch.sin(x),
        mp_forward=lambda x: x * mp.cos(x),
        mp_derivative=lambda x: mp.cos(x) - x * mp.sin(x),
        properties=Properties(
            (-INF, INF), monotonic=False, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="Noel, Trivedi, Bharadwaj & Chandramohan, Growing Cosine Unit: A Novel Oscillatory "
        "Activation Function That Can Speedup Training and Reduce Parameters in Convolutional Neural "
        "Networks, arXiv:2108.12943",
        year=2021,
        plot_range=(-7.0, 7.0),
    )
)
