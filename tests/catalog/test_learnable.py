"""Learnable activations: PReLU against torch.nn.PReLU, swish's β, snake's α and the rational unit's
default fit and coefficient gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import least_squares

import actlab
from actlab.catalog.learnable import RATIONAL_DENOMINATOR, RATIONAL_NUMERATOR
from actlab.functional import apply

F = torch.nn.functional


# ----------------------------------------------------------------------------------------------------
# prelu
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (2, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("num_parameters", (1, 3))
def test_prelu_matches_torch_prelu_with_per_channel_grads(shape, num_parameters):
    g = torch.Generator().manual_seed(0)
    ours = actlab.get("prelu", num_parameters=num_parameters).double()
    theirs = torch.nn.PReLU(num_parameters=num_parameters).double()
    with torch.no_grad():
        weight = torch.rand(num_parameters, generator=g, dtype=torch.float64) - 0.5
        ours.weight.copy_(weight)
        theirs.weight.copy_(weight)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y1, y2 = ours(x1), theirs(x2)
    torch.testing.assert_close(y1, y2, rtol=0, atol=0)
    grad = torch.randn(shape, generator=g, dtype=torch.float64)
    y1.backward(grad)
    y2.backward(grad)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-14, atol=0)
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-12, atol=1e-14)


def test_prelu_module_interface_is_torchs():
    module = actlab.get("prelu", 4, init=0.1)
    assert isinstance(module, actlab.nn.PReLU)
    assert module.weight.shape == (4,) and torch.allclose(module.weight, torch.full((4,), 0.1))
    assert repr(module) == "PReLU(num_parameters=4)"
    # torch's state dict loads as is
    reference = torch.nn.PReLU(4, init=0.3)
    module.load_state_dict(reference.state_dict())
    x = torch.randn(2, 4, 3)
    torch.testing.assert_close(module(x), reference(x), rtol=0, atol=0)
    # the functional form takes torch's (input, weight)
    torch.testing.assert_close(actlab.functional.prelu(x, reference.weight), F.prelu(x, reference.weight))
    with pytest.raises(ValueError, match="4 per-channel values do not match 5 channels"):
        module(torch.randn(2, 5))
    with pytest.raises(ValueError, match="num_parameters"):
        actlab.get("prelu", 0)


# ----------------------------------------------------------------------------------------------------
# swish with learnable β
# ----------------------------------------------------------------------------------------------------
def test_swish_beta_one_is_silu_and_zero_is_half_identity():
    x = torch.linspace(-30, 30, 6001, dtype=torch.float64)
    torch.testing.assert_close(apply("swish", x, beta=1.0), x * torch.sigmoid(x), rtol=1e-15, atol=0)
    assert torch.equal(apply("swish", x, beta=0.0), x / 2)


@pytest.mark.parametrize("beta", (10.0, 100.0, 1e4))
def test_swish_approaches_relu_as_beta_grows(beta):
    # |x·σ(βx) - relu(x)| = |x|·σ(-β|x|) <= max_u u·σ(-u) / β = 0.2785 / β
    x = torch.cat([torch.linspace(-5, 5, 20_001), torch.linspace(-10, 10, 20_001) / beta]).double()
    gap = (apply("swish", x, beta=beta) - torch.relu(x)).abs()
    assert gap.max() <= 0.27847 / beta
    assert gap.max() >= 0.2784 / beta  # the bound is attained (at |x| = 1.2785 / β)


def test_swish_is_finite_and_accurate_for_huge_beta_x():
    x = torch.tensor([-1e30, -50.0, -1e-30, 1e-30, 50.0, 1e30], dtype=torch.float64, requires_grad=True)
    beta = torch.tensor(1e10, dtype=torch.float64, requires_grad=True)
    y = apply("swish", x, beta=beta)
    torch.testing.assert_close(y, torch.relu(x.detach()), rtol=1e-15, atol=1e-29)
    y.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(beta.grad)
    torch.testing.assert_close(x.grad[[0, 1, 4, 5]], torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64))


def test_swish_module_learns_beta():
    torch.manual_seed(0)
    module = actlab.get("swish")
    assert isinstance(module.beta, torch.nn.Parameter) and module.beta.item() == 1.0
    x = torch.linspace(-4, 4, 101)
    target = torch.relu(x)  # relu is swish with β → ∞: gradient descent must raise β
    for _ in range(20):
        module.zero_grad()
        F.mse_loss(module(x), target).backward()
        with torch.no_grad():
            module.beta -= 0.5 * module.beta.grad
    assert module.beta.item() > 1.3


# ----------------------------------------------------------------------------------------------------
# snake
# ----------------------------------------------------------------------------------------------------
def test_snake_small_alpha_limit():
    x = torch.tensor([-3.0, -1e-3, 0.5, 7.0], dtype=torch.float64)
    for alpha in (1e-12, 1e-200):
        # x + sin²(αx)/α = x + αx² - O(α³x⁴)
        expected = x + alpha * x * x
        torch.testing.assert_close(apply("snake", x, alpha=alpha), expected, rtol=1e-15, atol=0)
    # α = 0 itself (reachable by training) is the limit f = x, ∂f/∂α = x², not 0/0
    alpha = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    xg = x.clone().requires_grad_(True)
    y = apply("snake", xg, alpha=alpha)
    assert torch.equal(y, x)
    y.sum().backward()
    torch.testing.assert_close(alpha.grad, (x * x).sum())
    torch.testing.assert_close(xg.grad, torch.ones_like(x))
    with pytest.raises(ValueError, match="alpha.*out of range"):
        actlab.get("snake", alpha=0.0)


def test_snake_per_channel_grads_match_the_naive_formula():
    g = torch.Generator().manual_seed(4)
    module = actlab.get("snake", in_features=3).double()
    with torch.no_grad():
        module.alpha.copy_(torch.tensor([0.5, 1.0, 3.0]))
    x = torch.randn(2, 3, 16, generator=g, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    alpha2 = module.alpha.detach().clone().requires_grad_(True)
    y1 = module(x1)
    a = alpha2.reshape(1, 3, 1)
    y2 = x2 + torch.sin(a * x2) ** 2 / a
    torch.testing.assert_close(y1, y2, rtol=1e-14, atol=1e-14)
    grad = torch.randn_like(y1)
    y1.backward(grad)
    y2.backward(grad)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(module.alpha.grad, alpha2.grad, rtol=1e-12, atol=1e-13)
    assert repr(module) == "Snake(in_features=3)"


# ----------------------------------------------------------------------------------------------------
# rational (Padé activation unit)
# ----------------------------------------------------------------------------------------------------
FIT_X = np.linspace(-3, 3, 2001)
FIT_TARGET = np.where(FIT_X > 0, FIT_X, 0.01 * FIT_X)


def _rational_np(numerator, denominator, x):
    p = np.polynomial.polynomial.polyval(x, numerator)
    q = np.polynomial.polynomial.polyval(x, [0.0, *denominator])
    return p / (1 + np.abs(q))


def test_rational_default_is_close_to_leaky_relu():
    x = torch.linspace(-3, 3, 2001, dtype=torch.float64)
    error = apply("rational", x) - F.leaky_relu(x, 0.01)
    assert error.abs().max() < 0.03
    assert error.pow(2).mean().sqrt() < 0.01
    assert apply("rational", torch.zeros(1, dtype=torch.float64)).item() == 0.0


def test_rational_default_coefficients_are_the_least_squares_fit():
    # the fit the comment in learnable.py describes, from a generic start: a1..a5 free, a0 = 0,
    # denominator b2·x² + b4·x⁴
    def residual(c):
        return _rational_np([0.0, *c[:5]], [0.0, c[5], 0.0, c[6]], FIT_X) - FIT_TARGET

    fit = least_squares(residual, [0.5, 0, 0, 0, 0, 0, 0], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    ours = np.array([*RATIONAL_NUMERATOR[1:], RATIONAL_DENOMINATOR[1], RATIONAL_DENOMINATOR[3]])
    # |Q| does not see the denominator's sign
    np.testing.assert_allclose(np.abs(fit.x), np.abs(ours), rtol=1e-6)
    np.testing.assert_allclose(residual(fit.x), residual(ours), atol=1e-6)

    # the unconstrained fit (b1, b3 free) lands on b1 = b3 = 0, as the comment says
    def residual_free(c):
        return _rational_np([0.0, *c[:5]], c[5:], FIT_X) - FIT_TARGET

    start = [*ours[:5], 0.01, ours[5], 0.01, ours[6]]
    free = least_squares(residual_free, start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert abs(free.x[5]) < 1e-6 and abs(free.x[7]) < 1e-6
    assert 2 * free.cost >= 2 * fit.cost - 1e-9
    # the coefficients are float32 numbers
    assert all(float(np.float32(c)) == c for c in (*RATIONAL_NUMERATOR, *RATIONAL_DENOMINATOR))


COEFFICIENT_CASES = [
    (RATIONAL_NUMERATOR, RATIONAL_DENOMINATOR),
    ((0.3, -1.2, 0.7, 0.05, -0.4, 0.9), (0.25, -0.6, 1.1, 0.35)),  # Q changes sign: kinks of |Q|
]


@pytest.mark.parametrize(("numerator", "denominator"), COEFFICIENT_CASES, ids=("default", "general"))
def test_rational_coefficient_gradcheck(numerator, denominator):
    g = torch.Generator().manual_seed(6)
    # both evaluation branches: |x| <= 1 and |x| > 1 (up to 1e3)
    x = torch.cat(
        [torch.rand(12, generator=g) * 2 - 1, torch.randn(12, generator=g) * 4, torch.tensor([-1e3, 1e3])]
    )
    x = x.to(torch.float64).requires_grad_(True)
    a = torch.tensor(numerator, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(denominator, dtype=torch.float64, requires_grad=True)

    def fn(x, a, b):
        return apply("rational", x, numerator=a, denominator=b)

    assert torch.autograd.gradcheck(fn, (x, a, b), eps=1e-6, atol=1e-6, rtol=1e-5)
    # and against autograd through the naive formula
    y = fn(x, a, b)
    powers = x.unsqueeze(-1) ** torch.arange(6, dtype=torch.float64)
    naive = (powers * a).sum(-1) / (1 + (powers[:, 1:5] * b).sum(-1).abs())
    torch.testing.assert_close(y, naive, rtol=1e-12, atol=1e-12)
    grad = torch.randn(x.shape, generator=g, dtype=torch.float64)
    ours = torch.autograd.grad(y, (x, a, b), grad)
    theirs = torch.autograd.grad(naive, (x, a, b), grad)
    for o, t in zip(ours, theirs, strict=True):
        torch.testing.assert_close(o, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16, torch.float32), ids=str)
def test_rational_large_inputs_do_not_overflow(dtype):
    big = torch.finfo(dtype).max / 4
    x = torch.tensor([-big, -6e4, -1e3, 1e3, 6e4, big], dtype=torch.float64).to(dtype)
    xg = x.clone().requires_grad_(True)
    y = apply("rational", xg)
    y.sum().backward()
    # f ~ (a5/|b4|)·x and f' → a5/|b4| far out
    slope = RATIONAL_NUMERATOR[5] / abs(RATIONAL_DENOMINATOR[3])
    assert torch.isfinite(y).all() and torch.isfinite(xg.grad).all()
    torch.testing.assert_close(
        y.double() / x.double(), torch.full((6,), slope, dtype=torch.float64), rtol=0.02, atol=0
    )
    torch.testing.assert_close(
        xg.grad.double(), torch.full((6,), slope, dtype=torch.float64), rtol=0.02, atol=0
    )


def test_rational_module_has_two_coefficient_vectors_and_checks_their_length():
    module = actlab.get("rational")
    assert module.numerator.shape == (6,) and module.denominator.shape == (4,)
    x = torch.randn(8, 3)
    module(x).sum().backward()
    assert module.numerator.grad.shape == (6,) and module.denominator.grad.shape == (4,)
    with pytest.raises(ValueError, match="numerator must hold 6 coefficients"):
        apply("rational", x, numerator=(1.0, 2.0))
