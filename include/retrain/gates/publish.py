"""A gate's verdict, published: its JSON report and HTML data docs in the run folder, then pass or fail.

Gate task bodies (``include.retrain.tasks``) build their tables and expectations, call
:func:`run_gate` and hand the result to :func:`publish_gate`.
"""

from __future__ import annotations

from typing import Any

from include.retrain.context import RunContext
from include.retrain.errors import GateFailure
from include.retrain.gates.result import GateResult
from include.retrain.layout import gate_data_docs, gate_report
from include.retrain.manifests import GateSummary


def run_gate(*args: Any, **kwargs: Any) -> GateResult:
    """``gates.validation.run_gate``, importing Great Expectations only when a gate task runs.

    GX costs about 2 s of CPU and 80 MiB to import; the five tasks that are not gates (each its
    own process on an Airflow worker) never pay for it.
    """
    from include.retrain.gates.validation import run_gate as validate

    return validate(*args, **kwargs)


def publish_gate(run: RunContext, result: GateResult, **context: Any) -> GateSummary:
    """Write the gate's JSON report and HTML data docs, then fail the task if a ``fail`` expectation failed.

    ``context`` adds facts to both reports (e.g. the champion a drift check compared with).
    """
    from include.retrain.gates.data_docs import HTML_CONTENT_TYPE, render_data_docs
    from include.retrain.monitoring.links import airflow_root, registry_page_path, run_path

    context = {**run.describe(), **context}
    report = run.store.put_json(run.key(gate_report(result.gate)), result.report(context))
    root = airflow_root()  # the data docs link back to the run and the registry page on this Airflow
    page = render_data_docs(
        result,
        context,
        report.uri,
        run_url=root + run_path(run.config.dag_id, run.run_id),
        registry_url=root + registry_page_path(run.config.name),
    ).encode()
    html = run.store.put_bytes(run.key(gate_data_docs(result.gate)), page, content_type=HTML_CONTENT_TYPE)
    summary = result.summary(report.uri, html.uri)
    if not result.success:
        raise GateFailure(result.failure_message(report.uri, html.uri), summary=summary, report_uri=report.uri)
    return GateSummary.from_xcom(summary)
