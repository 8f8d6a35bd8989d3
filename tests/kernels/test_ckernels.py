"""actlab's C kernels (``actlab.kernels.ckernels``): each one, in both instruction-set variants, is within
the catalogue's bounds over a dense sweep of all fp32 values (about a million, every sign and binade,
subnormals, the edges), against mpmath in every binade, and bit for bit the reference for the
piecewise-linear entries, non-finite upstream gradients included; the others give the reference's NaNs
and infinities for non-finite upstream gradients. Threads, non-contiguous inputs and the dispatcher's
use of them are checked too."""

from __future__ import annotations

import math

import pytest
import torch

import actlab
from actlab import autograd
from actlab.kernels import ckernels, cpu
from actlab.kernels.lean import PIECEWISE_LINEAR, saved_bytes
from actlab.kernels.numerics import error_units, units
from tests.catalog.harness import (
    DERIVATIVE_UNITS,
    FORWARD_ULPS,
    derivative_unit_errors,
    forward_ulp_errors,
    mp_params,
    param_sets,
    worst,
)
from tests.kernels.test_cpu import binades

# The extension is part of the build: a missing one must fail here, not skip (CI builds it).
assert ckernels.available(), "actlab.kernels._ckernels was not built: reinstall with a C compiler"
from actlab.kernels import _ckernels  # noqa: E402


def _cases():
    out = []
    for name in sorted(ckernels.ops()):
        spec = actlab.spec(name)
        for i, params in enumerate(param_sets(spec)):
            bound = spec.bind(**params)
            if ckernels.ops()[name].accepts(bound):
                out.append(pytest.param(name, bound, id=f"{name}-{i}"))
    return out


CASES = _cases()


def every_fp32(stride: int = 4099) -> torch.Tensor:
    """About 2^20 fp32 values spread over all 2^32 bit patterns (both signs, every binade, subnormals,
    infinities and NaNs), plus the edges."""
    bits = torch.arange(0, 1 << 32, stride, dtype=torch.int64)
    bits = torch.where(bits >= 1 << 31, bits - (1 << 32), bits).to(torch.int32)
    x = bits.view(torch.float32)
    edges = torch.tensor(
        [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-45, -1e-45, 3.4028235e38, -3.4028235e38]
    )
    return torch.cat([x, edges, binades(torch.float32)])


def test_tables_agree():
    built = _ckernels.ops()
    assert set(built) == set(ckernels.KERNELS)
    for name, (_, saves) in built.items():
        spec = actlab.spec(name)  # every kernel is a catalogue entry, keeping what its Spec keeps
        assert saves == spec.saves, name
        for p in ckernels.KERNELS[name].params:
            spec.param(p)


def test_set_isa_rejects_unknown():
    with pytest.raises(ValueError, match="baseline"):
        _ckernels.set_isa("neon-9000")


@pytest.mark.parametrize(("name", "params"), CASES)
def test_forward_and_backward_within_bounds_of_the_reference(name, params, isa):
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    x = every_fp32()
    y = op.forward(x, params)
    ref = autograd.evaluate(spec, x, params)
    err = error_units(y, ref, torch.float32)
    assert float(err.max()) <= 3, (
        f"{name}: x={x[err.argmax()].item()!r} got {y[err.argmax()].item()!r} want {ref[err.argmax()].item()!r}"
    )
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, params).backward(torch.ones_like(x))
    got = op.backward(torch.ones_like(x), y if op.saves == "output" else x, params)
    err = error_units(got, xr.grad, torch.float32)
    i = err.argmax()
    assert float(err.max()) <= 6, (
        f"{name}': x={x[i].item()!r} got {got[i].item()!r} want {xr.grad[i].item()!r}"
    )


