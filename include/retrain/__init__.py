"""Scheduled, gated, audited model retraining for Airflow: config, stages, gates, storage, registry."""

__version__ = "0.1.0"
