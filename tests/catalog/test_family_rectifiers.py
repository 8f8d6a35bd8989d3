"""Special facts of the rectifier and hard families that the generic catalogue tests do not cover:
SELU's constants, the conventions at kinks, torch equivalence for non-default parameters, rrelu's
randomness, and the output-saving backward in half precision."""

from __future__ import annotations

import mpmath as mp
import pytest
import torch

import actlab
from actlab.catalog.rectifiers import SELU_ALPHA, SELU_SCALE
from actlab.functional import apply

F = torch.nn.functional

# ----------------------------------------------------------------------------------------------------
# SELU: the constants are the fixed point of Klambauer et al.'s moment mapping
# ----------------------------------------------------------------------------------------------------
PUBLISHED_ALPHA = "1.6732632423543772848"
PUBLISHED_SCALE = "1.0507009873554804934"


def _selu_fixed_point():
    """α and λ such that selu maps z ~ N(0, 1) to mean 0 and variance 1, by Gaussian quadrature."""
    phi = mp.npdf
    positive_mean = mp.quad(lambda z: z * phi(z), [0, mp.inf])
    negative_mean = mp.quad(lambda z: mp.expm1(z) * phi(z), [-mp.inf, 0])
    alpha = -positive_mean / negative_mean  # E[selu(z)] = 0
    positive_sq = mp.quad(lambda z: z * z * phi(z), [0, mp.inf])
    negative_sq = mp.quad(lambda z: mp.expm1(z) ** 2 * phi(z), [-mp.inf, 0])
    scale = 1 / mp.sqrt(positive_sq + alpha**2 * negative_sq)  # E[selu(z)²] = 1
    return alpha, scale


def test_selu_constants_solve_the_fixed_point_equations():
    alpha, scale = _selu_fixed_point()
    # the published 20-digit values
    assert abs(alpha - mp.mpf(PUBLISHED_ALPHA)) < mp.mpf("1e-19")
    assert abs(scale - mp.mpf(PUBLISHED_SCALE)) < mp.mpf("1e-19")
    # Klambauer et al.'s closed form (eq. 14) for α agrees with the quadrature
    closed_alpha = -mp.sqrt(2 / mp.pi) / (mp.erfc(1 / mp.sqrt(2)) * mp.exp(mp.mpf(1) / 2) - 1)
    assert abs(closed_alpha - alpha) < mp.mpf("1e-25")
    # actlab's double constants are the correctly rounded values
    assert SELU_ALPHA == float(alpha)
    assert SELU_SCALE == float(scale)
    assert actlab.spec("selu").properties.output_range[0] == pytest.approx(-float(alpha * scale), rel=1e-15)


def test_selu_self_normalises_a_standard_normal():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2_000_000, generator=g, dtype=torch.float64)
    y = apply("selu", z)
    # standard errors: 1/sqrt(n) ≈ 7e-4 for the mean, about 1.5e-3 for the variance
    assert abs(y.mean().item()) < 3e-3
    assert abs(y.var().item() - 1) < 6e-3
    # a plain elu does not: its variance is far from 1
    assert abs(apply("elu", z).var().item() - 1) > 0.1


