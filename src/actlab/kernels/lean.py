"""Lean backward passes: keep the least that gives the reference gradient, chosen from the Spec.

Modes (what backward keeps, per element):

* ``nothing``   — f' is constant (identity, step): only the shape.
* ``output``    — f' is a function of y = f(x) (sigmoid, tanh, relu, elu, ...): the output, which the
  next layer keeps anyway (a Linear saves its input), so nothing extra.
* ``mask``      — piecewise-linear f whose output alone does not tell the slope (threshold with a
  value above the threshold, leaky_relu with a negative slope, ...): one bit per element, packed 8 to a
  byte, plus the two slopes. Gradients are bit-identical to the reference.
* ``invert``    — smooth f with at most one turning point (gelu, silu, mish, ...): the output plus one
  bit of branch; backward recovers x by bracketed Newton on y = f(x) from a cached table of the right
  branch. Forward checks the recovery itself: elements whose recovered f'(x) is more than
  ``INVERT_TOLERANCE_UNITS`` off (near the turning point, where the inverse is ill-conditioned) are kept
  exactly in a short exception list. Gradients are within the catalogue's bounds by construction; the
  price is time (about ten evaluations of f in backward).
* ``recompute`` — keep the input and recompute f'(x) (what torch does for gelu/silu): the fallback.

``auto`` picks nothing > output > mask > recompute; ``invert`` is opt-in (it trades backward time for
memory: see ``choose_mode``). Every mode computes in the Spec's compute dtype
and rounds once, as the reference does (``actlab.autograd``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from actlab.autograd import check_tensor, compute_dtype, evaluate
from actlab.catalog.spec import Spec, lookup
from actlab.kernels.bits import pack_bits, unpack_bits
from actlab.kernels.cpu import static_key
from actlab.kernels.numerics import units

Tensor = torch.Tensor
Mode = Literal["auto", "nothing", "output", "mask", "invert", "recompute"]
MODES: tuple[str, ...] = ("auto", "nothing", "output", "mask", "invert", "recompute")

# Piecewise-linear entries: their derivative takes two values, so one bit per element restores it.
PIECEWISE_LINEAR: set[str] = set(
    {
        "relu",
        "leaky_relu",
        "hardtanh",
        "relu6",
        "threshold",
        "hardshrink",
        "softshrink",
        "rrelu",
        "bounded_relu",
        "shifted_relu",
        "hard_sigmoid",
        "hardsigmoid",
        "sparse_sigmoid",
        "step",
    }
)
INVERT_TOLERANCE_UNITS = 2.0
NEWTON_STEPS = 3
# The inverse table's grid: fine where activations bend, coarse in the tails (f' is simple there).
_GRID_CORE, _GRID_CORE_POINTS = 12.0, 1 << 16
_GRID_EDGE, _GRID_EDGE_POINTS = 120.0, 1 << 12

# Optional faster forward for an entry (registered by actlab.kernels.cpu / triton), used by the lean
# Function so that lean modules are no slower than the plain ones: name -> fn(x, params) -> y | None.
FORWARD_OVERRIDES: dict[str, Callable[[Tensor, dict[str, Any]], Tensor | None]] = {}
# Likewise for ``output`` mode's backward: name -> fn(grad, y, params) -> grad_x | None.
OUTPUT_BACKWARD_OVERRIDES: dict[str, Callable[[Tensor, Tensor, dict[str, Any]], Tensor | None]] = {}


def _promote(params: dict[str, Any], dtype: torch.dtype) -> dict[str, Any]:
    return {k: (v.to(dtype) if isinstance(v, Tensor) else v) for k, v in params.items()}


def is_piecewise_linear(spec: Spec) -> bool:
    """Listed in PIECEWISE_LINEAR (or declared by an optional ``Spec.piecewise_linear`` flag)."""
    return bool(getattr(spec, "piecewise_linear", False)) or spec.name in PIECEWISE_LINEAR


def mark_piecewise_linear(name: str) -> None:
    """Declare an entry piecewise-linear with two slopes, so ``auto`` gives it the 1-bit mask."""
    PIECEWISE_LINEAR.add(name)


def supports(spec: Spec, mode: str) -> bool:
    """Whether ``mode`` can serve ``spec`` (``auto`` always can)."""
    if mode not in MODES:
        raise ValueError(f"unknown lean mode {mode!r}; use one of {', '.join(MODES)}")
    if mode in ("auto", "recompute"):
        return True
    if spec.kind != "elementwise" or spec.learnable or spec.stochastic:
        return False
    if mode == "nothing":
        return spec.derivative_is_constant
    if mode == "output":
        return spec.derivative_from_output is not None
    if mode == "mask":
        # checked again per call: the derivative must take at most two values there
        return is_piecewise_linear(spec)
    if mode == "invert":
        return spec.properties.continuity in ("C1", "C2", "Cinf")
    return False


def choose_mode(spec: Spec | str, params: dict[str, Any] | None = None) -> str:
    """The mode ``auto`` resolves to for ``spec`` (and ``params``)."""
    spec = lookup(spec)
    if spec.kind != "elementwise" or spec.learnable or spec.stochastic:
        return "recompute"
    if spec.derivative_is_constant:
        return "nothing"
    if spec.derivative_from_output is not None:
        return "output"
    if is_piecewise_linear(spec):
        return "mask"
    # Smooth entries that need x (gelu, silu, mish, ...): ``invert`` keeps ~1/8 + exceptions bytes per
    # element instead of the input, but its backward measured 15-35x slower than recomputing f'(x) on
    # CPU (benchmarks/bench_memory.py), so ``auto`` recomputes and ``invert`` is opt-in.
    return "recompute"


# ----------------------------------------------------------------------------------------------------
# The inverse table for ``invert``: turning point and a monotone grid of each branch
# ----------------------------------------------------------------------------------------------------
@dataclass
class InverseTable:
    turning_point: float | None  # x* where f' changes sign; None when f is monotone
    right_x: Tensor  # grid of the branch x > x* (the whole line if monotone), sorted by y
    right_y: Tensor
    left_x: Tensor | None
    left_y: Tensor | None


_TABLES: dict[tuple, InverseTable | None] = {}
_BUILT: dict[tuple, InverseTable | None] = {}


def _inverse_table(
    spec: Spec, params: dict[str, Any], cd: torch.dtype, device: torch.device | None = None
) -> InverseTable | None:
    key = static_key(spec, params)
    if key is None:
        return None
    full = (*key, cd, str(device or "cpu"))
    if full in _TABLES:
        return _TABLES[full]
    if key not in _BUILT:
        _BUILT[key] = _build_table(spec, params)
    table = _BUILT[key]
    if table is not None and (cd != torch.float64 or device is not None):
        table = InverseTable(
            table.turning_point,
            table.right_x.to(device=device, dtype=cd),
            table.right_y.to(device=device, dtype=cd),
            None if table.left_x is None else table.left_x.to(device=device, dtype=cd),
            None if table.left_y is None else table.left_y.to(device=device, dtype=cd),
        )
    _TABLES[full] = table
    return table


def _build_table(spec: Spec, params: dict[str, Any]) -> InverseTable | None:
    with torch.no_grad():
        core = torch.linspace(-_GRID_CORE, _GRID_CORE, _GRID_CORE_POINTS, dtype=torch.float64)
        edge = torch.linspace(_GRID_CORE, _GRID_EDGE, _GRID_EDGE_POINTS, dtype=torch.float64)[1:]
        xs = torch.cat([-edge.flip(0), core, edge])
        try:
            ys = spec.forward(xs, **params)
            ds = spec.derivative(xs, **params)
        except Exception:  # an entry that cannot be evaluated on a plain fp64 grid is not invertible here
            return None
        if not (torch.isfinite(ds).all() and torch.isfinite(ys).all()):
            return None
        sign = torch.sign(ds)
        nonzero = sign != 0
        changes = (sign[1:] * sign[:-1] < 0).nonzero().flatten()
        if changes.numel() > 1 or not nonzero.any():
            return None
        if changes.numel() == 0:
            order = torch.argsort(ys, stable=True)
            return InverseTable(None, xs[order], ys[order], None, None)
        i = int(changes[0])
        lo, hi = float(xs[i]), float(xs[i + 1])
        s_lo = float(sign[i])
        for _ in range(80):  # bisection on the sign of f'
            mid = 0.5 * (lo + hi)
            d = float(spec.derivative(torch.tensor([mid], dtype=torch.float64), **params)[0])
            if d == 0:
                lo = hi = mid
                break
            if math.copysign(1.0, d) == s_lo:
                lo = mid
            else:
                hi = mid
        turning = 0.5 * (lo + hi)
        t = torch.tensor([turning], dtype=torch.float64)
        right_x = torch.cat([t, xs[xs > turning]])
        left_x = torch.cat([xs[xs < turning], t])
        right_y = spec.forward(right_x, **params)
        left_y = spec.forward(left_x, **params)
        ro = torch.argsort(right_y, stable=True)
        lo_ = torch.argsort(left_y, stable=True)
        return InverseTable(turning, right_x[ro], right_y[ro], left_x[lo_], left_y[lo_])


def _invert_branch(spec: Spec, params: dict[str, Any], y: Tensor, grid_x: Tensor, grid_y: Tensor) -> Tensor:
    """x on one monotone branch with f(x) = y: bracket from the grid (sorted by y), then safeguarded Newton."""
    n = grid_y.numel()
    idx = torch.searchsorted(grid_y, y).clamp(1, n - 1)
    xa, xb = grid_x[idx - 1], grid_x[idx]
    ya, yb = grid_y[idx - 1], grid_y[idx]
    lo, hi = torch.minimum(xa, xb), torch.maximum(xa, xb)
    span = yb - ya
    frac = torch.where(span != 0, (y - ya) / span, torch.full_like(y, 0.5)).clamp(0, 1)
    x = xa + frac * (xb - xa)
    increasing = bool(grid_x[-1] > grid_x[0])
    x_top, x_bottom = grid_x[-1].expand_as(y), grid_x[0].expand_as(y)
    above, below = y > grid_y[-1], y < grid_y[0]
    if increasing:
        # beyond the grid's top the self-gated family is f(x) ~ x: start from y, open bracket upwards
        x = torch.where(above, torch.maximum(y, x_top), x)
        lo = torch.where(above, x_top, lo)
        hi = torch.where(above, torch.full_like(y, math.inf), hi)
    else:
        x, lo, hi = (torch.where(above, x_top, t) for t in (x, lo, hi))
    # below the grid's minimum (the turning point, or a rounded value under it): stay at the edge
    x, lo, hi = (torch.where(below, x_bottom, t) for t in (x, lo, hi))
    for _ in range(NEWTON_STEPS):
        fx = spec.forward(x, **params)
        dfx = spec.derivative(x, **params)
        r = fx - y
        too_low = (r < 0) if increasing else (r > 0)
        lo = torch.where(too_low, x, lo)
        hi = torch.where(too_low, hi, x)
        step = x - r / dfx
        ok = (step > lo) & (step < hi)  # false for NaN and for ±inf steps
        mid = torch.where(hi - lo < math.inf, 0.5 * (lo + hi), x)
        x = torch.where(r == 0, x, torch.where(ok, step, mid))
    return x


def recover_input(
    spec: Spec, params: dict[str, Any], y: Tensor, right: Tensor | None, table: InverseTable
) -> Tensor:
    """x from y = f(x) and the branch bit (``right`` = x above the turning point), in y's dtype."""
    if table.turning_point is None or right is None or table.left_x is None:
        return _invert_branch(spec, params, y, table.right_x, table.right_y)
    # each element is solved on its own branch only (half the work of solving both and selecting)
    x = torch.empty_like(y)
    on_right = right.nonzero().flatten()
    on_left = (~right).nonzero().flatten()
    x[on_right] = _invert_branch(spec, params, y[on_right], table.right_x, table.right_y)
    x[on_left] = _invert_branch(spec, params, y[on_left], table.left_x, table.left_y)
    return x


