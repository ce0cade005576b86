"""Ops monitoring: the model-registry page, gate reports, notifications and model freshness.

Everything here reads the registry and run folders through the same code the tasks use; the
Airflow wiring (the UI plugin, notifiers, the freshness DAG) lives in ``plugins/`` and ``dags/``.
"""