# ----------------------------------------------------------------------------------------------------
# conventions at kinks
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16, torch.float32, torch.float64), ids=str)
def test_relu_derivative_at_zero_is_zero(dtype):
    zero = torch.zeros(3, dtype=dtype)
    assert actlab.derivative("relu", zero).eq(0).all()
    x = torch.tensor([-0.0, 0.0, 1.0, -1.0], dtype=dtype, requires_grad=True)
    apply("relu", x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert actlab.spec("relu").mp_derivative(mp.mpf(0)) == 0


def _grad(fn, x):
    x = x.clone().requires_grad_(True)
    fn(x).backward(torch.ones_like(x))
    return x.grad


KINK_CASES = [
    ("relu", {}, F.relu),
    ("leaky_relu", {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    ("elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5)),
    ("selu", {}, F.selu),
    ("celu", {"alpha": 2.0}, lambda x: F.celu(x, 2.0)),
    ("relu6", {}, F.relu6),
    ("hardtanh", {"min_val": -2.0, "max_val": 0.5}, lambda x: F.hardtanh(x, -2.0, 0.5)),
    ("hardsigmoid", {}, F.hardsigmoid),
    ("hardswish", {}, F.hardswish),
    ("hardshrink", {"lambd": 1.0}, lambda x: F.hardshrink(x, 1.0)),
    ("softshrink", {"lambd": 1.0}, lambda x: F.softshrink(x, 1.0)),
    ("threshold", {"threshold": 1.0, "value": -3.0}, lambda x: F.threshold(x, 1.0, -3.0)),
]


@pytest.mark.parametrize(("name", "params", "torch_fn"), KINK_CASES, ids=[c[0] for c in KINK_CASES])
def test_gradient_at_kinks_follows_torch(name, params, torch_fn):
    # exactly at the corners, and on either side of them
    corners = torch.tensor([-3.0, -2.0, -1.0, 0.0, 0.5, 1.0, 3.0, 6.0], dtype=torch.float64)
    x = torch.cat([corners, corners - 1e-9, corners + 1e-9])
    ours = _grad(lambda t: apply(name, t, **params), x)
    theirs = _grad(torch_fn, x)
    # (torch's float64 hardsigmoid backward uses a float32 1/6, hence rtol 1e-7; conventions differ by O(1))
    torch.testing.assert_close(ours, theirs, rtol=1e-7, atol=0)
    # the analytic derivative and the mpmath reference use the same convention
    torch.testing.assert_close(actlab.derivative(name, x, **params), ours, rtol=1e-12, atol=0)
    spec = actlab.spec(name)
    ref = torch.tensor([float(spec.mp_derivative(mp.mpf(v), **params)) for v in x.tolist()], dtype=x.dtype)
    torch.testing.assert_close(ref, ours, rtol=1e-12, atol=0)


def test_hardswish_gradient_at_plus_minus_three():
    x = torch.tensor([-3.0, 3.0], dtype=torch.float64)
    assert _grad(lambda t: apply("hardswish", t), x).tolist() == [0.0, 1.0]


def test_left_derivative_at_zero_for_exponential_rectifiers():
    zero = torch.zeros(1, dtype=torch.float64)
    assert actlab.derivative("elu", zero, alpha=0.5).item() == 0.5
    assert actlab.derivative("selu", zero).item() == pytest.approx(SELU_ALPHA * SELU_SCALE, rel=1e-15)
    assert actlab.derivative("leaky_relu", zero, negative_slope=0.2).item() == 0.2


# ----------------------------------------------------------------------------------------------------
# torch equivalence for non-default parameters
# ----------------------------------------------------------------------------------------------------
TORCH_PARAM_CASES = [
    ("threshold", {"threshold": 0.7, "value": -1.5}, lambda x: F.threshold(x, 0.7, -1.5)),
    ("threshold", {"threshold": -2.0, "value": 5.0}, lambda x: F.threshold(x, -2.0, 5.0)),
    ("hardtanh", {"min_val": -0.25, "max_val": 4.0}, lambda x: F.hardtanh(x, -0.25, 4.0)),
    ("hardtanh", {"min_val": 1.0, "max_val": 2.0}, lambda x: F.hardtanh(x, 1.0, 2.0)),
    ("leaky_relu", {"negative_slope": 0.3}, lambda x: F.leaky_relu(x, 0.3)),
    ("elu", {"alpha": 2.0}, lambda x: F.elu(x, 2.0)),
    ("celu", {"alpha": 0.25}, lambda x: F.celu(x, 0.25)),
    ("rrelu", {"lower": 0.05, "upper": 0.4}, lambda x: F.rrelu(x, 0.05, 0.4, training=False)),
    ("hardshrink", {"lambd": 0.0}, lambda x: F.hardshrink(x, 0.0)),
    ("softshrink", {"lambd": 2.0}, lambda x: F.softshrink(x, 2.0)),
]


@pytest.mark.parametrize(
    ("name", "params", "torch_fn"),
    TORCH_PARAM_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(TORCH_PARAM_CASES)],
)
@pytest.mark.parametrize("dtype", (torch.float32, torch.float64), ids=str)
def test_matches_torch_for_non_default_parameters(name, params, torch_fn, dtype):
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(500, generator=g, dtype=torch.float64) * 4).to(dtype)
    x = torch.cat([x, torch.tensor([v for v in params.values()], dtype=dtype)])  # exactly at the corners
    rtol = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(apply(name, x, **params), torch_fn(x), rtol=rtol, atol=1e-7)
    torch.testing.assert_close(
        _grad(lambda t: apply(name, t, **params), x), _grad(torch_fn, x), rtol=rtol, atol=1e-7
    )
    # the module with the same parameters (torch's argument names)
    module = actlab.get(name, **params).eval()
    torch.testing.assert_close(module(x), torch_fn(x), rtol=rtol, atol=1e-7)


def test_threshold_and_hardtanh_validate_their_arguments():
    with pytest.raises(ValueError, match="min_val .* must be less than max_val"):
        apply("hardtanh", torch.zeros(3), min_val=1.0, max_val=1.0)
    with pytest.raises(ValueError, match="min_val .* must be less than max_val"):
        actlab.get("hardtanh", 2.0, -2.0)(torch.zeros(3))
    with pytest.raises(ValueError, match="min_val .* must be less than max_val"):
        actlab.derivative("hardtanh", torch.zeros(3), min_val=3.0, max_val=-3.0)
    with pytest.raises(ValueError, match="lower .* must not exceed upper"):
        apply("rrelu", torch.zeros(3), lower=0.5, upper=0.25)
    with pytest.raises(ValueError, match="lower .* must not exceed upper"):
        apply("rrelu", torch.zeros(3), lower=0.5, upper=0.25, training=True)
    with pytest.raises(ValueError, match="negative_slope.*out of range"):
        actlab.get("leaky_relu", negative_slope=-0.1)


# ----------------------------------------------------------------------------------------------------
# rrelu: random slopes in training, the mean slope in evaluation
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16, torch.float32, torch.float64), ids=str)
def test_rrelu_training_draws_slopes_in_range(dtype):
    lower, upper = 0.1, 0.3
    torch.manual_seed(0)
    x = -torch.rand(20_000, dtype=torch.float64).add(0.5).to(dtype)  # negative, away from 0
    y = apply("rrelu", x, lower, upper, training=True)
    assert y.dtype == dtype
    slopes = y.double() / x.double()
    tol = 4 * torch.finfo(dtype).eps
    assert slopes.min() >= lower - tol and slopes.max() <= upper + tol
    # spread over the whole interval, with the uniform distribution's mean
    assert slopes.min() < lower + 0.01 and slopes.max() > upper - 0.01
    assert abs(slopes.mean().item() - (lower + upper) / 2) < 0.01
    # positive inputs are untouched
    assert torch.equal(apply("rrelu", -x, lower, upper, training=True), -x)


