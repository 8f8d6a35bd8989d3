"""Pictures of the catalogue: one function (and its derivative) per figure, several on one figure, and a
gallery of every entry with a self-contained HTML index.

Everything is drawn from the Specs: the forward through ``actlab.functional.apply`` and the derivative
through ``actlab.derivative`` (the f' backpropagation uses), over the Spec's ``plot_range``. Functions
return paths; nothing here prints. Matplotlib runs headless (Agg) on an object-oriented ``Figure``, so
no pyplot state leaks between calls and the gallery reuses one figure for every entry.

How the three kinds are drawn
-----------------------------
* elementwise — f(x) and f'(x) on the grid.
* vector (softmax family) — the first output of the two-element input [x, 0] along ``dim``: for
  softmax that is σ(x), for sparsemax clip((x + 1) / 2, 0, 1). The derivative is the Jacobian's
  diagonal entry ∂y₀/∂x₀.
* gated (GLU family) — the input is split in halves a, b and the output is a · g(b); the figure shows
  the gate's scalar function with a = 1, i.e. g(b) from the Spec named by ``spec.gate``, and says so in
  its title.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: figures are written to files, never shown
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import actlab  # noqa: E402
from actlab.catalog.spec import Spec, all_specs, lookup  # noqa: E402
from actlab.docs_pages import by_family, range_text  # noqa: E402

FORMATS = (".png", ".svg", ".pdf")
GRID_POINTS = 801
GALLERY_DPI = 100
GALLERY_SIZE = (4.2, 3.0)
FUNCTION_COLOR = "#1d4ed8"
DERIVATIVE_COLOR = "#ea580c"
PALETTE = ("#1d4ed8", "#ea580c", "#059669", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777")
# Reproducible files: no creation date in SVG/PDF metadata.
_METADATA = {".png": {"Software": None}, ".svg": {"Date": None}, ".pdf": {"CreationDate": None}}


@dataclass(frozen=True)
class Curve:
    """One activation sampled on a grid: what a figure draws."""

    name: str
    label: str
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    # Curves with jumps are broken there instead of being joined by a vertical line.
    y_continuous: bool
    dy_continuous: bool
    note: str = ""
    # the note's short form, for figures with several curves
    short_note: str = ""


@dataclass(frozen=True)
class GalleryResult:
    """What ``gallery`` wrote."""

    directory: Path
    images: dict[str, Path]
    index: Path


# ----------------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------------
def check_range(x_range: Sequence[float] | None) -> tuple[float, float] | None:
    """``(a, b)`` with finite a < b, or ``ValueError`` saying what is allowed."""
    if x_range is None:
        return None
    if len(x_range) != 2:
        raise ValueError(f"range needs two numbers A B with A < B, got {list(x_range)!r}")
    a, b = float(x_range[0]), float(x_range[1])
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"range must be finite, got {a} {b}")
    if a >= b:
        raise ValueError(f"range A B needs A < B, got {a:g} {b:g}")
    return a, b


def check_output(path: str | Path) -> Path:
    """The output path if its extension is a format we write, else ``ValueError``."""
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot write {str(out)!r}: the file name must end in one of {', '.join(FORMATS)}")
    return out


def sample(
    name: str | Spec,
    x_range: Sequence[float] | None = None,
    params: Mapping[str, Any] | None = None,
    points: int = GRID_POINTS,
) -> Curve:
    """f and f' of one catalogue entry on ``points`` evenly spaced inputs (float64)."""
    spec = lookup(name)
    a, b = check_range(x_range) or spec.plot_range
    x = torch.linspace(a, b, points, dtype=torch.float64)
    params = dict(params or {})
    if spec.kind != "elementwise" and "dim" in params:
        raise ValueError(f"{spec.name}: a plot fixes dim itself (it draws a scalar slice); leave dim out")
    with torch.no_grad():
        if spec.kind == "gated":
            y, dy, label, note, short = _sample_gated(spec, x, params)
        elif spec.kind == "vector":
            y, dy, label, note, short = _sample_vector(spec, x, params)
        else:
            y = actlab.functional.apply(spec, x, **params)
            dy = actlab.derivative(spec.name, x, **params)
            label, note, short = _label(spec.name, params), "", ""
    continuity = _continuity(spec)
    return Curve(
        name=spec.name,
        label=label,
        x=x.numpy(),
        y=y.detach().to(torch.float64).numpy(),
        dy=dy.detach().to(torch.float64).numpy(),
        y_continuous=continuity != "discontinuous",
        dy_continuous=continuity not in ("discontinuous", "C0"),
        note=note,
        short_note=short,
    )


