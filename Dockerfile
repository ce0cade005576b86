# Astro Runtime 3.3 (Airflow 3.3). The Astro CLI installs packages.txt and requirements.txt
# on build; requirements.txt pins what the runtime image does not already provide, at the
# versions in uv.lock (tests/test_project_files.py keeps them in step).
FROM astrocrpublic.azurecr.io/runtime:3.3-1

# include/ is imported as a package from the project root (the Astro convention); the DAG
# file also adds it, this makes it explicit for every process. GX analytics stay off.
ENV PYTHONPATH="/usr/local/airflow" \
    GX_ANALYTICS_ENABLED=false
