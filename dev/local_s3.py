"""A real S3 HTTP endpoint on loopback (moto's server mode) for the demo and the tests.

The project code does not know it is talking to moto: it gets an ordinary boto3 client from
the Airflow connection, whose ``endpoint_url`` points here. Point the connection at MinIO or
AWS instead and nothing else changes.

The server is moto's app behind :mod:`strict_s3`, which makes conditional writes atomic as S3
does (plain moto checks ``If-Match`` and writes in two steps that a concurrent writer can run
between), so the race tests run against S3's semantics, not weaker ones.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Local-only credentials for the loopback endpoint (moto accepts any); never real secrets.
LOOPBACK_ACCESS_KEY = "loopback-access-key"
LOOPBACK_SECRET_KEY = "loopback-secret-key"
REGION = "us-east-1"

#: moto's server with writes to one key serialized (see that module).
STRICT_SERVER = Path(__file__).with_name("strict_s3.py")


def loopback_client(endpoint_url: str, config: Any = None) -> Any:
    """A boto3 S3 client for a loopback endpoint, with its local-only credentials.

    ``config`` is a ``botocore.config.Config`` (None: botocore's defaults).
    """
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=LOOPBACK_ACCESS_KEY,
        aws_secret_access_key=LOOPBACK_SECRET_KEY,
        region_name=REGION,
        config=config,
    )


def loopback_connection(endpoint_url: str) -> str:
    """An Airflow ``aws`` connection to a loopback endpoint, as JSON for ``AIRFLOW_CONN_<ID>``."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": LOOPBACK_ACCESS_KEY,
            "password": LOOPBACK_SECRET_KEY,
            "extra": {"endpoint_url": endpoint_url, "region_name": REGION},
        }
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalS3:
    """Start, use and stop a moto S3 server on ``127.0.0.1:<port>``.

    ``strict=False`` runs plain ``python -m moto.server`` instead, whose conditional writes are
    not atomic: only to show that weakness (tests/faults/test_strict_s3.py), never to test with.
    """

    def __init__(self, port: int | None = None, *, strict: bool = True) -> None:
        self.port = port or free_port()
        self.strict = strict
        self._process: subprocess.Popen | None = None
        self._log = Path(tempfile.gettempdir()) / f"retrain-local-s3-{self.port}.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id (benchmarks count its CPU time); only while it runs."""
        if self._process is None:
            raise RuntimeError("the local S3 server is not running")
        return self._process.pid

    def start(self, timeout: float = 30.0) -> LocalS3:
        """Start the server and wait until it answers HTTP."""
        with open(self._log, "wb") as log:
            # The strict server runs as a script: it needs only moto, not the project on sys.path.
            server = [str(STRICT_SERVER)] if self.strict else ["-m", "moto.server"]
            self._process = subprocess.Popen(
                [sys.executable, *server, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "True"},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self._log.read_text()[-2000:]
                self.stop()
                raise RuntimeError(f"local S3 server exited early:\n{output}")
            try:
                urllib.request.urlopen(self.endpoint_url + "/moto-api/", timeout=1).close()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"local S3 server did not answer on {self.endpoint_url} within {timeout:.0f}s")

    def stop(self) -> None:
        """Stop the server (and everything it held: moto keeps data in memory) and remove its log.

        The log only serves the error of a server that fails to start; kept, every test session
        and benchmark would leave one in the temp folder.
        """
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None
        self._log.unlink(missing_ok=True)

    def __enter__(self) -> LocalS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self) -> Any:
        """A boto3 S3 client for this endpoint."""
        return loopback_client(self.endpoint_url)

    def create_buckets(self, names: Iterable[str]) -> None:
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        for name in sorted(set(names) - existing):
            client.create_bucket(Bucket=name)

    def airflow_connection(self) -> str:
        """The connection as JSON, for ``AIRFLOW_CONN_<ID>`` environment variables."""
        return loopback_connection(self.endpoint_url)
