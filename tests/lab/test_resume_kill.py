"""A sweep killed with SIGKILL mid-way resumes: whole runs only, none twice, finished ones not retrained."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from actlab.lab.store import Store

SEEDS = 4
ACTS = ("tanh", "sigmoid")
PLANNED = SEEDS * len(ACTS)


def _command(store, report):
    return [
        sys.executable,
        "-m",
        "actlab.cli",
        "compare",
        "--task",
        "circle",
        "--acts",
        ",".join(ACTS),
        "--seeds",
        str(SEEDS),
        "--steps",
        "200",
        "--width",
        "8",
        "--store",
        str(store),
        "-o",
        str(report),
        "--json",
    ]


def _finished_runs(store) -> int:
    """Finished runs as another process sees them (0 while the store does not exist yet)."""
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1.0) as db:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet, or the writer holds a lock
        return 0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_mid_sweep_then_resume(tmp_path):
    store, report = tmp_path / "runs.sqlite", tmp_path / "report"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    victim = subprocess.Popen(
        _command(store, report), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path
    )
    deadline = time.monotonic() + 240
    try:
        while _finished_runs(store) < 1:
            assert victim.poll() is None, "the sweep ended before any run was stored"
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL

    with Store(store) as opened:
        survivors = opened.list_runs()
        raw = sqlite3.connect(store)
        details = raw.execute("SELECT COUNT(*) FROM run_details").fetchone()[0]
        raw.close()
    assert 1 <= len(survivors) < PLANNED, "the kill must land mid-sweep"
    assert details == len(survivors)  # every stored run is whole

    resumed = subprocess.run(
        _command(store, report), capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["runs"]["reused"] == len(survivors)
    assert summary["runs"]["trained"] == PLANNED - len(survivors)
    assert all(row["n"] == SEEDS for row in summary["activations"])

    with Store(store) as opened:
        final = opened.list_runs()
    assert len(final) == PLANNED
    assert len({row["key"] for row in final}) == PLANNED  # no duplicates
    by_key = {row["key"]: row for row in final}
    for before in survivors:  # finished runs were kept, not retrained: same id, same timestamp
        assert by_key[before["key"]] == before
