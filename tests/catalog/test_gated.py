"""The GLU family: fp32 accuracy of a·g(b) against mpmath, the split and its errors, and gradients
against autograd through the naive composition a * g(b) written with torch ops."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import torch

import actlab
from actlab.catalog.spec import lookup
from actlab.functional import apply
from tests.catalog.harness import DERIVATIVE_UNITS, FORWARD_ULPS, FP32_MIN_NORMAL, ulp_of

F = torch.nn.functional
GATED = ["glu", "reglu", "geglu", "swiglu"]
NAIVE_GATE = {"glu": torch.sigmoid, "reglu": torch.relu, "geglu": F.gelu, "swiglu": F.silu}


def naive(name: str, x: torch.Tensor, dim: int) -> torch.Tensor:
    a, b = x.chunk(2, dim=dim)
    return a * NAIVE_GATE[name](b)


def _wide_fp32(n: int, seed: int) -> torch.Tensor:
    """Values from 2^-30 to 2^30 in magnitude with both signs, plus dense values on [-8, 8]."""
    rng = np.random.default_rng(seed)
    wide = np.sign(rng.uniform(-1, 1, n)) * np.exp2(rng.uniform(-30, 30, n))
    dense = rng.uniform(-8, 8, n)
    return torch.from_numpy(np.concatenate([wide, dense]).astype(np.float32))


def test_the_family_is_registered_as_gated():
    for name in GATED:
        spec = actlab.spec(name)
        assert spec.kind == "gated" and spec.saves == "input"
        assert spec.gate in ("sigmoid", "relu", "gelu", "silu")


@pytest.mark.parametrize("name", GATED)
def test_declared_properties_are_the_gates(name):
    spec = actlab.spec(name)
    assert spec.properties == lookup(spec.gate).properties


@pytest.mark.parametrize("name", GATED)
def test_forward_and_partials_within_ulps_in_fp32(name):
    spec = actlab.spec(name)
    gate = lookup(spec.gate)
    gate_params = gate.defaults()
    a = _wide_fp32(400, seed=1)
    b = _wide_fp32(400, seed=2)
    b = b[torch.randperm(b.numel(), generator=torch.Generator().manual_seed(0))]
    x = torch.stack([a, b])  # split along dim 0: row 0 is a, row 1 is b
    y = apply(name, x, dim=0)[0]
    assert y.dtype == torch.float32
    partials = actlab.derivative(name, x, dim=0)
    assert partials.shape == x.shape
    worst_forward = worst_partial = 0.0
    with mp.workprec(113):
        for ai, bi, yi, da, db in zip(
            a.tolist(), b.tolist(), y.tolist(), partials[0].tolist(), partials[1].tolist(), strict=True
        ):
            g = gate.mp_forward(mp.mpf(bi), **gate_params)
            g_prime = gate.mp_derivative(mp.mpf(bi), **gate_params)
            true = mp.mpf(ai) * g
            if true == 0:
                assert yi == 0
            elif FP32_MIN_NORMAL <= abs(true) <= 3.0e38:
                worst_forward = max(worst_forward, float(abs(mp.mpf(yi) - true)) / ulp_of(true))
            for got, ref in ((da, g), (db, mp.mpf(ai) * g_prime)):
                if abs(ref) > 3.0e38:
                    continue
                unit = max(ulp_of(ref), 2.0**-24) if abs(ref) >= FP32_MIN_NORMAL else 2.0**-24
                worst_partial = max(worst_partial, float(abs(mp.mpf(got) - ref)) / unit)
    assert worst_forward <= FORWARD_ULPS, f"{name}: forward off by {worst_forward:.1f} ULP"
    assert worst_partial <= DERIVATIVE_UNITS, f"{name}: partials off by {worst_partial:.1f} units"


@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("dim", (0, 1, -1))
def test_gradients_match_autograd_of_the_naive_composition(name, dim):
    g = torch.Generator().manual_seed(5)
    x = (torch.randn(4, 6, 8, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    out_grad = torch.randn_like(naive(name, x.detach(), dim))
    ours = apply(name, x, dim=dim)
    theirs = naive(name, x, dim)
    torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=1e-15)
    (g1,) = torch.autograd.grad(ours, x, out_grad, create_graph=True)
    (g2,) = torch.autograd.grad(theirs, x, out_grad, create_graph=True)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-14)
    # second order (Hessian-vector products) agree too
    v = torch.randn_like(x)
    (h1,) = torch.autograd.grad((g1 * v).sum(), x)
    (h2,) = torch.autograd.grad((g2 * v).sum(), x)
    torch.testing.assert_close(h1, h2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", GATED)
def test_derivative_is_the_concatenated_partials(name):
    x = torch.randn(3, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    a, b = x.chunk(2, dim=-1)
    bg = b.clone().requires_grad_(True)
    gate_value = NAIVE_GATE[name](bg)
    (gate_prime,) = torch.autograd.grad(gate_value.sum(), bg)
    expected = torch.cat([gate_value.detach(), a * gate_prime], dim=-1)
    torch.testing.assert_close(actlab.derivative(name, x), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", GATED)
def test_odd_size_is_a_clear_value_error(name):
    with pytest.raises(ValueError, match="odd size 7.*must be even"):
        apply(name, torch.randn(2, 7))
    with pytest.raises(ValueError, match="dimension 0 .* odd size 3"):
        apply(name, torch.randn(3, 4), dim=0)
    with pytest.raises(ValueError, match="odd size 5"):
        actlab.get(name, dim=1)(torch.randn(2, 5, 4))
    with pytest.raises(ValueError, match="odd size"):
        actlab.derivative(name, torch.randn(2, 3))
    with pytest.raises(ValueError, match="dim = 3 is out of range"):
        apply(name, torch.randn(2, 4), dim=3)
    with pytest.raises(ValueError, match="0-dimensional"):
        apply(name, torch.tensor(1.0))


@pytest.mark.parametrize("dim", (0, 1, -1))
def test_glu_equals_torch_glu(dim):
    x = torch.randn(6, 4, 8, generator=torch.Generator().manual_seed(7), requires_grad=True)
    y = apply("glu", x, dim=dim)
    expected = F.glu(x, dim=dim)
    torch.testing.assert_close(y, expected, rtol=1e-6, atol=1e-7)
    grad = torch.randn_like(y)
    torch.testing.assert_close(
        torch.autograd.grad(y, x, grad)[0], torch.autograd.grad(expected, x, grad)[0], rtol=1e-6, atol=1e-7
    )
    module = actlab.nn.GLU(dim=dim)
    torch.testing.assert_close(module(x), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", GATED)
@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16), ids=str)
def test_half_precision_is_the_rounded_fp32_result(name, dtype):
    x = (torch.randn(4, 16, generator=torch.Generator().manual_seed(3)) * 4).to(dtype)
    y = apply(name, x)
    assert y.dtype == dtype and y.shape == (4, 8)
    # computed one precision up and rounded once: within one rounding of the fp64 result
    exact = apply(name, x.double())
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(y.double(), exact, rtol=eps, atol=torch.finfo(dtype).tiny)


def test_module_classes_and_names():
    assert type(actlab.get("swiglu")).__name__ == "SwiGLU"
    assert type(actlab.get("geglu")).__name__ == "GEGLU"
    assert type(actlab.get("reglu")).__name__ == "ReGLU"
    assert actlab.spec("swish_glu").name == "swiglu"
    layer = torch.nn.Sequential(torch.nn.Linear(4, 12), actlab.get("swiglu"), torch.nn.Linear(6, 2))
    assert layer(torch.randn(5, 4)).shape == (5, 2)
    assert math.isinf(actlab.spec("reglu").properties.output_range[1])
