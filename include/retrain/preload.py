"""Third-party modules a LocalExecutor worker imports once, so that no task pays for them again.

Every Airflow task runs in a process forked from a LocalExecutor worker. With the default start
method a worker is a fork of the scheduler, which has imported none of these, so each task
imported Airflow's task runner, pandas, scikit-learn (all of it: skops lists every estimator),
GX and boto3 on its own: about 2 of the 3.5 seconds a gate took on 600-row days. With

    AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver
    AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=include.retrain.preload

(Airflow 3.3's own knobs; the Dockerfile and ``make airflow`` set them) the workers are forked from
a server that imported this module once, and every task inherits it copy-on-write.

Only libraries are listed, never the bundle's own modules: an edit to ``include/`` still reaches
the next task without a restart, while a library upgrade restarts the scheduler anyway. The one
exception holds library data, not bundle logic: ``include.retrain.botocore_data`` parses botocore's
S3 model and endpoint files here, which every task's S3 client would otherwise parse again (a third
of a small task's CPU). Importing this module starts no thread and opens no connection; it ends
by freezing the garbage collector's view of what it loaded (``gc.freeze``, below).
"""

from __future__ import annotations

import gc
import importlib
import warnings

from include.retrain.botocore_data import parse_s3_client_data

#: Imported in this order; tests/unit/test_preload.py checks that the task bodies import no
#: further module of these packages.
MODULES: tuple[str, ...] = (
    "airflow.sdk.execution_time.task_runner",
    "airflow.dag_processing.dagbag",  # the task runner parses the DAG file with it (a sixth of a small task)
    "airflow.providers.amazon.aws.hooks.s3",
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "pyarrow.dataset",  # pyarrow.parquet imports it on the first read
    "scipy.stats",
    "sklearn",
    "skops.io",  # imports every scikit-learn estimator module to list its trusted types
    "great_expectations",
    "boto3",
)

with warnings.catch_warnings():  # skops probes modules for ufuncs, tripping deprecation shims
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    for _name in MODULES:
        importlib.import_module(_name)

parse_s3_client_data()  # the forked tasks inherit the parsed files

# Everything above now lives as long as the worker: take it out of the collector's sight, as
# Airflow's own forking LocalExecutor does (gc.freeze before fork). Otherwise each task's full
# collections rescan the whole inherited heap, and write to its pages, which copies them: parsing
# the DAG file in a task took 0.30 s CPU with the heap scanned and 0.08 s with it frozen.
gc.collect()
gc.freeze()
