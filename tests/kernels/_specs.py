"""Unregistered stand-in Specs so the kernel tests exercise every mode before the full catalogue lands.

Registered entries are tested as well (parametrised over ``actlab.names()``); these only cover the
shapes of function a mode exists for: smooth non-monotonic (invert), piecewise-linear whose output is
ambiguous (mask), a gated entry.
"""

from __future__ import annotations

import math

import torch

import actlab
from actlab.catalog.spec import Param, Properties, Spec
from actlab.kernels.lean import mark_piecewise_linear

_P = Properties((-1.0, math.inf), monotonic=False, continuity="Cinf", zero_centred=False, saturating=False)
_PL = Properties((-math.inf, math.inf), monotonic=True, continuity="C0", zero_centred=False, saturating=False)


def _spec(name: str, forward, derivative, properties=_P, **kw) -> Spec:
    return Spec(
        name=name,
        family="test",
        formula="",
        latex="",
        derivative_formula="",
        derivative_latex="",
        forward=forward,
        derivative=derivative,
        properties=properties,
        origin="test",
        year=2000,
        **kw,
    )


def _gelu(x):
    return 0.5 * x * torch.special.erfc(-x / math.sqrt(2))


def _gelu_d(x):
    return 0.5 * torch.special.erfc(-x / math.sqrt(2)) + x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


GELU = _spec("test_gelu", _gelu, _gelu_d)
SILU = _spec(
    "test_silu", lambda x: x * torch.sigmoid(x), lambda x: torch.sigmoid(x) * (1 + x * torch.sigmoid(-x))
)
# monotone and smooth but with no derivative_from_output: invert without a branch bit
SOFTSIGN = _spec(
    "test_softsign",
    lambda x: x / (1 + x.abs()),
    lambda x: 1 / (1 + x.abs()) ** 2,
    Properties((-1.0, 1.0), monotonic=True, continuity="C1", zero_centred=True, saturating=True),
)
LEAKY_NEG = _spec(
    "test_leaky_negative",
    lambda x, negative_slope: torch.where(x > 0, x, x * negative_slope),
    lambda x, negative_slope: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, negative_slope)),
    _PL,
    params=(Param("negative_slope", -0.3),),
)
THRESHOLD = _spec(
    "test_threshold",
    lambda x, threshold, value: torch.where(x > threshold, x, torch.full_like(x, value)),
    lambda x, threshold, value: (x > threshold).to(x.dtype),
    _PL,
    params=(Param("threshold", 0.5), Param("value", 2.0)),
)
ADHOC = {s.name: s for s in (GELU, SILU, SOFTSIGN, LEAKY_NEG, THRESHOLD)}
mark_piecewise_linear(LEAKY_NEG.name)
mark_piecewise_linear(THRESHOLD.name)


def registered() -> list[Spec]:
    return [actlab.spec(n) for n in actlab.names()]


def elementwise_registered() -> list[Spec]:
    return [s for s in registered() if s.kind == "elementwise" and not s.learnable and not s.stochastic]


def sample(dtype: torch.dtype, spec: Spec | None = None, n: int = 4000, seed: int = 0) -> torch.Tensor:
    """Random inputs at several scales plus the edges: zeros, kinks, ±1, large values, ±inf, NaN."""
    g = torch.Generator().manual_seed(seed)
    parts = [torch.randn(n, generator=g, dtype=torch.float64) * s for s in (0.3, 1.0, 3.0, 30.0)]
    edges = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-30, -1e-30, 6.0, -6.0, 3.0, -3.0, 60.0, -60.0, 1e4, -1e4]
    edges += [float("inf"), -float("inf"), float("nan")]
    if spec is not None:
        lo, hi = spec.plot_range
        parts.append(torch.linspace(lo, hi, 1001, dtype=torch.float64))
        edges += [k for k in spec.kinks] + [math.nextafter(k, math.inf) for k in spec.kinks]
    finfo = torch.finfo(dtype)
    edges += [finfo.max, -finfo.max, finfo.tiny, -finfo.tiny]
    return torch.cat([*parts, torch.tensor(edges, dtype=torch.float64)]).to(dtype)


def param_sets(spec: Spec) -> list[dict]:
    return [spec.bind(), *(spec.bind(**e) for e in spec.examples)]