@pytest.mark.parametrize(("name", "params"), CASES)
def test_within_catalogue_bounds_against_mpmath(name, params):
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    x = binades(torch.float32)
    x = x[torch.isfinite(x)]
    y = op.forward(x, params)
    mp = mp_params(params)
    row = worst(forward_ulp_errors(y, x, lambda v: spec.mp_forward(v, **mp)))
    assert row[3] <= FORWARD_ULPS, f"{name} {params}: x={row[0]} got {row[1]} true {row[2]} ({row[3]} ULP)"
    kinks = torch.tensor(spec.kinks, dtype=torch.float32)
    if len(kinks):
        x = x[(x.unsqueeze(1) - kinks).abs().min(1).values > 0]
    d = op.backward(torch.ones_like(x), op.forward(x, params) if op.saves == "output" else x, params)
    row = worst(derivative_unit_errors(d, x, lambda v: spec.mp_derivative(v, **mp)))
    assert row[3] <= DERIVATIVE_UNITS, f"{name} f' at x={row[0]}: {row[1]} vs {row[2]} ({row[3]} units)"


@pytest.mark.parametrize(("name", "params"), [c for c in CASES if c.values[0] in PIECEWISE_LINEAR])
def test_piecewise_linear_is_bit_exact_with_non_finite_gradients(name, params, isa):
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    x = every_fp32()
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(3))
    g[::7], g[1::7], g[2::11] = math.inf, -math.inf, math.nan
    y = op.forward(x, params)
    assert torch.equal(y.isnan(), autograd.evaluate(spec, x, params).isnan())
    assert torch.equal(y.nan_to_num(), autograd.evaluate(spec, x, params).nan_to_num())
    xr = x.clone().requires_grad_()
    autograd.apply(spec, xr, params).backward(g)
    got = op.backward(g, y if op.saves == "output" else x, params)
    assert torch.equal(got.isnan(), xr.grad.isnan())
    assert torch.equal(got.nan_to_num(), xr.grad.nan_to_num())


def assert_non_finite_gradients_as_the_reference(name: str, params: dict) -> None:
    """g·f'(saved) with g = ±inf or NaN gives the NaNs and infinities of the reference's product in fp64
    from the same saved tensor (the kernel's own output where the Spec keeps the output): a derivative is
    exactly 0 only where the formula's is, including where f' rounds to 0 in fp32 but not in fp64."""
    spec = actlab.spec(name)
    op = ckernels.ops()[name]
    x = torch.cat([every_fp32(), torch.linspace(-100, 100, 20001)])
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    g[::7], g[1::7], g[2::11] = math.inf, -math.inf, math.nan
    y = op.forward(x, params)
    saved = y if op.saves == "output" else x
    got = op.backward(g, saved, params)
    d = spec.derivative_from_output if op.saves == "output" else spec.derivative
    want = (g.double() * d(saved.double(), **params)).float()
    for what, a, b in [
        ("NaN", got.isnan(), want.isnan()),
        ("+inf", got.isinf() & (got > 0), want.isinf() & (want > 0)),
        ("-inf", got.isinf() & (got < 0), want.isinf() & (want < 0)),
    ]:
        bad = (a != b).nonzero()
        assert not len(bad), (
            f"{name} {params}: {what} differs at {len(bad)} elements, e.g. x={x[bad[0]].item()!r} "
            f"g={g[bad[0]].item()!r} got {got[bad[0]].item()!r} want {want[bad[0]].item()!r}"
        )
    fin = torch.isfinite(want)
    assert float(error_units(got[fin], want[fin], torch.float32).max()) <= 6


# the piecewise-linear entries are proven bit for bit with non-finite gradients above
@pytest.mark.parametrize(("name", "params"), [c for c in CASES if c.values[0] not in PIECEWISE_LINEAR])
def test_non_finite_upstream_gradients_as_the_reference(name, params, isa):
    assert_non_finite_gradients_as_the_reference(name, params)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_threads_and_layouts_give_the_same_bits(name, params):
    op = ckernels.ops()[name]
    x = torch.randn(3 << 17, generator=torch.Generator().manual_seed(1)) * 6
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        y1 = op.forward(x, params)
        d1 = op.backward(g, y1 if op.saves == "output" else x, params)
        torch.set_num_threads(4)  # split into 4 ranges, 3 of them on the pool's workers
        y4 = op.forward(x, params)
        d4 = op.backward(g, y4 if op.saves == "output" else x, params)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(y1, y4) and torch.equal(d1, d4)
    # a transposed (non-contiguous) view gives the values of its contiguous copy, in its shape
    xt = x[: 1 << 16].view(256, 256).t()
    yt = op.forward(xt, params)
    assert yt.shape == xt.shape and torch.equal(yt, op.forward(xt.contiguous(), params))


