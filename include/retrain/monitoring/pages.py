"""Server-rendered HTML for the registry page and gate reports: plain, escaped, accessible.

The markup lives in Jinja templates (``templates/``, autoescaped: every value from S3 or Airflow is
escaped); this module only shapes the data they show. No scripts and no external assets: the
stylesheet is inline, headings and tables carry captions and header scopes, states are in words
(never colour alone). The Airflow UI shows the page in a sandboxed frame that may not navigate the
top window, so every link opens in the frame (the UI keeps the frame's address in its own, so the
back button and reloads work).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from include.retrain.monitoring.charts import ChartLayout, lay_out
from include.retrain.monitoring.drift_history import compared
from include.retrain.monitoring.links import (
    RETRAIN_DAG_PREFIX,
    registry_page_path,
    report_path,
    run_path,
    task_report_path,
)
from include.retrain.monitoring.overview import HISTORY_SHOWN, LastRun, VariantOverview
from include.retrain.monitoring.registry_charts import (
    drift_chart,
    live_metric_chart,
    promotion_metric_chart,
    serving_drift_chart,
)
from include.retrain.monitoring.reports import GateReport

TEMPLATES = Path(__file__).with_name("templates")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> Any:
    return f"{value:.4f}" if _is_number(value) else value


def _signed(value: Any) -> Any:
    return f"{value:+.4f}" if _is_number(value) else value


def _difference(ours: Any, theirs: Any) -> str:
    if not (_is_number(ours) and _is_number(theirs)) or math.isnan(ours - theirs):
        return ""
    return f"{ours - theirs:+.4f}"


def _percent(value: Any) -> Any:
    return f"{value:.0%}" if _is_number(value) else value


def _when(text: str | None) -> str:
    if not text:
        return ""
    try:
        return f"{datetime.fromisoformat(text):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return text


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html.j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: "" if value is None else value,  # a missing value shows as nothing
    )
    env.filters.update(number=_number, signed=_signed, difference=_difference, percent=_percent, when=_when)
    return env


def _render(template: str, **values: Any) -> str:
    return _environment().get_template(template).render(**values)


# -- the registry page -------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantSection:
    """What the page knows of one variant: its registry overview (or why it could not be read) and last run."""

    name: str
    overview: VariantOverview | None
    last_run: LastRun | None = None
    error: str | None = None


def registry_page(sections: Sequence[VariantSection], *, root: str = "") -> str:
    """The whole page, one section per variant; ``root`` is the API server's path prefix for links."""
    return _render(
        "registry.html.j2", title="Model registry", root=root, sections=[_variant_view(s, root) for s in sections]
    )


@dataclass(frozen=True)
class _VariantView:
    """A section as its template reads it: the section plus the links and orderings worked out here."""

    name: str
    overview: VariantOverview | None
    last_run: LastRun | None
    error: str | None
    description: str = ""
    gate_report_hrefs: list[str] = field(default_factory=list)
    compared_metrics: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    last_run_report_hrefs: dict[str, str] = field(default_factory=dict)
    rollback_conf: str = ""
    history_shown: int = HISTORY_SHOWN
    metric_chart: ChartLayout | None = None
    drift_chart: ChartLayout | None = None
    live_chart: ChartLayout | None = None
    serving_drift_chart: ChartLayout | None = None


def _variant_view(section: VariantSection, root: str) -> _VariantView:
    overview, last_run = section.overview, section.last_run
    if overview is None:
        return _VariantView(section.name, None, last_run, section.error)
    champion, decision = overview.champion, overview.decision
    gates = overview.champion_metrics.gates if overview.champion_metrics else []
    compared: list[str] = []
    if decision is not None and decision.candidate_metrics and decision.champion_metrics is not None:
        names = set(decision.candidate_metrics) | set(decision.champion_metrics)
        compared = sorted(names, key=lambda name: (name != decision.metric, name))  # the policy metric first
    roles = {}
    if champion is not None and champion.version is not None:
        if champion.previous_version:
            roles[champion.previous_version] = "previous champion"
        roles[champion.version] = "champion"
    target = champion.previous_version if champion else None
    conf = json.dumps({"reason": "why, e.g. INC-1234", "to_version": target or "<version>"})
    drift, serving = overview.config.expectations.drift, overview.serving_drift
    return _VariantView(
        name=section.name,
        overview=overview,
        last_run=last_run,
        error=section.error,
        description=(overview.config.description.strip().splitlines() or [""])[0],
        gate_report_hrefs=[
            f"{root}{report_path(section.name, gate['report_uri'])}" if gate.get("report_uri") else "" for gate in gates
        ],
        compared_metrics=compared,
        roles=roles,
        last_run_report_hrefs=_last_run_report_hrefs(root, last_run),
        rollback_conf=repr(conf),
        metric_chart=lay_out(promotion_metric_chart(overview)),
        drift_chart=lay_out(drift_chart(overview.drift, psi_warn=drift.psi_warn, psi_fail=drift.psi_fail)),
        live_chart=lay_out(live_metric_chart(overview.live, overview.config)) if overview.live is not None else None,
        serving_drift_chart=lay_out(serving_drift_chart(serving, psi_warn=drift.psi_warn, psi_fail=drift.psi_fail))
        if serving is not None
        else None,
    )


