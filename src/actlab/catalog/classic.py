"""The classic activations: step, identity, sigmoid, tanh.

Each Spec's forward/derivative receives x already in the compute dtype (see actlab.autograd) and must
be numerically stable over the whole finite range; the mp_* references are the truth for the tests.
"""

from __future__ import annotations

import mpmath as mp
import torch

from actlab.catalog.spec import INF, Param, Properties, Spec, register


def _step_forward(x, threshold):
    # NaN > t is False, so carry NaN through explicitly
    y = (x > threshold).to(x.dtype)
    return torch.where(torch.isnan(x), x, y)


def _step_mp(x, threshold):
    return mp.mpf(1) if x > threshold else mp.mpf(0)


register(
    Spec(
        name="step",
        family="classic",
        summary="Heaviside step: 1 above the threshold, 0 otherwise. Not trainable by gradient descent.",
        aliases=("heaviside", "binary_step", "unit_step"),
        formula="f(x) = 1 if x > t else 0",
        latex=r"f(x) = \begin{cases} 1 & x > t \\ 0 & x \le t \end{cases}",
        derivative_formula="f'(x) = 0 (undefined at x = t; actlab uses 0)",
        derivative_latex=r"f'(x) = 0 \quad (x \ne t)",
        params=(Param("threshold", 0.0, doc="the input at which the output jumps from 0 to 1"),),
        forward=_step_forward,
        derivative=lambda x, threshold: torch.zeros_like(x),
        derivative_is_constant=True,
        mp_forward=_step_mp,
        mp_derivative=lambda x, threshold: mp.mpf(0),
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="discontinuous", zero_centred=False, saturating=True
        ),
        origin="McCulloch & Pitts, A logical calculus of the ideas immanent in nervous activity",
        year=1943,
        kink_note="The jump at x = t has no derivative; actlab (like every framework) uses f'(t) = 0, "
        "which is why gradient descent cannot train a step network.",
        kinks=(0.0,),
        jax=None,
        keras=None,
    )
)

register(
    Spec(
        name="identity",
        family="classic",
        summary="The identity (linear) activation: no non-linearity at all.",
        aliases=("linear", "none"),
        formula="f(x) = x",
        latex=r"f(x) = x",
        derivative_formula="f'(x) = 1",
        derivative_latex=r"f'(x) = 1",
        forward=lambda x: x.clone(),
        derivative=lambda x: torch.ones_like(x),
        derivative_is_constant=True,
        mp_forward=lambda x: mp.mpf(x),
        mp_derivative=lambda x: mp.mpf(1),
        properties=Properties(
            (-INF, INF), monotonic=True, continuity="Cinf", zero_centred=True, saturating=False
        ),
        origin="(the linear neuron) Widrow & Hoff, Adaptive switching circuits",
        year=1960,
        torch_module="torch.nn.Identity",
        keras="keras.activations.linear",
        module_name="Identity",
    )
)


def _sigmoid(x):
    # torch.sigmoid is stable in both tails (no exp overflow) and accurate in the compute dtype
    return torch.sigmoid(x)


def _sigmoid_derivative(x):
    # σ'(x) = σ(x) σ(-x): no 1 - σ(x) cancellation for large x
    return torch.sigmoid(x) * torch.sigmoid(-x)


register(
    Spec(
        name="sigmoid",
        family="classic",
        summary="The logistic sigmoid: squashes to (0, 1); saturates on both sides.",
        aliases=("logistic", "sigm"),
        formula="f(x) = 1 / (1 + exp(-x))",
        latex=r"f(x) = \frac{1}{1 + e^{-x}}",
        derivative_formula="f'(x) = f(x) (1 - f(x))   (at most 1/4, at x = 0)",
        derivative_latex=r"f'(x) = f(x)\,(1 - f(x))",
        forward=_sigmoid,
        derivative=_sigmoid_derivative,
        derivative_from_output=lambda y: y * (1 - y),
        mp_forward=lambda x: 1 / (1 + mp.exp(-x)),
        mp_derivative=lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2,
        properties=Properties(
            (0.0, 1.0), monotonic=True, continuity="Cinf", zero_centred=False, saturating=True
        ),
        origin="Verhulst (logistic function, 1845); in networks Rumelhart, Hinton & Williams",
        year=1986,
        torch_function="torch.sigmoid",
        torch_module="torch.nn.Sigmoid",
        keras="keras.activations.sigmoid",
        jax="jax.nn.sigmoid",
    )
)

register(
    Spec(
        name="tanh",
        family="classic",
        summary="Hyperbolic tangent: a zero-centred sigmoid with range (-1, 1).",
        aliases=("hyperbolic_tangent",),
        formula="f(x) = tanh(x) = (e^x - e^-x) / (e^x + e^-x)",
        latex=r"f(x) = \tanh x",
        derivative_formula="f'(x) = 1 - tanh(x)^2",
        derivative_latex=r"f'(x) = 1 - \tanh^2 x",
        forward=torch.tanh,
        # 1/cosh² avoids the 1 - tanh² cancellation in the tails; cosh overflow gives the right 0
        derivative=lambda x: 1 / torch.cosh(x) ** 2,
        derivative_from_output=lambda y: 1 - y * y,
        mp_forward=mp.tanh,
        mp_derivative=lambda x: mp.sech(x) ** 2,
        properties=Properties(
            (-1.0, 1.0), monotonic=True, continuity="Cinf", zero_centred=True, saturating=True
        ),
        origin="LeCun, Bottou, Orr & Müller, Efficient BackProp",
        year=1998,
        torch_function="torch.tanh",
        torch_module="torch.nn.Tanh",
        keras="keras.activations.tanh",
        jax="jax.numpy.tanh",
    )
)