@pytest.mark.parametrize(("name", "params"), CASES)
def test_dispatcher_uses_the_kernel_and_keeps_no_more_than_the_reference(name, params):
    from actlab.kernels import fast_path

    spec = actlab.spec(name)
    assert cpu.native_op(spec, torch.zeros(1), params) is ckernels.ops()[name]
    x = (torch.randn(4096) * 4).requires_grad_()
    y, report = saved_bytes(lambda: fast_path(spec, x, params, True))
    _, ref_report = saved_bytes(lambda: autograd.apply(spec, x, params))
    assert report.total <= ref_report.total
    y.backward(torch.ones_like(y))
    xr = x.detach().clone().requires_grad_()
    autograd.apply(spec, xr, params).backward(torch.ones_like(xr))
    assert float(error_units(x.grad, xr.grad).max()) <= 6


def test_other_dtypes_and_switch_off_decline():
    spec = actlab.spec("relu")
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        assert ckernels.op_for("relu", dtype) is None
    try:
        ckernels.set_enabled(False)
        assert cpu.native_op(spec, torch.zeros(1), {}) is not ckernels.ops()["relu"]
    finally:
        ckernels.set_enabled(True)
    assert cpu.native_op(spec, torch.zeros(1), {}) is ckernels.ops()["relu"]


def test_double_backward_through_a_kernel_matches_reference():
    spec = actlab.spec("silu")
    x0 = torch.linspace(-4, 4, 101)

    def second(fn):
        x = x0.clone().requires_grad_()
        (g,) = torch.autograd.grad(fn(x).sum(), x, create_graph=True)
        (gg,) = torch.autograd.grad((g * g).sum(), x)
        return g.detach(), gg

    g_fast, gg_fast = second(lambda t: actlab.functional.apply("silu", t))
    g_ref, gg_ref = second(lambda t: autograd.apply(spec, t, {}))
    assert float(error_units(g_fast, g_ref).max()) <= 6
    torch.testing.assert_close(gg_fast, gg_ref, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------------
# The GLU family through the gate kernels
# ----------------------------------------------------------------------------------------------------
def _gated_with_kernels():
    from actlab.kernels.glu import split_params

    out = []
    for name in actlab.names():
        spec = actlab.spec(name)
        if spec.kind != "gated":
            continue
        for i, params in enumerate(param_sets(spec)):
            bound = spec.bind(**params)
            if ckernels._glu_plan(spec, torch.zeros(2, 4), bound) is not None:
                out.append(pytest.param(name, bound, id=f"{name}-{i}"))
            assert split_params(spec, bound)
    return out


GLU_CASES = _gated_with_kernels()


def _glu_inputs(shape, dim, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen) * 4
    flat = x.view(-1)
    flat[:9] = torch.tensor([0.0, -0.0, 1e4, -1e4, 1e-30, -1e-30, 30.0, -30.0, 88.0])
    return x


@pytest.mark.parametrize(("name", "params"), GLU_CASES)
@pytest.mark.parametrize(("shape", "dim"), [((96, 2 * 40), -1), ((6, 8, 5), 1), ((4, 3, 6), 0)])
def test_glu_within_bounds_of_the_reference(name, params, shape, dim, isa):
    from actlab.kernels import glu

    spec = actlab.spec(name)
    params = {**params, "dim": dim}
    x = _glu_inputs(shape, dim)
    y = ckernels.glu_forward(spec, x, params)
    assert y is not None
    assert float(error_units(y, glu.glu_forward_reference(spec, x, params)).max()) <= FORWARD_ULPS
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
    out = torch.empty_like(x)
    assert ckernels.glu_backward_into(spec, x, g, params, out)
    want_a, want_b = glu.glu_backward_reference(spec, x, g, params)
    got_a, got_b = out.chunk(2, dim)
    assert float(error_units(got_a, want_a).max()) <= DERIVATIVE_UNITS
    # g·a·gate'(b): the gate's derivative is within its bound (floored at 2^-24 where it crosses 0), so
    # the product is held to that bound scaled by |g·a|, plus its own rounding
    a = x.chunk(2, dim)[0]
    scale = torch.maximum(units(want_b.double(), torch.float32), (g * a).double().abs() * 2.0**-24)
    err = ((got_b.double() - want_b.double()).abs() / scale).nan_to_num(nan=math.inf)
    same = (got_b == want_b) | (got_b.isnan() & want_b.isnan())
    assert float(torch.where(same, 0.0, err).max()) <= DERIVATIVE_UNITS
    # in place (the lean modules' buffer reuse): the same bits
    xc = x.clone()
    assert ckernels.glu_backward_into(spec, xc, g, params, xc)
    assert torch.equal(xc, out)


@pytest.mark.parametrize(("name", "params"), GLU_CASES[:2])
def test_glu_threads_give_the_same_bits(name, params):
    spec = actlab.spec(name)
    x = _glu_inputs((1024, 2 * 512), -1)
    g = torch.randn(1024, 512, generator=torch.Generator().manual_seed(2))
    results = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 4):
            torch.set_num_threads(threads)
            out = torch.empty_like(x)
            ckernels.glu_backward_into(spec, x, g, params, out)
            results.append((ckernels.glu_forward(spec, x, params), out))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