def _last_run_report_hrefs(root: str, last_run: LastRun | None) -> dict[str, str]:
    """The last run's gate report links, by gate (none without a last run)."""
    if last_run is None:
        return {}
    return {
        outcome.gate: f"{root}{task_report_path(last_run.dag_id, last_run.run_id, outcome.gate)}"
        for outcome in last_run.gates
    }


def chart_figure(layout: ChartLayout, chart_id: str) -> str:
    """One chart as the page shows it (a ``<figure>`` with the SVG, its legend and notes)."""
    template = '{% from "chart.html.j2" import chart %}{{ chart(layout, chart_id) }}'
    return _environment().from_string(template).render(layout=layout, chart_id=chart_id)


# -- a gate report -----------------------------------------------------------------------------


def gate_report_page(report: GateReport, variant: str, *, root: str = "") -> str:
    """A gate's JSON report as a page: the verdict, what failed with what was observed, then every check.

    It links back to its run's grid view in the Airflow UI and to the variant on the registry page.
    """
    data = report.data or {}
    context = data.get("context", {})
    expectations = [_expectation_view(e) for e in data.get("expectations", [])]
    run_id = context.get("run_id")
    return _render(
        "gate_report.html.j2",
        title=f"{report.gate} report: {variant}",
        variant=variant,
        gate=report.gate,
        uri=report.uri,
        success=data.get("success"),
        stats=data.get("statistics", {}),
        row_counts=list((data.get("statistics", {}).get("rows") or {}).items()),
        run_id=run_id,
        run_key=context.get("run_key"),
        window=context.get("window") or {},
        run_href=f"{root}{run_path(RETRAIN_DAG_PREFIX + variant, run_id)}" if run_id else None,
        registry_href=f"{root}{registry_page_path(variant)}",
        data_docs_href=f"{root}{report_path(variant, report.data_docs_uri)}" if report.data_docs_uri else None,
        notes=data.get("notes") or [],
        failed=[e for e in expectations if not e["success"] and e["severity"] == "fail"],
        expectations=expectations,
        values=_values_view(data),
        values_unlisted=report.gate == "check_drift" and compared(data) and not data.get("values"),
    )


#: Captions of the checked values' tables a gate lists (any other table: its name).
VALUE_CAPTIONS = {"drift": "PSI and KS per feature", "label": "The label's PSI", "segments": "Metric per segment"}


def _values_view(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's ``values`` (the small tables its expectations checked, row by row), as tables to list.

    A drift report lists every feature's PSI and KS this way, whether it passed or failed.
    """
    values = data.get("values")
    views = []
    for table, rows in values.items() if isinstance(values, dict) else ():
        rows = [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
        if rows:
            headers = list(dict.fromkeys(key for row in rows for key in row))
            caption = f"{VALUE_CAPTIONS.get(table, table)} ({len(rows)} rows of table {table})"
            views.append(
                {"caption": caption, "headers": headers, "rows": [[row.get(h) for h in headers] for row in rows]}
            )
    return views


def _expectation_view(item: dict[str, Any]) -> dict[str, Any]:
    """One expectation as the report shows it: its arguments and what it found, in words."""
    kwargs = {k: v for k, v in (item.get("kwargs") or {}).items() if k != "batch_id" and v is not None}
    found = []
    if item.get("error"):
        found.append(f"could not run: {item['error']}")
    if item.get("unexpected_count"):
        found.append(f"{item['unexpected_count']} unexpected values")
        if item.get("unexpected_sample"):
            found.append(f"e.g. {item['unexpected_sample'][:5]}")
    if item.get("observed") is not None:
        found.append(f"observed {item['observed']}")
    return {
        "expectation": item.get("expectation"),
        "table": item.get("table"),
        "arguments": ", ".join(f"{k}={v!r}" for k, v in kwargs.items()),
        "found": "; ".join(found),
        "success": bool(item.get("success")),
        "severity": item.get("severity"),
    }


def message_page(title: str, message: str) -> str:
    """A short page for a report that is not there (yet), or a refused request."""
    return _render("message.html.j2", title=title, message=message)