def _continuity(spec: Spec) -> str:
    if spec.kind == "gated" and spec.gate:
        return lookup(spec.gate).properties.continuity
    return spec.properties.continuity


def _label(name: str, params: Mapping[str, Any]) -> str:
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"


def _sample_vector(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> tuple:
    # A two-element input [x, 0] along the last dimension; the first output and ∂y₀/∂x₀.
    pair = torch.stack([x, torch.zeros_like(x)], dim=-1)
    if any(p.name == "dim" for p in spec.params):
        params.setdefault("dim", -1)
    y = actlab.functional.apply(spec, pair, **params)[..., 0]
    dy = actlab.derivative(spec.name, pair, **params)[..., 0]
    shown = {k: v for k, v in params.items() if k != "dim"}
    short = f"{spec.name}([x, 0])₀"
    return y, dy, _label(spec.name, shown), f"{short}, the first of two outputs", short


def _sample_gated(spec: Spec, x: torch.Tensor, params: dict[str, Any]) -> tuple:
    # The output is a · g(b); with a = 1 it is the gate's scalar function g(b).
    if spec.gate is None:
        raise ValueError(f"{spec.name}: a gated entry needs spec.gate to be plotted")
    gate = lookup(spec.gate)
    gate_names = {p.name for p in gate.params}
    unknown = sorted(set(params) - gate_names)
    if unknown:
        allowed = ", ".join(sorted(gate_names)) or "none"
        raise ValueError(
            f"{spec.name}: the plotted gate {gate.name} has no parameter {unknown[0]!r} (parameters: {allowed})"
        )
    gate_params = {k: v for k, v in params.items() if k in gate_names}
    y = actlab.functional.apply(gate, x, **gate_params)
    dy = actlab.derivative(gate.name, x, **gate_params)
    note = f"gate g = {gate.name}: a·g(b) with a = 1"
    short = f"{spec.name}: gate {gate.name}(b), a = 1"
    return y, dy, _label(spec.name, gate_params), note, short


def _broken(x: np.ndarray, y: np.ndarray, continuous: bool) -> tuple[np.ndarray, np.ndarray]:
    """Insert NaN between neighbours that jump, so a discontinuity is not drawn as a vertical line."""
    if continuous or len(y) < 3:
        return x, y
    finite = y[np.isfinite(y)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    if span == 0.0:
        return x, y
    jumps = np.nonzero(np.abs(np.diff(y)) > 0.05 * span)[0]
    if jumps.size == 0:
        return x, y
    return np.insert(x, jumps + 1, np.nan), np.insert(y, jumps + 1, np.nan)


# ----------------------------------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------------------------------
def _style_axes(ax: Axes) -> None:
    ax.axhline(0.0, color="#9ca3af", linewidth=0.8, zorder=0)
    ax.axvline(0.0, color="#9ca3af", linewidth=0.8, zorder=0)
    ax.grid(True, color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("x")


def _limit_y(ax: Axes, arrays: Sequence[np.ndarray]) -> None:
    # Exponential-type entries reach e^5 ≈ 148 at the edge; keep the interesting part visible.
    values = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
    if values.size == 0:
        return
    lo, hi = float(values.min()), float(values.max())
    q_lo, q_hi = np.quantile(values, [0.02, 0.98])
    if hi - lo > 20 * max(q_hi - q_lo, 1e-12):
        lo, hi = float(q_lo), float(q_hi)
    pad = 0.08 * (hi - lo) if hi > lo else 0.5
    ax.set_ylim(lo - pad, hi + pad)


def draw(ax: Axes, curves: Sequence[Curve], derivative: bool = True, single: bool = False) -> None:
    """Draw ``curves`` (solid) and, if ``derivative``, their derivatives (dashed, same colour)."""
    _style_axes(ax)
    drawn = []
    for i, c in enumerate(curves):
        color = FUNCTION_COLOR if single else PALETTE[i % len(PALETTE)]
        fx, fy = _broken(c.x, c.y, c.y_continuous)
        ax.plot(fx, fy, color=color, linewidth=2.0, label="f(x)" if single else c.label)
        drawn.append(c.y)
        if derivative:
            dcolor = DERIVATIVE_COLOR if single else color
            dx, dyv = _broken(c.x, c.dy, c.dy_continuous)
            label = "f′(x)" if single else f"{c.label}′"
            ax.plot(dx, dyv, color=dcolor, linewidth=1.6, linestyle="--", label=label)
            drawn.append(c.dy)
    _limit_y(ax, drawn)
    ax.set_xlim(float(curves[0].x[0]), float(curves[0].x[-1]))
    ax.legend(loc="best", fontsize=8, frameon=False)


def _title(curves: Sequence[Curve]) -> str:
    if len(curves) == 1:
        c = curves[0]
        return f"{c.label}  ({c.note})" if c.note else c.label
    notes = [c.short_note for c in curves if c.short_note]
    return "\n".join([", ".join(c.label for c in curves), *notes])


def _save(fig: Figure, path: Path, dpi: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "actlab"}):  # stable SVG ids: same input, same bytes
        fig.savefig(path, dpi=dpi, metadata=_METADATA.get(path.suffix.lower()))
    return path


def plot(
    names: Sequence[str],
    path: str | Path,
    *,
    derivative: bool = False,
    x_range: Sequence[float] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    dpi: int = 110,
) -> Path:
    """Several activations on one figure, written to ``path`` (.png, .svg or .pdf); returns the path.

    ``params`` maps an activation name to its parameters, e.g. ``{"elu": {"alpha": 0.5}}``. Without
    ``x_range`` the union of the entries' plot ranges is used.
    """
    if not names:
        raise ValueError("plot needs at least one activation name; `actlab list` shows them")
    out = check_output(path)
    specs = [lookup(n) for n in names]
    window = check_range(x_range)
    if window is None:
        window = (min(s.plot_range[0] for s in specs), max(s.plot_range[1] for s in specs))
    by_name = {lookup(k).name: dict(v) for k, v in (params or {}).items()}
    curves = [sample(s, window, by_name.get(s.name, {})) for s in specs]
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    draw(ax, curves, derivative=derivative, single=len(curves) == 1)
    ax.set_title(_title(curves), fontsize=10 if len(curves) == 1 else 9)
    fig.tight_layout()
    return _save(fig, out, dpi)


class Renderer:
    """Draws one entry per call on a single reused figure (the gallery's and the docs pages' images).

    The axes, both lines and the legend are made once and only their data, limits and title change per
    entry: clearing and rebuilding the axes costs several times more than drawing them (tick objects).
    """

    def __init__(self, dpi: int = GALLERY_DPI, size: tuple[float, float] = GALLERY_SIZE) -> None:
        self.dpi = dpi
        self.fig = Figure(figsize=size)
        self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.13, right=0.97, top=0.86, bottom=0.15)
        _style_axes(self.ax)
        (self.f_line,) = self.ax.plot([], [], color=FUNCTION_COLOR, linewidth=2.0, label="f(x)")
        (self.d_line,) = self.ax.plot(
            [], [], color=DERIVATIVE_COLOR, linewidth=1.6, linestyle="--", label="f′(x)"
        )
        self._labels = ("f(x)", "f′(x)", "x")
        self.ax.legend(loc="best", fontsize=8, frameon=False)

    def _relabel(self, labels: tuple[str, str, str]) -> None:
        # gated entries draw the gate g(b); rebuild the legend only when the wording changes
        if labels == self._labels:
            return
        self._labels = labels
        self.f_line.set_label(labels[0])
        self.d_line.set_label(labels[1])
        self.ax.set_xlabel(labels[2])
        self.ax.legend(loc="best", fontsize=8, frameon=False)

    def render(self, name: str | Spec, path: str | Path) -> Path:
        out = check_output(path)
        spec = lookup(name)
        try:
            curve = sample(spec)
        except Exception as err:  # name the entry: a broken Spec must be easy to find
            raise RuntimeError(f"cannot plot {spec.name}: {err}") from err
        self._relabel(("g(b)", "g′(b)", "b") if spec.kind == "gated" else ("f(x)", "f′(x)", "x"))
        self.f_line.set_data(*_broken(curve.x, curve.y, curve.y_continuous))
        self.d_line.set_data(*_broken(curve.x, curve.dy, curve.dy_continuous))
        self.ax.set_xlim(float(curve.x[0]), float(curve.x[-1]))
        _limit_y(self.ax, [curve.y, curve.dy])
        title = spec.name if not curve.note else f"{spec.name}\n{curve.note}"
        # an explicit y skips matplotlib's title placement pass, the slowest part of each draw
        self.ax.set_title(title, fontsize=9 if curve.note else 11, y=1.0)
        return _save(self.fig, out, self.dpi)


# ----------------------------------------------------------------------------------------------------
# Gallery
# ----------------------------------------------------------------------------------------------------
def gallery(out_dir: str | Path, names: Sequence[str] | None = None) -> GalleryResult:
    """Write ``<out_dir>/<name>.png`` for every entry (function and derivative) and ``index.html``."""
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"gallery output {str(directory)!r} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    specs = [lookup(n) for n in names] if names else all_specs()
    renderer = Renderer()
    images = {s.name: renderer.render(s, directory / f"{s.name}.png") for s in specs}
    index = directory / "index.html"
    index.write_text(gallery_html(specs, {n: p.name for n, p in images.items()}), encoding="utf-8")
    return GalleryResult(directory=directory, images=images, index=index)


def badges(spec: Spec) -> list[str]:
    """Short property labels shared by the HTML gallery and the docs index."""
    p = spec.properties
    out = [f"range {range_text(spec)}", p.continuity]
    out.append("monotonic" if p.monotonic else "non-monotonic")
    if p.zero_centred:
        out.append("zero-centred")
    if p.saturating:
        out.append("saturating")
    if p.self_gated:
        out.append("self-gated")
    out.append(f"backward keeps {spec.saves}")
    if spec.learnable:
        out.append("learnable")
    return out


_CSS = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --card:#fff; --bg:#f8fafc; --accent:#1d4ed8; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink);
       background:var(--bg); }
