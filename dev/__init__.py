"""Dev-only code: the loopback S3 server, ``make demo`` and ``make airflow``, seeding landing data,
the synthetic demo data and the docs generator.

Not part of the product: the Docker image does not ship this folder (``.dockerignore``), and
nothing under ``dags/``, ``plugins/`` or ``include/`` imports it.
"""
