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
the next task without a restart, while a library upgrade restarts the scheduler anyway. Importing
this module has no other effect (no client, session or thread of ours is created).
"""

from __future__ import annotations

import importlib
import warnings

#: Imported in this order; tests/unit/test_preload.py checks that the task bodies import no
#: further module of these packages.
MODULES: tuple[str, ...] = (
    "airflow.sdk.execution_time.task_runner",
    "airflow.providers.amazon.aws.hooks.s3",
    "numpy",
    "pandas",
    "pyarrow.parquet",
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
