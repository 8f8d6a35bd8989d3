"""Playground engine throughput: heatmap updates per second for the default network.

One update = train (one full epoch — 25 mini-batch steps
of 10 on the default 250 training points, as TensorFlow Playground counts an epoch), render the 100×100
output heatmap and the 20×20 neuron thumbnails, and serialise the frame to JSON. The server's own loop
trains for at most 60% of a frame period, then renders, so the page keeps its frame rate on a slow or
busy machine; that loop is measured too. Rates, not timed tests; run with `python benchmarks/bench_playground.py [--seconds 5] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from actlab.playground.data import UploadStore, load_points
from actlab.playground.engine import Engine
from actlab.playground.settings import Limits, Settings

TARGET_UPDATES_PER_S = 20.0


def rate(fn, seconds: float) -> float:
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per quantity")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the server runs it

    settings = Settings()
    engine = Engine(
        settings,
        load_points(
            settings.dataset,
            settings.seed,
            settings.n_points,
            settings.noise,
            UploadStore(1),
            settings.train_ratio,
        ),
    )
    steps_per_epoch = len(engine._batches) or -(-len(engine.y_train) // settings.batch_size)

    def update() -> None:
        engine.advance()
        json.dumps(engine.frame(), allow_nan=False)

    budget = 0.6 / Limits().max_fps  # what the server gives training per frame while playing

    def update_budgeted() -> None:
        engine.advance(budget_s=budget)
        json.dumps(engine.frame(), allow_nan=False)

    def render() -> None:
        json.dumps(engine.frame(), allow_nan=False)

    def step() -> None:
        engine.step(engine.x_train[:10], engine.y_train[:10])

    epochs_before = engine.epoch
    start = time.perf_counter()
    budgeted = rate(update_budgeted, args.seconds)
    epochs_per_s = (engine.epoch - epochs_before) / (time.perf_counter() - start)
    result = {
        "updates_per_s": rate(update, args.seconds),
        "server_loop_updates_per_s": budgeted,
        "server_loop_epochs_per_s": epochs_per_s,
        "frames_per_s_render_only": rate(render, args.seconds),
        "train_steps_per_s": rate(step, args.seconds),
        "steps_per_update": steps_per_epoch,
        "frame_bytes": len(json.dumps(engine.frame())),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "target_updates_per_s": TARGET_UPDATES_PER_S,
    }
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    print(
        f"playground engine, default network {list(settings.layers)} {list(settings.activations)}, "
        f"{len(engine.y_train)} training points, batch {settings.batch_size}"
    )
    print(
        f"  updates/s (1 epoch = {steps_per_epoch} steps + heatmap + thumbnails + JSON): "
        f"{result['updates_per_s']:.1f}  (target ≥ {TARGET_UPDATES_PER_S:g})"
    )
    print(
        f"  server loop (train ≤ {budget * 1e3:.0f} ms, then render): {budgeted:.1f} updates/s, "
        f"{epochs_per_s:.1f} epochs/s"
    )
    print(f"  frames/s, render + JSON only:  {result['frames_per_s_render_only']:.1f}")
    print(f"  train steps/s:                 {result['train_steps_per_s']:.0f}")
    print(
        f"  frame size: {result['frame_bytes']} bytes of JSON; cpus {result['cpus']}, "
        f"load average {result['load_average_1min']}"
    )


if __name__ == "__main__":
    main()
