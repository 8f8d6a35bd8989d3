"""`actlab bench`: saved memory per activation and per training step, and speed ratios, in one run."""

from __future__ import annotations

from typing import Any

import typer

from actlab.commands.common import clean_errors, print_json, stderr, stdout


def register(app: typer.Typer) -> None:
    @app.command("bench")
    @clean_errors
    def bench(
        device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
        json_output: bool = typer.Option(False, "--json", help="one JSON document on stdout"),
        quick: bool = typer.Option(
            False, "--quick", help="smaller tensors, fewer repeats, a subset of entries"
        ),
        threads: int = typer.Option(
            1, "--threads", help="torch CPU threads (1 is steadiest on a shared machine)"
        ),
    ) -> None:
        """Measure lean/fused kernels against torch: bytes saved for backward and time ratios."""
        import torch

        from actlab.kernels import bench as kbench

        if device not in ("cpu", "cuda"):
            raise ValueError(f"--device {device!r}: use cpu or cuda")
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available here")
        torch.set_num_threads(threads)
        stderr.print(f"measuring on {device} ({'quick' if quick else 'full'}, {threads} thread(s)) ...")
        result = kbench.run_all(device, quick=quick)
        if json_output:
            print_json(result)
            return
        _print_tables(result)


def _fmt(pair: Any) -> str:
    if not pair:
        return "-"
    total, extra = pair
    return f"{total:.3g} (+{extra:.3g})"


def _print_tables(result: dict[str, Any]) -> None:
    from rich.table import Table

    from actlab.kernels.bench import format_ratio

    t = Table(
        title="Bytes kept for backward per element, fp32: total (+ beyond the output the next layer keeps)"
    )
    for col in ("activation", "torch eager", "actlab reference", "lean mode", "actlab lean", "lean invert"):
        t.add_column(col)
    for r in result["saved_bytes_per_element_fp32"]:
        t.add_row(
            r["name"],
            _fmt(r.get("torch")),
            _fmt(r.get("reference")),
            r["lean_mode"],
            _fmt(r.get("lean")),
            _fmt(r.get("invert")),
        )
    stdout.print(t)
    t = Table(title="Saved activation bytes of one training step (parameters excluded)")
    for col in ("activation", "model", "torch", "actlab", "lean", "lean invert", "lean / torch"):
        t.add_column(col)
    for r in result["training_step_saved_bytes"]:
        best = min(v for k, v in r.items() if k.startswith("lean"))
        t.add_row(
            r["activation"],
            r["model"],
            f"{r['torch']:,}",
            f"{r['actlab']:,}",
            f"{r['lean']:,}",
            f"{r.get('lean_invert', 0):,}" if "lean_invert" in r else "-",
            f"{best / r['torch']:.2f}",
        )
    stdout.print(t)
    for key, size in (("cpu_speed_fp32", "large tensor"), ("cpu_speed_fp32_small", "10,000 elements")):
        if key not in result:
            continue
        t = Table(
            title=f"CPU fp32 speed, {size}, {result['threads']} thread(s), {result.get('machine', '')}: "
            "baseline time / actlab time (> 1: actlab faster), median (quartiles) of paired rounds"
        )
        for col in ("activation", "baseline", "path", "forward", "fwd+bwd", "copy / forward"):
            t.add_column(col)
        for r in result[key]:
            t.add_row(
                r["name"],
                r["baseline"],
                r["path"],
                format_ratio(r["forward_ratio"], r["forward_quartiles"]),
                format_ratio(r["fwd_bwd_ratio"], r["fwd_bwd_quartiles"]),
                f"{r['copy_over_forward']:.2f}",
            )
        stdout.print(t)
    if "glu_speed_fp32" in result:
        t = Table(title="Gated (GLU) fp32 forward+backward: torch eager / actlab fused")
        t.add_column("activation")
        t.add_column("ratio")
        for r in result["glu_speed_fp32"]:
            t.add_row(r["name"], f"{r['fwd_bwd_ratio']:.2f}")
        stdout.print(t)
    if "cuda_speed" in result:
        t = Table(
            title="CUDA (Triton): bandwidth as a fraction of a copy; ratios to torch eager and torch.compile"
        )
        for col in ("activation", "dtype", "fwd bw/copy", "bwd bw/copy", "vs torch", "vs compile"):
            t.add_column(col)
        for r in result["cuda_speed"]:
            t.add_row(
                r["name"],
                r["dtype"],
                f"{r['fwd_bandwidth_of_copy']:.2f}",
                f"{r['bwd_bandwidth_of_copy']:.2f}",
                f"{r['fwd_vs_torch']:.2f}",
                f"{r['fwd_vs_compile']:.2f}",
            )
        stdout.print(t)
    stdout.print(result["notes"]["ratio"] + "; " + result["notes"]["memory"])