def test_rrelu_training_is_random_seeded_and_differentiable():
    x = torch.linspace(-5, -0.1, 1000, dtype=torch.float64)
    torch.manual_seed(1)
    first = apply("rrelu", x, training=True)
    second = apply("rrelu", x, training=True)
    torch.manual_seed(1)
    again = apply("rrelu", x, training=True)
    assert not torch.equal(first, second)
    assert torch.equal(first, again)
    # backward uses the sampled slope
    xg = x.clone().requires_grad_(True)
    torch.manual_seed(2)
    y = apply("rrelu", xg, training=True)
    y.sum().backward()
    torch.testing.assert_close(xg.grad, y.detach() / x, rtol=1e-12, atol=0)


def test_rrelu_module_is_random_in_training_and_deterministic_in_eval():
    module = actlab.get("rrelu", 0.0, 0.5)
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    module.train()
    assert not torch.equal(module(x), module(x))
    module.eval()
    y = module(x)
    assert torch.equal(y, module(x))
    torch.testing.assert_close(y, torch.where(x > 0, x, 0.25 * x), rtol=0, atol=0)
    torch.testing.assert_close(y, F.rrelu(x, 0.0, 0.5, training=False), rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------------
# what backward keeps, and that keeping the output loses nothing in half precision
# ----------------------------------------------------------------------------------------------------
OUTPUT_SAVING = {
    "relu": {},
    "leaky_relu": {"negative_slope": 0.01},
    "rrelu": {},
    "elu": {"alpha": 0.5},
    "selu": {},
    "celu": {"alpha": 2.0},
    "relu6": {},
    "smelu": {},
    "hardtanh": {},
    "hardsigmoid": {},
    "hardshrink": {},
    "sparse_plus": {},
}


def test_which_entries_keep_the_output():
    families = ("rectifiers", "hard")
    keep_output = {s.name for s in actlab.catalog.all_specs() if s.family in families and s.saves == "output"}
    assert keep_output == set(OUTPUT_SAVING)


def _every_value(dtype):
    bits = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(dtype)
    return bits[torch.isfinite(bits)]


@pytest.mark.parametrize("name", sorted(OUTPUT_SAVING))
@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16), ids=str)
def test_output_saving_backward_is_right_for_every_half_value(name, dtype):
    # every finite fp16/bf16 input: the gradient computed from the rounded output agrees with f'(x)
    # computed from the input (one precision up, then rounded). A branch read wrongly from the output
    # would be off by O(1); rounding the output costs at most an ULP of the output (elu's y + alpha).
    x = _every_value(dtype)
    params = OUTPUT_SAVING[name]
    grad = _grad(lambda t: apply(name, t, **params), x).float()
    expected = actlab.derivative(name, x, **params).float()
    eps = torch.finfo(dtype).eps
    scale = max([1.0, *(abs(float(v)) for v in params.values())])
    torch.testing.assert_close(grad, expected, rtol=2 * eps, atol=2 * eps * scale)
    piecewise_constant = name in (
        "relu",
        "leaky_relu",
        "rrelu",
        "relu6",
        "hardtanh",
        "hardsigmoid",
        "hardshrink",
    )
    if piecewise_constant:
        assert torch.equal(grad, expected), f"{name}: a branch was read wrongly from the output"


