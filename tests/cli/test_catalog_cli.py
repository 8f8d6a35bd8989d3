"""`actlab list`, `info`, `plot`, `gallery` and `docs-pages` as a user runs them: output, files, errors."""

from __future__ import annotations

import html
import json
import re

import pytest
from typer.testing import CliRunner

import actlab
from actlab.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REQUIRED_KEYS = {"name", "aliases", "params", "properties"}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def strict_json(text: str):
    """JSON as other languages read it: NaN and Infinity are not JSON."""

    def refuse(constant: str):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def assert_clean_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = " ".join(result.stderr.split())  # rich wraps long lines; compare the words
    assert message.startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ----- list -------------------------------------------------------------------------------------------
def test_list_json_is_one_document_with_every_entry():
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    entries = strict_json(result.stdout)
    assert isinstance(entries, list)
    assert len(entries) >= len(actlab.names())
    assert {e["name"] for e in entries} == set(actlab.names())
    for entry in entries:
        assert REQUIRED_KEYS <= set(entry), entry["name"]
        spec = actlab.spec(entry["name"])
        assert entry["aliases"] == list(spec.aliases)
        assert [p["name"] for p in entry["params"]] == [p.name for p in spec.params]
        for p in entry["params"]:
            assert {"default", "allowed"} <= set(p)
        assert entry["properties"]["monotonic"] == spec.properties.monotonic
        assert entry["properties"]["continuity"] == spec.properties.continuity


def test_list_table_names_every_entry():
    result = run("list")
    assert result.exit_code == 0, result.output
    for name in actlab.names():
        assert re.search(rf"\b{re.escape(name)}\b", result.stdout), name
    assert f"{len(actlab.names())} activation functions" in result.stdout


def test_list_filters_by_family_and_kind():
    family = actlab.spec(actlab.names()[0]).family
    result = run("list", "--json", "--family", family)
    assert result.exit_code == 0
    entries = strict_json(result.stdout)
    expected = {n for n in actlab.names() if actlab.spec(n).family == family}
    assert {e["name"] for e in entries} == expected

    result = run("list", "--json", "--kind", "elementwise")
    entries = strict_json(result.stdout)
    assert {e["name"] for e in entries} == {n for n in actlab.names() if actlab.spec(n).kind == "elementwise"}
    assert all(e["kind"] == "elementwise" for e in entries)


def test_list_unknown_family_or_kind_is_a_clean_error():
    family = actlab.spec(actlab.names()[0]).family
    assert_clean_error(run("list", "--family", "nonsense"), "nonsense", family)
    assert_clean_error(run("list", "--kind", "scalar"), "scalar", "elementwise", "vector", "gated")


# ----- info -------------------------------------------------------------------------------------------
def test_info_human_shows_formulas_properties_origin_and_equivalents():
    spec = actlab.spec("sigmoid")
    result = run("info", "sigmoid")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # rich wraps long lines; compare the words
    for fragment in (
        spec.formula,
        spec.derivative_formula,
        str(spec.year),
        spec.properties.continuity,
        spec.saves,
    ):
        assert " ".join(fragment.split()) in text, fragment
    for equivalent in (spec.torch_function, spec.keras, spec.jax):
        if equivalent:
            assert equivalent in text
    assert " ".join(spec.origin.split()[:3]) in text


def test_info_human_lists_parameters_with_defaults_and_ranges():
    with_params = [actlab.spec(n) for n in actlab.names() if actlab.spec(n).params]
    assert with_params, "the catalogue has entries with parameters (step's threshold at least)"
    for spec in with_params:
        result = run("info", spec.name)
        assert result.exit_code == 0, (spec.name, result.output)
        words = " ".join(result.stdout.split())
        for p in spec.params:
            assert p.name in words, (spec.name, p.name)
            assert repr(p.default) in words, (spec.name, p.name)


def test_info_json_for_every_entry_matches_the_spec():
    for name in actlab.names():
        result = run("info", name, "--json")
        assert result.exit_code == 0, (name, result.output)
        data = strict_json(result.stdout)
        spec = actlab.spec(name)
        assert data["name"] == name
        assert data["latex"] == spec.latex
        assert data["derivative_latex"] == spec.derivative_latex
        assert data["saves_for_backward"] == spec.saves
        assert data["year"] == spec.year
        assert [p["name"] for p in data["params"]] == [p.name for p in spec.params]


def test_info_accepts_aliases():
    alias = actlab.spec("sigmoid").aliases[0]
    data = strict_json(run("info", alias, "--json").stdout)
    assert data["name"] == "sigmoid"


