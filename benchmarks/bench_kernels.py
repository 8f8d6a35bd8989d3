"""Speed ratios of actlab's fast paths against torch (or a naive composition) measured in the same run.

python benchmarks/bench_kernels.py [--device cpu|cuda] [--quick]
"""

from __future__ import annotations

import argparse
import json

import torch

from actlab.kernels import bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        out = {"cuda_speed": bench.cuda_speed_table(n=1 << 20 if args.quick else 1 << 24)}
    else:
        out = {
            "cpu_speed_fp32": bench.cpu_speed_table(
                n=1 << 18 if args.quick else 1 << 20, repeats=5 if args.quick else 15
            ),
            "glu_speed_fp32": bench.glu_speed_table(rows=256 if args.quick else 2048),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
