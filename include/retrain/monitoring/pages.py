"""Server-rendered HTML for the registry page and gate reports: plain, escaped, accessible.

No scripts and no external assets: headings and tables with captions and header scopes, states
in words (never colour alone), and every value from S3 or Airflow escaped. The Airflow UI shows
the page in a sandboxed frame that may not navigate the top window, so every link opens in the
frame (the UI keeps the frame's address in its own, so the back button and reloads work).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from include.retrain.monitoring.links import (
    RETRAIN_DAG_PREFIX,
    registry_page_path,
    report_path,
    run_path,
    task_report_path,
)
from include.retrain.monitoring.overview import (
    GateOutcome,
    LastRun,
    PromotionDecisionView,
    VariantOverview,
    VersionMetrics,
)
from include.retrain.monitoring.reports import GateReport

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1a1a1a; margin: 0 1.5rem 2rem; max-width: 75rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
section.variant { margin-top: 2rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
.failed, .stale { color: #a30000; font-weight: 600; } .passed { color: #0b6b1d; font-weight: 600; }
code { background: #f4f4f4; padding: 0 .2rem; } pre { background: #f4f4f4; padding: .5rem; overflow-x: auto; }
a { color: #0645ad; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _link(href: str, text: str) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>'


def _table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table whose cells are already HTML (escaped by the caller)."""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) and not isinstance(value, bool) else _e(value)


def _when(text: str | None) -> str:
    if not text:
        return ""
    try:
        return f"{datetime.fromisoformat(text):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return _e(text)


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
    nav = "".join(f'<li><a href="#variant-{_e(s.name)}">{_e(s.name)}</a></li>' for s in sections)
    intro = (
        "<h1>Model registry</h1>\n<p>For each variant: the champion and how it got there (the promotion decision: "
        "both models on the same holdout rows), each version's own holdout metric, the last run's gates with their "
        "reports, what is deployed, the registry's history and how to roll back. Read from each variant's registry "
        "in S3 and from Airflow just now.</p>"
    )
    if not sections:
        return _page("Model registry", intro + "\n<p>No variant you may see has a pipeline config.</p>")
    parts = [intro, f'<nav aria-label="Variants"><ul>{nav}</ul></nav>']
    parts += [_variant_section(section, root) for section in sections]
    return _page("Model registry", "\n".join(parts))


def _variant_section(section: VariantSection, root: str) -> str:
    name, overview = section.name, section.overview
    head = f'<section class="variant" id="variant-{_e(name)}" aria-labelledby="h-{_e(name)}">'
    head += f'<h2 id="h-{_e(name)}">{_e(name)}</h2>'
    if overview is None:
        return (
            head + f'<p class="failed">The registry of {_e(name)} could not be read: {_e(section.error)}</p></section>'
        )
    config = overview.config
    description = (config.description.strip().splitlines() or [""])[0]
    links = (
        f"<p>{_e(description)} DAGs: {_link(f'{root}/dags/{config.dag_id}', config.dag_id)}, "
        f"{_link(f'{root}/dags/rollback_{name}', f'rollback_{name}')}. Registry: "
        f"<code>s3://{_e(config.storage.bucket)}/{_e(config.storage.prefix)}/{_e(name)}/registry/</code></p>"
    )
    return "\n".join(
        [
            head,
            links,
            _champion(overview, root),
            _decision(overview),
            _metrics_history(overview),
            _last_run(section.last_run, root),
            _history(overview.events),
            _rollback(overview),
            "</section>",
        ]
    )