# ----------------------------------------------------------------------------------------------------
# numerics of particular entries
# ----------------------------------------------------------------------------------------------------
def test_sparse_plus_is_smelu_with_beta_one():
    x = torch.linspace(-3, 3, 6001, dtype=torch.float64)
    assert torch.equal(apply("sparse_plus", x), apply("smelu", x, beta=1.0))
    # and its derivative is continuous at the joins (C1): 0 at -1, 1 at 1
    d = actlab.derivative(
        "sparse_plus", torch.tensor([-1.0, -1 + 1e-12, 1 - 1e-12, 1.0], dtype=torch.float64)
    )
    torch.testing.assert_close(d, torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64), atol=1e-11, rtol=0)


def test_smelu_joins_zero_and_identity_smoothly():
    beta = 0.75
    x = torch.tensor([-beta, beta], dtype=torch.float64)
    assert apply("smelu", x, beta=beta).tolist() == [0.0, beta]
    assert actlab.derivative("smelu", x, beta=beta).tolist() == [0.0, 1.0]


def test_isrlu_limit_for_huge_inputs():
    # hypot keeps x² from overflowing: the limit -1/sqrt(α) rather than -0 or NaN
    x = torch.tensor([-1e200, -1e300], dtype=torch.float64)
    torch.testing.assert_close(apply("isrlu", x, alpha=4.0), torch.full_like(x, -0.5), rtol=1e-15, atol=0)
    d = actlab.derivative("isrlu", x, alpha=4.0)
    assert torch.isfinite(d).all() and (d >= 0).all()


def test_squared_relu_gradient_stays_finite_where_the_output_overflows():
    x = torch.tensor([1e30, 3e38], dtype=torch.float32, requires_grad=True)
    y = apply("squared_relu", x)
    assert torch.isinf(y).all()  # the true values 1e60 and 9e76 are not fp32 numbers
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(x.grad, 2 * x.detach(), rtol=0, atol=0)
