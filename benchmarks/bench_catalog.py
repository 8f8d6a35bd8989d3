"""Every catalogue entry: forward and forward+backward time of actlab against torch's native op where
one exists (else a naive composition) and against a plain copy of the same tensor, fp32 on CPU, all
measured in this run. Ratios are baseline time ÷ actlab time: above 1 actlab is faster. Each is the
median of paired rounds (both timed back to back, alternating order), with the quartiles in brackets.

By default actlab runs as users get it (verified native fast paths, else the exact fp64 reference
path); ``--compile`` opts in to the compiled paths (about 20 s of compilation per entry).

    python benchmarks/bench_catalog.py [--quick] [--compile] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform

import torch

from actlab.kernels import bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2^18 elements, 5 rounds")
    parser.add_argument("--compile", action="store_true", help="opt in to the compiled paths")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = 1 << 18 if args.quick else 1 << 20
    rows = bench.cpu_speed_table(n=n, repeats=5 if args.quick else 15, compile_paths=args.compile)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"machine: {platform.machine()} · {os.cpu_count()} cores · torch {torch.__version__} · 1 thread · "
          f"fp32, {n} elements · load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(
        "| entry | path | baseline | forward: baseline time ÷ actlab | forward+backward: baseline ÷ actlab | copy time ÷ actlab forward |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        fwd = bench.format_ratio(r["forward_ratio"], r["forward_quartiles"])
        both = bench.format_ratio(r["fwd_bwd_ratio"], r["fwd_bwd_quartiles"])
        print(
            f"| {r['name']} | {r['path']} | {r['baseline']} | {fwd} | {both} | {r['copy_over_forward']:.2f} |"
        )


if __name__ == "__main__":
    main()
