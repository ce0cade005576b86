"""The registry plugin's FastAPI app: the registry page and gate reports, behind Airflow's login.

Mounted by the API server under ``/registry``. Every route depends on Airflow's own
authentication (``requires_authenticated``: the JWT in an ``Authorization: Bearer`` header, else
the UI's ``_token`` cookie; no token gives 401, a bad one 403; a browser without a session is sent
to the login page), and each variant is shown only to users allowed to read its
``retrain_<name>`` task instances. There are no docs or OpenAPI routes: FastAPI serves those
without the app's dependencies. Registry data comes from S3 through the variant's Airflow
connection; run and gate states from Airflow's database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from dags.retrain_factory.runner import variant_store
from include.retrain.config import PipelineConfig, discover_pipelines
from include.retrain.monitoring.links import GATE_SUMMARY_KEY, GATES, root_path, variant_of
from include.retrain.monitoring.overview import GateOutcome, LastRun, read_overview
from include.retrain.monitoring.pages import VariantSection, gate_report_page, message_page, registry_page
from include.retrain.monitoring.reports import ReportRefused, read_report
from include.retrain.registry import ModelRegistry

#: Our own pages need no scripts, fonts, images or frames of their own.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
#: A gate's HTML data docs come from S3: sandboxed and script-free, so nothing in them runs with
#: Airflow's origin, and nothing is fetched from anywhere (they carry their own stylesheet; data docs
#: written before they did ask CDNs for theirs, and are shown unstyled rather than let a request out).
STORED_REPORT_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'",
}


def create_app() -> FastAPI:
    """The app the plugin mounts; every route requires an authenticated Airflow user."""
    app = FastAPI(
        title="Model registry",
        dependencies=[Depends(requires_authenticated())],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(HTTPException, _login_first)
    app.add_api_route("/", registry, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/variants/{name}/report", variant_report, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route(
        "/runs/{dag_id}/{run_id}/{task_id}/report", task_report, methods=["GET"], response_class=HTMLResponse
    )
    return app


async def _login_first(request: Request, exc: Exception) -> Response:
    """A browser without a session goes to Airflow's login page and comes back; API clients get the 401."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == status.HTTP_401_UNAUTHORIZED and "text/html" in request.headers.get("accept", ""):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(get_auth_manager().get_url_login(next_url=here), status_code=status.HTTP_303_SEE_OTHER)
    return await http_exception_handler(request, exc)


# -- routes ------------------------------------------------------------------------------------


def registry(user: GetUserDep, session: SessionDep) -> HTMLResponse:
    """The registry page: every variant whose task instances the user may read, refused config files included."""
    now = datetime.now(UTC)
    sections = []
    for source in discover_pipelines():
        name, config = source.name, source.config
        if config is None:  # a refused file says why here too, as its BROKEN CONFIG DAG does
            if source.error is not None and _may_read(user, f"retrain_{name}"):
                reason = f"its pipeline config {source.path.name} is refused: {'; '.join(source.error.problems)}"
                sections.append(VariantSection(name, None, None, reason))
            continue
        if not _may_read(user, config.dag_id):
            continue
        last_run = _last_run(session, config.dag_id)
        try:
            overview = read_overview(config, ModelRegistry(variant_store(config), name), now=now)
        except Exception as exc:  # one unreachable registry must not hide the others
            sections.append(VariantSection(name, None, last_run, f"{type(exc).__name__}: {exc}"))
            continue
        sections.append(VariantSection(name, overview, last_run))
    return HTMLResponse(registry_page(sections, root=_root()), headers=PAGE_HEADERS)


def variant_report(name: str, uri: str, user: GetUserDep) -> HTMLResponse:
    """A gate report of variant ``name`` by its S3 URI (only gate reports inside its store are served)."""
    config = _configs().get(name)
    if config is None:
        return _message(status.HTTP_404_NOT_FOUND, "Unknown variant", f"No pipeline config is named {name!r}.")
    _authorize(user, config.dag_id)
    return _serve_report(config, uri)


