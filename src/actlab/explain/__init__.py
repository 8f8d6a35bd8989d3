"""Explain: the classic claims about activation functions as demonstrations that compute their own
evidence, the advisor, and the user guide built from both."""

from __future__ import annotations

import difflib
import importlib
import time
from collections.abc import Callable
from pathlib import Path

from actlab.explain.common import DemoResult

# demo name -> module in this package (each has run(out_dir, seed) -> DemoResult)
DEMOS: dict[str, str] = {
    "collapse": "collapse",
    "step": "step",
    "saturation": "saturation",
    "dying-relu": "dying_relu",
    "selu": "selu",
    "approximate": "approximate",
    "softmax": "softmax",
}


def demo_names() -> list[str]:
    return list(DEMOS)


def _runner(name: str) -> Callable[..., DemoResult]:
    key = name.strip().lower().replace("_", "-")
    if key not in DEMOS:
        close = difflib.get_close_matches(key, DEMOS, n=3)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown demo {name!r}{hint}. Demos: {', '.join(DEMOS)}")
    return importlib.import_module(f"actlab.explain.{DEMOS[key]}").run


def run_demo(name: str, out_dir: str | Path | None = None, seed: int = 0) -> DemoResult:
    """Run one demonstration; its figure goes to ``out_dir`` when given."""
    runner = _runner(name)
    start = time.perf_counter()
    result = runner(Path(out_dir) if out_dir is not None else None, seed=seed)
    result.seconds = time.perf_counter() - start
    return result


__all__ = ["DEMOS", "DemoResult", "demo_names", "run_demo"]