# ----------------------------------------------------------------------------------------------------
# The lean autograd Function
# ----------------------------------------------------------------------------------------------------
def _reference_derivative(spec: Spec, x_cd: Tensor, params_cd: dict[str, Any]) -> Tensor:
    return spec.derivative(x_cd, **params_cd)


class LeanFunction(torch.autograd.Function):
    """f(x) for an elementwise Spec with the backward memory of ``mode`` (resolved, not ``auto``)."""

    @staticmethod
    def forward(ctx, x: Tensor, spec: Spec, params: dict[str, Any], mode: str) -> Tensor:  # type: ignore[override]
        cd = compute_dtype(x.dtype)
        pc = _promote(params, cd)
        override = FORWARD_OVERRIDES.get(spec.name)
        y = override(x, params) if override is not None else None
        if y is None:
            y = evaluate(spec, x, params)
        ctx.spec, ctx.params, ctx.dtype, ctx.shape = spec, params, x.dtype, x.shape
        ctx.mode = mode
        if x.numel() == 0:
            ctx.mode = "empty"
            return y
        if mode == "mask":
            d = _reference_derivative(spec, x.to(cd), pc)
            v_lo, v_hi = d.min(), d.max()
            two_valued = bool(((d == v_lo) | (d == v_hi)).all())
            if two_valued:
                ctx.values = (float(v_lo), float(v_hi))
                ctx.save_for_backward(pack_bits(d == v_hi))
                return y
            ctx.mode = "recompute"  # NaN or more than two slopes: keep the input
        elif mode == "invert":
            table = _inverse_table(spec, params, cd, x.device if x.device.type != "cpu" else None)
            if table is not None:
                x_cd = x.to(cd).reshape(-1)
                right = None
                if table.turning_point is not None:
                    right = x_cd > table.turning_point
                x_rec = recover_input(spec, pc, y.reshape(-1).to(cd), right, table)
                d_rec = spec.derivative(x_rec, **pc)
                d_true = spec.derivative(x_cd, **pc)
                good = (d_rec - d_true).abs() <= INVERT_TOLERANCE_UNITS * units(d_true, x.dtype)
                bad = (~good).nonzero().flatten()
                index_dtype = torch.int32 if x.numel() < 2**31 else torch.int64
                ctx.table = table
                ctx.has_bits = right is not None
                bits = pack_bits(right) if right is not None else None
                kept = [y, bad.to(index_dtype), x.reshape(-1)[bad].clone()]
                ctx.save_for_backward(*kept, *([bits] if bits is not None else []))
                return y
            ctx.mode = "recompute"
        if ctx.mode == "output":
            ctx.save_for_backward(y)
        elif ctx.mode == "recompute":
            ctx.save_for_backward(x)
        elif ctx.mode != "nothing":
            raise ValueError(f"{spec.name}: lean mode {mode!r} is not available")
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        mode, spec = ctx.mode, ctx.spec
        if mode == "empty":
            return grad.clone(), None, None, None
        cd = compute_dtype(ctx.dtype)
        pc = _promote(ctx.params, cd)
        if mode == "mask":
            (packed,) = ctx.saved_tensors
            on = unpack_bits(packed, ctx.shape)
            v_lo, v_hi = ctx.values
            if v_lo in (0.0, 1.0) and v_hi in (0.0, 1.0):
                # products with 0 and 1 are exact in every dtype: same bits as the reference
                grad_x = grad * on.to(grad.dtype) if v_hi == 1.0 else grad * (~on).to(grad.dtype)
                if v_lo == v_hi:
                    grad_x = grad * v_lo
                return grad_x, None, None, None
            d = torch.where(on, torch.tensor(v_hi, dtype=cd), torch.tensor(v_lo, dtype=cd))
            return (grad.to(cd) * d).to(ctx.dtype), None, None, None
        if mode == "output":
            (y,) = ctx.saved_tensors
            override = OUTPUT_BACKWARD_OVERRIDES.get(spec.name)
            fast = override(grad, y, ctx.params) if override is not None else None
            if fast is not None:
                return fast, None, None, None
            d = spec.derivative_from_output(y.to(cd), **pc)
        elif mode == "recompute":
            (x,) = ctx.saved_tensors
            d = spec.derivative(x.to(cd), **pc)
        elif mode == "nothing":
            d = spec.derivative(torch.zeros(ctx.shape, dtype=cd, device=grad.device), **pc)
        else:  # invert
            saved = ctx.saved_tensors
            y, bad, exact = saved[0], saved[1], saved[2]
            right = unpack_bits(saved[3], (y.numel(),)) if ctx.has_bits else None
            x_rec = recover_input(spec, pc, y.reshape(-1).to(cd), right, ctx.table)
            x_rec[bad.long()] = exact.to(cd)
            d = spec.derivative(x_rec, **pc).view(ctx.shape)
        return (grad.to(cd) * d).to(ctx.dtype), None, None, None


