from typer.testing import CliRunner

import actlab.playground
from actlab.cli import app


def run(monkeypatch, *args):
    calls = []
    monkeypatch.setattr(actlab.playground, "serve", lambda **kw: calls.append(kw))
    result = CliRunner().invoke(app, ["playground", "--no-browser", *args])
    return result, calls


def test_serves_on_loopback_and_prints_the_url(monkeypatch):
    result, calls = run(monkeypatch, "--port", "8123")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.stdout
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8123
    assert "warning" not in result.stderr


def test_a_wider_host_is_opt_in_with_a_warning(monkeypatch):
    result, calls = run(monkeypatch, "--host", "0.0.0.0", "--port", "8124")
    assert result.exit_code == 0 and calls[0]["host"] == "0.0.0.0"
    assert "warning" in result.stderr


def test_limits_are_passed_and_bounded(monkeypatch):
    result, calls = run(monkeypatch, "--max-layers", "10", "--max-width", "16")
    assert result.exit_code == 0
    assert calls[0]["limits"].max_layers == 10 and calls[0]["limits"].max_width == 16
    result, calls = run(monkeypatch, "--max-width", "5000")
    assert result.exit_code == 2 and not calls and "max_width" in result.stderr
