"""Shared machinery for the catalogue tests: sampling, mpmath references and ULP distances."""

from __future__ import annotations

import math
from typing import Any

import mpmath as mp
import numpy as np
import torch

from actlab.catalog.spec import Spec, all_specs

FP32_MIN_NORMAL = 2.0**-126
FP32_MAX = float(np.finfo(np.float32).max)
DERIVATIVE_FLOOR = 2.0**-24  # the unit for derivatives is never below this
FORWARD_ULPS = 4
DERIVATIVE_UNITS = 8


def specs_of_kind(kind: str) -> list[Spec]:
    return [s for s in all_specs() if s.kind == kind]


def param_sets(spec: Spec) -> list[dict[str, Any]]:
    """The defaults plus every example parameter set the Spec declares."""
    base = spec.defaults()
    return [base, *({**base, **extra} for extra in spec.examples)]


def param_id(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def spec_param_cases(kind: str = "elementwise") -> list[tuple[Spec, dict[str, Any]]]:
    return [(s, p) for s in specs_of_kind(kind) for p in param_sets(s)]


def case_ids(cases: list[tuple[Spec, dict[str, Any]]]) -> list[str]:
    return [f"{s.name}[{param_id(p)}]" for s, p in cases]


def mp_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as mpmath sees them: numbers become mpf, coefficient tuples lists of mpf."""
    out = {}
    for k, v in params.items():
        if isinstance(v, (tuple, list)):
            out[k] = [mp.mpf(float(c)) for c in v]
        elif isinstance(v, torch.Tensor):
            out[k] = [mp.mpf(float(c)) for c in v.reshape(-1)] if v.numel() > 1 else mp.mpf(float(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = mp.mpf(v)
        else:
            out[k] = v
    return out


def fp32_samples(spec: Spec, seed: int = 0) -> torch.Tensor:
    """Inputs over the whole finite fp32 range: every binade from 2^-40 to 2^127 with both signs,
    dense samples on the interesting part of the line, and the Spec's kinks with their neighbours."""
    rng = np.random.default_rng(seed)
    exponents = np.arange(-40, 128)
    mantissas = rng.uniform(1.0, 2.0, size=(len(exponents), 2))
    magnitudes = (mantissas * np.exp2(exponents)[:, None]).ravel()
    lo, hi = spec.plot_range
    dense = rng.uniform(3 * lo, 3 * hi, 300)
    near = []
    for k in spec.kinks:
        k32 = np.float32(k)
        near += [
            k,
            np.nextafter(k32, np.float32(-np.inf)),
            np.nextafter(k32, np.float32(np.inf)),
            k - 1e-3,
            k + 1e-3,
        ]
    specials = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-30, -1e-30, 1e-7, -1e-7]
    x = np.concatenate([magnitudes, -magnitudes, dense, near, specials]).astype(np.float32)
    x = x[np.isfinite(x)]
    return torch.from_numpy(np.unique(x))


def ulp_of(value: mp.mpf) -> float:
    """fp32 ULP at |value| (normal range)."""
    _, e = math.frexp(float(abs(value)))
    return math.ldexp(1.0, e - 24)


def forward_ulp_errors(
    values: torch.Tensor, xs: torch.Tensor, ref
) -> list[tuple[float, float, float, float]]:
    """(x, got, true, error in ULP) for every input whose true value is a normal fp32 number.
    A true value of exactly 0 must be met exactly (error inf otherwise)."""
    rows = []
    for x, y in zip(xs.tolist(), values.tolist(), strict=True):
        true = ref(mp.mpf(x))
        if mp.isnan(true):
            continue
        if true == 0:
            rows.append((x, y, 0.0, 0.0 if y == 0 else math.inf))
            continue
        if abs(true) < FP32_MIN_NORMAL or abs(true) > FP32_MAX:
            continue
        err = math.inf if not math.isfinite(y) else float(abs(mp.mpf(y) - true)) / ulp_of(true)
        rows.append((x, y, float(true), err))
    return rows


def derivative_unit_errors(
    values: torch.Tensor, xs: torch.Tensor, ref
) -> list[tuple[float, float, float, float]]:
    """(x, got, true, error in units) with unit = max(ULP of the true value, 2^-24)."""
    rows = []
    for x, d in zip(xs.tolist(), values.tolist(), strict=True):
        true = ref(mp.mpf(x))
        if mp.isnan(true) or abs(true) > FP32_MAX:
            continue
        unit = DERIVATIVE_FLOOR if abs(true) < FP32_MIN_NORMAL else max(ulp_of(true), DERIVATIVE_FLOOR)
        err = math.inf if not math.isfinite(d) else float(abs(mp.mpf(d) - true)) / unit
        rows.append((x, d, float(true), err))
    return rows


def worst(rows: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    return max(rows, key=lambda r: r[3]) if rows else (0.0, 0.0, 0.0, 0.0)


def away_from_kinks(spec: Spec, n: int, seed: int, dtype=torch.float64, margin: float = 1e-2) -> torch.Tensor:
    """Random inputs on the plot range that keep `margin` away from every kink."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = spec.plot_range
    x = torch.rand(n, generator=g, dtype=torch.float64) * (hi - lo) + lo
    for k in spec.kinks:
        close = (x - k).abs() < margin
        x = torch.where(close, x + 3 * margin, x)
    return x.to(dtype)
