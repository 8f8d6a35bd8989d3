"""Every catalogue entry: forward and forward+backward time of actlab against torch's native op where
one exists (else a naive composition) and against a plain copy of the same tensor, fp32 on CPU.

    python benchmarks/bench_catalog.py [--quick]
"""

from __future__ import annotations

import argparse
import json

import torch

from actlab.kernels import bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = bench.cpu_speed_table(n=1 << 18 if args.quick else 1 << 20, repeats=3 if args.quick else 7)
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
