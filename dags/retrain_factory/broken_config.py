"""A paused stand-in DAG for a pipeline YAML that does not validate.

It keeps the variant visible in the UI with the file, field and reason in its description and
docs, and its one task fails with the same message if someone triggers it. The other variants
are built normally.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, dag, task
from airflow.sdk.exceptions import AirflowFailException

from include.retrain.config import PipelineSource


def build_broken_config_dag(source: PipelineSource) -> DAG:
    """Create ``retrain_<name>`` for a file whose config failed to load."""
    assert source.error is not None
    message = str(source.error)
    first_problem = source.error.problems[0] if source.error.problems else "invalid"

    @dag(
        dag_id=f"retrain_{source.name}",
        dag_display_name=f"BROKEN CONFIG: retrain_{source.name}",
        description=f"BROKEN CONFIG {source.path.name}: {first_problem}"[:200],
        doc_md=f"# Broken pipeline config\n\nFix `{source.path.name}` and this DAG becomes a retraining "
        f"DAG again.\n\n```\n{message}\n```",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        is_paused_upon_creation=True,
        tags=["retraining", "broken-config"],
        default_args={"owner": "ml-platform"},
    )
    def broken() -> None:
        @task(retries=0, doc_md=f"Fails with the config error:\n\n```\n{message}\n```")
        def config_error() -> None:
            raise AirflowFailException(message)

        config_error()

    return broken()
