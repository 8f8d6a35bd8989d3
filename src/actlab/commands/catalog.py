"""The catalogue's commands: `actlab list`, `info`, `plot`, `gallery` and `docs-pages`.

Thin: they parse, call actlab / actlab.plotting / actlab.docs_pages, and print. Matplotlib is imported
only by the commands that draw, so `actlab list` stays quick.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

import actlab
from actlab.catalog.spec import Spec, all_specs, lookup
from actlab.commands.common import clean_errors, print_json, stdout
from actlab.docs_pages import range_text

KINDS = ("elementwise", "vector", "gated")


def jsonable(value: Any) -> Any:
    """Strict JSON: ±inf and NaN become the strings "inf", "-inf", "nan" (as Properties.as_dict does)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def select(family: str | None = None, kind: str | None = None) -> list[Spec]:
    """Catalogue entries, optionally of one family and/or kind; unknown values name the allowed ones."""
    specs = all_specs()
    if family is not None:
        families = sorted({s.family for s in specs})
        if family not in families:
            raise ValueError(f"unknown family {family!r}; families: {', '.join(families)}")
        specs = [s for s in specs if s.family == family]
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
        specs = [s for s in specs if s.kind == kind]
    return specs


def parse_value(text: str) -> Any:
    """A --param value: int, float (inf allowed), true/false, else the string itself ('tanh')."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_params(items: list[str], names: list[str]) -> dict[str, dict[str, Any]]:
    """`--param beta=2` (every listed activation with a `beta`) or `--param elu.alpha=0.5` (one)."""
    specs = [lookup(n) for n in names]
    out: dict[str, dict[str, Any]] = {s.name: {} for s in specs}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param {item!r}: use name=value or activation.name=value, e.g. alpha=0.5")
        target, dot, pname = key.strip().rpartition(".")
        targets = [lookup(target)] if dot else specs
        if dot and targets[0].name not in out:
            raise ValueError(f"--param {item!r}: {target!r} is not one of the plotted activations")
        hit = False
        for s in targets:
            if pname in _param_names(s):
                out[s.name][pname] = parse_value(raw)
                hit = True
        if not hit:
            have = {s.name: sorted(_param_names(s)) for s in targets}
            listed = "; ".join(f"{n}: {', '.join(p) or 'none'}" for n, p in have.items())
            raise ValueError(f"--param {item!r}: no plotted activation has a parameter {pname!r} ({listed})")
    for s in specs:  # validate now, so a bad value is a clear error before any drawing
        own = {k: v for k, v in out[s.name].items() if k in {p.name for p in s.params}}
        s.bind(**own)
        if s.kind == "gated" and s.gate:
            gate = lookup(s.gate)
            gate.bind(**{k: v for k, v in out[s.name].items() if k in {p.name for p in gate.params}})
    return out


def _param_names(spec: Spec) -> set[str]:
    names = {p.name for p in spec.params}
    if spec.kind == "gated" and spec.gate:  # the plot draws the gate, so its parameters apply too
        names |= {p.name for p in lookup(spec.gate).params}
    return names


def _yes(flag: bool) -> str:
    return "yes" if flag else "—"


def _params_text(spec: Spec) -> str:
    return ", ".join(f"{p.name}={p.default!r}" for p in spec.params) or "—"


def short_torch_name(spec: Spec) -> str:
    """torch.nn.functional.gelu → F.gelu, torch.nn.Identity → nn.Identity (a table cell, not an import)."""
    name = spec.torch_function or spec.torch_module
    if not name:
        return "—"
    return name.replace("torch.nn.functional.", "F.").replace("torch.nn.", "nn.")


def list_table(specs: list[Spec], width: int = 200) -> Table:
    """The catalogue as a rich table; formulas only where the terminal is wide enough to read them."""
    wide = width >= 150
    caption = None if wide else "formulas: widen the terminal, or `actlab info NAME`, or `actlab list --json`"
    table = Table(
        title=f"actlab catalogue: {len(specs)} activation functions",
        caption=caption,
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        pad_edge=wide,
        collapse_padding=not wide,
    )
    roomy = width >= 110  # below that the family column gives way (`--family` filters by it)
    # names are never cut: they are what the user types next
    table.add_column(
        "name", no_wrap=True, min_width=max((len(s.name) for s in specs), default=4), style="bold"
    )
    if roomy:
        table.add_column("family", no_wrap=True)
    if wide:
        table.add_column("formula", overflow="fold", ratio=3)
    table.add_column("params", overflow="fold", ratio=1, min_width=10)
    table.add_column("keeps", no_wrap=True)
    table.add_column("mono", no_wrap=True)
    table.add_column("bounded", no_wrap=True)
    table.add_column("cont.", no_wrap=True)
    table.add_column("torch", overflow="fold", ratio=1, min_width=8)
    for s in specs:
        p = s.properties
        bounded = {(True, True): "both", (True, False): "below", (False, True): "above"}.get(
            (p.bounded_below, p.bounded_above), "—"
        )
        row = [
            s.name,
            *([s.family] if roomy else []),
            *([s.formula] if wide else []),
            _params_text(s),
            s.saves,
        ]
        row += [_yes(p.monotonic), bounded, p.continuity, short_torch_name(s)]
        table.add_row(*row)
    return table


def print_info(spec: Spec) -> None:
    out = stdout
    out.print(f"[bold]{spec.name}[/]  ({spec.family}, {spec.kind})", highlight=False, soft_wrap=True)
    if spec.summary:
        out.print(spec.summary, highlight=False, soft_wrap=True)
    if spec.aliases:
        out.print(f"aliases: {', '.join(spec.aliases)}", highlight=False, soft_wrap=True)
    out.print()
    out.print(f"  {spec.formula}", highlight=False, markup=False, soft_wrap=True)
    out.print(f"  {spec.derivative_formula}", highlight=False, markup=False, soft_wrap=True)
    if spec.kind == "gated" and spec.gate:
        out.print(
            f"  input split in halves a, b along dim; output a · {spec.gate}(b)",
            highlight=False,
            soft_wrap=True,
        )
    if spec.kink_note:
        out.print(f"\nat the kinks: {spec.kink_note}", highlight=False, markup=False, soft_wrap=True)

    props = Table(title="properties", show_header=False, title_justify="left")
    props.add_column("property")
    props.add_column("value")
    p = spec.properties
    rows = {
        "output range": range_text(spec),
        "monotonic": p.monotonic,
        "continuity": p.continuity,
        "zero-centred": p.zero_centred,
        "saturating (both sides)": p.saturating,
        "self-gated": p.self_gated,
        "backward keeps": spec.saves,
    }
    for key, value in rows.items():
        props.add_row(key, ("yes" if value else "no") if isinstance(value, bool) else str(value))
    out.print(props)

    # a list, not a table: defaults (rational's coefficient tuples) and docs stay whole at any width
    if spec.params:
        out.print("parameters:", highlight=False)
        for prm in spec.params:
            learnable = "; learnable" if prm.learnable else ""
            out.print(
                f"  {prm.name} = {prm.default!r}   ({prm.allowed()}{learnable})",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            if prm.doc:
                out.print(f"      {prm.doc}", highlight=False, markup=False, soft_wrap=True)
    else:
        out.print("parameters: none", highlight=False, soft_wrap=True)

    out.print(f"origin: {spec.origin} ({spec.year})", highlight=False, markup=False, soft_wrap=True)
    equivalents = {
        "torch": spec.torch_function,
        "torch module": spec.torch_module,
        "keras": spec.keras,
        "jax": spec.jax,
    }
    for label, value in equivalents.items():
        out.print(f"{label}: {value or '— (no equivalent)'}", highlight=False, markup=False, soft_wrap=True)
    if spec.approximates:
        out.print(f"approximates: {spec.approximates}", highlight=False, soft_wrap=True)
    out.print(
        f"actlab: actlab.functional.{spec.name}(x), actlab.get({spec.name!r})",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    @app.command("list")
    @clean_errors
    def list_command(
        json_output: Annotated[
            bool, typer.Option("--json", help="Print a JSON array instead of a table.")
        ] = False,
        family: Annotated[
            str | None, typer.Option("--family", help="Only this family, e.g. rectifiers.")
        ] = None,
        kind: Annotated[str | None, typer.Option("--kind", help="elementwise, vector or gated.")] = None,
    ) -> None:
        """List the catalogue: formula, parameters, what backward keeps, properties, torch name."""
        specs = select(family, kind)
        if json_output:
            print_json([jsonable(s.info()) for s in specs])
        else:
            stdout.print(list_table(specs, stdout.width))

    @app.command("info")
    @clean_errors
    def info_command(
        name: Annotated[str, typer.Argument(help="Activation name or alias, e.g. gelu.")],
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Everything about one activation: formulas, properties, parameters, origin, equivalents."""
        spec = actlab.spec(name)
        if json_output:
            print_json(jsonable(spec.info()))
        else:
            print_info(spec)

    @app.command("plot")
    @clean_errors
    def plot_command(
        names: Annotated[list[str], typer.Argument(help="One or more activation names.")],
        output: Annotated[Path, typer.Option("-o", "--output", help="Output file: .png, .svg or .pdf.")],
        derivative: Annotated[bool, typer.Option("--derivative", help="Also draw f'(x), dashed.")] = False,
        x_range: Annotated[
            tuple[float, float] | None, typer.Option("--range", help="Input range A B (A < B).")
        ] = None,
        param: Annotated[
            list[str] | None,
            typer.Option(
                "--param", help="name=value for every listed activation having it, or act.name=value."
            ),
        ] = None,
    ) -> None:
        """Plot activations (and their derivatives) on one figure."""
        from actlab import plotting

        plotting.check_output(output)
        plotting.check_range(x_range)
        params = parse_params(list(param or []), names)
        path = plotting.plot(names, output, derivative=derivative, x_range=x_range, params=params)
        stdout.print(f"wrote {path}", highlight=False, soft_wrap=True)

    @app.command("gallery")
    @clean_errors
    def gallery_command(
        output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path("gallery"),
        names: Annotated[
            list[str] | None, typer.Option("--name", help="Only these activations (repeatable).")
        ] = None,
    ) -> None:
        """Every activation with its derivative, one PNG each, and an HTML index page."""
        import time

        from actlab import plotting

        start = time.perf_counter()
        result = plotting.gallery(output, names or None)
        seconds = time.perf_counter() - start
        stdout.print(
            f"wrote {len(result.images)} images and {result.index} in {seconds:.1f} s",
            highlight=False,
            soft_wrap=True,
        )

    @app.command("docs-pages")
    @clean_errors
    def docs_pages_command(
        output: Annotated[Path, typer.Option("-o", "--output", help="Directory for the pages.")] = Path(
            "docs/activations"
        ),
        names: Annotated[
            list[str] | None, typer.Option("--name", help="Only these activations (repeatable).")
        ] = None,
    ) -> None:
        """Write one Markdown page per activation (with its plot) and an index, from the catalogue."""
        from actlab import docs_pages

        result = docs_pages.write_pages(output, names or None)
        stdout.print(
            f"wrote {len(result.pages)} activation pages and {result.index}", highlight=False, soft_wrap=True
        )
