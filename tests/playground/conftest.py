"""Fixtures for the playground: an in-process client, a live server on a free loopback port, a browser."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actlab.playground import Limits, create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "playground"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def client():
    from fastapi.testclient import TestClient

    with TestClient(create_app(Limits(max_sessions=3))) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """`actlab playground` itself, in a subprocess on a free loopback port (its own CPU time and GIL,
    as a user runs it); stopped with SIGINT, as Ctrl-C stops it."""
    import httpx

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "actlab.cli", "playground", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the playground server exited: {process.stdout.read()}")
        try:
            if httpx.get(url + "api/config", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the playground server did not start within 90 s")
        time.sleep(0.2)
    yield url
    process.send_signal(signal.SIGINT)
    try:
        returncode = process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("the playground server did not stop on SIGINT (Ctrl-C)") from None
    output = process.stdout.read()
    assert returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip(
            "the chromium binary is not installed (make test installs it via scripts/install_chromium.sh)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda err: pg.errors.append(str(err)))
    yield pg
    context.close()
