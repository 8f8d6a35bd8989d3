"""The `actlab` command line: thin. Each area registers its commands from actlab/commands/<area>.py.

Human tables go to stdout, `--json` output to stdout for scripts, progress bars and logs to stderr.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="actlab",
    help="Activation functions of neural networks: the catalogue, the lab, demonstrations and a playground.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines register(app: typer.Typer) -> None.
COMMAND_MODULES = ("catalog", "lab", "explain", "surgery", "kernels", "playground")


def _register_all() -> None:
    for area in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"actlab.commands.{area}")
        except ModuleNotFoundError as err:
            if err.name == f"actlab.commands.{area}":
                continue  # that area has no commands yet
            raise
        module.register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
