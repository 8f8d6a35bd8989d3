"""The public API from PyTorch's side: look-ups, modules, dtypes, shapes, and every bad input."""

from __future__ import annotations

import importlib
import json

import pytest
import torch

import actlab
from actlab.catalog.spec import all_specs
from actlab.functional import apply
from tests.catalog.harness import specs_of_kind

SPECS = all_specs()
IDS = [s.name for s in SPECS]
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def sample(spec, dtype=torch.float32, shape=(4, 6)):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * 3).to(dtype)


def test_catalogue_has_at_least_50_entries():
    assert len(actlab.names()) >= 50, actlab.names()


def test_names_and_aliases_are_unique():
    labels = [label.lower() for s in SPECS for label in (s.name, *s.aliases)]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_is_complete(spec):
    info = spec.info()
    for field in ("formula", "latex", "derivative_formula", "derivative_latex", "origin", "summary"):
        assert info[field], f"{spec.name} has no {field}"
    assert spec.year > 1800
    assert spec.saves in ("input", "output", "nothing")
    json.dumps(info)  # JSON-ready
    if spec.learnable:
        assert set(spec.param_derivatives) == {p.name for p in spec.params if p.learnable}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_module_functional_and_lookup_agree(spec):
    x = sample(spec)
    module = actlab.get(spec.name).eval()
    assert isinstance(module, torch.nn.Module)
    assert isinstance(module, getattr(actlab.nn, type(module).__name__))
    torch.testing.assert_close(module(x), apply(spec.name, x), rtol=0, atol=0)
    fn = getattr(actlab.functional, spec.name)
    torch.testing.assert_close(fn(x), module(x), rtol=0, atol=0)
    for alias in spec.aliases:
        assert actlab.spec(alias) is spec


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_dtypes_shapes_and_layouts(spec, dtype):
    x = sample(spec, dtype, (6, 8))
    y = apply(spec.name, x)
    assert y.dtype == dtype
    # non-contiguous input gives the same values as its contiguous copy
    xt = x.t()
    assert not xt.is_contiguous()
    torch.testing.assert_close(apply(spec.name, xt), apply(spec.name, xt.contiguous()), rtol=0, atol=0)
    # empty tensors
    empty = torch.empty(0, 8, dtype=dtype)
    assert apply(spec.name, empty).shape[0] == 0


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_nan_propagates(spec):
    x = sample(spec, torch.float32, (2, 8))
    x[0, 3] = float("nan")
    y = apply(spec.name, x)
    if spec.kind == "elementwise":
        assert torch.isnan(y[0, 3])
        assert not torch.isnan(y[1]).any()
    else:
        assert torch.isnan(y[0]).any()


@pytest.mark.parametrize("spec", specs_of_kind("elementwise"), ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16), ids=str)
def test_no_overflow_in_half_precision_where_representable(spec, dtype):
    big = torch.tensor([-6e4, -1e3, -100.0, -20.0, -11.5, 11.5, 20.0, 100.0, 1e3, 6e4], dtype=torch.float64)
    big = big.to(dtype).to(torch.float64)  # representable inputs
    truth = apply(spec.name, big)
    got = apply(spec.name, big.to(dtype)).to(torch.float64)
    representable = truth.abs() <= torch.finfo(dtype).max
    assert torch.isfinite(got[representable]).all(), f"{spec.name}: {got} vs {truth}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("dtype", (torch.int64, torch.int32, torch.bool, torch.uint8), ids=str)
def test_integer_tensors_raise_type_error(spec, dtype):
    with pytest.raises(TypeError, match="floating-point"):
        apply(spec.name, torch.zeros(4, 4, dtype=dtype))


def test_unknown_name_lists_closest():
    with pytest.raises(ValueError, match="closest: .*gelu"):
        actlab.get("gelo")
    with pytest.raises(ValueError, match="unknown activation 'zzzz'"):
        actlab.spec("zzzz")


@pytest.mark.parametrize(
    "spec",
    [s for s in SPECS if any(p.low is not None or p.high is not None for p in s.params)],
    ids=lambda s: s.name,
)
def test_out_of_range_parameter_names_the_range(spec):
    p = next(p for p in spec.params if p.low is not None or p.high is not None)
    bad = (p.low - 1.0) if p.low is not None else (p.high + 1.0)
    with pytest.raises(ValueError, match=f"{p.name}.*out of range; use a number in"):
        actlab.get(spec.name, **{p.name: bad})


@pytest.mark.parametrize("spec", [s for s in SPECS if any(p.choices for p in s.params)], ids=lambda s: s.name)
def test_bad_choice_lists_the_choices(spec):
    p = next(p for p in spec.params if p.choices)
    with pytest.raises(ValueError, match="one of"):
        actlab.get(spec.name, **{p.name: "no-such-choice"})


def test_unknown_parameter_is_a_type_error():
    with pytest.raises(TypeError, match="has no parameter 'alpah'"):
        actlab.get("step", alpah=1.0)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_inplace_accepted_exactly_where_torch_accepts_it(spec):
    x = sample(spec)
    if spec.inplace:
        expected = apply(spec.name, x)
        y = x.clone()
        out = apply(spec.name, y, inplace=True)
        assert out.data_ptr() == y.data_ptr()
        torch.testing.assert_close(y, expected, rtol=0, atol=0)
        actlab.get(spec.name, inplace=True)
    else:
        with pytest.raises(TypeError, match="inplace"):
            actlab.get(spec.name, inplace=True)


TORCH_INPLACE = {
    "relu",
    "relu6",
    "elu",
    "selu",
    "celu",
    "leaky_relu",
    "rrelu",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "silu",
    "mish",
    "threshold",
    "dropout",
}


@pytest.mark.parametrize("spec", [s for s in SPECS if s.torch_module], ids=lambda s: s.name)
def test_inplace_flag_matches_torch(spec):
    module_path, _, cls = spec.torch_module.rpartition(".")
    torch_cls = getattr(importlib.import_module(module_path), cls)
    import inspect

    takes_inplace = "inplace" in inspect.signature(torch_cls.__init__).parameters
    assert spec.inplace == takes_inplace, f"{spec.name}: torch {cls} inplace={takes_inplace}"


def test_derivative_public_function():
    x = torch.linspace(-3, 3, 7)
    torch.testing.assert_close(actlab.derivative("sigmoid", x), torch.sigmoid(x) * (1 - torch.sigmoid(x)))
    with pytest.raises(TypeError, match="floating-point"):
        actlab.derivative("tanh", torch.arange(3))
