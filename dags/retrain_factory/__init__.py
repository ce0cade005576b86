"""Airflow wiring for pipeline configs: retrain, rollback, scoring, landing-watch, freshness and broken-config DAGs."""

from dags.retrain_factory.broken_config import build_broken_config_dag
from dags.retrain_factory.freshness_dag import build_freshness_dag
from dags.retrain_factory.landing_watch import build_landing_watch_dag
from dags.retrain_factory.retrain_dag import build_retrain_dag
from dags.retrain_factory.rollback_dag import build_rollback_dag
from dags.retrain_factory.score_dag import build_scoring_dag

__all__ = [
    "build_broken_config_dag",
    "build_freshness_dag",
    "build_landing_watch_dag",
    "build_retrain_dag",
    "build_rollback_dag",
    "build_scoring_dag",
]
