"""Bytes kept for backward per element (torch eager vs actlab reference vs lean) and the saved
activation bytes of a training step on an MLP, a CNN and transformer MLP blocks, counted with
saved_tensors_hooks (never timed).

    python benchmarks/bench_memory.py
"""

from __future__ import annotations

import json

import torch

from actlab.kernels import bench


def main() -> None:
    torch.set_num_threads(1)
    out = {
        "saved_bytes_per_element_fp32": bench.saved_memory_table(),
        "training_step_saved_bytes": bench.model_memory_table(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
