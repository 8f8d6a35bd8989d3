"""The dispatcher's express lane (``actlab.dispatch.EXPRESS``): the common call (a float32 CPU tensor, an
entry's default parameters, a C kernel) decided once. It must give exactly what the full dispatch
gives, be taken only under those conditions, and disappear when the kernels are switched off."""

from __future__ import annotations

import pytest
import torch

import actlab
from actlab.dispatch import EXPRESS
from actlab.kernels import ckernels, register, unregister

pytestmark = pytest.mark.skipif(not ckernels.available(), reason="the C kernels are not built")


@pytest.fixture
def lanes():
    """Fast paths registered, lanes empty at the start; spied lanes are dropped afterwards."""
    register()
    ckernels.set_enabled(True)  # also clears the lanes
    yield EXPRESS
    EXPRESS.clear()


def _spy(lane, log):
    forward, with_grad = lane.forward, lane.with_grad

    def spied_forward(x, params):
        log.append("forward")
        return forward(x, params)

    def spied_with_grad(x, params):
        log.append("with_grad")
        return with_grad(x, params)

    lane.forward, lane.with_grad = spied_forward, spied_with_grad


def test_the_lane_is_filed_by_the_first_call_and_gives_the_same_results(lanes):
    op = ckernels.ops()["leaky_relu"]
    x = torch.randn(1000, generator=torch.Generator().manual_seed(0)) * 3
    first = actlab.functional.leaky_relu(x)  # the full dispatch, which files the lane
    assert "leaky_relu" in lanes
    log = []
    _spy(lanes["leaky_relu"], log)
    second = actlab.functional.leaky_relu(x)
    module = actlab.nn.LeakyReLU()(x)
    assert log == ["forward", "forward"]
    want = op.forward(x, actlab.spec("leaky_relu").bind())
    assert torch.equal(first, want) and torch.equal(second, want) and torch.equal(module, want)

    xr = x.clone().requires_grad_()
    y = actlab.functional.leaky_relu(xr)
    assert log[-1] == "with_grad" and "NativeFunction" in type(y.grad_fn).__name__
    g = torch.randn(1000, generator=torch.Generator().manual_seed(1))
    y.backward(g)
    assert torch.equal(xr.grad, op.backward(g, y.detach(), actlab.spec("leaky_relu").bind()))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: actlab.functional.leaky_relu(x, 0.2),  # not the defaults
        lambda x: actlab.functional.leaky_relu(x.double()),  # not float32
        lambda x: actlab.functional.leaky_relu(x.clone(), inplace=True),
        lambda x: actlab.functional.leaky_relu(torch.nn.Parameter(x)),  # a Tensor subclass
        lambda x: actlab.functional.leaky_relu(x[:0]),  # empty
    ],
    ids=["params", "float64", "inplace", "subclass", "empty"],
)
def test_other_calls_take_the_full_dispatch(lanes, call):
    x = torch.randn(64)
    actlab.functional.leaky_relu(x)
    log = []
    _spy(lanes["leaky_relu"], log)
    call(x)
    assert log == []


def test_bad_input_still_gets_the_full_checks(lanes):
    actlab.functional.relu(torch.randn(8))
    assert "relu" in lanes
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        actlab.functional.relu([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point"):
        actlab.functional.relu(torch.arange(4))


def test_switching_the_kernels_off_or_unregistering_drops_the_lanes(lanes):
    x = torch.randn(64)
    actlab.functional.relu(x)
    assert "relu" in lanes
    try:
        ckernels.set_enabled(False)
        assert not lanes
        actlab.functional.relu(x)
        assert not lanes  # torch's op serves now; lanes are only filed for the C kernels
    finally:
        ckernels.set_enabled(True)
    actlab.functional.relu(x)
    assert "relu" in lanes
    unregister()
    try:
        assert not lanes
    finally:
        register()


def test_stochastic_and_learnable_entries_get_no_lane(lanes):
    x = torch.randn(64)
    actlab.functional.rrelu(x, training=True)
    actlab.functional.rrelu(x)
    actlab.nn.PReLU()(x.view(8, 8))
    assert lanes.get("rrelu") is None and lanes.get("prelu") is None
