"""The tasks' S3 client gives up on a hung endpoint within the documented bound, yet rides out blips.

Every client here is built exactly as a task builds its own (``runner.s3_client`` from the
variant's StorageConfig with the shipped defaults, through the ``aws_default`` connection, and
the tasks' transfer settings), but reaches S3 through the fault proxy:

- a hung endpoint (every request held without an answer) fails each kind of request a task
  makes within :data:`HUNG_REQUEST_LIMIT_SECONDS`, the bound the fault table (docs/operations/faults.md) promises,
  after spending every attempt (so it is the timeouts, not a lack of retries, that bound it);
- a few seconds of connection refused, or a burst of 500s and 503s, are ridden out;
- a transfer slower than the read timeout still completes while its bytes keep flowing: the
  read timeout is per socket read, not per transfer.

The hung case takes as long as the bound allows (about two minutes): all its requests run at
once, one thread each, so the test waits once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError

from include.retrain.config import StorageConfig
from include.retrain.context import transfer_config
from include.retrain.storage import ArtifactStore, sha256_bytes
from tests.faults.proxy import FaultProxy

#: What the fault table (docs/operations/faults.md) promises: one S3 request against an endpoint that never answers
#: fails within this many seconds (then the task fails, or Airflow retries it).
HUNG_REQUEST_LIMIT_SECONDS = 180.0

BUCKET = "retrain-artifacts"


def _task_store() -> ArtifactStore:
    """A store as a task builds it: the runner's client for the variant's storage config."""
    from dags.retrain_factory.runner import s3_client

    return ArtifactStore(s3_client(StorageConfig()), BUCKET, "", transfer_config())


def _run_all(calls: dict[str, Callable[[], Any]], wait_seconds: float) -> dict[str, tuple[float, Any]]:
    """Run every call in its own thread at once; (seconds taken, result or exception) of each.

    A call still running after ``wait_seconds`` is reported as such; the caller's proxy, stopped
    by its fixture, then lets it go, so no thread outlives the test for long.
    """
    outcomes: dict[str, tuple[float, Any]] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        started = time.monotonic()
        try:
            result: Any = call()
        except BaseException as exc:
            result = exc
        outcomes[name] = (time.monotonic() - started, result)

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + wait_seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return outcomes


@pytest.fixture
def seeded(direct_client: Any, tmp_path: Path) -> dict[str, Any]:
    """Objects the read requests ask for, written straight to the server."""
    data = b"model bytes"
    direct_client.put_object(
        Bucket=BUCKET, Key="reg/versions/v1/model.skops", Body=data, Metadata={"sha256": sha256_bytes(data)}
    )
    direct_client.put_object(Bucket=BUCKET, Key="reg/aliases/champion.json", Body=b'{"version": "v1"}')
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"u" * 4096)
    return {"model": data, "upload": upload, "download": tmp_path / "download.bin"}


def _task_requests(seeded: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """One of each kind of request the tasks make, each on its own task-built client."""
    from include.retrain.storage import ArtifactRef

    model = ArtifactRef(uri=f"s3://{BUCKET}/reg/versions/v1/model.skops", sha256=sha256_bytes(seeded["model"]), size=11)
    return {
        "create-only write (event, version)": lambda: _task_store().put_json(
            "reg/events/e1.json", {}, create_only=True
        ),
        "compare-and-swap (alias)": lambda: _task_store().swap_bytes(
            "reg/aliases/challenger.json", b"{}", expected_etag=None
        ),
        "read (alias)": lambda: _task_store().read_object("reg/aliases/champion.json"),
        "list (versions)": lambda: _task_store().list_keys("reg/versions/"),
        "upload (artifact)": lambda: _task_store().put_file("runs/r1/train/upload.bin", seeded["upload"]),
        "download (model)": lambda: _task_store().download_file(model, seeded["download"]),
    }


@pytest.mark.long
def test_a_hung_endpoint_fails_every_task_request_within_the_bound(
    fault_proxy: FaultProxy, proxied_connection: str, seeded: dict[str, Any]
) -> None:
    shipped = StorageConfig()
    fault_proxy.hang(None, "", seconds=3600, times=None)  # no answer, ever

    outcomes = _run_all(_task_requests(seeded), wait_seconds=HUNG_REQUEST_LIMIT_SECONDS + 15)

    unfinished = sorted(set(_task_requests(seeded)) - set(outcomes))
    assert not unfinished, (
        f"still waiting on a hung endpoint after {HUNG_REQUEST_LIMIT_SECONDS + 15:.0f}s: {unfinished}"
    )
    for name, (seconds, result) in outcomes.items():
        assert isinstance(result, BotoCoreError), f"{name}: {result!r}"  # a timeout, retried by Airflow
        assert seconds <= HUNG_REQUEST_LIMIT_SECONDS, f"{name} took {seconds:.0f}s"
        # Every attempt was spent waiting for an answer: the timeouts bound it, not a lack of retries.
        assert seconds >= shipped.max_attempts * shipped.read_timeout_seconds, f"{name} gave up after {seconds:.0f}s"
    assert fault_proxy.count("PUT", "reg/events/e1.json") == shipped.max_attempts


def test_a_few_seconds_of_refused_connections_are_ridden_out(
    fault_proxy: FaultProxy, proxied_connection: str, seeded: dict[str, Any], direct_client: Any
) -> None:
    """Two seconds of connection refused, from the first attempt of every request on.

    Each attempt is refused at once, so only botocore's backoff spans the outage: with the shipped
    attempts its jittered sum exceeds 2 s in all but about 3 of 10,000 requests (6 requests here).
    """
    fault_proxy.down()
    threading.Timer(2.0, fault_proxy.up).start()
    started = time.monotonic()

    outcomes = _run_all(_task_requests(seeded), wait_seconds=120)

    for name, (_, result) in outcomes.items():
        assert not isinstance(result, BaseException), f"{name}: {result!r}"
    assert time.monotonic() - started >= 2.0
    assert direct_client.get_object(Bucket=BUCKET, Key="reg/events/e1.json")["Body"].read() == b"{}"


def test_a_burst_of_server_errors_is_ridden_out(
    fault_proxy: FaultProxy, proxied_connection: str, seeded: dict[str, Any]
) -> None:
    fault_proxy.fail("PUT", "reg/events/", status=500, times=5)
    fault_proxy.fail("GET", "reg/aliases/", status=503, times=3)  # SlowDown: botocore's throttling backoff
    fault_proxy.fail("HEAD", "model.skops", status=500, times=5)

    outcomes = _run_all(_task_requests(seeded), wait_seconds=120)

    for name, (_, result) in outcomes.items():
        assert not isinstance(result, BaseException), f"{name}: {result!r}"
    assert fault_proxy.count("PUT", "reg/events/") == 6


def test_a_transfer_slower_than_the_read_timeout_completes_while_bytes_flow(
    fault_proxy: FaultProxy, proxied_connection: str, direct_client: Any, tmp_path: Path
) -> None:
    """Read timeouts are per socket read: a long transfer whose bytes keep coming is not cut off."""
    from include.retrain.storage import ArtifactRef

    shipped = StorageConfig()
    # Large enough that the kernel's socket buffers (a few MiB on loopback) cannot take the whole
    # upload at once: the client really sends at the proxy's pace, and waits for an answer only
    # for the last buffered MiBs, well within one read timeout.
    size = 24 * 1024 * 1024
    rate = size / (shipped.read_timeout_seconds * 1.5)  # each transfer takes 1.5 read timeouts
    payload = bytes(range(256)) * (size // 256)
    direct_client.put_object(
        Bucket=BUCKET, Key="big/down.bin", Body=payload, Metadata={"sha256": sha256_bytes(payload)}
    )
    (tmp_path / "up.bin").write_bytes(payload)
    fault_proxy.slow("GET", "big/down.bin", bytes_per_second=rate)
    fault_proxy.slow("PUT", "big/up.bin", bytes_per_second=rate)
    ref = ArtifactRef(uri=f"s3://{BUCKET}/big/down.bin", sha256=sha256_bytes(payload), size=size)

    outcomes = _run_all(
        {
            "download": lambda: _task_store().download_file(ref, tmp_path / "down.bin"),
            "upload": lambda: _task_store().put_file("big/up.bin", tmp_path / "up.bin"),
        },
        wait_seconds=120,
    )

    for name, (seconds, result) in outcomes.items():
        assert not isinstance(result, BaseException), f"{name}: {result!r}"
        assert seconds > shipped.read_timeout_seconds, f"{name} was not slowed ({seconds:.1f}s)"
    assert (tmp_path / "down.bin").read_bytes() == payload
    assert direct_client.get_object(Bucket=BUCKET, Key="big/up.bin")["Body"].read() == payload
    assert fault_proxy.count("GET", "big/down.bin") == 1  # not retried: one slow transfer, start to end
    assert fault_proxy.count("PUT", "big/up.bin") == 1
