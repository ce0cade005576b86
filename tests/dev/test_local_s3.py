"""LocalS3: a real moto server on loopback that leaves nothing behind."""

from __future__ import annotations

import socket

import pytest

from dev.local_s3 import LocalS3


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


def test_the_server_is_the_strict_one_unless_asked_for_plain_moto() -> None:
    """Every user of LocalS3 gets conditional writes serialized (tests/faults/test_strict_s3.py)."""
    assert LocalS3().strict
    assert not LocalS3(strict=False).strict


@pytest.mark.parametrize(
    ("method", "host", "path", "query", "body", "locked"),
    [
        ("PUT", "127.0.0.1:9000", "/bkt/a/b.json", "", b"", [("bkt", "a/b.json")]),
        ("PUT", "bkt.localhost:9000", "/a/b.json", "", b"", [("bkt", "a/b.json")]),
        ("DELETE", "127.0.0.1:9000", "/bkt/a", "", b"", [("bkt", "a")]),
        ("POST", "127.0.0.1:9000", "/bkt/big", "uploadId=u1", b"", [("bkt", "big")]),  # CompleteMultipartUpload
        ("PUT", "127.0.0.1:9000", "/bkt/big", "partNumber=1&uploadId=u1", b"", []),  # parts stay parallel
        ("GET", "127.0.0.1:9000", "/bkt/a", "", b"", []),
        ("PUT", "127.0.0.1:9000", "/bkt", "", b"", []),  # CreateBucket
        (
            "POST",
            "127.0.0.1:9000",
            "/bkt",
            "delete",
            b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>x</Key></Object>'
            b"<Object><Key>y/z</Key></Object></Delete>",
            [("bkt", "x"), ("bkt", "y/z")],
        ),
    ],
)
def test_the_strict_server_locks_the_keys_a_request_writes(
    method: str, host: str, path: str, query: str, body: bytes, locked: list[tuple[str, str]]
) -> None:
    import io

    from dev.strict_s3 import object_keys_written

    environ = {
        "REQUEST_METHOD": method,
        "HTTP_HOST": host,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    assert object_keys_written(environ) == locked
    assert environ["wsgi.input"].read() == body  # the app behind still reads the whole body


def test_an_upload_that_never_finishes_holds_no_lock(s3: LocalS3) -> None:
    """A client that dies (or stalls) mid-upload must not block other writes to the key.

    Seen in a fresh-clone make test: a task killed mid-upload behind a proxy left the server thread
    reading its body while holding the key's lock, so the retry's write and unrelated writes to keys
    on the same lock stripe timed out. The body is now read before the lock is taken.
    """
    from botocore.config import Config

    from dev.local_s3 import loopback_client

    client = loopback_client(s3.endpoint_url, Config(read_timeout=5, retries={"total_max_attempts": 1}))
    client.create_bucket(Bucket="stalled-uploads")
    with socket.create_connection(("127.0.0.1", s3.port), timeout=5) as stalled:
        head = (
            "PUT /stalled-uploads/model.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: 1000000\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        stalled.sendall(head.encode() + b"x" * 1000)  # a thousandth of the body, then nothing
        client.put_object(Bucket="stalled-uploads", Key="model.bin", Body=b"the retry's bytes")
    assert client.get_object(Bucket="stalled-uploads", Key="model.bin")["Body"].read() == b"the retry's bytes"
