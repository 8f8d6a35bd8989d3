"""Generated per-activation pages: one per entry, with everything the Spec says, and an index."""

from __future__ import annotations

import re

import pytest

import actlab
from actlab import docs_pages

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def one_of_each_kind() -> list[str]:
    """An entry of every kind in the catalogue (plus one with parameters): what the images must cover."""
    chosen: dict[str, str] = {}
    for name in actlab.names():
        chosen.setdefault(actlab.spec(name).kind, name)
    return sorted({*chosen.values(), "step"})


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    # Every entry's picture is drawn by the same Renderer in the gallery test (tests/cli); here the pages
    # of every entry, without images, so the suite renders the catalogue once.
    return docs_pages.write_pages(tmp_path_factory.mktemp("docs") / "activations", images=False)


def test_one_page_per_entry(pages):
    names = set(actlab.names())
    assert set(pages.pages) == names and len(pages) == len(names)
    assert {p.stem for p in pages.directory.glob("*.md")} == names | {"index"}
    assert not list(pages.directory.glob("*.png")) and "![" not in pages.pages["sigmoid"].read_text()


def test_images_sit_next_to_their_pages(tmp_path):
    names = one_of_each_kind()
    written = docs_pages.write_pages(tmp_path, names=names)
    assert set(written.images) == set(names)
    for name in names:
        image = written.images[name]
        assert image == tmp_path / f"{name}.png"
        assert image.read_bytes()[:8] == PNG_SIGNATURE
        assert f"]({name}.png)" in written.pages[name].read_text()


def test_each_page_carries_what_the_spec_says(pages):
    for name, path in pages.pages.items():
        spec = actlab.spec(name)
        text = path.read_text(encoding="utf-8")
        assert text.count("$$") >= 4, name
        assert f"$$\n{spec.latex}\n$$" in text and f"$$\n{spec.derivative_latex}\n$$" in text, name
        assert docs_pages.SAVES_TEXT[spec.saves] in text, name
        assert f"({spec.year})" in text and spec.origin in text, name
        assert spec.properties.continuity in text, name
        for label in ("## Properties", "## Parameters", "## What backward keeps", "## In other frameworks"):
            assert label in text, (name, label)
        for p in spec.params:
            assert f"| `{p.name}` |" in text, (name, p.name)
        for equivalent in (spec.torch_function, spec.torch_module, spec.keras, spec.jax):
            if equivalent:
                assert f"`{equivalent}`" in text, (name, equivalent)
        if spec.kink_note:
            assert spec.kink_note in text, name


def test_index_links_every_page_once(pages):
    text = pages.index.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\.md\)", text)
    assert sorted(links) == sorted(actlab.names())
    for family in {actlab.spec(n).family for n in actlab.names()}:
        assert f"## {family}" in text


def test_page_for_an_entry_with_parameters_tables_them():
    spec = actlab.spec("step")
    text = docs_pages.page(spec, image=None)
    row = next(line for line in text.splitlines() if line.startswith("| `threshold` |"))
    assert repr(spec.param("threshold").default) in row
    assert spec.param("threshold").allowed() in row
    assert "![" not in text  # no image asked for, none referenced


def test_markdown_tables_survive_pipes_in_text():
    assert docs_pages._cell("a | b\nc") == "a \\| b c"


def test_pages_are_regenerated_identically(tmp_path):
    first = docs_pages.write_pages(tmp_path / "a", names=["sigmoid", "step"])
    second = docs_pages.write_pages(tmp_path / "b", names=["sigmoid", "step"])
    for name in ("sigmoid", "step"):
        assert first.pages[name].read_text() == second.pages[name].read_text()
        assert first.images[name].read_bytes() == second.images[name].read_bytes()
    assert first.index.read_text() == second.index.read_text()


def test_output_path_that_is_a_file_is_an_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        docs_pages.write_pages(target)
