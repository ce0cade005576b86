"""Airflow DAG file: per pipeline YAML in ``include/pipelines/``, a retraining DAG ``retrain_<name>``,
a manual rollback DAG ``rollback_<name>`` and, with a ``scoring`` section, a scoring DAG ``score_<name>``.

A YAML file that fails validation becomes a paused, clearly marked ``retrain_<name>`` DAG whose
description and docs show the file, field and reason; the other variants are unaffected.
Variants with ``schedule.on_new_data`` or ``scoring.on_new_data`` also get the ``watch_landing`` DAG
that announces new data, and variants with ``monitoring.max_model_age_hours`` the ``check_model_freshness`` DAG.
"""

import sys
from pathlib import Path

# The bundle root (the folder holding dags/ and include/) must be importable. Astro already
# puts it on sys.path; plain Airflow only adds the dags folder.
_BUNDLE_ROOT = str(Path(__file__).resolve().parent.parent)
if _BUNDLE_ROOT not in sys.path:
    sys.path.append(_BUNDLE_ROOT)

from dags.retrain_factory import (  # noqa: E402
    build_broken_config_dag,
    build_freshness_dag,
    build_landing_watch_dag,
    build_retrain_dag,
    build_rollback_dag,
    build_scoring_dag,
)
from include.retrain.config import discover_pipelines  # noqa: E402

sources = discover_pipelines()
for source in sources:
    if source.config is not None:
        build_retrain_dag(source.config)
        build_rollback_dag(source.config)
        if source.config.scoring is not None:
            build_scoring_dag(source.config)
    else:
        build_broken_config_dag(source)
configs = [source.config for source in sources if source.config is not None]
build_landing_watch_dag(configs)
build_freshness_dag(configs)
