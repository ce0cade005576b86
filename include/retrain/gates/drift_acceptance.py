"""Accepting drift for one run (the Param ``accept_drift``): what is waived, what the reports say,
and the one ``drift_accepted`` registry event about the champion compared with."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from include.retrain.context import RunContext
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.result import GateResult
from include.retrain.manifests import GateSummary


def waive_failures(specs: list[ExpectationSpec]) -> tuple[list[ExpectationSpec], list[ExpectationSpec]]:
    """The specs with every ``fail`` turned into ``warn``, and the specs so waived."""
    waived = [spec for spec in specs if spec.severity == "fail"]
    return [replace(spec, severity="warn") if spec.severity == "fail" else spec for spec in specs], waived


def acceptance_note(run: RunContext) -> str:
    return (
        f"accept_drift is set by {run.triggered_by} (reason: {run.options.reason}): drift that would fail the "
        "run is recorded as a warning for this run only"
    )


def waived_outcomes(result: GateResult, waived: list[ExpectationSpec]) -> list[Any]:
    """The failed outcomes of expectations ``accept_drift`` turned from fail into warn."""
    keys = {(spec.table, spec.kwargs.get("column"), spec.kwargs.get("max_value")) for spec in waived}
    return [
        outcome
        for outcome in result.warnings
        if (outcome.table, outcome.column, outcome.kwargs.get("max_value")) in keys
    ]


def acceptance_context(run: RunContext, accepted: list[Any]) -> dict[str, Any]:
    """What the reports say about the acceptance: the reason, who, and what was waived."""
    return {
        "reason": run.options.reason,
        "triggered_by": run.triggered_by,
        "waived": [outcome.describe() for outcome in accepted],
    }


def record_drift_accepted(run: RunContext, champion: str, accepted: list[Any], summary: GateSummary) -> None:
    """One ``drift_accepted`` event per run (a retry finds it and writes none)."""
    registry = run.registry
    change_id = hashlib.sha256(f"drift_accepted:{run.run_id}".encode()).hexdigest()[:32]
    if registry.has_event("drift_accepted", champion, change_id):
        return
    drifted = sorted(
        {
            str(row.get("feature") or row.get("column"))
            for outcome in accepted
            for row in outcome.unexpected_sample
            if isinstance(row, dict)
        }
    )
    registry.record_event(
        "drift_accepted",
        champion,
        run_id=run.run_id,
        triggered_by=run.triggered_by,
        reason=run.options.reason,
        details={
            "run_key": run.run_key,
            "window": run.describe()["window"],
            "drifted": drifted,
            "waived": [outcome.describe() for outcome in accepted],
            "report_uri": summary.report_uri,
            "html_report_uri": summary.html_report_uri,
        },
        change_id=change_id,
    )
