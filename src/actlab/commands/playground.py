"""`actlab playground`: start the local playground server and open the page."""

from __future__ import annotations

import socket
import threading
import webbrowser

import typer

from actlab.commands.common import clean_errors, stderr, stdout


def register(app: typer.Typer) -> None:
    @app.command("playground")
    @clean_errors
    def playground(
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port (0 picks a free one)."),
        host: str = typer.Option(
            "127.0.0.1", "--host", help="Interface to bind; loopback unless you opt in."
        ),
        no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser tab."),
        max_layers: int = typer.Option(
            6, "--max-layers", help="Most hidden layers a network may have (≤ 16)."
        ),
        max_width: int = typer.Option(8, "--max-width", help="Most neurons per hidden layer (≤ 64)."),
        max_sessions: int = typer.Option(8, "--max-sessions", help="Most tabs training at once (≤ 64)."),
    ) -> None:
        """A local web page where you watch networks learn with the activations you choose."""
        from actlab.playground import LOOPBACK, Limits, serve

        limits = Limits(max_layers=max_layers, max_width=max_width, max_sessions=max_sessions)
        if host not in LOOPBACK:
            stderr.print(
                f"[bold yellow]warning:[/] binding {host}: anyone who can reach this machine can use the "
                "playground and its CPU. Use the default 127.0.0.1 unless you mean it.",
                highlight=False,
            )
        if port == 0:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
        stdout.print(f"actlab playground: {url}  (Ctrl-C stops it)", highlight=False)
        if not no_browser:
            threading.Timer(1.0, lambda: webbrowser.open(url)).start()
        try:
            serve(host=host, port=port, limits=limits)
        except KeyboardInterrupt:
            pass
        except OSError as err:
            raise ValueError(f"cannot serve on {host}:{port}: {err.strerror or err}") from None
