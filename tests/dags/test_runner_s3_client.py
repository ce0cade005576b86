"""``runner.s3_client``: each task's S3 client, from the variant's Airflow connection.

The client must talk to the connection's endpoint with the variant's retry budget (the fault
tests rely on that), and making it must stay cheap: it is made once per task, and dag.test runs
every task of a run in one process. Two costs of ``S3Hook.get_client_type`` were a quarter of a
small task each: ``inspect.stack()`` for its User-Agent, and botocore's JSON models parsed again
for every new session.
"""

from __future__ import annotations

import inspect
from typing import Any

import botocore.loaders
import pytest

from dags.retrain_factory.runner import s3_client
from dev.local_s3 import LocalS3
from include.retrain.config import StorageConfig


def test_the_client_reaches_the_connections_endpoint_with_the_variants_retry_budget(
    s3: LocalS3, aws_connection: str
) -> None:
    storage = StorageConfig(conn_id=aws_connection, max_attempts=7, connect_timeout_seconds=3, read_timeout_seconds=11)
    client = s3_client(storage)
    assert client.meta.endpoint_url == s3.endpoint_url
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 7}
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3, 11)
    assert "retrain-artifacts" in {bucket["Name"] for bucket in client.list_buckets()["Buckets"]}


def test_making_a_client_does_not_walk_the_call_stack(aws_connection: str, monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[int] = []
    real_stack = inspect.stack

    def counting_stack(*args: Any, **kwargs: Any) -> Any:  # a spy: counts, then does the real thing
        walks.append(1)
        return real_stack(*args, **kwargs)

    monkeypatch.setattr(inspect, "stack", counting_stack)
    s3_client(StorageConfig(conn_id=aws_connection))
    assert walks == []


def test_a_second_client_in_the_process_parses_no_botocore_data_again(
    aws_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_client(StorageConfig(conn_id=aws_connection))  # the process's first client may parse the models
    parsed: list[str] = []
    real_load = botocore.loaders.JSONFileLoader.load_file

    def counting_load(self: Any, file_path: str) -> Any:  # a spy: records the file, then loads it
        parsed.append(file_path)
        return real_load(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counting_load)
    client = s3_client(StorageConfig(conn_id=aws_connection, max_attempts=2))
    assert parsed == []
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 2}
