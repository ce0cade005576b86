"""Notifications as Airflow notifiers: a failed run, a promotion or a stale model, to the variant's webhook.

Each callback is a :class:`RetrainNotifier` bound to one event; it is attached only when the
variant's ``notifications.webhook_conn_id`` is set and lists that event. Other notifiers (the
SMTP or Slack providers' ``SmtpNotifier``, ``SlackNotifier``) plug in next to it in
:func:`notifier_callbacks`, once their provider is installed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseNotifier

from include.retrain.config import NotificationEvent, PipelineConfig
from include.retrain.monitoring.links import (
    absolute_url,
    is_gate_task,
    registry_page_path,
    task_report_path,
)


def airflow_base_url() -> str:
    """The Airflow web address for links in messages (``[api] base_url``, as task log links use)."""
    from airflow.sdk.configuration import conf

    return conf.get("api", "base_url", fallback="http://localhost:8080/")


class RetrainNotifier(BaseNotifier):
    """Sends one message for ``event`` to the variant's webhook connection (a failure of the webhook is logged)."""

    def __init__(self, config: PipelineConfig, event: NotificationEvent) -> None:
        super().__init__()
        self.config = config
        self.event = event

    def notify(self, context: Any) -> None:
        from airflow.sdk import BaseHook

        from include.retrain.monitoring import notifications

        ti = context["ti"]
        base = airflow_base_url()
        if self.event == "promotion":
            manifest = ti.xcom_pull(task_ids=ti.task_id) or {}
            link = absolute_url(base, registry_page_path(self.config.name))
            message = notifications.promotion_notification(self.config, manifest, run_id=ti.run_id, link=link)
        else:
            if is_gate_task(ti.dag_id, ti.task_id):
                link = absolute_url(base, task_report_path(ti.dag_id, ti.run_id, ti.task_id))
            elif self.event == "stale_model":
                link = absolute_url(base, registry_page_path(self.config.name))
            else:
                link = ti.log_url
            message = notifications.failure_notification(
                self.config,
                dag_id=ti.dag_id,
                run_id=ti.run_id,
                task_id=ti.task_id,
                error=str(context.get("exception") or ""),
                link=link,
                event=self.event,
            )
        conn_id = self.config.notifications.webhook_conn_id
        if message is None or conn_id is None:
            return
        connection = BaseHook.get_connection(conn_id)
        notifications.send(self.config, connection, message)
        self.log.info("Sent the %s notification of %s to %s", self.event, self.config.name, connection.conn_id)


def notifier_callbacks(config: PipelineConfig, event: NotificationEvent) -> list[BaseNotifier]:
    """The callbacks for ``event`` of ``config``'s variant: empty unless its notifications ask for it."""
    settings = config.notifications
    if settings.webhook_conn_id is None or event not in settings.events:
        return []
    return [RetrainNotifier(config, event)]
