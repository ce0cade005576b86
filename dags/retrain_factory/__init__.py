"""Airflow wiring for pipeline configs: the retrain DAG, the rollback DAG and the broken-config DAG."""

from dags.retrain_factory.broken_config import build_broken_config_dag
from dags.retrain_factory.retrain_dag import build_retrain_dag
from dags.retrain_factory.rollback_dag import build_rollback_dag

__all__ = ["build_broken_config_dag", "build_retrain_dag", "build_rollback_dag"]
