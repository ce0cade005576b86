# Astro Runtime 3.3-8 ships Apache Airflow 3.3.2, the version uv.lock pins, here on Python 3.11,
# the lock's only Python (the `-python-3.11` tag; the untagged image has the runtime's default
# Python). Runtime-to-Airflow versions come from Astronomer's runtime catalog
# (https://updates.astronomer.io/astronomer-runtime); tests/test_project_files.py checks this line
# against uv.lock. The Astro CLI installs packages.txt and requirements.txt on build;
# requirements.txt is the lock's whole runtime set (`make requirements`).
FROM astrocrpublic.azurecr.io/runtime:3.3-8-python-3.11

# include/ is imported as a package from the project root (the Astro convention); the DAG
# file also adds it, this makes it explicit for every process. GX analytics stay off.
# LocalExecutor workers come from a forkserver that imported the heavy libraries once, so each
# task inherits them instead of importing them again (include/retrain/preload.py;
# docs/operations/deployment-tuning.md). Celery and Kubernetes workers gain nothing: unset there.
ENV PYTHONPATH="/usr/local/airflow" \
    GX_ANALYTICS_ENABLED=false \
    AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver \
    AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=include.retrain.preload
