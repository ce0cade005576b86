"""Messages for people: a run failed, a model was promoted, a model went stale.

One message per event, as JSON: the variant, the run, the task, the reason and a link (the gate
report for a failed gate, else the task's log; the registry page for promotions and stale
models). ``text`` repeats it all in one line, so a Slack or Mattermost incoming webhook shows it
as is. Sent by POST to the URL of an Airflow connection (``notifications.webhook_conn_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from include.retrain.config import NotificationEvent, PipelineConfig
from include.retrain.webhook import post_json

#: Longest reason a message carries; the full text is in the task log and the report.
MAX_REASON = 1500


@dataclass(frozen=True)
class Notification:
    """One event for people: what happened to which variant, in which run and task, why, and where to look."""

    event: NotificationEvent
    variant: str
    dag_id: str
    run_id: str | None
    task_id: str | None
    reason: str
    link: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The whole message in one line, for chat tools that show ``text``."""
        headline = {
            "failure": f"FAILED: {self.dag_id} at {self.task_id}",
            "promotion": f"New champion for {self.variant}",
            "stale_model": f"STALE MODEL: {self.variant} ({self.dag_id}.{self.task_id})",
        }[self.event]
        run = f" (run {self.run_id})" if self.run_id else ""
        link = f" {self.link}" if self.link else ""
        return f"[retrain {self.variant}] {headline}{run}: {self.reason}{link}"

    def payload(self) -> dict[str, Any]:
        return {"text": self.text(), **asdict(self)}


def _short(reason: str) -> str:
    reason = reason.strip()
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."


def failure_notification(
    config: PipelineConfig,
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    error: str,
    link: str | None,
    event: NotificationEvent = "failure",
) -> Notification:
    """A task failed for good: a gate, an infra fault after its retries, or (``stale_model``) the freshness check."""
    return Notification(
        event=event,
        variant=config.name,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        reason=_short(error) or "no error message",
        link=link,
    )


def promotion_notification(
    config: PipelineConfig, manifest: Mapping[str, Any], *, run_id: str, link: str | None
) -> Notification | None:
    """The promote task made a new champion (directly, or a canary that won); None if it did not."""
    canary = manifest.get("canary") or {}
    if manifest.get("promoted"):
        version, previous = manifest["version"], manifest.get("compared_with")
        reason = f"{version} is champion now (was {previous or 'none'}): {manifest['reason']}"
    elif canary.get("result") == "promoted":
        version, previous = canary["version"], None
        reason = f"{version} won its canary and is champion now: {canary['reason']}"
    else:
        return None
    return Notification(
        event="promotion",
        variant=config.name,
        dag_id=config.dag_id,
        run_id=run_id,
        task_id="promote",
        reason=_short(reason),
        link=link,
        details={"version": version, "previous_version": previous, "strategy": manifest.get("strategy")},
    )


def send(config: PipelineConfig, connection: Any, notification: Notification) -> int:
    """POST the message to the connection's URL; WebhookFailed if it is not accepted in time."""
    timeout = config.notifications.timeout_seconds
    return post_json(connection, notification.payload(), timeout=timeout, purpose="notification webhook")
