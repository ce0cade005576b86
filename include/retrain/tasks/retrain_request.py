"""``request_retrain``: after ``measure_live``, ask for a retrain when ``monitoring.retrain_when`` holds.

Only the deployed version's days after its last request count (``stages.retrain_when``), so one
bad stretch asks once. A request is one ``retrain_requested`` registry event with the reason; the
DAG task then emits the Asset ``retrain-request/<name>`` that ``retrain_<name>`` is scheduled on.
The retrain it starts follows the normal gates and policy: nothing here promotes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from include.retrain.promotion.deploy import read_deployed
from include.retrain.scoring.outputs import read_manifest
from include.retrain.scoring.run import ScoringRun
from include.retrain.stages.retrain_when import live_metric_decayed, serving_drifted
from include.retrain.tasks.live import read_live_series, scored_days

REQUEST_EVENT = "retrain_requested"


def _last_request(run: ScoringRun, version: str) -> dict[str, Any] | None:
    requests = [e for e in run.registry.recent_events(1000, REQUEST_EVENT) if e.get("version") == version]
    return max(requests, key=lambda e: str(e.get("at")), default=None)


def _reason(run: ScoringRun, version: str, after: str) -> tuple[str | None, str | None]:
    """Why to retrain now (or None), and the newest day the evidence covers."""
    when = run.config.monitoring.retrain_when
    assert when is not None
    days = [d.isoformat() for d in scored_days(run) if d.isoformat() > after][-when.for_days :]
    reasons = []
    if when.live_metric_below is not None:
        series = [r for r in read_live_series(run.registry, version) if str(r["partition"]) > after]
        direction = run.config.promotion.direction
        reasons.append(live_metric_decayed(series, version, when.live_metric_below, when.for_days, direction))
    if when.serving_psi_above is not None:
        manifests = {day: read_manifest(run, date.fromisoformat(day)) for day in days}
        reasons.append(serving_drifted(manifests, version, when.serving_psi_above, when.for_days))
    found = [reason for reason in reasons if reason]
    return ("; ".join(found) or None), (days[-1] if days else None)


def request_retrain(run: ScoringRun) -> dict[str, Any]:
    """Record a ``retrain_requested`` event when a condition holds; the XCom says whether and why."""
    if run.config.monitoring.retrain_when is None:
        return {"summary": "no retrain_when conditions", "requested": False}
    deployed = read_deployed(run.registry)
    if deployed is None:
        return {"summary": "no deployed model: nothing to judge", "requested": False}
    version = deployed.version
    last = _last_request(run, version)
    if last is not None and last.get("run_id") == run.run_id:  # a retry: the request stands, emit it again
        return _requested(run, version, str(last["reason"]), str(last["details"].get("through")))
    after = str((last or {}).get("details", {}).get("through") or "")
    reason, through = _reason(run, version, after)
    if reason is None or through is None:
        return {"summary": f"no retrain needed: {version} meets monitoring.retrain_when", "requested": False}
    run.registry.record_event(
        REQUEST_EVENT,
        version,
        run_id=run.run_id,
        triggered_by=run.triggered_by,
        reason=reason,
        details={"through": through, "run_key": run.run_key},
        change_id=f"{version}:{through}",
    )
    return _requested(run, version, reason, through)


def _requested(run: ScoringRun, version: str, reason: str, through: str) -> dict[str, Any]:
    from include.retrain.landing_watch import EVENT_KEY

    # The retrain's window ends after the newest day whose labels have landed: a later day is unlabeled
    # still, and training on it would fail validate_raw (or, with target_nulls: drop, train on nothing new).
    delay = (run.config.scoring.label_delay_days if run.config.scoring else None) or 0
    newest = (run.end - timedelta(days=1 + delay)).isoformat()
    event = {"reason": reason, "version": version, "through": through, EVENT_KEY: newest}
    return {"summary": f"retrain requested: {reason}", "requested": True, "event": event}
