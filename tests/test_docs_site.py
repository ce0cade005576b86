"""The docs site names real things: every file, folder and test it cites exists at that path.

The pages cite tests as proof (`tests/faults/test_timeouts.py::test_...`) and code as the place to
read (`include/retrain/modelio.py`); a move or a rename that leaves a citation behind fails here,
not in a reader's hands.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]
#: Files the pages show as examples to write, not as files of the project.
EXAMPLES = {"include/pipelines/returns.yaml"}
TOP = ("dags", "include", "plugins", "tests", "benchmarks", "docs", ".astro", ".ci")
#: A path of the project in backticks or a link, optionally with a test (`::name[param]`).
CITED = re.compile(rf"(?<![\w/.-])((?:{'|'.join(re.escape(t) for t in TOP)})/[\w./-]*)(::[\w]+)?")
#: A test cited by name only after its file was cited on the same line: `::test_other`.
SAME_FILE = re.compile(r"`::(\w+)")


def _citations(page: Path) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for line in page.read_text().splitlines():
        files: list[tuple[int, str]] = []  # where each cited .py file starts on the line
        for match in CITED.finditer(line):
            path, test = match.group(1).rstrip("."), match.group(2)
            if "<" in path or "*" in path or path in EXAMPLES:
                continue
            found.append((path, test[2:] if test else None))
            if path.endswith(".py"):
                files.append((match.start(), path))
        for match in SAME_FILE.finditer(line):  # `::name` belongs to the file cited last before it
            before = [path for start, path in files if start < match.start()]
            if before:
                found.append((before[-1], match.group(1)))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(PROJECT_ROOT)))
def test_every_cited_path_and_test_exists(page: Path) -> None:
    missing = []
    for path, test in _citations(page):
        target = PROJECT_ROOT / path
        if not target.exists():
            missing.append(path)
        elif test and not re.search(rf"^\s*(?:async )?(?:def|class) {test}\b", target.read_text(), re.MULTILINE):
            missing.append(f"{path}::{test}")
    assert missing == []


def test_citations_are_found() -> None:
    """The pattern sees the citations the fault table makes (a guard against a pattern that finds nothing)."""
    cited = {c for page in PAGES for c in _citations(page)}
    assert ("tests/faults/test_timeouts.py", "test_a_burst_of_server_errors_is_ridden_out") in cited
    assert ("include/retrain/modelio.py", None) in cited
    # `::name` after two files on one line belongs to the file just before it, not the line's last
    challenger = "test_a_retry_after_the_challenger_write_records_canary_started_once"
    assert ("tests/unit/promotion/test_promote_retries.py", challenger) in cited
    assert len(cited) > 100
