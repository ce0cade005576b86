"""Connection arguments for the local Airflow's SQLite metadata database.

``airflow standalone`` keeps its metadata in SQLite, where one writer at a time holds the lock.
The scheduler, the DAG processor, the API server and every task write to it; on a busy 2-core
machine a writer can wait longer than pysqlite's 5 s default and then fails with "database is
locked" (a 500 from the REST API). ``LocalAirflow`` points ``[database] sql_alchemy_connect_args``
(and its async twin) here. A real deployment uses PostgreSQL and never reads this module.
"""

from __future__ import annotations

#: Seconds a connection waits for another writer's lock before it gives up.
CONNECT_ARGS = {"timeout": 30}
