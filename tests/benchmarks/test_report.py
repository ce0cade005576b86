"""benchmarks.report: the benchmarks page's tables show what results.json holds, each target met or not."""

from __future__ import annotations

import json

from benchmarks import report
from benchmarks.common import RESULTS


def test_rows_show_only_the_keys_the_results_hold_and_mark_each_target() -> None:
    results = {
        "machine": {"cpus": 2, "memory_gib": 8.0, "python": "3.11.9"},
        "parse_ratio": 1.3,
        "parse": {"wall_ratio": 1.2},
        "io_ratio": 0.95,
        "io": {"sizes_mib": {"32": {"ratio": 1.1}, "256": {"store_mib_per_s": 400, "raw_mib_per_s": 420}}},
    }

    lines = report.results_markdown(results).splitlines()

    assert lines[0] == "Machine: 2 CPUs, 8.0 GiB RAM, Python 3.11.9."
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines if line.startswith("| `")}
    assert list(rows) == ["`parse_ratio`", "`io_ratio`"]
    assert rows["`parse_ratio`"].endswith("| 1.300 (wall 1.200) | <= 1.25 | **no** |")
    assert rows["`io_ratio`"].endswith("| 0.95 (256 MiB: 400 vs 420 MiB/s); at 32 MiB 1.10 | >= 0.9 | yes |")
    assert not any(line.startswith("Source:") for line in lines)


def test_the_committed_results_render_every_headline() -> None:
    """The figures the page shows come from the committed results file, with nothing left out."""
    rendered = report.results_markdown(json.loads(RESULTS.read_text()))
    for key in report.HEADLINES:
        assert f"| `{key}` |" in rendered, key


def test_a_met_target_and_a_missed_one() -> None:
    assert report.met(1.0, "<= 1.5") == "yes"
    assert report.met(2.74, "<= 1.5") == "**no**"
    assert report.met(1.38, ">= 0.9") == "yes"
    assert report.met(0.0, None) == "-"
    assert report.met(1.0, "true") == "yes"