def task_report(dag_id: str, run_id: str, task_id: str, user: GetUserDep, session: SessionDep) -> HTMLResponse:
    """The report of one gate task in one run, found through the summary the gate left in XCom."""
    name = variant_of(dag_id)
    config = _configs().get(name) if name else None
    if config is None or task_id not in GATES:
        return _message(status.HTTP_404_NOT_FOUND, "No such gate", f"{dag_id}.{task_id} is not a gate of a variant.")
    _authorize(user, dag_id)
    uri = (_gate_summaries(session, dag_id, run_id, [task_id]).get(task_id) or {}).get("report_uri")
    if not uri:
        return _message(
            status.HTTP_404_NOT_FOUND,
            "No report yet",
            f"{task_id} of run {run_id} has not written a report: it has not run yet, or it failed before "
            "validating (its log says why).",
        )
    return _serve_report(config, uri)


# -- helpers -----------------------------------------------------------------------------------


def _configs() -> dict[str, PipelineConfig]:
    """The valid pipeline configs by name, read now (a broken file is simply not shown)."""
    return {source.name: source.config for source in discover_pipelines() if source.config is not None}


def _may_read(user: Any, dag_id: str) -> bool:
    return get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.TASK_INSTANCE, details=DagDetails(id=dag_id), user=user
    )


def _authorize(user: Any, dag_id: str) -> None:
    if not _may_read(user, dag_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"You may not read the task instances of {dag_id}")


def _root() -> str:
    from airflow.configuration import conf

    return root_path(conf.get("api", "base_url", fallback=""))


def _serve_report(config: PipelineConfig, uri: str) -> HTMLResponse:
    try:
        report = read_report(config, variant_store(config), uri)
    except ReportRefused as exc:
        return _message(status.HTTP_400_BAD_REQUEST, "Not a gate report", str(exc))
    if report is None:
        return _message(status.HTTP_404_NOT_FOUND, "Report not found", f"There is no report at {uri}.")
    if report.html is not None:
        return HTMLResponse(report.html, headers=STORED_REPORT_HEADERS)
    return HTMLResponse(gate_report_page(report, config.name, root=_root()), headers=PAGE_HEADERS)


def _message(status_code: int, title: str, text: str) -> HTMLResponse:
    return HTMLResponse(message_page(title, text), status_code=status_code, headers=PAGE_HEADERS)


def _state(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _gate_summaries(session: Any, dag_id: str, run_id: str, task_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The summary each gate task left: its return value if it passed, ``GATE_SUMMARY_KEY`` if it failed."""
    from airflow.models.xcom import XComModel

    query = XComModel.get_many(run_id=run_id, dag_ids=dag_id, task_ids=list(task_ids), map_indexes=-1)
    found: dict[str, dict[str, Any]] = {}
    for row in session.scalars(query.where(XComModel.key.in_((GATE_SUMMARY_KEY, "return_value")))):
        value = XComModel.deserialize_value(row)
        if isinstance(value, dict) and "report_uri" in value:
            found[row.task_id] = value
    return found


def _last_run(session: Any, dag_id: str) -> LastRun | None:
    """The newest run of ``dag_id`` and the state and summary of each of its gates."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    run = session.scalars(
        select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc()).limit(1)
    ).first()
    if run is None:
        return None
    states = dict(
        session.execute(
            select(TaskInstance.task_id, TaskInstance.state).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id, TaskInstance.task_id.in_(GATES)
            )
        ).all()
    )
    summaries = _gate_summaries(session, dag_id, run.run_id, GATES)
    gates = [GateOutcome(gate, _state(states.get(gate)), summaries.get(gate)) for gate in GATES]
    return LastRun(dag_id, run.run_id, _state(run.state) or "", _state(run.run_type) or "", run.start_date, gates)
