"""Airflow UI plugin: a "Model registry" page and every gate's report one click away.

- ``/registry/`` (a FastAPI app the API server mounts), shown in the UI under Browse > Model
  registry: per variant the champion, how and why it got there, its metrics next to the previous
  champion's, the last run's gates with their reports, what is deployed, the history and how to
  roll back. Every route requires an Airflow login (see ``plugins/registry_ui/app.py``).
- A "Gate report" link on the gate tasks of every ``retrain_<name>`` run, to that gate's report.

Airflow imports this file in every process that loads plugins, task runners included, so it
imports nothing heavy: the web app (FastAPI, Airflow's API security, boto3) is built on the API
server's first request to ``/registry``.
"""

import sys
from pathlib import Path
from typing import Any, ClassVar

# The bundle root (the folder holding plugins/ and include/) must be importable. Astro already
# puts it on sys.path; plain Airflow only adds the plugins folder.
_BUNDLE_ROOT = str(Path(__file__).resolve().parent.parent)
if _BUNDLE_ROOT not in sys.path:
    sys.path.append(_BUNDLE_ROOT)

from airflow.plugins_manager import AirflowPlugin  # noqa: E402
from airflow.sdk import BaseOperatorLink  # noqa: E402

from include.retrain.monitoring.links import PLUGIN_PREFIX, is_gate_task, root_path, task_report_path  # noqa: E402


class GateReportLink(BaseOperatorLink):
    """The report of a gate task of a ``retrain_<name>`` run (no link on other tasks)."""

    name = "Gate report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if not is_gate_task(ti_key.dag_id, ti_key.task_id):
            return ""
        from airflow.configuration import conf

        base = root_path(conf.get("api", "base_url", fallback=""))
        return base + task_report_path(ti_key.dag_id, ti_key.run_id, ti_key.task_id)


class LazyApp:
    """An ASGI app that builds the registry app on its first request (only the API server ever calls it)."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from plugins.registry_ui.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


# AirflowPlugin annotates these as instance attributes; Airflow reads them from the class, and
# ruff (RUF012) wants mutable class attributes marked ClassVar, so mypy's override check is silenced.
class ModelRegistryPlugin(AirflowPlugin):
    name = "model_registry"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [  # type: ignore[misc]
        {"app": LazyApp(), "url_prefix": PLUGIN_PREFIX, "name": "Model registry"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [  # type: ignore[misc]
        {
            "name": "Model registry",
            "href": f"{PLUGIN_PREFIX.lstrip('/')}/",
            "url_route": "model-registry",
            "destination": "nav",
            "category": "browse",
        }
    ]
    global_operator_extra_links: ClassVar[list[BaseOperatorLink]] = [GateReportLink()]  # type: ignore[misc]