def _trained_gates(name: str, metrics: VersionMetrics | None, root: str) -> str:
    """The champion's gates when it was trained (from its model card), each linked to its report."""
    if metrics is None or not metrics.gates:
        return "none recorded"
    items = []
    for gate in metrics.gates:
        text = f"{_e(gate.get('gate'))}: {_e(gate.get('summary') or ('passed' if gate.get('success') else 'FAILED'))}"
        if gate.get("report_uri"):
            href = f"{root}{report_path(name, gate['report_uri'])}"
            text += " (" + _link(href, f"{gate.get('gate')} report of the champion's run") + ")"
        items.append(f"<li>{text}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _champion(overview: VariantOverview, root: str) -> str:
    champion = overview.champion
    freshness = overview.freshness
    fresh_class = ' class="stale"' if freshness.stale else ""
    rows = []
    if champion is None:
        rows.append(("Champion", "none yet: no model has been promoted"))
    else:
        rows += [
            ("Champion", f"<strong>{_e(champion.version)}</strong>"),
            (
                "Promoted",
                f"{_when(champion.updated_at)} by run <code>{_e(champion.run_id)}</code> ({_e(champion.triggered_by)})",
            ),
            ("Why", _e(champion.reason)),
            ("Previous champion", _e(champion.previous_version or "none")),
            ("Its gates", _trained_gates(overview.config.name, overview.champion_metrics, root)),
        ]
    deployed = overview.deployed
    if deployed is None:
        rows.append(("Deployed", "nothing deployed yet"))
    else:
        slot = f", slot {deployed.slot}" if deployed.slot else ""
        behind = (
            ""
            if champion is None or deployed.version == champion.version
            else (' <span class="failed">(not the champion: the next run or rollback deploys it)</span>')
        )
        rows.append(
            (
                "Deployed",
                f"{_e(deployed.version)} ({_e(deployed.strategy)}{_e(slot)}) since "
                f"{_when(deployed.updated_at)}{behind}",
            )
        )
    if overview.challenger is not None:
        details = overview.challenger.details
        rows.append(
            (
                "Canary",
                f"{_e(overview.challenger.version)} in shadow, {_e(details.get('wins', 0))}/"
                f"{_e(details.get('required', '?'))} wins",
            )
        )
    rows.append(("Freshness", f"<span{fresh_class}>{_e(freshness.describe())}</span>"))
    items = "".join(f"<dt>{_e(term)}</dt><dd>{value}</dd>" for term, value in rows)
    return f"<h3>Champion</h3><dl>{items}</dl>"


def _signed(value: Any) -> str:
    return f"{value:+.4f}" if isinstance(value, int | float) and not isinstance(value, bool) else _e(value)


def _decision(overview: VariantOverview) -> str:
    """The decision that made the champion, with both models' metrics on the rows it compared."""
    head = "<h3>Promotion decision</h3>"
    champion, decision = overview.champion, overview.decision
    if champion is None:
        return head + "<p>No champion yet, so no decision to show.</p>"
    if decision is None:
        return head + (
            f"<p>The promotion of {_e(champion.version)} is not among the registry's newest promotions; its reason "
            f"is above.</p>"
        )
    parts = [
        head,
        f"<p>{_e(decision.version)} became champion {_when(decision.at)} by run <code>{_e(decision.run_id)}</code>: "
        f"{_e(decision.reason)}</p>",
    ]
    candidate, theirs = decision.candidate_metrics or {}, decision.champion_metrics
    rows_text = f"{decision.holdout_rows} holdout rows" if decision.holdout_rows else "holdout rows"
    if decision.compared_with is None:
        if candidate:
            rows = [(_metric_label(name, decision.metric), _number(value)) for name, value in candidate.items()]
            caption = f"First champion: {decision.version} on the {rows_text} of its run (nothing to compare with)"
            parts.append(_table(caption, ["metric", decision.version], rows))
    elif theirs is not None and candidate:
        rows = []
        for name in sorted(set(candidate) | set(theirs), key=lambda n: (n != decision.metric, n)):
            ours, other = candidate.get(name), theirs.get(name)
            both = isinstance(ours, int | float) and isinstance(other, int | float)
            diff = _signed(ours - other) if both else ""
            rows.append((_metric_label(name, decision.metric), _number(ours), _number(other), diff))
        caption = (
            f"{decision.version} and the champion it replaced, {decision.compared_with}, scored on the same "
            f"{rows_text} of run {decision.run_id}: the rows the decision compared"
        )
        headers = [
            "metric",
            f"candidate {decision.version} (now champion)",
            f"champion then {decision.compared_with}",
            "difference (candidate - champion)",
        ]
        parts.append(_table(caption, headers, rows))
    else:
        parts.append(
            f"<p>It replaced {_e(decision.compared_with)}, which its evaluation had not scored (another run moved "
            "the champion in between); the numbers the decision compared are in its reason.</p>"
        )
    parts.append(f"<p>{_test_text(decision)}</p>")
    return "\n".join(parts)


def _metric_label(name: str, policy_metric: str) -> str:
    return f"<strong>{_e(name)}</strong> (policy metric)" if name == policy_metric else _e(name)


def _test_text(decision: PromotionDecisionView) -> str:
    """The paired bootstrap interval when the test ran, else what the decision rested on."""
    sig = decision.significance
    if sig:
        little = (
            f", as a bag of little bootstraps over {_e(sig.get('subsets'))} subsets of "
            f"{_e(sig.get('subset_rows'))} rows"
            if sig.get("subset_rows")
            else ""
        )
        confidence = sig.get("confidence")
        level = f"{confidence:.0%}" if isinstance(confidence, int | float) else _e(confidence)
        return (
            f"Paired bootstrap test of {_e(sig.get('metric'))} on those rows: improvement "
            f"<strong>{_signed(sig.get('difference'))}</strong>, {level} interval "
            f"<strong>[{_signed(sig.get('ci_low'))}, {_signed(sig.get('ci_high'))}]</strong> "
            f"({_e(sig.get('valid_samples'))} of {_e(sig.get('samples'))} resamples{little}; both models scored on "
            "each resample's rows)."
        )
    if decision.forced:
        return "Forced: the promotion policy was not applied."
    if decision.canary:
        c = decision.canary
        return (
            f"Won its canary: on run {_e(c.get('run_key'))}'s holdout it scored {_number(c.get('challenger_value'))} "
            f"against the champion's {_number(c.get('champion_value'))} (point values on the same rows)."
        )
    if decision.compared_with is None:
        return "The first champion needs only to meet the threshold."
    return "No bootstrap test ran (promotion.bootstrap was off): a point comparison on the same rows, no interval."


def _metrics_history(overview: VariantOverview) -> str:
    """Each version's metric on its own holdout: what it scored when trained, not a comparison."""
    if not overview.history:
        return "<h3>Metrics history</h3><p>No version registered yet.</p>"
    champion = overview.champion
    roles = {}
    if champion is not None:
        roles[champion.previous_version] = "previous champion"
        roles[champion.version] = "champion"
    rows = [
        (
            _e(item.version),
            _when(item.registered_at),
            f"{_e(item.metric)} {_number(item.value)}" if item.metric else "",
            _e(roles.get(item.version, "")),
        )
        for item in overview.history
    ]
    caption = (
        f"The {len(rows)} newest versions, each on its own holdout (the rows of the run that trained it); "
        "not comparable row-for-row"
    )
    headers = ["version", "registered", "policy metric on its own holdout", "now"]
    return "<h3>Metrics history</h3>" + _table(caption, headers, rows)


def _gate_cells(outcome: GateOutcome, last_run: LastRun, root: str) -> list[str]:
    summary = outcome.summary or {}
    state = outcome.state or "not run"
    passed = summary.get("success")
    verdict = {True: '<span class="passed">passed</span>', False: '<span class="failed">FAILED</span>'}.get(
        passed, _e(state)
    )
    findings = "".join(f"<li>{_e(line)}</li>" for line in summary.get("failed", [])[:5])
    text = _e(summary.get("summary", "")) + (f"<ul>{findings}</ul>" if findings else "")
    report = ""
    if summary.get("report_uri"):
        report = _link(
            f"{root}{task_report_path(last_run.dag_id, last_run.run_id, outcome.gate)}", f"{outcome.gate} report"
        )
    return [_e(outcome.gate), verdict, text, report]


def _last_run(last_run: LastRun | None, root: str) -> str:
    if last_run is None:
        return "<h3>Last run</h3><p>No run of this variant in Airflow yet.</p>"
    run_state = last_run.state.upper() if last_run.state == "failed" else last_run.state
    state_class = ' class="failed"' if last_run.state == "failed" else ""
    started = f", started {last_run.started:%Y-%m-%d %H:%M:%S} UTC" if last_run.started else ""
    head = (
        f"<h3>Last run</h3><p>Run <code>{_e(last_run.run_id)}</code> ({_e(last_run.run_type)}{_e(started)}): "
        f"<span{state_class}>{_e(run_state)}</span>.</p>"
    )
    rows = [_gate_cells(outcome, last_run, root) for outcome in last_run.gates]
    return head + _table(f"Gates of run {last_run.run_id}", ["gate", "outcome", "what it found", "report"], rows)


def _history(events: list[dict[str, Any]]) -> str:
    if not events:
        return "<h3>History</h3><p>No registry events yet.</p>"
    rows = [
        (
            _when(e.get("at")),
            _e(e.get("event")),
            _e(e.get("version")),
            _e(e.get("reason")),
            f"<code>{_e(e.get('run_id'))}</code>",
        )
        for e in events
    ]
    return "<h3>History</h3>" + _table(
        f"The {len(events)} newest registry events, newest first", ["time", "event", "version", "reason", "run"], rows
    )


def _rollback(overview: VariantOverview) -> str:
    name = overview.config.name
    champion = overview.champion
    target = champion.previous_version if champion else None
    if champion is None:
        return "<h3>Roll back</h3><p>Nothing to roll back: there is no champion yet.</p>"
    default = (
        f"leave <em>to_version</em> empty to go back to {_e(target)} (the champion it replaced)"
        if target
        else "set <em>to_version</em> to a registered version (this champion replaced none)"
    )
    conf = json.dumps({"reason": "why, e.g. INC-1234", "to_version": target or "<version>"})
    return (
        f"<h3>Roll back</h3><p>Trigger the DAG <code>rollback_{_e(name)}</code> with a <em>reason</em>; {default}. "
        f"It checks the version, moves the champion, records a <code>rolled_back</code> event and redeploys. "
        f"From a shell:</p><pre><code>airflow dags trigger rollback_{_e(name)} --conf {_e(repr(conf))}</code></pre>"
    )


# -- a gate report -----------------------------------------------------------------------------


def gate_report_page(report: GateReport, variant: str, *, root: str = "") -> str:
    """A gate's JSON report as a page: the verdict, what failed with what was observed, then every check."""
    data = report.data or {}
    stats = data.get("statistics", {})
    context = data.get("context", {})
    success = data.get("success")
    verdict = '<span class="passed">passed</span>' if success else '<span class="failed">FAILED</span>'
    title = f"{report.gate} report: {variant}"
    expectations = data.get("expectations", [])
    failed = [e for e in expectations if not e.get("success") and e.get("severity") == "fail"]
    window = context.get("window") or {}
    facts = [
        ("Gate", _e(report.gate)),
        ("Verdict", verdict),
        (
            "Expectations",
            f"{_e(stats.get('successful'))} of {_e(stats.get('evaluated'))} met, "
            f"{_e(stats.get('failed'))} failed, {_e(stats.get('warnings'))} warnings",
        ),
        ("Rows", _e(", ".join(f"{k}: {v}" for k, v in (stats.get("rows") or {}).items()))),
        ("Run", f"<code>{_e(context.get('run_id'))}</code> (run key {_e(context.get('run_key'))})"),
        ("Window", f"{_e(window.get('start'))} to {_e(window.get('end'))} (end exclusive)"),
        ("Report", f"<code>{_e(report.uri)}</code>"),
    ]
    if report.data_docs_uri:
        href = f"{root}{report_path(variant, report.data_docs_uri)}"
        facts.append(("Data docs", _link(href, f"Great Expectations data docs of {report.gate}")))
    items = "".join(f"<dt>{_e(term)}</dt><dd>{value}</dd>" for term, value in facts)
    body = [f"<h1>{_e(title)}</h1>", _report_nav(variant, context.get("run_id"), root), f"<dl>{items}</dl>"]
    notes = data.get("notes") or []
    if notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(note)}</li>" for note in notes) + "</ul>")
    if failed:
        body.append(
            _table(
                f"Failed expectations ({len(failed)})",
                ["expectation", "table", "arguments", "found"],
                [_expectation_row(e) for e in failed],
            )
        )
    body.append(
        _table(
            f"All expectations ({len(expectations)})",
            ["expectation", "table", "arguments", "found", "outcome"],
            [[*_expectation_row(e), _outcome(e)] for e in expectations],
        )
    )
    return _page(title, "\n".join(body))


