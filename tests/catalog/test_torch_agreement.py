"""Agreement with torch's own functions where torch has the entry (float64, default parameters)."""

from __future__ import annotations

import importlib

import pytest
import torch

from actlab.catalog.spec import all_specs
from actlab.functional import apply

SPECS = [s for s in all_specs() if s.torch_function and s.torch_agrees]


def resolve(path: str):
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_matches_torch_function_in_float64(spec):
    torch_fn = resolve(spec.torch_function)
    x = torch.linspace(-12, 12, 2001, dtype=torch.float64)
    if spec.kind != "elementwise":
        x = x[:2000].reshape(40, 50)
    params = {
        p.name: torch.as_tensor(p.default, dtype=torch.float64).reshape(-1) if p.learnable else p.default
        for p in spec.params
    }
    ours = apply(spec.name, x, **params)
    theirs = torch_fn(x, **params)
    torch.testing.assert_close(ours, theirs, rtol=1e-7, atol=1e-10)
