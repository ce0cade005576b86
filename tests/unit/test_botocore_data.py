"""include/retrain/botocore_data.py: botocore's data files parsed once per process, shared by every client."""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.loaders
import pytest

from include.retrain.botocore_data import parse_s3_client_data, use_shared_loader


def placeholder_session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="key", aws_secret_access_key="secret", region_name="eu-west-1")


def test_sessions_read_botocore_data_through_one_loader() -> None:
    first, second = placeholder_session(), placeholder_session()
    use_shared_loader(first)
    use_shared_loader(second)
    assert first._session.get_component("data_loader") is second._session.get_component("data_loader")


def test_after_the_warm_up_a_new_sessions_client_parses_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_s3_client_data() is True
    parsed: list[str] = []
    real_load = botocore.loaders.JSONFileLoader.load_file

    def counting_load(self: Any, file_path: str) -> Any:  # a spy: records the file, then loads it
        parsed.append(os.path.basename(file_path))
        return real_load(self, file_path)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counting_load)
    session = placeholder_session()
    use_shared_loader(session)
    client = session.client("s3", endpoint_url="http://127.0.0.1:9")
    assert parsed == []
    assert client.meta.endpoint_url == "http://127.0.0.1:9"


def test_a_warm_up_that_cannot_make_a_client_reports_it_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forkserver must start even where the AWS settings are broken; the task then reports them."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-anywhere")
    assert parse_s3_client_data() is False
