"""Error units shared by the kernels and their tests: the catalogue's bound is counted in these.

unit(v) = max(ulp_dtype(v), 2^-24): one unit in the last place of the *input* dtype at the true value,
floored at 2^-24 so that derivatives passing through zero are not held to subnormal precision.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

PRECISION_BITS = {torch.float64: 53, torch.float32: 24, torch.float16: 11, torch.bfloat16: 8}
UNIT_FLOOR = 2.0**-24


def units(true: Tensor, dtype: torch.dtype) -> Tensor:
    """One error unit at each value of ``true`` (computed in ``true``'s dtype) for results in ``dtype``."""
    bits = PRECISION_BITS[dtype]
    _, exponent = torch.frexp(true.abs())
    ulp = torch.ldexp(torch.ones_like(true), exponent - bits)
    floor = UNIT_FLOOR if dtype != torch.float64 else 2.0**-53
    return torch.clamp(torch.nan_to_num(ulp, nan=floor, posinf=floor, neginf=floor), min=floor)


def error_units(value: Tensor, true: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """|value - true| in units of ``dtype`` (default: value's dtype); equal non-finite values count 0."""
    dtype = dtype or value.dtype
    t = true.double()
    v = value.double()
    err = (v - t).abs() / units(t, dtype)
    same = (v == t) | (torch.isnan(v) & torch.isnan(t))
    return torch.where(same, torch.zeros_like(err), torch.nan_to_num(err, nan=float("inf")))
