"""The Triton kernels in Triton's interpreter, on the CPU: test_triton.py's tests, run in a child process
with ``TRITON_INTERPRET=1`` (the variable must be set before triton is imported). Without a GPU this is
what checks the kernels' indexing, masks, dtype handling, in-place GLU gradients and formulas; their
speed needs a GPU (``actlab bench --device cuda``)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="needs triton (CUDA builds of torch ship it)"
)
def test_triton_kernels_pass_their_tests_in_the_interpreter():
    env = {**os.environ, "TRITON_INTERPRET": "1", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/kernels/test_triton.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = run.stdout[-6000:] + run.stderr[-3000:]
    assert run.returncode == 0, tail
    summary = run.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 20, summary  # every kernel ran: none skipped
    assert "skipped" not in summary, summary
