"""The fault proxy does what it says, as a real boto3 client sees it (and the server confirms)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from dev.local_s3 import LocalS3
from tests.faults.proxy import FaultProxy, fault_proxy_for

BUCKET = "retrain-artifacts"
ONE_ATTEMPT = {"retries": {"mode": "standard", "total_max_attempts": 1}}


def _exists(client: Any, key: str) -> bool:
    try:
        client.head_object(Bucket=BUCKET, Key=key)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise


def test_requests_pass_through_unchanged(fault_proxy: FaultProxy, direct_client: Any, tmp_path: Path) -> None:
    """Small and multipart uploads (chunked, 100-continue), reads, listings and deletes."""
    s3 = fault_proxy.client()
    s3.put_object(Bucket=BUCKET, Key="a/one ds=2024-01-01.json", Body=b'{"a": 1}', IfNoneMatch="*")
    assert s3.get_object(Bucket=BUCKET, Key="a/one ds=2024-01-01.json")["Body"].read() == b'{"a": 1}'
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (40 * 1024 * 4))  # 40 MiB: several parts, sent in parallel
    s3.upload_file(str(big), BUCKET, "a/big.bin", Config=TransferConfig(multipart_threshold=8 * 1024 * 1024))
    s3.download_file(BUCKET, "a/big.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert direct_client.head_object(Bucket=BUCKET, Key="a/big.bin")["ContentLength"] == big.stat().st_size
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="a/")["Contents"]]
    assert keys == ["a/big.bin", "a/one ds=2024-01-01.json"]
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
    assert not _exists(direct_client, "a/big.bin")
    assert fault_proxy.count("PUT", "ds=2024-01-01") == 1  # matched percent-decoded
    assert fault_proxy.count("PUT", "a/big.bin") >= 5  # parts
    assert all(seen.fault is None for seen in fault_proxy.requests)


def test_fail_answers_an_s3_error_without_forwarding(fault_proxy: FaultProxy, direct_client: Any) -> None:
    fault = fault_proxy.fail("PUT", "champion.json", status=503)
    with pytest.raises(ClientError) as raised:
        fault_proxy.client(**ONE_ATTEMPT).put_object(Bucket=BUCKET, Key="reg/champion.json", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "SlowDown"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert fault.hits == 1
    assert not _exists(direct_client, "reg/champion.json")  # never reached the server


def test_a_spent_fault_lets_the_clients_retry_through(fault_proxy: FaultProxy, proxied_client: Any) -> None:
    """times=2 against the shipped client (several attempts): the third attempt is forwarded."""
    fault = fault_proxy.fail("PUT", "events/", status=500, times=2)
    proxied_client.put_object(Bucket=BUCKET, Key="reg/events/e1.json", Body=b"{}")
    assert fault.hits == 2
    assert fault_proxy.count("PUT", "events/") == 3
    assert [s.fault for s in fault_proxy.requests if "events/" in s.target] == ["fail", "fail", None]


def test_fail_can_match_conditional_writes_only(fault_proxy: FaultProxy) -> None:
    s3 = fault_proxy.client(**ONE_ATTEMPT)
    fault_proxy.fail("PUT", "aliases/", status=500, times=None, header="If-Match")
    s3.put_object(Bucket=BUCKET, Key="aliases/champion.json", Body=b"1", IfNoneMatch="*")
    etag = s3.head_object(Bucket=BUCKET, Key="aliases/champion.json")["ETag"]
    with pytest.raises(ClientError, match="InternalError"):
        s3.put_object(Bucket=BUCKET, Key="aliases/champion.json", Body=b"2", IfMatch=etag)
    assert fault_proxy.count("PUT", "aliases/", header="If-Match") == 1
    assert fault_proxy.count("PUT", "aliases/", header="If-None-Match") == 1


def test_a_lost_response_was_committed_upstream(fault_proxy: FaultProxy, direct_client: Any) -> None:
    """The write lands; the client sees its connection reset; its retry then meets its own write."""
    fault = fault_proxy.lose_response("PUT", "aliases/champion.json")
    with pytest.raises(ConnectionClosedError):
        fault_proxy.client(**ONE_ATTEMPT).put_object(
            Bucket=BUCKET, Key="aliases/champion.json", Body=b"mine", IfNoneMatch="*"
        )
    assert fault.hits == 1
    assert direct_client.get_object(Bucket=BUCKET, Key="aliases/champion.json")["Body"].read() == b"mine"

    # With retries (as every task's client has), the retry of the same create-only write is
    # refused: the client's caller sees 412 for a write that did succeed.
    fault_proxy.lose_response("PUT", "aliases/previous.json")
    with pytest.raises(ClientError) as raised:
        fault_proxy.client(retries={"mode": "standard", "total_max_attempts": 3}).put_object(
            Bucket=BUCKET, Key="aliases/previous.json", Body=b"mine", IfNoneMatch="*"
        )
    assert raised.value.response["Error"]["Code"] == "PreconditionFailed"
    assert direct_client.get_object(Bucket=BUCKET, Key="aliases/previous.json")["Body"].read() == b"mine"


def test_hang_holds_the_request_until_the_clients_read_timeout(fault_proxy: FaultProxy, direct_client: Any) -> None:
    fault_proxy.hang("GET", "versions/", seconds=30)
    direct_client.put_object(Bucket=BUCKET, Key="versions/v1/model.skops", Body=b"m")
    s3 = fault_proxy.client(read_timeout=1, connect_timeout=1, **ONE_ATTEMPT)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        s3.get_object(Bucket=BUCKET, Key="versions/v1/model.skops")
    assert 0.9 < time.monotonic() - started < 10
    assert s3.get_object(Bucket=BUCKET, Key="versions/v1/model.skops")["Body"].read() == b"m"  # spent


def test_a_hung_write_forwarded_late_still_commits(fault_proxy: FaultProxy, direct_client: Any) -> None:
    """``then="forward"``: the client gave up, the server hears the write afterwards."""
    fault_proxy.hang("PUT", "late.json", seconds=2, then="forward")
    with pytest.raises(ReadTimeoutError):
        fault_proxy.client(read_timeout=0.5, **ONE_ATTEMPT).put_object(Bucket=BUCKET, Key="late.json", Body=b"late")
    assert not _exists(direct_client, "late.json")
    deadline = time.monotonic() + 10
    while not _exists(direct_client, "late.json") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert direct_client.get_object(Bucket=BUCKET, Key="late.json")["Body"].read() == b"late"


def test_down_refuses_connections_until_up(fault_proxy: FaultProxy) -> None:
    s3 = fault_proxy.client(connect_timeout=1, **ONE_ATTEMPT)
    s3.list_objects_v2(Bucket=BUCKET)
    fault_proxy.down()
    with pytest.raises(EndpointConnectionError):
        s3.list_objects_v2(Bucket=BUCKET)
    fault_proxy.up()
    s3.list_objects_v2(Bucket=BUCKET)


def test_stop_releases_held_requests_and_joins_its_threads(s3: LocalS3) -> None:
    before = threading.active_count()
    with fault_proxy_for(s3.endpoint_url) as proxy:
        proxy.hang(None, "", seconds=600, times=None)
        client = proxy.client(read_timeout=60, **ONE_ATTEMPT)
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.list_objects_v2(Bucket=BUCKET)
            except BaseException as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 10
        while proxy.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
    caller.join(timeout=10)
    assert time.monotonic() - started < 10
    assert not caller.is_alive()
    assert errors  # the held request was let go (closed), not answered
    assert threading.active_count() <= before


def test_a_chunked_request_body_is_forwarded_whole(fault_proxy: FaultProxy, direct_client: Any) -> None:
    """``Transfer-Encoding: chunked`` (boto3 streams aws-chunked bodies that way over HTTPS)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=10)
    try:
        connection.request(
            "PUT", f"/{BUCKET}/raw/chunked.txt", body=iter([b"hello ", b"chunked ", b"world"]), encode_chunked=True
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()
    assert direct_client.get_object(Bucket=BUCKET, Key="raw/chunked.txt")["Body"].read() == b"hello chunked world"
    assert fault_proxy.requests[-1].headers["transfer-encoding"] == "chunked"