@pytest.mark.parametrize(("name", "params"), GLU_CASES)
def test_glu_dispatch_keeps_x_once_and_lean_writes_into_it(name, params):
    w = torch.nn.Linear(16, 64)
    inp = torch.randn(8, 16)
    h = w(inp)
    y, report = saved_bytes(
        lambda: actlab.functional.apply(name, h, **params), exclude=(inp, w.weight, w.bias)
    )
    assert report.extra == h.numel() * 4 and type(y.grad_fn).__name__ == "FusedGLUFunctionBackward"
    y.sum().backward()
    # the lean module reuses h's storage for its gradient (h is an intermediate)
    h = w(inp)
    captured = {}
    h.register_hook(lambda g: captured.update(ptr=g.data_ptr()))
    from actlab.kernels import lean

    lean(name)(h).sum().backward()
    assert captured["ptr"] == h.data_ptr()


# ----------------------------------------------------------------------------------------------------
# The worker pool (ckernels.c): persistent threads shared by every call
# ----------------------------------------------------------------------------------------------------
def _pool_work(name: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(5 << 16, generator=torch.Generator().manual_seed(seed)) * 4
    y = _ckernel_call(name, x, threads=1)
    return y, _ckernel_call(name, x, threads=4)


def _ckernel_call(name: str, x: torch.Tensor, threads: int) -> torch.Tensor:
    index = _ckernels.ops()[name][0]
    y = torch.empty_like(x)
    _ckernels.forward(index, x.data_ptr(), y.data_ptr(), x.numel(), 0.0, 0.0, 0.0, 0.0, threads)
    return y


def test_pool_serves_python_threads_at_once():
    """Eight Python threads (the GIL is released inside a kernel) call split kernels 20 times each: one
    batch holds the pool, the others run their jobs themselves, and every result has the right bits."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["silu", "relu", "gelu", "tanh"] * 2
    with ThreadPoolExecutor(8) as ex:
        results = list(
            ex.map(lambda a: [_pool_work(a[1], a[0] * 100 + r) for r in range(20)], enumerate(names))
        )
    for per_thread in results:
        for serial, split in per_thread:
            assert torch.equal(serial, split)


def _forked_child(queue) -> None:
    x = torch.linspace(-8, 8, 5 << 16)
    queue.put(bool(torch.equal(_ckernel_call("silu", x, 4), _ckernel_call("silu", x, 1))))


def test_pool_works_in_a_forked_child():
    """A DataLoader-style fork after the pool has workers: the child starts an empty pool of its own
    (the parent's threads are not copied) instead of waiting forever for workers that do not exist."""
    import multiprocessing

    x = torch.linspace(-8, 8, 5 << 16)
    _ckernel_call("silu", x, 4)  # the parent's pool has workers now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_forked_child, args=(queue,))
    child.start()
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the forked child hung in the kernel pool"
    assert child.exitcode == 0 and queue.get(timeout=5) is True
