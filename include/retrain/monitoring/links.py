"""Where ops find things: the registry plugin's URL paths and the XCom key of failed gates' summaries.

Paths are relative to the Airflow API server's root (``[api] base_url``); the UI plugin, the gate
report link on each gate task and the notifications all build their links here.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import quote, urlencode, urlsplit

#: A failing task pushes no return value, so a failed gate's summary (with its report URI) goes here.
GATE_SUMMARY_KEY = "gate_summary"
#: The gate tasks of ``retrain_<name>``, in run order.
GATES = ("validate_raw", "validate_features", "check_drift", "validate_model")
#: Where the API server mounts the registry plugin's FastAPI app.
PLUGIN_PREFIX = "/registry"
RETRAIN_DAG_PREFIX = "retrain_"


def variant_of(dag_id: str) -> str | None:
    """``churn`` for ``retrain_churn``; None for any other DAG."""
    return dag_id.removeprefix(RETRAIN_DAG_PREFIX) if dag_id.startswith(RETRAIN_DAG_PREFIX) else None


def is_gate_task(dag_id: str, task_id: str) -> bool:
    return variant_of(dag_id) is not None and task_id in GATES


def registry_page_path(variant: str | None = None) -> str:
    """The registry page, scrolled to one variant's section when given."""
    return f"{PLUGIN_PREFIX}/" + (f"#variant-{variant}" if variant else "")


def run_path(dag_id: str, run_id: str) -> str:
    """A DAG run in the Airflow UI (its grid view): the UI's ``dags/:dagId/runs/:runId`` route."""
    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def task_report_path(dag_id: str, run_id: str, task_id: str) -> str:
    """The report of a gate task in one run (found through its XCom summary)."""
    parts = (quote(dag_id, safe=""), quote(run_id, safe=""), quote(task_id, safe=""))
    return f"{PLUGIN_PREFIX}/runs/{parts[0]}/{parts[1]}/{parts[2]}/report"


def report_path(variant: str, uri: str) -> str:
    """A gate report by its S3 URI (served only if it is a gate report inside the variant's store)."""
    return f"{PLUGIN_PREFIX}/variants/{quote(variant, safe='')}/report?{urlencode({'uri': uri})}"


def root_path(base_url: str) -> str:
    """The API server's path prefix from ``[api] base_url`` (empty when Airflow is served at ``/``)."""
    return urlsplit(base_url).path.rstrip("/")


def airflow_root() -> str:
    """This process's ``[api] base_url`` path prefix; empty when it is unset.

    In an Airflow process (a task, the API server) Airflow's configuration is already loaded and
    answers. Elsewhere (``make run``, the demo, a benchmark's child) only the environment variable
    is read: importing Airflow for one setting would cost about 3 s of CPU per gate.
    """
    configuration = sys.modules.get("airflow.configuration")
    if configuration is None:
        return root_path(os.environ.get("AIRFLOW__API__BASE_URL", ""))
    return root_path(configuration.conf.get("api", "base_url", fallback=""))


def absolute_url(base_url: str, path: str) -> str:
    """``path`` under the Airflow web address (for messages read outside the UI)."""
    return base_url.rstrip("/") + path
