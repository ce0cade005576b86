"""Fixtures for fault tests: the fault proxy (tests/faults/proxy.py) in front of the loopback S3.

- ``fault_proxy``: a started :class:`FaultProxy` in front of the session's server, which is
  emptied first and has the shipped variants' buckets (the ``s3`` fixture); stopped after the
  test, with every thread it started joined, whatever the test did.
- ``proxied_client``: a boto3 client through the proxy, built as the tasks build theirs
  (``runner.s3_client`` with the shipped StorageConfig defaults: same retries and timeouts).
- ``proxied_store``: an ArtifactStore on ``proxied_client`` (bucket ``retrain-artifacts``).
- ``proxied_connection``: ``aws_default`` (environment) pointing at the proxy, for code that
  gets its client from the Airflow connection (task bodies, ``dag.test``).
- ``direct_client``: a client straight to the server, to check what really got committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dev.local_s3 import LocalS3
from tests.faults.proxy import FaultProxy, fault_proxy_for


@pytest.fixture
def fault_proxy(s3: LocalS3) -> Iterator[FaultProxy]:
    with fault_proxy_for(s3.endpoint_url) as proxy:
        yield proxy


@pytest.fixture
def proxied_connection(fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", fault_proxy.airflow_connection())
    return "aws_default"


@pytest.fixture
def proxied_client(proxied_connection: str) -> Any:
    from dags.retrain_factory.runner import s3_client
    from include.retrain.config import StorageConfig

    return s3_client(StorageConfig(conn_id=proxied_connection))


@pytest.fixture
def proxied_store(proxied_client: Any) -> Any:
    from include.retrain.storage import ArtifactStore

    return ArtifactStore(proxied_client, "retrain-artifacts")


@pytest.fixture
def direct_client(s3: LocalS3) -> Any:
    return s3.client()
