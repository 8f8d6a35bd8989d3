"""Every lean mode gives the reference gradient: bit-identical where the derivative is piecewise constant
or taken from the output, within the catalogue's bounds (here ≤ 3 units) for ``invert``; and it keeps
what it promises, counted with saved_tensors_hooks."""

from __future__ import annotations

import pytest
import torch

from actlab import autograd
from actlab.catalog.spec import Spec
from actlab.kernels.bits import packed_size
from actlab.kernels.lean import (
    OUTPUT_BACKWARD_OVERRIDES,
    LeanActivation,
    LeanFunction,
    choose_mode,
    lean,
    saved_bytes,
    supports,
)
from actlab.kernels.numerics import error_units
from tests.kernels._specs import (
    ADHOC,
    GELU,
    LEAKY_NEG,
    SILU,
    SOFTSIGN,
    THRESHOLD,
    elementwise_registered,
    param_sets,
    sample,
)

DTYPES = [torch.float32, torch.bfloat16, torch.float16]


def reference_grad(spec: Spec, x: torch.Tensor, params: dict, grad: torch.Tensor, mode: str) -> torch.Tensor:
    """The generic Function's backward; for modes that see x (recompute, invert) and for unregistered
    Specs, its input-keeping formula — f'(x) one precision up, the catalogue's accurate derivative."""
    cd = autograd.compute_dtype(x.dtype)
    by_input = (grad.to(cd) * spec.derivative(x.to(cd), **params)).to(x.dtype)
    if mode in ("recompute", "invert"):
        return by_input
    xr = x.detach().clone().requires_grad_()
    try:
        y = autograd.apply(spec, xr, params)
    except ValueError:  # not registered
        return by_input
    y.backward(grad)
    return xr.grad


def lean_grad(spec: Spec, x: torch.Tensor, params: dict, grad: torch.Tensor, mode: str):
    xl = x.detach().clone().requires_grad_()
    y = LeanFunction.apply(xl, spec, params, mode)
    y.backward(grad)
    return y, xl.grad


def _cases():
    cases = []
    for spec in [*elementwise_registered(), *ADHOC.values()]:
        for mode in ("nothing", "output", "mask", "invert", "recompute"):
            if supports(spec, mode):
                cases.append(pytest.param(spec, mode, id=f"{spec.name}-{mode}"))
    return cases


def _exact_mode(spec: Spec, mode: str) -> bool:
    """Modes that repeat the reference's arithmetic (or exact 0/1 products) give identical bits."""
    if mode == "invert":
        return False
    if mode == "output" and spec.name in OUTPUT_BACKWARD_OVERRIDES:
        return False  # torch's native backward, verified within bounds in test_cpu
    return True


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("spec", "mode"), _cases())
def test_lean_gradient_matches_reference(spec, mode, dtype):
    for params in param_sets(spec):
        x = sample(dtype, spec, n=400 if mode == "invert" else 1500)
        if mode == "mask":
            x = x[~torch.isnan(x)]  # NaN makes mask fall back to recompute; tested separately
        ones = torch.ones_like(x)
        rand = torch.randn(x.shape, generator=torch.Generator().manual_seed(3)).to(dtype)
        for grad in (ones, rand):
            expected = reference_grad(spec, x, params, grad, mode)
            y, got = lean_grad(spec, x, params, grad, mode)
            assert torch.equal(torch.isnan(y), torch.isnan(autograd.evaluate(spec, x, params)))
            if _exact_mode(spec, mode):
                same = (got == expected) | (torch.isnan(got) & torch.isnan(expected))
                assert bool(same.all()), f"{spec.name} {mode} {dtype}: {x[~same][:5]}"
            elif grad is ones:  # derivative itself: within the bound, in units of the dtype
                err = error_units(got, expected, dtype)
                assert float(err.max()) <= 3.0, f"{spec.name} {mode} {dtype}: {x[err.argmax()]}"
            else:  # 2 units in f' times |grad| (≤ 2 units each of a ≥ |grad|-sized product), + rounding
                bound = 4 * grad.double().abs().clamp(min=1) + 1
                excess = error_units(got, expected, dtype) - bound
                assert float(excess.max()) <= 0, f"{spec.name} {mode} {dtype}: {x[excess.argmax()]}"


