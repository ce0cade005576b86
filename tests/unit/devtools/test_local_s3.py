"""LocalS3: a real moto server on loopback that leaves nothing behind."""

from __future__ import annotations

import socket

import pytest

from include.retrain.devtools.local_s3 import LocalS3


def test_a_stopped_server_leaves_no_log_behind() -> None:
    server = LocalS3()
    with server:
        assert server._log.exists()  # written while it runs: the error of a failed start quotes it
        server.client().create_bucket(Bucket="left-behind")
    assert not server._log.exists()


def test_a_server_that_cannot_start_says_why_and_leaves_no_log() -> None:
    """A port held by a socket that never answers HTTP: moto exits at once, the error quotes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        server = LocalS3(port=holder.getsockname()[1])
        with pytest.raises(RuntimeError, match=r"(?s)exited early.*in use"):
            server.start(timeout=20)
    assert not server._log.exists()
