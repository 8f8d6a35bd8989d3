"""Measurements behind ``actlab bench`` and ``benchmarks/``: every number is a ratio against a reference
measured in the same run (torch's native op, a naive composition, a plain copy of the same tensor),
timed interleaved and summarised by the median (the CPU speed table: the median of per-round ratios,
with their quartiles); memory is counted, never timed.

Saved memory is counted with ``torch.autograd.graph.saved_tensors_hooks``: every tensor autograd keeps
for backward passes through the pack hook, and each storage is counted once. At the end of a forward
pass that total is the activation memory the step holds until backward (the peak of saved tensors);
parameters are excluded. "extra" excludes as well storages that are the call's output (which the next
layer keeps anyway).
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import actlab
from actlab.kernels import ckernels, cpu
from actlab.kernels.lean import LeanActivation, choose_mode, saved_bytes, supports

Tensor = torch.Tensor

# Naive fp32 compositions of entries torch has no op for: what a user would write by hand.
NAIVE: dict[str, Callable[[Tensor], Tensor]] = {
    "squareplus": lambda x: (x + torch.sqrt(x * x + 4.0)) / 2,
    "squared_relu": lambda x: torch.relu(x) ** 2,
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "isru": lambda x: x / torch.sqrt(1 + x * x),
    "bent_identity": lambda x: (torch.sqrt(x * x + 1) - 1) / 2 + x,
    "lisht": lambda x: x * torch.tanh(x),
    "softsign": lambda x: x / (1 + x.abs()),
    "tanh_exp": lambda x: x * torch.tanh(torch.exp(x)),
    "gaussian": lambda x: torch.exp(-x * x),
    "sparse_plus": lambda x: torch.where(x <= -1, 0.0, torch.where(x >= 1, x, 0.25 * (x + 1) ** 2)),
    "sparse_sigmoid": lambda x: torch.clamp((x + 1) / 2, 0.0, 1.0),
    "elliott": lambda x: 0.5 + x / (2 * (1 + x.abs())),
    "smelu": lambda x: torch.where(x >= 2, x, torch.where(x <= -2, 0.0, (x + 2) ** 2 / 8)),
    "isrlu": lambda x: torch.where(x >= 0, x, x / torch.sqrt(1 + x * x)),
    "exponential": torch.exp,  # one torch op: the target is parity, not 3x
    "gcu": lambda x: x * torch.cos(x),
    "sine": torch.sin,  # one torch op: parity
    "serf": lambda x: x * torch.erf(torch.nn.functional.softplus(x)),
}


def _torch_native(spec: Any) -> Callable[[Tensor], Tensor] | None:
    """torch's own op for an entry with default parameters, where torch has one."""
    if not spec.torch_function or not spec.torch_agrees:
        return None
    path = spec.torch_function.split(".")
    obj: Any = torch
    for part in path[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if not callable(obj):
        return None
    # torch's functions take the same parameter names as the Spec (threshold(x, threshold, value), ...)
    defaults = {p.name: p.default for p in spec.params}
    return (lambda x, f=obj, d=defaults: f(x, **d)) if defaults else obj


def median_time(fns: dict[str, Callable[[], Any]], repeats: int, inner: int = 1) -> dict[str, float]:
    """Median seconds per call of each function, timed interleaved (A B C A B C ...).

    Each sample starts with one untimed call: it settles the memory allocator into that function's own
    steady state, as a training loop repeating the same step sees it. Without it, a function pays (or is
    spared) page faults for the heap that the previous function left behind: with 4 MiB tensors glibc
    returns and re-maps memory depending on the order of frees, a swing of ±15% that belongs to neither.
    """
    for fn in fns.values():
        fn()  # warm-up (and compilation)
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            fn()  # settle the allocator (see above)
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[key].append((time.perf_counter() - start) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


@dataclass(frozen=True)
class Ratio:
    """A ratio of times (baseline ÷ actlab) over rounds: the median and the quartiles."""

    median: float
    q1: float
    q3: float


def paired_ratio(
    base: Callable[[], Any],
    ours: Callable[[], Any],
    rounds: int,
    inner: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> Ratio:
    """base time ÷ ours time, one ratio per round, the order alternating (base then ours, ours then base).

    A shared machine's speed drifts (on the 2-core VM behind the README a 4 MiB copy took 140 to 630 µs
    within a minute): two calls a few milliseconds apart see the same machine, so their ratio cancels the
    drift that separate medians keep, and alternating the order cancels what one call leaves to the next
    (warm caches, the allocator's state). Each timed call is preceded by one untimed call, as in
    ``median_time``.
    """
    if rounds < 2:
        raise ValueError(f"paired_ratio needs at least 2 rounds for quartiles, got {rounds}")
    base()
    ours()  # warm-up (and compilation)
    ratios = []
    for k in range(rounds):
        took: dict[int, float] = {}
        for which in (0, 1) if k % 2 == 0 else (1, 0):
            fn = base if which == 0 else ours
            fn()  # settle the allocator (see median_time)
            start = clock()
            for _ in range(inner):
                fn()
            took[which] = clock() - start
        ratios.append(took[0] / took[1])
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return Ratio(median, q1, q3)


def format_ratio(median: float, quartiles: list[float]) -> str:
    """``0.97 (0.90–1.05)``: a ratio's median and quartiles, as the tables print them."""
    return f"{median:.2f} ({quartiles[0]:.2f}–{quartiles[1]:.2f})"


def _fwd_bwd(fn: Callable[[Tensor], Tensor], x: Tensor, grad: Tensor) -> Callable[[], None]:
    def run() -> None:
        xr = x.detach().requires_grad_()
        fn(xr).backward(grad)

    return run


# ----------------------------------------------------------------------------------------------------
# Saved memory per function
# ----------------------------------------------------------------------------------------------------
def _measure_saved(x0: Tensor, fn: Callable[[Tensor], Tensor]) -> tuple[float, float] | None:
    """(total, extra) bytes per element ``fn`` keeps for backward; None if it cannot run.

    Extra is what is kept beyond the output, which the next layer (a Linear) keeps anyway; the input
    is the previous Linear's output, which nobody else keeps, so keeping it counts."""
    x = x0.detach().clone().requires_grad_()
    try:
        _, report = saved_bytes(lambda: fn(x))
    except Exception:
        return None
    return report.total / x.numel(), report.extra / x.numel()


def saved_memory_table(dtype: torch.dtype = torch.float32, n: int = 1 << 16) -> list[dict[str, Any]]:
    """Bytes per element kept for backward: torch eager, actlab's reference, actlab lean (auto/invert)."""
    rows = []
    x0 = torch.randn(n, generator=torch.Generator().manual_seed(0)).to(dtype) * 2
    for spec in (actlab.spec(name) for name in actlab.names()):
        if spec.kind == "vector" or spec.stochastic or spec.learnable:
            continue
        shape_x = x0.view(n // 64, 64) if spec.kind == "gated" else x0
        measure = functools.partial(_measure_saved, shape_x)

        native = _torch_native(spec)
        row: dict[str, Any] = {"name": spec.name, "kind": spec.kind}
        if spec.kind == "gated":
            gate = actlab.spec(spec.gate)
            gate_native = _torch_native(gate)
            if gate_native is not None:

                def eager(x: Tensor, g: Callable[[Tensor], Tensor] = gate_native) -> Tensor:
                    a, b = x.chunk(2, -1)
                    return a * g(b)

                row["torch"] = measure(eager)
        elif native is not None:
            row["torch"] = measure(native)
        row["reference"] = measure(functools.partial(actlab.functional.apply, spec.name))
        row["lean_mode"] = choose_mode(spec) if spec.kind == "elementwise" else "fused"
        row["lean"] = measure(LeanActivation(spec.name))
        if spec.kind == "elementwise" and supports(spec, "invert") and row["lean_mode"] == "recompute":
            row["invert"] = measure(LeanActivation(spec.name, mode="invert"))
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------------
# Training-step memory on three models
# ----------------------------------------------------------------------------------------------------
class _GLUBlock(nn.Module):
    def __init__(self, d: int, hidden: int, act: nn.Module) -> None:
        super().__init__()
        self.up, self.act, self.down = nn.Linear(d, 2 * hidden), act, nn.Linear(hidden, d)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.down(self.act(self.up(x)))


class _TorchGated(nn.Module):
    def __init__(self, gate: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.gate = gate

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, -1)
        return a * self.gate(b)


def _models(act: Callable[[], nn.Module]) -> dict[str, tuple[nn.Module, Tensor]]:
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(256, 512), act(), nn.Linear(512, 512), act(), nn.Linear(512, 10))
    cnn = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        act(),
        nn.Conv2d(32, 32, 3, padding=1),
        act(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )
    block = nn.Sequential(nn.LayerNorm(256), nn.Linear(256, 1024), act(), nn.Linear(1024, 256))
    return {
        "mlp": (mlp, torch.randn(256, 256)),
        "cnn": (cnn, torch.randn(16, 3, 32, 32)),
        "transformer_mlp": (block, torch.randn(4, 128, 256)),
    }


def model_memory_table(
    pairs: tuple[tuple[str, str], ...] = (
        ("relu", "relu"),
        ("gelu", "gelu"),
        ("silu", "silu"),
        ("mish", "mish"),
        ("softplus", "softplus"),
        ("elu", "elu"),
        ("tanh", "tanh"),
    ),
) -> list[dict[str, Any]]:
    """Saved activation bytes of one training step: torch eager vs actlab reference vs actlab lean."""
    rows = []
    before = cpu.compile_setting()
    cpu.set_compile("never")  # memory only: no need to pay for compilation here
    try:
        _model_rows(pairs, rows)
    finally:
        cpu.set_compile(before)
    return rows


def _model_rows(pairs: tuple[tuple[str, str], ...], rows: list[dict[str, Any]]) -> None:
    for name, torch_name in pairs:
        if name not in actlab.names():
            continue
        torch_act = {
            "relu": nn.ReLU,
            "gelu": nn.GELU,
            "silu": nn.SiLU,
            "tanh": nn.Tanh,
            "sigmoid": nn.Sigmoid,
            "mish": nn.Mish,
            "softplus": nn.Softplus,
            "elu": nn.ELU,
        }[torch_name]
        variants = {
            "torch": torch_act,
            "actlab": lambda n=name: actlab.get(n),
            "lean": lambda n=name: LeanActivation(n),
        }
        if choose_mode(name) == "recompute" and supports(actlab.spec(name), "invert"):
            variants["lean_invert"] = lambda n=name: LeanActivation(n, mode="invert")
        results: dict[str, dict[str, int]] = {}
        for variant, factory in variants.items():
            for model_name, (model, inp) in _models(factory).items():
                params = tuple(model.parameters())
                _, report = saved_bytes(lambda m=model, i=inp: m(i).sum(), exclude=params)
                results.setdefault(model_name, {})[variant] = report.extra
        for model_name, by_variant in results.items():
            rows.append({"activation": name, "model": model_name, **by_variant})
    for gated, gate in (("swiglu", F.silu), ("geglu", F.gelu)):
        if gated not in actlab.names():
            continue
        row: dict[str, Any] = {"activation": gated, "model": "transformer_glu"}
        for variant, act in (
            ("torch", _TorchGated(gate)),
            ("actlab", actlab.get(gated)),
            ("lean", LeanActivation(gated)),
        ):
            torch.manual_seed(0)
            block = _GLUBlock(256, 512, act)
            inp = torch.randn(4, 128, 256)
            _, report = saved_bytes(lambda b=block, i=inp: b(i).sum(), exclude=tuple(block.parameters()))
            row[variant] = report.extra
        rows.append(row)


# ----------------------------------------------------------------------------------------------------
# CPU speed
# ----------------------------------------------------------------------------------------------------
def cpu_speed_table(
    n: int = 1 << 20, repeats: int = 15, compile_paths: bool = True, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """Per entry, fp32: torch-native (or naive composition) time ÷ actlab time, forward and forward+backward,
    and a plain copy of the same tensor ÷ actlab forward time, each the median (and quartiles) of
    ``repeats`` paired rounds (``paired_ratio``). Ratios > 1 mean actlab is faster."""
    from actlab.kernels import register

    register()  # actlab.functional goes through the fast paths being measured
    before = cpu.compile_setting()
    cpu.set_compile("always" if compile_paths else "never")
    rows = []
    inner = max(1, min(100, (1 << 20) // n))  # small tensors: time many calls per sample
    try:
        x = torch.randn(n, generator=torch.Generator().manual_seed(0)) * 3
        grad = torch.randn(n, generator=torch.Generator().manual_seed(1))
        wanted = names or actlab.names()
        for name in wanted:
            spec = actlab.spec(name)
            if spec.kind != "elementwise" or spec.stochastic or spec.learnable:
                continue
            native = _torch_native(spec)
            baseline, kind = (native, "torch") if native is not None else (NAIVE.get(name), "naive")
            if baseline is None:
                continue

            def act(t: Tensor, s: Any = spec) -> Tensor:
                return actlab.functional.apply(s, t)

            with torch.no_grad():
                fwd = paired_ratio(lambda b=baseline: b(x), lambda: act(x), repeats, inner)
                copy = paired_ratio(lambda: x.clone(), lambda: act(x), repeats, inner)
            both = paired_ratio(_fwd_bwd(baseline, x, grad), _fwd_bwd(act, x, grad), repeats, inner)
            rows.append(
                {
                    "name": name,
                    "baseline": kind,
                    "forward_ratio": fwd.median,
                    "forward_quartiles": [fwd.q1, fwd.q3],
                    "fwd_bwd_ratio": both.median,
                    "fwd_bwd_quartiles": [both.q1, both.q3],
                    "copy_over_forward": copy.median,
                    "path": _path_name(spec, x),
                }
            )
    finally:
        cpu.set_compile(before)
    return rows


def _path_name(spec: Any, x: Tensor) -> str:
    op = cpu.native_op(spec, x, spec.bind())
    if op is not None:
        return "actlab C" if op is ckernels.ops().get(spec.name) else "torch op"
    if (
        cpu.wants_compile(x)
        and cpu._COMPILED.get(
            (*cpu.static_key(spec, spec.bind()), "forward", x.dtype, cpu.formula_dtype(spec, x.dtype)), 0
        )
        is not None
    ):
        return "compiled fp32" if cpu.formula_dtype(spec, x.dtype) == x.dtype else "compiled fp64"
    return "reference"


def glu_speed_table(rows: int = 2048, hidden: int = 1024, repeats: int = 5) -> list[dict[str, Any]]:
    """Gated entries, fp32: torch eager composition ÷ actlab fused (forward+backward)."""
    out = []
    before = cpu.compile_setting()
    cpu.set_compile("always")
    try:
        x = torch.randn(rows, 2 * hidden)
        grad = torch.randn(rows, hidden)
        for gated, gate in (
            ("glu", torch.sigmoid),
            ("reglu", torch.relu),
            ("swiglu", F.silu),
            ("geglu", F.gelu),
        ):
            if gated not in actlab.names():
                continue
            eager = _TorchGated(gate)
            lean_mod = LeanActivation(gated)
            t = median_time({"torch": _fwd_bwd(eager, x, grad), "lean": _fwd_bwd(lean_mod, x, grad)}, repeats)
            out.append({"name": gated, "fwd_bwd_ratio": t["torch"] / t["lean"], "lean_ms": t["lean"] * 1e3})
    finally:
        cpu.set_compile(before)
    return out


# ----------------------------------------------------------------------------------------------------
# GPU speed (Triton)
# ----------------------------------------------------------------------------------------------------
def cuda_speed_table(n: int = 1 << 24, repeats: int = 20) -> list[dict[str, Any]]:  # pragma: no cover - GPU
    """Per Triton kernel: fraction of a device-to-device copy's bandwidth, ratios to torch eager and to
    torch.compile of torch's op. Needs CUDA and triton."""
    from actlab.kernels import triton_kernels

    if not triton_kernels.available():
        raise RuntimeError("actlab bench --device cuda needs a CUDA device and triton")
    rows = []
    for dtype in (torch.float32, torch.bfloat16):
        x = torch.randn(n, device="cuda", dtype=dtype)
        g = torch.randn(n, device="cuda", dtype=dtype)
        rows += [_cuda_row(name, x, g, repeats) for name in triton_kernels.UNARY if name in actlab.names()]
    return rows


def _cuda_row(name: str, x: Tensor, g: Tensor, repeats: int) -> dict[str, Any]:  # pragma: no cover - GPU
    from actlab.kernels import triton_kernels

    spec = actlab.spec(name)
    fn_id, saves, p0, p1 = triton_kernels.unary_plan(spec, spec.bind())
    native = _torch_native(spec) or NAIVE.get(name) or (lambda t: t)
    compiled = torch.compile(native)
    pair = torch.empty(2 * x.numel(), device=x.device, dtype=x.dtype)
    saved = triton_kernels.unary_forward(fn_id, x, p0, p1) if saves == "output" else x
    t = _cuda_times(
        {
            "copy": lambda: x.clone(),
            "copy2": lambda: pair.clone(),
            "triton": lambda: triton_kernels.call(spec, x, spec.bind(), False),
            "triton_bwd": lambda: triton_kernels.unary_backward(fn_id, g, saved, p0, p1),
            "torch": lambda: native(x),
            "compiled": lambda: compiled(x),
        },
        repeats,
    )
    return {
        "name": name,
        "dtype": str(x.dtype).replace("torch.", ""),
        "fwd_bandwidth_of_copy": t["copy"] / t["triton"],
        # backward moves 3 tensors (grad, saved in; dx out); a copy of 2n elements moves 4
        "bwd_bandwidth_of_copy": t["copy2"] * 0.75 / t["triton_bwd"],
        "fwd_vs_torch": t["torch"] / t["triton"],
        "fwd_vs_compile": t["compiled"] / t["triton"],
    }


def _cuda_times(
    fns: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, float]:  # pragma: no cover - GPU
    for fn in fns.values():
        fn()
    torch.cuda.synchronize()
    out = {}
    for key, fn in fns.items():
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        out[key] = statistics.median(times)
    return out


def run_all(device: str = "cpu", quick: bool = False) -> dict[str, Any]:
    """Every table in one run (what ``actlab bench --json`` prints)."""
    threads = torch.get_num_threads()
    import platform

    result: dict[str, Any] = {
        "device": device,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), {platform.system()}",
        "torch": torch.__version__,
        "threads": threads,
        "c_kernels": ckernels.isa() if ckernels.enabled() else "off",
        "saved_bytes_per_element_fp32": saved_memory_table(n=1 << 12 if quick else 1 << 16),
        "training_step_saved_bytes": model_memory_table(),
    }
    if device == "cuda":
        result["cuda_speed"] = cuda_speed_table(n=1 << 20 if quick else 1 << 24)
    else:
        names = (
            [
                "relu",
                "sigmoid",
                "tanh",
                "leaky_relu",
                "hardtanh",
                "squareplus",
                "squared_relu",
                "quick_gelu",
                "isru",
                "bent_identity",
            ]
            if quick
            else None
        )
        result["cpu_speed_fp32"] = cpu_speed_table(
            n=1 << 18 if quick else 1 << 20, repeats=5 if quick else 15, names=names
        )
        # a typical training-size tensor (100×100): dispatch overhead, not bandwidth, decides here
        result["cpu_speed_fp32_small"] = cpu_speed_table(
            n=10_000,
            repeats=5 if quick else 15,
            compile_paths=False,
            names=[
                n for n in ("relu", "sigmoid", "tanh", "leaky_relu", "hardtanh", "elu") if n in actlab.names()
            ],
        )
        result["glu_speed_fp32"] = glu_speed_table(rows=256 if quick else 2048, repeats=3 if quick else 5)
    result["notes"] = {
        "ratio": "baseline time / actlab time; > 1 means actlab is faster. CPU speed: the median (and "
        "quartiles) of per-round ratios, each round timing both back to back in alternating order; "
        "GLU and CUDA: medians of interleaved repeats",
        "memory": "saved_tensors_hooks, each storage counted once, parameters excluded",
    }
    return result
