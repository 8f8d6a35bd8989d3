"""The vector family (softmax, log_softmax, softmin, sparsemax): normalisation, shift invariance, huge
scores, fp32 accuracy per element against mpmath, sparsemax's known answers, and the Jacobian that
backward uses against autograd's Jacobian of a naive float64 formula.

Accuracy bound. softmax, softmin and log_softmax are evaluated in float64 from exact fp32 inputs: each
exp/log1p is within an ULP of float64 and a sum of n terms adds at most n·2^-53 relative, so before
the final rounding the result is within (n + 3)·2^-53 ≪ 2^-24 of the truth and rounding to fp32
gives at most 1 ULP — that is what is asserted (tighter than the 4 ULP of the elementwise tests).
sparsemax's y_i = z_i - τ is a difference: when a score sits just above τ the output is much smaller
than the scores, and τ (rounded in float64) carries an absolute error of a few 2^-53·max|z|. The
bound asserted is 1 ULP of the true value plus 2^-50·n·max|z|, which is the conditioning of the
problem, not slack in the implementation.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import actlab
from actlab.functional import apply
from tests.catalog.harness import FP32_MIN_NORMAL, ulp_of

F64 = torch.float64
NAMES = ["softmax", "log_softmax", "softmin", "sparsemax"]
PROBABILITIES = ["softmax", "softmin", "sparsemax"]

settings.register_profile("actlab_vector", max_examples=40, deadline=None, derandomize=True)


def probabilities(name: str, x: torch.Tensor, **kw) -> torch.Tensor:
    y = apply(name, x, **kw)
    return y.exp() if name == "log_softmax" else y


def randn(*shape, seed=0, scale=1.0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=F64) * scale).to(dtype)


# ----------------------------------------------------------------------------------------------------
# normalisation and invariances
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
def test_sums_to_one_along_dim(name, dim):
    x = randn(4, 5, 6, scale=3.0)
    p = probabilities(name, x, dim=dim)
    assert p.shape == x.shape
    assert (p >= 0).all() and (p <= 1).all()
    torch.testing.assert_close(p.sum(dim), torch.ones_like(p.sum(dim)), rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_shift_invariance(name):
    x = randn(8, 9, scale=2.0)
    for c in (-1e3, 0.5, 1e3):
        torch.testing.assert_close(apply(name, x + c), apply(name, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_huge_scores_do_not_overflow(name):
    x = torch.tensor([[3e38, 3e38, -3e38, 0.0], [1e4, 0.0, -1e4, 9999.0]], dtype=torch.float32)
    y = apply(name, x)
    assert torch.isfinite(y).all() if name != "log_softmax" else not torch.isnan(y).any()
    p = probabilities(name, x)
    torch.testing.assert_close(p.sum(-1), torch.ones(2), rtol=0, atol=1e-6)


def test_huge_score_values():
    x = torch.tensor([3e38, 3e38, -3e38, 0.0], dtype=torch.float32)
    torch.testing.assert_close(apply("softmax", x), torch.tensor([0.5, 0.5, 0.0, 0.0]), rtol=0, atol=0)
    torch.testing.assert_close(apply("sparsemax", x), torch.tensor([0.5, 0.5, 0.0, 0.0]), rtol=0, atol=0)
    torch.testing.assert_close(apply("softmin", x), torch.tensor([0.0, 0.0, 1.0, 0.0]), rtol=0, atol=0)
    ls = apply("log_softmax", torch.tensor([1000.0, 0.0]))
    torch.testing.assert_close(ls, torch.tensor([0.0, -1000.0]), rtol=0, atol=0)


def test_log_softmax_of_a_dominant_score_keeps_relative_accuracy():
    # log p_max = -log1p(Σ others) ≈ -e^-70 ≈ -4e-31: log(Σ) would round to exactly 0
    x = torch.tensor([70.0, 0.0], dtype=torch.float32)
    got = apply("log_softmax", x)[0].item()
    true = -mp.log1p(mp.exp(-70))
    assert got != 0.0
    assert abs(mp.mpf(got) - true) <= ulp_of(true)


def test_softmin_is_softmax_of_negated_scores():
    x = randn(5, 7, scale=4.0)
    torch.testing.assert_close(apply("softmin", x), apply("softmax", -x), rtol=0, atol=0)


def test_legacy_implicit_dim_is_not_replicated():
    x = randn(2, 3, 4)
    # torch's nn.Softmax() would pick dim 0 for a 3-d input; actlab normalises the last axis
    p = actlab.get("softmax")(x)
    torch.testing.assert_close(p.sum(-1), torch.ones(2, 3, dtype=F64), rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="'dim' = None is not allowed; use an integer"):
        apply("softmax", x, dim=None)
    with pytest.raises(ValueError, match="'dim' = 1.0 is not allowed; use an integer"):
        apply("softmax", x, dim=1.0)
    with pytest.raises(ValueError, match="out of range"):
        apply("softmax", x, dim=3)


def test_nan_stays_in_its_row():
    x = randn(3, 5)
    x[1, 2] = float("nan")
    for name in NAMES:
        y = apply(name, x)
        assert torch.isnan(y[1]).all(), name
        assert not torch.isnan(y[[0, 2]]).any(), name


def test_scalar_and_empty_inputs_follow_torch():
    s = torch.tensor(3.0)
    assert apply("softmax", s).item() == torch.softmax(s, -1).item() == 1.0
    assert apply("log_softmax", s).item() == 0.0
    e = torch.empty(4, 0)
    assert apply("softmax", e).shape == (4, 0)


# ----------------------------------------------------------------------------------------------------
# fp32 accuracy per element against mpmath
# ----------------------------------------------------------------------------------------------------
def fp32_vectors():
    rng = np.random.default_rng(7)
    out = []
    for n in (2, 7, 50):
        for scale in (1e-3, 1.0, 30.0, 1e3):
            for _ in range(3):
                out.append(rng.standard_normal(n).astype(np.float32) * np.float32(scale))
    out.append(np.array([80.0, 0.0, -80.0, 79.99999], dtype=np.float32))
    out.append(np.array([1.0, 1.0, 1.0, 1.0], dtype=np.float32))
    return out


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_fp32_forward_within_1_ulp(name):
    spec = actlab.spec(name)
    worst = 0.0
    for v in fp32_vectors():
        y = apply(name, torch.from_numpy(v)).tolist()
        truth = spec.mp_forward([mp.mpf(float(t)) for t in v.tolist()])
        for got, true in zip(y, truth, strict=True):
            if true == 0 or abs(true) < FP32_MIN_NORMAL:
                continue
            worst = max(worst, float(abs(mp.mpf(got) - true)) / ulp_of(true))
    assert worst <= 1.0, f"{name}: {worst:.2f} ULP"


def test_sparsemax_fp32_forward_within_the_conditioning_bound():
    spec = actlab.spec("sparsemax")
    for v in fp32_vectors():
        y = apply("sparsemax", torch.from_numpy(v)).tolist()
        xs = [mp.mpf(float(t)) for t in v.tolist()]
        truth = spec.mp_forward(xs)
        slack = 2.0**-50 * len(xs) * float(max(abs(t) for t in xs))
        for got, true in zip(y, truth, strict=True):
            if true == 0:
                assert got == 0.0
                continue
            assert float(abs(mp.mpf(got) - true)) <= ulp_of(true) + slack, (v, got, float(true))


@pytest.mark.parametrize("name", NAMES)
def test_diagonal_derivative_against_mpmath(name):
    spec = actlab.spec(name)
    for v in fp32_vectors():
        d = actlab.derivative(name, torch.from_numpy(v)).tolist()
        truth = spec.mp_derivative([mp.mpf(float(t)) for t in v.tolist()])
        for got, true in zip(d, truth, strict=True):
            unit = max(ulp_of(true) if true != 0 else 0.0, 2.0**-24)
            assert float(abs(mp.mpf(got) - true)) <= 8 * unit, (name, v, got, float(true))


def test_softmax_diagonal_of_a_dominant_entry_has_no_cancellation():
    # y(1 - y) for y = 1 - 1e-20: 1 - y would round to 0 in any float
    x = torch.tensor([0.0, -46.0], dtype=F64)
    d = actlab.derivative("softmax", x)
    e = math.exp(-46.0)
    torch.testing.assert_close(d, torch.tensor([e / (1 + e) ** 2] * 2, dtype=F64), rtol=1e-14, atol=0)


# ----------------------------------------------------------------------------------------------------
# sparsemax
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([-1.0, 0.0, 1.0], [0.0, 0.0, 1.0]),  # Keras / TF-Addons docstring example
        ([-5.0, 1.0, 2.0], [0.0, 0.0, 1.0]),
        ([0.0, 0.5], [0.25, 0.75]),  # τ = (0.5 - 1)/2
        ([0.1, 0.2, 0.3], [0.7 / 3, 1.0 / 3, 1.3 / 3]),  # τ = (0.6 - 1)/3
        ([1.0, 1.0, 1.0, 1.0], [0.25, 0.25, 0.25, 0.25]),
        ([2.0, 1.5, 0.2, -3.0], [0.75, 0.25, 0.0, 0.0]),  # τ = (3.5 - 1)/2; 0.2 < τ
    ],
)
def test_sparsemax_known_examples(scores, expected):
    y = apply("sparsemax", torch.tensor(scores, dtype=F64))
    torch.testing.assert_close(y, torch.tensor(expected, dtype=F64), rtol=0, atol=1e-15)


def test_sparsemax_is_sparse_where_softmax_is_not():
    x = randn(100, 20, scale=3.0)
    y = apply("sparsemax", x)
    assert (y == 0).float().mean() > 0.5
    assert (apply("softmax", x) > 0).all()


@settings(settings.get_profile("actlab_vector"))
@given(x=arrays(np.float64, st.integers(1, 12), elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_sparsemax_is_the_euclidean_projection_onto_the_simplex(x):
    # KKT conditions of min ||p - x||² over the simplex: p_i = x_i - τ on the support, x_i ≤ τ off it
    y = apply("sparsemax", torch.from_numpy(x)).numpy()
    assert np.all(y >= 0) and abs(y.sum() - 1) < 1e-9
    support = y > 0
    tau = x[support] - y[support]
    scale = 1e-9 * (1 + np.abs(x).max())
    assert np.ptp(tau) < scale
    assert np.all(x[~support] <= tau.mean() + scale)


# ----------------------------------------------------------------------------------------------------
# Jacobians
# ----------------------------------------------------------------------------------------------------
def naive_sparsemax(x):
    srt, _ = torch.sort(x, descending=True)
    k = torch.arange(1, x.numel() + 1, dtype=x.dtype)
    cum = srt.cumsum(0)
    size = int((1 + k * srt > cum).sum())
    tau = (cum[size - 1] - 1) / size
    return torch.clamp(x - tau, min=0)


NAIVE = {
    "softmax": lambda x: torch.exp(x) / torch.exp(x).sum(),
    "log_softmax": lambda x: x - torch.log(torch.exp(x).sum()),
    "softmin": lambda x: torch.exp(-x) / torch.exp(-x).sum(),
    "sparsemax": naive_sparsemax,
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jacobian_through_vjp_matches_autograd_of_naive_formula(name, seed):
    x = randn(7, seed=seed, scale=1.5)
    ours = torch.autograd.functional.jacobian(lambda t: apply(name, t), x)
    reference = torch.autograd.functional.jacobian(NAIVE[name], x)
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=1e-14)
    # and the diagonal is what actlab.derivative returns
    torch.testing.assert_close(actlab.derivative(name, x), torch.diagonal(reference), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_along_other_dims(name):
    x = randn(3, 4, 5, seed=3).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: apply(name, t, dim=1), (x,), eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_backward_keeps_only_the_output(name):
    assert actlab.spec(name).saves == "output"


# ----------------------------------------------------------------------------------------------------
# agreement with torch in fp32, on every dim
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_agrees_with_torch_fp32(name, dim):
    x = randn(6, 7, 8, scale=4.0, dtype=torch.float32)
    theirs = getattr(torch.nn.functional, name)(x, dim=dim)
    torch.testing.assert_close(apply(name, x, dim=dim), theirs, rtol=1e-5, atol=1e-6)
    xg = x.clone().requires_grad_(True)
    xt = x.clone().requires_grad_(True)
    g = randn(6, 7, 8, seed=5, dtype=torch.float32)
    apply(name, xg, dim=dim).backward(g)
    getattr(torch.nn.functional, name)(xt, dim=dim).backward(g)
    torch.testing.assert_close(xg.grad, xt.grad, rtol=1e-4, atol=1e-5)
