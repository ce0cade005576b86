"""docs_pages: the generated parts of the docs site are current, and rewriting them leaves the prose alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from dev import docs_pages


def test_every_generated_page_is_current() -> None:
    """The committed pages equal what `make docs` writes from the code and benchmarks/results.json."""
    stale = [
        str(page.relative_to(docs_pages.PROJECT_ROOT))
        for page, (text, updated) in docs_pages.generated_pages().items()
        if text != updated
    ]
    assert stale == [], "run `make docs` and commit the pages"


def test_every_generated_part_is_on_a_page() -> None:
    assert docs_pages.used_parts() == set(docs_pages.PARTS)


def test_rendering_replaces_only_what_is_between_the_markers() -> None:
    start, end = docs_pages.markers("table")
    text = f"# Title\n\nprose\n\n{start}\nold\n{end}\n\nmore prose {start}\n{end} and {start} {end}\n"
    rendered = docs_pages.render(text, {"table": "| a |\n| --- |"})
    block = f"{start}\n| a |\n| --- |\n{end}"
    assert rendered == f"# Title\n\nprose\n\n{block}\n\nmore prose {block} and {block}\n"
    assert docs_pages.render(rendered, {"table": "| a |\n| --- |"}) == rendered


def test_check_exits_1_naming_a_stale_page(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    start, end = docs_pages.markers("part")
    page = docs / "page.md"
    page.write_text(f"# Page\n\n{start}\nold\n{end}\n")
    monkeypatch.setattr(docs_pages, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(docs_pages, "DOCS", docs)
    monkeypatch.setattr(docs_pages, "PARTS", {"part": lambda: "new"})

    assert docs_pages.main(["--check"]) == 1
    assert "docs/page.md: stale (run `make docs`)" in capsys.readouterr().out
    assert docs_pages.main([]) == 0
    assert page.read_text() == f"# Page\n\n{start}\nnew\n{end}\n"
    assert docs_pages.main(["--check"]) == 0
