"""Helpers shared by the CLI command modules: JSON output and clean error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

stdout = Console()
stderr = Console(stderr=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout, nothing else (for scripts)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def clean_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input (ValueError/TypeError/FileNotFoundError) becomes a one-line message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, FileNotFoundError, KeyError) as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else err
            stderr.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper
