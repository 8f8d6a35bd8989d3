"""The playground: a local web page where people watch networks learn with the activations they choose.

    >>> from actlab.playground import create_app, serve
    >>> serve(port=8000)                     # blocks; the CLI is `actlab playground`

Training runs server-side in PyTorch (one engine per browser tab) and streams frames to the page over
a WebSocket; the page itself is static HTML, JavaScript and CSS shipped inside the package (no CDN).
"""

from __future__ import annotations

from typing import Any

from actlab.playground.settings import Limits, Settings, SettingsError, validate_settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def create_app(limits: Limits | None = None) -> Any:
    """The FastAPI application (imported lazily so `import actlab` stays light)."""
    from actlab.playground.server import create_app as _create_app

    return _create_app(limits)


def serve(
    host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None, log_level: str = "warning"
) -> None:
    """Run the playground server until interrupted (Ctrl-C stops it cleanly)."""
    import uvicorn

    limits = limits or Limits()
    config = uvicorn.Config(
        create_app(limits),
        host=host,
        port=port,
        log_level=log_level,
        ws_max_size=limits.max_message_bytes,
        limit_concurrency=4 * limits.max_sessions + 16,
        timeout_keep_alive=5,
    )
    uvicorn.Server(config).run()


__all__ = ["LOOPBACK", "Limits", "Settings", "SettingsError", "create_app", "serve", "validate_settings"]