header { padding:28px 32px 12px; }
h1 { margin:0 0 4px; font-size:26px; }
header p { margin:0; color:var(--muted); }
#filter { margin-top:14px; width:min(420px,100%); padding:8px 12px; font-size:15px; border:1px solid var(--line);
          border-radius:8px; }
nav { padding:0 32px; display:flex; flex-wrap:wrap; gap:8px; }
nav a { color:var(--accent); text-decoration:none; font-size:14px; }
section { padding:8px 32px 16px; }
h2 { font-size:18px; text-transform:capitalize; border-bottom:1px solid var(--line); padding-bottom:4px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(320px,1fr)); gap:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px;
        box-shadow:0 1px 2px rgba(0,0,0,.04); }
.card img { width:100%; height:auto; display:block; }
.card h3 { margin:4px 0 2px; font-size:17px; }
.card h3 a { color:inherit; text-decoration:none; }
.aka { color:var(--muted); font-size:13px; }
.summary { margin:6px 0; font-size:14px; }
code { font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; background:#f1f5f9;
       padding:2px 5px; border-radius:4px; display:inline-block; white-space:pre-wrap; }
.badges { display:flex; flex-wrap:wrap; gap:4px; margin-top:8px; }
.badge { font-size:12px; background:#eef2ff; color:#3730a3; border-radius:999px; padding:1px 8px; }
.note { font-size:12px; color:var(--muted); margin-top:6px; }
footer { padding:16px 32px 32px; color:var(--muted); font-size:13px; }
"""

_JS = """
document.getElementById('filter').addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('.card').forEach(function (card) {
    card.style.display = card.dataset.search.indexOf(q) >= 0 ? '' : 'none';
  });
  document.querySelectorAll('section').forEach(function (s) {
    var shown = s.querySelectorAll('.card:not([style*="none"])').length;
    s.style.display = shown ? '' : 'none';
  });
});
"""


def gallery_html(specs: Sequence[Spec], images: Mapping[str, str]) -> str:
    """A self-contained HTML page: one card per entry (image, name, formula, properties), by family."""
    esc = html.escape
    families = by_family(specs)
    nav = " · ".join(f'<a href="#family-{esc(f)}">{esc(f)} ({len(v)})</a>' for f, v in families.items())
    sections = []
    for family, members in families.items():
        cards = []
        for s in members:
            search = " ".join([s.name, *s.aliases, s.family, s.kind, s.formula]).lower()
            aka = f'<div class="aka">also {esc(", ".join(s.aliases))}</div>' if s.aliases else ""
            summary = f'<p class="summary">{esc(s.summary)}</p>' if s.summary else ""
            params = ", ".join(f"{p.name}={p.default!r}" for p in s.params)
            param_line = f'<div class="note">parameters: {esc(params)}</div>' if params else ""
            gate = (
                f'<div class="note">input split in halves a, b; output a·{esc(s.gate)}(b); '
                f"the plot shows the gate {esc(s.gate)}(b).</div>"
                if s.kind == "gated" and s.gate
                else ""
            )
            vector = (
                f'<div class="note">vector function; the plot shows {esc(s.name)}([x, 0])₀.</div>'
                if s.kind == "vector"
                else ""
            )
            badge_html = "".join(f'<span class="badge">{esc(b)}</span>' for b in badges(s))
            cards.append(
                f'<article class="card" id="{esc(s.name)}" data-search="{esc(search)}">'
                f'<img src="{esc(images[s.name])}" alt="{esc(s.name)} and its derivative" loading="lazy">'
                f'<h3><a href="#{esc(s.name)}">{esc(s.name)}</a></h3>{aka}{summary}'
                f"<div><code>{esc(s.formula)}</code></div>"
                f'<div style="margin-top:4px"><code>{esc(s.derivative_formula)}</code></div>'
                f'{param_line}{gate}{vector}<div class="badges">{badge_html}</div>'
                f'<div class="note">{esc(s.origin)} ({s.year})</div></article>'
            )
        sections.append(
            f'<section id="family-{esc(family)}"><h2>{esc(family)}</h2>'
            f'<div class="grid">{"".join(cards)}</div></section>'
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>actlab gallery: {len(specs)} activation functions</title><style>{_CSS}</style></head>"
        f"<body><header><h1>actlab gallery</h1><p>{len(specs)} activation functions, each with the "
        "derivative backpropagation uses (dashed). Generated from the catalogue by "
        "<code>actlab gallery</code>.</p>"
        '<input id="filter" type="search" placeholder="filter by name, family, formula…"></header>'
        f"<nav>{nav}</nav>{''.join(sections)}"
        f"<footer>actlab {esc(actlab.__version__)}</footer><script>{_JS}</script></body></html>\n"
    )
