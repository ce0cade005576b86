"""``include.retrain.layout`` names every artifact path of a run, the registry and scoring; the serving
page documents them, so each path named in code appears there."""

from __future__ import annotations

import re
from pathlib import Path

from include.retrain import layout

REGISTRY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "serving" / "registry.md"


def documented_paths() -> list[str]:
    """The path column of the page's layout blocks (a path, then two or more spaces, then its meaning)."""
    text = REGISTRY_PAGE.read_text(encoding="utf-8")
    # plain fences only: a ```python example's closing fence must not open a "block" of prose
    fenced = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    blocks = [body for language, body in fenced if not language]
    lines = [line.strip() for block in blocks for line in block.splitlines()[1:] if line.strip()]
    return [path for line in lines for path in re.split(r"\s{2,}", line)[0].split(", ")]


def pattern(path: str) -> re.Pattern[str]:
    """``aliases/<alias>.json`` matches ``aliases/champion.json`` (and itself)."""
    return re.compile(
        "".join("[^/]+" if part.startswith("<") else re.escape(part) for part in re.split(r"(<[^>]*>)", path))
    )


def test_the_serving_page_lists_every_registry_run_and_scoring_path() -> None:
    documented = documented_paths()
    named = [*layout.REGISTRY_PATHS, *(path.path for path in layout.RUN_PATHS), *layout.SCORING_PATHS]
    named += [layout.gate_report("<gate>").path, layout.gate_data_docs("<gate>").path]
    named.append(layout.stage_manifest("<stage>").path)
    missing = [path for path in named if not any(pattern(path).fullmatch(line) for line in documented)]
    assert missing == []


def test_run_paths_are_distinct_and_under_their_stage() -> None:
    paths = [path.path for path in layout.RUN_PATHS]
    assert len(set(paths)) == len(paths)
    assert {path.stage for path in layout.RUN_PATHS} == {"ingest", "features", "train", "evaluate"}


def test_partition_day_reads_a_ds_folder_or_a_ds_file() -> None:
    from datetime import date

    assert layout.partition_day("p/churn/predictions/ds=2026-03-01/manifest.json") == date(2026, 3, 1)
    assert layout.partition_day("p/churn/registry/live/v-1/ds=2026-03-02.json") == date(2026, 3, 2)
    assert layout.partition_day("p/churn/registry/live/v-1/notes.json") is None
    assert layout.partition_day("p/churn/predictions/ds=2026-13-40/manifest.json") is None  # a date's shape, no day
