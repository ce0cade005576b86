"""GX data docs for one gate: GX's own validation page of every table, on one HTML page.

Rendered with the renderer and view GX's data docs site builder uses
(``ValidationResultsPageRenderer`` + ``DefaultJinjaPageView``) but without a site: the page is
uploaded on its own next to the JSON report. A few of GX's templates are replaced by ours
(``data_docs_templates/``): GX's page loads Bootstrap, Font Awesome, jQuery, Vega and its logo from
CDNs, so on a network without internet access it rendered unstyled. Ours carries its own
stylesheet, runs no script and fetches nothing, and links back to the run in Airflow's grid view and
to the registry page. A summary section comes first because GX marks a
table "Failed" even when only ``warn`` expectations failed: it gives the gate's verdict in our
severities, the failed expectations, the warnings, the notes and where the JSON report is.

Imported only inside task bodies: GX is heavy.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import copy
import functools
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from great_expectations.render.components import (
    RenderedBulletListContent,
    RenderedDocumentContent,
    RenderedHeaderContent,
    RenderedSectionContent,
    RenderedStringTemplateContent,
)
from great_expectations.render.renderer import ValidationResultsPageRenderer
from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from include.retrain.gates.result import GateResult

HTML_CONTENT_TYPE = "text/html; charset=utf-8"

#: Links into a data docs site (suite pages, index, favicon) that a single uploaded page lacks.
_SITE_LINK = re.compile(r'href="(?:\.\./)+[^"]*"')
#: Our replacements of GX's page, navbar and sidebar templates, and the page's stylesheet.
TEMPLATES = Path(__file__).with_name("data_docs_templates")


class SelfContainedPageView(DefaultJinjaPageView):
    """GX's page view with our templates first: the same sections, no scripts, nothing from outside."""

    def __init__(self) -> None:
        super().__init__()
        gx_loader = self.env.loader
        self.env.loader = ChoiceLoader([FileSystemLoader(TEMPLATES), *([gx_loader] if gx_loader else [])])


@functools.cache
def _page_view() -> SelfContainedPageView:
    """One view per process: its Jinja environment compiles GX's 48 templates once, not per gate."""
    return SelfContainedPageView()


def _renderable(value: Any) -> Any:
    """``value`` ready for GX's renderer: strings HTML-escaped, numpy scalars as Python numbers.

    GX puts observed and unexpected values into its tables unescaped (data must never become
    markup in a page ops open), and formats numbers through ``repr``, which numpy 2 scalars
    (``np.float64(0.5)``) break. A missing value of a nullable column (pandas' NA, NaT) becomes None:
    the renderer compares each value with "", which NA refuses.
    """
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, np.generic):
        return _renderable(value.item())
    if isinstance(value, dict):
        return {k: _renderable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_renderable(v) for v in value]
    return value


def _renderable_validation(validation: Any) -> Any:
    """A copy of a GX suite validation result whose per-expectation results are renderable."""
    validation = copy.deepcopy(validation)
    for result in validation.results:
        result.result = _renderable(result.result or {})
    return validation


def _text(text: str, tag: str | None = None) -> RenderedStringTemplateContent:
    """A line of text; GX HTML-escapes template params, so data values cannot inject markup."""
    template: dict[str, Any] = {"template": "$text", "params": {"text": text}}
    if tag:
        template["tag"] = tag
    return RenderedStringTemplateContent(content_block_type="string_template", string_template=template)


def _bullets(title: str, lines: list[str]) -> RenderedBulletListContent:
    return RenderedBulletListContent(
        header=_text(title, "h6"),
        bullet_list=[_text(line) for line in lines],
        styling={"classes": ["col-12", "mt-2"]},
    )


def verdict(result: GateResult) -> str:
    """PASSED, PASSED WITH WARNINGS or FAILED, with counts."""
    stats = result.statistics
    counts = f"{stats['failed']} failed, {stats['warnings']} warnings, {stats['evaluated']} expectations"
    if not result.success:
        return f"FAILED ({counts})"
    return f"{'PASSED WITH WARNINGS' if result.warnings else 'PASSED'} ({counts})"


def _summary_section(result: GateResult, context: Mapping[str, Any], report_uri: str) -> RenderedSectionContent:
    facts = [f"{key}: {value}" for key, value in context.items()]
    facts.append(f"JSON report (every expectation, observed values, samples): {report_uri}")
    facts.append("Severity fail stops the run; severity warn is recorded and the run goes on.")
    blocks: list[Any] = [
        RenderedHeaderContent(
            header=_text(f"Gate {result.gate}: {verdict(result)}", "h5"),
            styling={"classes": ["col-12", "p-0"], "header": {"classes": ["alert", "alert-secondary"]}},
        ),
        _bullets("Run", facts),
    ]
    if result.failures:
        blocks.append(_bullets("Failed (severity fail)", [o.describe() for o in result.failures]))
    if result.warnings:
        blocks.append(_bullets("Warnings (severity warn)", [o.describe() for o in result.warnings]))
    if result.notes:
        blocks.append(_bullets("Notes", list(result.notes)))
    return RenderedSectionContent(content_blocks=blocks, section_name="Gate summary")


def render_data_docs(
    result: GateResult,
    context: Mapping[str, Any],
    report_uri: str,
    *,
    run_url: str | None = None,
    registry_url: str | None = None,
) -> str:
    """One self-contained HTML page: the gate summary, then GX's validation page of each table.

    ``run_url`` (the run's grid view) and ``registry_url`` (the registry page) are paths on the
    Airflow host, linked at the top of the page.
    """
    sections = [_summary_section(result, context, report_uri)]
    renderer = ValidationResultsPageRenderer(run_info_at_end=True)
    for table, validation in result.validations:
        for section in renderer.render(_renderable_validation(validation)).sections:
            section.section_name = f"{table}: {section.section_name}"
            sections.append(section)
    document = RenderedDocumentContent(
        sections=sections,
        renderer_type="ValidationResultsPageRenderer",
        page_title=f"{result.gate}: {verdict(result)}",
        expectation_suite_name=result.gate,
        utm_medium="validation-results-page",
    )
    page = _page_view().render(
        document,
        run_url=run_url,
        registry_url=registry_url,
        run_id=context.get("run_id"),
        variant=context.get("pipeline"),
    )
    return _SITE_LINK.sub('href="#"', page)