def resolve_mode(spec: Spec, params: dict[str, Any], mode: str) -> str:
    if mode == "auto":
        return choose_mode(spec, params)
    if not supports(spec, mode):
        raise ValueError(f"{spec.name}: lean mode {mode!r} does not apply; try 'auto' or 'recompute'")
    return mode


def lean_apply(
    spec: Spec | str, x: Tensor, params: dict[str, Any] | None = None, mode: str = "auto"
) -> Tensor:
    """Apply ``spec`` to ``x`` with a lean backward (``mode`` as in the module docstring)."""
    spec = lookup(spec)
    check_tensor(x, spec.name)
    if params is None or not _bound(spec, params):
        params = spec.bind(**(params or {}))
    if spec.kind == "gated":
        from actlab.kernels.glu import fused_glu

        return fused_glu(spec, x, params)
    if spec.kind != "elementwise" or spec.learnable or spec.stochastic:
        from actlab.dispatch import call

        return call(spec, x, params)
    resolved = resolve_mode(spec, params, mode)
    return LeanFunction.apply(x, spec, params, resolved)


def _bound(spec: Spec, params: dict[str, Any]) -> bool:
    return set(params) == {p.name for p in spec.params}


class LeanActivation(nn.Module):
    """An activation module with a lean backward: ``LeanActivation("gelu", mode="invert")``."""

    def __init__(self, name: str | Spec, *args: Any, mode: str = "auto", **kwargs: Any) -> None:
        super().__init__()
        spec = lookup(name)
        if mode not in MODES:
            raise ValueError(f"unknown lean mode {mode!r}; use one of {', '.join(MODES)}")
        self.spec = spec
        self.params = spec.bind(args, **kwargs)
        self.mode = mode
        if spec.kind == "elementwise" and not spec.learnable:
            self.resolved = resolve_mode(spec, self.params, mode)
        else:
            self.resolved = "fused" if spec.kind == "gated" else "reference"

    def forward(self, input: Tensor) -> Tensor:
        return lean_apply(self.spec, input, self.params, self.mode)

    def extra_repr(self) -> str:
        parts = [repr(self.spec.name)] + [f"{k}={v!r}" for k, v in self.params.items()]
        return ", ".join(parts + [f"mode={self.resolved!r}"])


