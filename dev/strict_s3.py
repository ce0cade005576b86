"""moto's S3 server with writes to one key serialized, so conditional writes are atomic as on S3.

moto checks ``If-Match`` / ``If-None-Match: *`` and then writes, in two steps that other request
threads can run between: two racers can both pass the check and both "win", and a conditional
write can overwrite a write it never checked against. S3 decides the condition and the write as
one step. Tests that race promoters against each other must not pass on a weaker server than
the one the bundle runs against, so the loopback endpoint (:class:`LocalS3`) runs this module:
moto's own WSGI app (``python -m moto.server`` serves the same one) behind a middleware that
holds a lock per object key around every request that writes that key, from moto's condition
check to its write:

- ``PUT`` of an object (a plain or conditional write, ``CopyObject`` to it, its ACL, tags, ...);
- ``DELETE`` of an object (conditional deletes check ``If-Match`` the same way);
- ``POST`` to an object (``CompleteMultipartUpload``, which honours ``If-None-Match: *``);
- ``POST ?delete`` to a bucket (``DeleteObjects``): the lock of every key it names.

Part uploads (``PUT ...?uploadId=``) do not change the key, so they are not serialized and
parallel multipart uploads stay parallel. Reads take no lock: moto replaces a key's object in
one step, so a read sees the old or the new object, never a mix, as on S3.

The body of a write is read before its lock is taken, so the lock covers moto's condition check
and write only, never a slow or abandoned upload.

Locks are striped (a fixed number, picked by a hash of bucket and key): two different keys share
a lock now and then, which only serializes them, never weakens anything, and the table does not
grow with the number of keys.

Run as a script (``python strict_s3.py -H 127.0.0.1 -p 5000``): it imports only moto, werkzeug
and the standard library, so it starts without the project on ``sys.path``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import ipaddress
import signal
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

#: How many locks the keys are spread over.
LOCK_STRIPES = 256

#: Methods that change an object (with the exceptions in :func:`object_keys_written`).
_WRITES = {"PUT", "POST", "DELETE"}


def _bucket_from_host(host: str) -> str | None:
    """The bucket of a virtual-hosted request (``<bucket>.localhost``); None for path style."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", 1)[0].lstrip("[")
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    if name == "localhost" or "." not in name:
        return None
    return name.split(".", 1)[0]


def _bucket_and_key(environ: dict[str, Any]) -> tuple[str, str]:
    path = environ.get("PATH_INFO", "") or "/"
    bucket = _bucket_from_host(environ.get("HTTP_HOST", ""))
    if bucket is not None:
        return bucket, path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


#: Marks an environ whose body :func:`_read_body` already holds in memory.
_BODY_READ = "retrain.strict_s3.body"


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body (once) and put it back, so the app behind still reads all of it."""
    from werkzeug.wsgi import get_input_stream

    if _BODY_READ in environ:
        return environ[_BODY_READ]
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["wsgi.input_terminated"] = False
    environ[_BODY_READ] = body
    return body


def _keys_in_delete_request(body: bytes) -> list[str]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []  # moto answers MalformedXML; nothing is written
    return [element.text or "" for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "Key"]


def object_keys_written(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(bucket, key)`` pairs this request may write: those it must hold the lock of."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in _WRITES:
        return []
    bucket, key = _bucket_and_key(environ)
    if not bucket or bucket == "moto-api":
        return []
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not key:
        if method == "POST" and "delete" in query:
            return [(bucket, name) for name in _keys_in_delete_request(_read_body(environ))]
        return []  # a bucket operation: no object changes
    if method == "PUT" and "uploadId" in query:
        return []  # UploadPart / UploadPartCopy: the key changes only on completion
    return [(bucket, key)]


class SerializedWrites:
    """WSGI middleware: one lock per key (striped) held around each request that writes the key."""

    def __init__(self, app: Callable[..., Iterable[bytes]], stripes: int = LOCK_STRIPES) -> None:
        self.app = app
        self._locks = [threading.Lock() for _ in range(stripes)]

    def _stripes(self, keys: list[tuple[str, str]]) -> list[threading.Lock]:
        indices = {
            int.from_bytes(hashlib.blake2b(f"{b}/{k}".encode(), digest_size=4).digest(), "big") % len(self._locks)
            for b, k in keys
        }
        return [self._locks[i] for i in sorted(indices)]  # one global order: no deadlock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        keys = object_keys_written(environ)
        if keys:
            # The whole body first: an upload that stalls or whose client dies never holds the lock
            # (it would block every later write to the key, and to keys sharing its stripe).
            _read_body(environ)
        locks = self._stripes(keys)
        for lock in locks:
            lock.acquire()
        try:
            # moto decides and writes while the app is called; the response it returns is already
            # computed, so the lock need not be held while it is sent.
            return self.app(environ, start_response)
        finally:
            for lock in reversed(locks):
                lock.release()


def s3_only(dispatcher: Any) -> Callable[..., Iterable[bytes]]:
    """``dispatcher`` (moto's app for every service), answering all but ``/moto-api`` with its S3 app.

    moto's dispatcher picks the service per request, and on the way lists its package folder
    (a directory scan per request: a third of the server's CPU for a small GET). This endpoint
    serves S3 only, so its S3 app is made once, here; moto's own API (reset, ...) goes through the
    dispatcher as before.
    """
    s3 = dispatcher.create_app("s3")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return dispatcher(environ, start_response)
        return s3(environ, start_response)

    return app


def build_app() -> SerializedWrites:
    """moto's server app (as ``python -m moto.server`` builds it) for S3, with writes serialized."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    dispatcher = DomainDispatcherApplication(create_backend_app)
    dispatcher.debug = True  # type: ignore[attr-defined]  # as moto.server: errors come back as responses
    return SerializedWrites(s3_only(dispatcher))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("MOTO_PORT", str(args.port))
    from moto.server import MotoRequestHandler
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