def test_mask_falls_back_with_three_slopes():
    three = _spec_three_slopes()
    x = torch.tensor([2.0, 0.5, -1.0], requires_grad=True)
    y, report = saved_bytes(lambda: LeanFunction.apply(x, three, {}, "mask"))
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 0.0]
    assert report.total == 12  # kept the input instead of a mask


def _spec_three_slopes() -> Spec:
    from tests.kernels._specs import _PL, _spec

    return _spec(
        "test_three_slopes",
        lambda x: torch.where(x > 1, 2 * x - 1, torch.clamp(x, min=0)),
        lambda x: torch.where(x > 1, 2.0, (x > 0).to(x.dtype)).to(x.dtype),
        _PL,
    )


def test_choose_mode_from_spec():
    assert choose_mode(GELU) == "recompute"  # invert is opt-in: slower backward on CPU
    assert supports(GELU, "invert") and supports(SOFTSIGN, "invert")
    assert choose_mode(LEAKY_NEG) == "mask"
    import actlab

    assert choose_mode(actlab.spec("sigmoid")) == "output"
    assert choose_mode(actlab.spec("identity")) == "nothing"
    assert not supports(GELU, "output")
    with pytest.raises(ValueError, match="unknown lean mode"):
        supports(GELU, "bogus")


def test_mask_saves_one_bit_per_element():
    n = 10_001
    x = torch.randn(n, requires_grad=True)
    y, report = saved_bytes(lambda: LeanFunction.apply(x, THRESHOLD, THRESHOLD.bind(), "mask"), exclude=(x,))
    assert report.total == packed_size(n)  # 1 bit per element, nothing else
    recompute = saved_bytes(lambda: LeanFunction.apply(x, THRESHOLD, THRESHOLD.bind(), "recompute"))[1]
    assert recompute.total == 4 * n


def test_output_mode_saves_only_the_output():
    import actlab

    x = torch.randn(1000, requires_grad=True)
    y, report = saved_bytes(lambda: LeanFunction.apply(x, actlab.spec("sigmoid"), {}, "output"))
    assert report.total == 4000 and report.extra == 0  # the output: shared with the next layer


@pytest.mark.parametrize("spec", [GELU, SILU], ids=lambda s: s.name)
def test_invert_saves_output_plus_about_a_bit(spec):
    n = 1 << 16
    x = torch.randn(n, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y, report = saved_bytes(lambda: LeanFunction.apply(x, spec, {}, "invert"))
    per_element_extra = report.extra / n
    assert per_element_extra <= 0.125 + 0.25  # bit + exceptions; torch keeps 4 bytes (the input)
    y.sum().backward()


def test_empty_and_module():
    x = torch.empty(0, 3, requires_grad=True)
    LeanFunction.apply(x, GELU, {}, "invert").sum().backward()
    assert x.grad.shape == (0, 3)
    m = lean("sigmoid")
    assert isinstance(m, LeanActivation) and "output" in repr(m)
    with pytest.raises(ValueError):
        lean("sigmoid", mode="mask_everything")


def test_lean_mlp_training_step_matches_reference():
    import actlab

    torch.manual_seed(0)
    names = [n for n in ("gelu", "silu", "relu", "tanh") if n in actlab.names()]
    for name in names:
        ref = torch.nn.Sequential(torch.nn.Linear(8, 16), actlab.get(name), torch.nn.Linear(16, 1))
        lean_model = torch.nn.Sequential(ref[0], LeanActivation(name), ref[2])
        x = torch.randn(32, 8)
        ref(x).square().sum().backward()
        g_ref = [p.grad.clone() for p in ref.parameters()]
        ref.zero_grad()
        lean_model(x).square().sum().backward()
        for a, b in zip(g_ref, (p.grad for p in ref.parameters()), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
