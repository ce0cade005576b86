"""Write the generated parts of the docs site from the code they describe: ``make docs``.

Each generated part sits in a hand-written page between ``<!-- generated:<name>:start -->`` and
``<!-- generated:<name>:end -->``; this module rewrites what is between the markers and leaves the
prose around them alone. The pages are committed, and ``tests/dev/test_docs_pages.py`` fails when one
differs from what this module would write, so the site cannot drift from the config models, the
trigger forms, the task docs of the grid view, the run folder's paths (``include/retrain/layout.py``)
or ``benchmarks/results.json``.

``python -m dev.docs_pages --check`` lists the stale pages and exits 1.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DOCS = PROJECT_ROOT / "docs"
#: The variant whose trigger form the Params reference shows (defaults and the overridable model
#: parameters depend on the variant).
PARAMS_VARIANT = "churn"


def _config_reference() -> str:
    from dev.config_reference import reference_table

    return reference_table()


def _task_table() -> str:
    from dags.retrain_factory.docs import task_table_markdown

    return task_table_markdown()


def _retrain_params() -> str:
    from dags.retrain_factory.docs import params_table_markdown
    from dags.retrain_factory.params import build_params
    from include.retrain.config import load_pipeline, pipelines_dir

    return params_table_markdown(build_params(load_pipeline(pipelines_dir() / f"{PARAMS_VARIANT}.yaml")))


def _rollback_params() -> str:
    from dags.retrain_factory.docs import params_table_markdown
    from dags.retrain_factory.params import build_rollback_params

    return params_table_markdown(build_rollback_params())


def _run_folder() -> str:
    from include.retrain.layout import run_folder_block

    return run_folder_block()


def _benchmark_results() -> str:
    from benchmarks.common import RESULTS
    from benchmarks.report import results_markdown

    return results_markdown(json.loads(RESULTS.read_text()))


#: Generated part name -> what writes it. A page may hold several parts, and a part several pages.
PARTS: dict[str, Callable[[], str]] = {
    "config-reference": _config_reference,
    "task-table": _task_table,
    "retrain-params": _retrain_params,
    "rollback-params": _rollback_params,
    "benchmark-results": _benchmark_results,
    "run-folder": _run_folder,
}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- generated:{name}:start -->", f"<!-- generated:{name}:end -->"


def render(text: str, parts: dict[str, str]) -> str:
    """``text`` with each generated part's markers holding that part's current content."""
    for name, content in parts.items():
        start, end = markers(name)
        block = re.compile(re.escape(start) + r".*?" + re.escape(end), flags=re.DOTALL)
        replacement = f"{start}\n{content}\n{end}"
        text = block.sub(lambda _, new=replacement: new, text)  # a function: no backslash escapes in the text
    return text


def generated_pages() -> dict[Path, tuple[str, str]]:
    """Every page holding a generated part: (its text now, its text as this module writes it)."""
    parts = {name: write() for name, write in PARTS.items()}
    pages = {}
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        if "<!-- generated:" in text:
            pages[page] = (text, render(text, parts))
    return pages


def used_parts() -> set[str]:
    """The names of the generated parts the pages hold."""
    return {name for name in PARTS for page in DOCS.rglob("*.md") if markers(name)[0] in page.read_text()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated page is stale")
    args = parser.parse_args(argv)
    stale = {page: updated for page, (text, updated) in generated_pages().items() if text != updated}
    for page, updated in stale.items():
        print(f"{page.relative_to(PROJECT_ROOT)}: {'stale (run `make docs`)' if args.check else 'rewritten'}")
        if not args.check:
            page.write_text(updated)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