def test_info_unknown_name_names_the_closest():
    assert_clean_error(run("info", "sigmod"), "sigmod", "sigmoid")
    assert run("info", "sigmod", "--json").stdout == ""


# ----- plot -------------------------------------------------------------------------------------------
def test_plot_writes_png_and_svg(tmp_path):
    png = tmp_path / "curves.png"
    result = run("plot", "sigmoid", "tanh", "--derivative", "-o", str(png))
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert png.stat().st_size > 5_000
    assert str(png) in " ".join(result.stdout.split())

    svg = tmp_path / "curves.svg"
    result = run("plot", "tanh", "--range", "-3", "3", "-o", str(svg))
    assert result.exit_code == 0, result.output
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert svg.stat().st_size > 5_000


def test_plot_derivative_adds_curves(tmp_path):
    plain, with_derivative = tmp_path / "f.svg", tmp_path / "fd.svg"
    assert run("plot", "sigmoid", "-o", str(plain)).exit_code == 0
    assert run("plot", "sigmoid", "--derivative", "-o", str(with_derivative)).exit_code == 0
    # a dashed line is drawn only for the derivative
    assert "stroke-dasharray" not in plain.read_text()
    assert "stroke-dasharray" in with_derivative.read_text()


def test_plot_params_change_the_picture(tmp_path):
    default, shifted = tmp_path / "a.svg", tmp_path / "b.svg"
    assert run("plot", "step", "-o", str(default)).exit_code == 0
    result = run("plot", "step", "--param", "threshold=1.5", "-o", str(shifted))
    assert result.exit_code == 0, result.output
    assert "threshold=1.5" in shifted.read_text()  # the legend names the parameters
    assert run("plot", "step", "tanh", "--param", "step.threshold=-1", "-o", str(shifted)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["sigmoid", "-o", "out.jpg"], [".png", ".svg", "out.jpg"]),
        (["sigmoid", "--range", "2", "1", "-o", "out.png"], ["A < B", "2 1"]),
        (["sigmoid", "--range", "1", "1", "-o", "out.png"], ["A < B"]),
        (["sigmod", "-o", "out.png"], ["sigmod", "sigmoid"]),
        (["step", "--param", "beta=2", "-o", "out.png"], ["beta", "threshold"]),
        (["step", "--param", "threshold=abc", "-o", "out.png"], ["threshold", "number"]),
        (["step", "--param", "threshold", "-o", "out.png"], ["name=value"]),
        (["step", "--param", "tanh.x=1", "-o", "out.png"], ["tanh", "not one of the plotted"]),
    ],
)
def test_plot_bad_input_is_a_clean_error(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    assert_clean_error(run("plot", *args), *fragments)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


# ----- gallery and docs pages -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gallery_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    return out, run("gallery", "-o", str(out))


def test_gallery_writes_one_png_per_entry(gallery_run):
    out, result = gallery_run
    assert result.exit_code == 0, result.output
    pngs = {p.stem for p in out.glob("*.png")}
    assert pngs == set(actlab.names())
    for path in out.glob("*.png"):
        assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    words = " ".join(result.stdout.split())
    assert f"{len(actlab.names())} images" in words and str(out) in words


def test_gallery_index_links_every_image_with_name_and_formula(gallery_run):
    out, _ = gallery_run
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<link" not in page and "http://" not in page and "https://" not in page  # self-contained
    for name in actlab.names():
        spec = actlab.spec(name)
        assert f'src="{name}.png"' in page, name
        assert html.escape(spec.formula) in page, name
        assert f'id="{name}"' in page, name


def test_docs_pages_command_writes_pages(tmp_path):
    # every entry is covered by tests/test_docs_pages.py; here the command's wiring, on two entries
    out = tmp_path / "activations"
    result = run("docs-pages", "-o", str(out), "--name", "sigmoid", "--name", "step")
    assert result.exit_code == 0, result.output
    assert {p.stem for p in out.glob("*.md")} == {"sigmoid", "step", "index"}
    assert {p.stem for p in out.glob("*.png")} == {"sigmoid", "step"}
    words = " ".join(result.stdout.split())
    assert "2 activation pages" in words and str(out / "index.md") in words


def test_docs_pages_unknown_name_is_a_clean_error(tmp_path):
    assert_clean_error(run("docs-pages", "-o", str(tmp_path / "d"), "--name", "sigmod"), "sigmoid")
