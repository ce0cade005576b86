"""The cluster suite: PostgreSQL + Redis + CeleryExecutor with two workers (``make test-cluster``).

Its tests carry the ``cluster`` marker and run only when selected with ``-m cluster``: the stack
takes minutes to start and drive, and ``make test`` already runs the single-node acceptance suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dev.local_s3 import LocalS3

SHIPPED = ("churn", "demand")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cluster: needs PostgreSQL, Redis and CeleryExecutor workers (make test-cluster; -m cluster)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="cluster suite: run it with `make test-cluster` (pytest tests/cluster -m cluster)")
    for item in items:
        if item.get_closest_marker("cluster"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def cluster(local_s3: LocalS3) -> Iterator:
    """The running stack, with landing data ending today and a versioned artifacts bucket."""
    from dev.seed_landing import seed
    from tests.cluster.stack import ClusterStack

    client = local_s3.client()
    local_s3.create_buckets(["retrain-landing", "retrain-artifacts"])
    # Every write of the registry's aliases is kept, so the invariants are checked on the whole history.
    client.put_bucket_versioning(Bucket="retrain-artifacts", VersioningConfiguration={"Status": "Enabled"})
    seed(client)
    stack = ClusterStack(local_s3).start()
    try:
        dag_ids = [f"{kind}_{name}" for name in SHIPPED for kind in ("retrain", "rollback")]
        stack.wait_for_dags(dag_ids)
        for dag_id in dag_ids:
            stack.api.unpause(dag_id)
        yield stack
    finally:
        stack.stop()
