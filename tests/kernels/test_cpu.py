"""CPU fast paths: each (entry, dtype) the native table claims is within bounds of the reference over
every binade of the dtype, both signs and the edges; the dispatcher routes calls through them; the
compiled path agrees with the reference (one small compiled case, compilation is slow)."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import cpu
from actlab.kernels.lean import PIECEWISE_LINEAR
from actlab.kernels.numerics import error_units

# torch's verified ops (the fast path when actlab's C kernels are not built); the C kernels are
# proven in test_ckernels*.py
pytestmark = pytest.mark.usefixtures("without_c_kernels")


def binades(dtype: torch.dtype) -> torch.Tensor:
    info = torch.finfo(dtype)
    mant = torch.linspace(1, 2, 65, dtype=torch.float64)[:-1]
    exps = torch.arange(int(math.log2(info.tiny)) - 2, int(math.log2(info.max)) + 1, dtype=torch.float64)
    pos = (mant[None, :] * torch.exp2(exps[:, None])).flatten()
    pos = pos[pos <= info.max]
    edges = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan], dtype=torch.float64)
    return torch.cat([pos, -pos, edges, torch.linspace(-30, 30, 6001, dtype=torch.float64)]).to(dtype)


CLAIMS = [
    pytest.param(name, dtype, id=f"{name}-{str(dtype)[6:]}")
    for name, dtypes in sorted(cpu.NATIVE_VERIFIED.items())
    for dtype in sorted(dtypes, key=str)
]


@pytest.mark.parametrize(("name", "dtype"), CLAIMS)
def test_native_within_bounds(name, dtype):
    if name not in actlab.names():
        pytest.skip(f"{name} is not in the catalogue yet")
    spec = actlab.spec(name)
    for params in [spec.bind(), *(spec.bind(**e) for e in spec.examples)]:
        op = cpu.native_op(spec, torch.zeros(1, dtype=dtype), params)
        if op is None:
            continue  # declined for these parameters (or the Spec keeps something else)
        x = binades(dtype)
        y = op.forward(x, params)
        assert float(error_units(y, autograd.evaluate(spec, x, params), dtype).max()) <= 3
        xr = x.clone().requires_grad_()
        autograd.apply(spec, xr, params).backward(torch.ones_like(x))
        got = op.backward(torch.ones_like(x), y if op.saves == "output" else x, params)
        assert float(error_units(got, xr.grad, dtype).max()) <= 6


@pytest.mark.parametrize(
    ("name", "dtype"), [c for c in CLAIMS if c.values[0] in PIECEWISE_LINEAR], ids=lambda v: str(v)
)
def test_native_backward_with_non_finite_upstream_gradients(name, dtype):
    # piecewise-linear entries, whose slopes are exact (0, 1, a): 0·inf = NaN where the slope is 0, a NaN
    # upstream gradient stays NaN, a NaN input gets 0·g, as in the reference. (Smooth entries make no
    # such claim: inf times a slope that underflows in the input dtype is NaN natively, inf in fp64.)
    if name not in actlab.names():
        pytest.skip(f"{name} is not in the catalogue yet")
    spec = actlab.spec(name)
    for params in [spec.bind(), *(spec.bind(**e) for e in spec.examples)]:
        op = cpu.native_op(spec, torch.zeros(1, dtype=dtype), params)
        if op is None:
            continue
        x = binades(dtype)
        g = torch.randn(x.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64).to(dtype)
        g[::7], g[1::7], g[2::11] = math.inf, -math.inf, math.nan
        y = op.forward(x, params)
        xr = x.clone().requires_grad_()
        autograd.apply(spec, xr, params).backward(g)
        got = op.backward(g, y if op.saves == "output" else x, params)
        assert float(error_units(got, xr.grad, dtype).max()) <= 6


@pytest.mark.parametrize(
    ("name", "dtype"), [c for c in CLAIMS if cpu.NATIVE[c.values[0]].torch_autograd], ids=lambda v: str(v)
)
def test_torch_autograd_claim_is_exact(name, dtype):
    """Where the fast path leaves backward to torch's own autograd, torch keeps the output (nothing
    beyond it) and computes bit for bit what the verified ``op.backward`` computes."""
    from actlab.kernels.lean import saved_bytes

    spec = actlab.spec(name)
    op = cpu.NATIVE[name]
    params = spec.bind()
    x = binades(dtype).requires_grad_()
    y, report = saved_bytes(lambda: op.forward(x, params))
    assert report.extra == 0 and report.total == y.numel() * y.element_size()
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64).to(dtype)
    g[::5] = math.inf
    (got,) = torch.autograd.grad(y, x, g)
    want = op.backward(g, y.detach(), params)
    assert torch.equal(torch.isnan(got), torch.isnan(want))
    assert torch.equal(torch.nan_to_num(got), torch.nan_to_num(want))


def _registered():
    from actlab.dispatch import FAST_PATHS
    from actlab.kernels import fast_path, register, unregister

    already = FAST_PATHS.get("sigmoid") is fast_path
    register()
    return already, unregister


def test_dispatcher_uses_native_and_keeps_the_output():
    from actlab.dispatch import FAST_PATHS
    from actlab.kernels import fast_path
    from actlab.kernels.lean import saved_bytes

    already, unregister = _registered()
    try:
        assert FAST_PATHS.get("sigmoid") is fast_path and FAST_PATHS.get("relu") is fast_path
        x = torch.randn(1000, requires_grad=True)
        y, report = saved_bytes(lambda: actlab.functional.sigmoid(x))
        r, relu_report = saved_bytes(lambda: actlab.functional.relu(x))
    finally:
        if not already:
            unregister()
    # sigmoid: torch's own node (the claim above proves it exact); relu: the native Function
    assert y.grad_fn is not None and type(y.grad_fn).__name__ == "SigmoidBackward0"
    assert r.grad_fn is not None and "NativeFunction" in type(r.grad_fn).__name__
    assert report.extra == 0 and report.total == 4000
    assert relu_report.extra == 0 and relu_report.total == 4000
    y.sum().backward()
    ref = autograd.evaluate_derivative(actlab.spec("sigmoid"), x.detach(), {})
    assert float(error_units(x.grad, ref).max()) <= 6


@pytest.mark.parametrize("name", sorted(cpu.NATIVE_VERIFIED))
def test_native_path_double_backward_matches_reference(name):
    # second derivatives through the registered fast path (create_graph=True), fp32 as users call it
    if name not in actlab.names():
        pytest.skip(f"{name} is not in the catalogue yet")
    spec = actlab.spec(name)
    params = spec.bind()
    x0 = torch.linspace(-4, 4, 801, dtype=torch.float64)
    x0 = x0[
        (x0.unsqueeze(1) - torch.tensor([*spec.kinks, 0.0], dtype=torch.float64)).abs().min(1).values > 1e-3
    ]
    x0 = x0.float()

    def second(fn):
        x = x0.clone().requires_grad_()
        (g,) = torch.autograd.grad(fn(x).sum(), x, create_graph=True)
        if not g.requires_grad:  # piecewise-linear: the reference's slope is a constant mask, f'' = 0
            return g.detach(), torch.zeros_like(x0)
        (gg,) = torch.autograd.grad((g * g).sum(), x, materialize_grads=True)
        return g.detach(), gg

    already, unregister = _registered()
    try:
        g_fast, gg_fast = second(lambda t: actlab.functional.apply(name, t))
    finally:
        if not already:
            unregister()
    g_ref, gg_ref = second(lambda t: autograd.apply(spec, t, params))
    assert float(error_units(g_fast, g_ref).max()) <= 6
    torch.testing.assert_close(gg_fast, gg_ref, rtol=1e-5, atol=1e-6)


def test_compiled_function_double_backward_without_a_compiler(monkeypatch):
    # the compiled Function's contract when compilation fails (no C++ toolchain): reference values,
    # and under create_graph its backward is the differentiable formula, so double backward is exact
    monkeypatch.setattr(cpu, "compiled_forward", lambda *a, **k: None)
    monkeypatch.setattr(cpu, "compiled_backward", lambda *a, **k: None)
    for name in ("squareplus", "sigmoid", "softsign"):
        if name not in actlab.names():
            continue
        spec = actlab.spec(name)
        params = spec.bind()
        x = torch.linspace(-3, 3, 36, dtype=torch.float64).requires_grad_()  # 0 (a kink of f'') left out
        assert torch.autograd.gradgradcheck(
            lambda t, s=spec, p=params: cpu.CompiledFunction.apply(t, s, p), (x,)
        )


def test_compiled_forward_matches_reference():
    # one compiled case only: compiling costs tens of seconds on a busy 2-core machine; the backward
    # goes through the same _compiled/_run machinery and is measured by benchmarks/bench_kernels.py
    name = "squareplus" if "squareplus" in actlab.names() else "sigmoid"
    spec = actlab.spec(name)
    params = spec.bind()
    x = torch.cat(
        [torch.linspace(-50, 50, 4099), torch.tensor([1e30, -1e30, 0.0, float("inf"), -float("inf")])]
    )
    y = cpu.compiled_forward(spec, x, params)
    if y is None:
        pytest.skip("torch.compile is not available here (the reference path runs)")
    assert float(error_units(y, autograd.evaluate(spec, x, params)).max()) <= 1


def test_compile_setting_validation():
    with pytest.raises(ValueError, match="never"):
        cpu.set_compile("sometimes")


def test_compilation_is_opt_in():
    # unset, empty or unknown ACTLAB_COMPILE never compiles; auto/always/1 opt in
    assert cpu._setting_from_env(None) == "never"
    assert cpu._setting_from_env("") == "never"
    assert cpu._setting_from_env("bogus") == "never"
    assert cpu._setting_from_env(" Auto ") == "auto"
    assert cpu._setting_from_env("1") == "always"
    assert cpu._setting_from_env("0") == "never"


def test_dispatcher_does_not_compile_unless_asked(monkeypatch):
    from actlab.kernels import fast_path

    monkeypatch.setattr(cpu, "_compile_setting", "never")
    compiled = dict(cpu._COMPILED)
    monkeypatch.setattr(torch, "compile", lambda *a, **k: pytest.fail("torch.compile was called"))
    for name in ("squareplus", "swiglu"):
        if name not in actlab.names():
            continue
        spec = actlab.spec(name)
        x = torch.randn(1 << 18, 2, requires_grad=True)
        assert fast_path(spec, x, spec.bind(), True) is None  # the reference path runs
    assert cpu._COMPILED == compiled
