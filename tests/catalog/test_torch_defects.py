"""Where torch's own kernels are wrong, actlab is right (issue "Foundation").

Each test asserts actlab's value against mpmath and *records* torch's value (``record_property``, shown
in the JUnit report) without asserting it: torch may fix its kernels, and that must not break us.
Measured with torch 2.x on CPU in fp32: F.gelu(-5) = -1.49e-6 (true -1.4333e-6, 4 % off) and
F.gelu(-6) = 0 (true -5.92e-9); F.softplus(beta=10, threshold=0.4) jumps from 0.0913 to 0.0400 at
x = 0.04, where β·x crosses the threshold.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from actlab.functional import apply
from tests.catalog.harness import FORWARD_ULPS, ulp_of


def ulps(got: float, true) -> float:
    return float(abs(mp.mpf(got) - true)) / ulp_of(true)


def mp_gelu(x):
    return mp.mpf(x) * mp.ncdf(x)


def mp_softplus(x, beta):
    return mp.log1p(mp.exp(beta * mp.mpf(x))) / beta


@pytest.mark.parametrize("x", [-5.0, -6.0, -8.0])
def test_gelu_left_tail_fp32(x, record_property):
    xt = torch.tensor([x], dtype=torch.float32)
    true = mp_gelu(x)
    ours = apply("gelu", xt).item()
    assert ulps(ours, true) <= FORWARD_ULPS, f"actlab gelu({x}) = {ours!r}, true {float(true)!r}"
    theirs = F.gelu(xt).item()
    record_property(f"torch_gelu({x})", theirs)
    record_property(f"torch_gelu({x})_ulps", ulps(theirs, true))
    record_property(f"true_gelu({x})", float(true))


def test_gelu_issue_values_are_the_truth():
    # the true values quoted in the issue, reproduced from the definition
    assert float(mp_gelu(-5.0)) == pytest.approx(-1.4333e-6, rel=1e-4)
    assert float(mp_gelu(-6.0)) == pytest.approx(-5.92e-9, rel=1e-3)


def test_softplus_threshold_point_is_accurate(record_property):
    beta, threshold = 10.0, 0.4
    x = torch.tensor(
        [0.0399, 0.04, np.nextafter(np.float32(0.04), np.float32(1)), 0.0401], dtype=torch.float32
    )
    ours = apply("softplus", x, beta=beta, threshold=threshold)
    for xi, yi in zip(x.tolist(), ours.tolist(), strict=True):
        true = mp_softplus(xi, beta)
        assert ulps(yi, true) <= FORWARD_ULPS, (xi, yi, float(true))
    theirs = F.softplus(x, beta=beta, threshold=threshold)
    record_property("torch_softplus_beta10_threshold0.4", theirs.tolist())
    record_property("actlab_softplus_beta10_threshold0.4", ours.tolist())


def test_softplus_is_continuous_and_monotone_across_the_threshold_in_fp32():
    beta, threshold = 10.0, 0.4
    # every fp32 number in [0.0395, 0.0405], consecutive
    lo, hi = np.float32(0.0395), np.float32(0.0405)
    bits = np.arange(lo.view(np.int32), hi.view(np.int32) + 1, dtype=np.int32)
    x = torch.from_numpy(bits.view(np.float32).copy())
    y = apply("softplus", x, beta=beta, threshold=threshold).double()
    steps = torch.diff(y)
    assert (steps >= 0).all(), "softplus must be non-decreasing"
    # f' = σ(βx) ≈ 0.6 here and neighbours differ by one input ULP (3.7e-9): the output moves by at
    # most a couple of output ULPs (7.5e-9), nothing like torch's 0.05 jump
    assert steps.max().item() < 4 * ulp_of(mp.mpf(0.09)), steps.max().item()
    assert y[-1].item() - y[0].item() == pytest.approx(
        float(mp_softplus(float(hi), beta) - mp_softplus(float(lo), beta)), rel=1e-4
    )


def test_torch_softplus_jump_is_recorded(record_property):
    x = torch.tensor([0.04, np.nextafter(np.float32(0.04), np.float32(1))], dtype=torch.float32)
    theirs = F.softplus(x, beta=10.0, threshold=0.4)
    record_property("torch_softplus_jump", float(theirs[0] - theirs[1]))
    ours = apply("softplus", x, beta=10.0, threshold=0.4)
    assert abs(float(ours[1] - ours[0])) < 1e-8


@pytest.mark.parametrize("name", ["softplus", "mish", "silu"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_no_half_precision_overflow(name, dtype, record_property):
    x = torch.tensor([12.0, 100.0, 60000.0], dtype=dtype)
    y = apply(name, x)
    assert y.dtype == dtype
    assert torch.isfinite(y).all(), f"{name} overflowed in {dtype}: {y}"
    # for these x all three functions equal x to far below half precision: the result is x itself
    torch.testing.assert_close(y, x, rtol=0, atol=0)
    # and the gradient is finite too (1 to half precision)
    xg = x.clone().requires_grad_(True)
    apply(name, xg).sum().backward()
    assert torch.isfinite(xg.grad).all()
    torch.testing.assert_close(xg.grad.float(), torch.ones(3), rtol=0, atol=1e-2)
    record_property(f"torch_{name}_{dtype}", getattr(F, name)(x).tolist())