def lean(name: str | Spec, *args: Any, mode: str = "auto", **kwargs: Any) -> LeanActivation:
    """``actlab.kernels.lean("gelu")``: the activation as a module whose backward keeps the least."""
    return LeanActivation(name, *args, mode=mode, **kwargs)


# ----------------------------------------------------------------------------------------------------
# Measuring what backward keeps
# ----------------------------------------------------------------------------------------------------
@dataclass
class SavedBytes:
    total: int  # bytes of every distinct storage saved for backward
    extra: int  # the same, less storages that also back an input or output of the measured call
    tensors: int

    def per_element(self, numel: int) -> tuple[float, float]:
        return self.total / max(numel, 1), self.extra / max(numel, 1)


def _storage_key(t: Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def saved_bytes(fn: Callable[[], Any], exclude: tuple[Tensor, ...] = ()) -> tuple[Any, SavedBytes]:
    """Run ``fn`` and count the bytes autograd saves for backward, each storage once.

    ``exclude`` names tensors (usually the parameters, or the output the next layer keeps) whose
    storages are reported as shared rather than extra.
    """
    seen: dict[tuple[int, int], int] = {}
    count = [0]

    def pack(t: Tensor) -> Tensor:
        count[0] += 1
        if t.layout == torch.strided and t.device.type != "meta":
            key = _storage_key(t)
            seen[key] = key[1]
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    outs = out if isinstance(out, (tuple, list)) else (out,)
    shared = {_storage_key(t) for t in (*exclude, *outs) if isinstance(t, Tensor)}
    total = sum(seen.values())
    extra = sum(v for k, v in seen.items() if k not in shared)
    return out, SavedBytes(total, extra, count[0])