def _report_nav(variant: str, run_id: str | None, root: str) -> str:
    """Where the report belongs: its run in Airflow's grid view, and the variant on the registry page."""
    links = []
    if run_id:
        links.append(_link(f"{root}{run_path(RETRAIN_DAG_PREFIX + variant, run_id)}", f"Run {run_id} in Airflow"))
    links.append(_link(f"{root}{registry_page_path(variant)}", f"Model registry ({variant})"))
    return '<nav aria-label="Where this report belongs"><p>' + " · ".join(links) + "</p></nav>"


def _expectation_row(item: dict[str, Any]) -> list[str]:
    kwargs = {k: v for k, v in (item.get("kwargs") or {}).items() if k != "batch_id" and v is not None}
    arguments = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    found = []
    if item.get("error"):
        found.append(f"could not run: {item['error']}")
    if item.get("unexpected_count"):
        found.append(f"{item['unexpected_count']} unexpected values")
        if item.get("unexpected_sample"):
            found.append(f"e.g. {item['unexpected_sample'][:5]}")
    if item.get("observed") is not None:
        found.append(f"observed {item['observed']}")
    return [f"<code>{_e(item.get('expectation'))}</code>", _e(item.get("table")), _e(arguments), _e("; ".join(found))]


def _outcome(item: dict[str, Any]) -> str:
    if item.get("success"):
        return '<span class="passed">met</span>'
    return '<span class="failed">FAILED</span>' if item.get("severity") == "fail" else "warning"


def message_page(title: str, message: str) -> str:
    """A short page for a report that is not there (yet), or a refused request."""
    return _page(title, f"<h1>{_e(title)}</h1><p>{_e(message)}</p>")
