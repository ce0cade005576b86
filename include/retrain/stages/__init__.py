"""Pure stage functions: data and plain parameters in, data out; no storage, no Airflow."""
