"""An HTTP fault proxy in front of the loopback S3 endpoint: real faults, seen by a real boto3 client.

The proxy speaks enough HTTP/1.1 to see each request whole: it reads the request line and headers,
then the body by ``Content-Length`` (what boto3 sends over plain HTTP) or ``Transfer-Encoding:
chunked`` (its streaming uploads over HTTPS; an ``aws-chunked`` body is forwarded as the bytes it
is), and answers ``Expect: 100-continue`` itself. Each request is matched against the faults
armed so far, in the order they were armed; the first one that matches and has uses left acts on
it, any other request is forwarded as is.

API (``proxy = FaultProxy(upstream_url).start()``, or the ``fault_proxy`` fixture)::

    proxy.endpoint_url                    # point a boto3 client / Airflow connection here
    proxy.client(**config)                # a boto3 client through the proxy (loopback credentials)
    proxy.store(bucket, prefix)           # an ArtifactStore on that client
    proxy.airflow_connection()            # AIRFLOW_CONN_<ID> JSON reaching S3 through the proxy

    proxy.lose_response("PUT", "aliases/champion.json", times=1)
        # forward the request, let the server commit it, read its answer, then reset the
        # client's connection without sending it: the write happened, the client never hears so
    proxy.fail("PUT", "events/", status=500, times=1, code=None)
        # answer an S3-style XML error (code from the status unless given) without forwarding
    proxy.hang("GET", "versions/", seconds=30, times=1, then="close")
        # hold the request without answering for ``seconds``, then close the connection
        # (``then="forward"``: forward it after all, a late answer that may still commit)
    proxy.slow("GET", "model.skops", bytes_per_second=100_000, times=1)
        # forward, but take the request body in and send the response body out at that rate:
        # a long transfer whose bytes keep flowing (a read timeout is per read, not per transfer)
    proxy.down(); proxy.up()              # refuse connections (and reset open ones) / listen again
    proxy.clear()                         # disarm every fault
    proxy.count("PUT", "champion.json")   # requests seen that match (faulted or not)
    proxy.requests                        # every request seen: Seen(method, target, headers, fault)

Every fault takes ``method`` (``None``: any), ``path_contains`` (a substring of the request
target: path and query, matched as sent and percent-decoded, so ``ds=2024-01-01`` and
``ds%3D2024-01-01`` both match), ``times`` (``None``: every matching request) and ``header``
(only requests that carry this header, e.g. ``"If-Match"`` or ``"If-None-Match"``). Each returns
its :class:`Fault`, whose ``hits`` counts the requests it acted on; ``fault.cancel()`` disarms it.

A client's own retries come back through the proxy and are matched again: ``times=1`` faults the
first attempt only, so ``fail(..., times=2)`` against a client with 3 attempts still succeeds.

Fixtures (tests/faults/conftest.py): ``fault_proxy``, ``proxied_connection``, ``proxied_client``
(built as the tasks build theirs), ``proxied_store`` and ``direct_client`` (to see what the
server really holds).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

_MAX_HEAD = 64 * 1024

#: S3's error code for each status the proxy is asked to answer with.
S3_ERROR_CODES = {
    400: "BadRequest",
    403: "AccessDenied",
    404: "NoSuchKey",
    409: "ConditionalRequestConflict",
    412: "PreconditionFailed",
    429: "SlowDown",
    500: "InternalError",
    502: "BadGateway",
    503: "SlowDown",
    504: "GatewayTimeout",
}

Action = Literal["lose_response", "fail", "hang", "slow"]


@dataclass
class Fault:
    """One armed fault; ``hits`` counts the requests it acted on."""

    action: Action
    method: str | None
    path_contains: str
    times: int | None
    header: str | None = None
    status: int = 500
    code: str | None = None
    seconds: float = 0.0
    then: Literal["close", "forward"] = "close"
    bytes_per_second: float = 0.0
    hits: int = 0
    cancelled: bool = False

    def matches(self, method: str, target: str, headers: dict[str, str]) -> bool:
        if self.cancelled or (self.times is not None and self.hits >= self.times):
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.header is not None and self.header.lower() not in headers:
            return False
        return self.path_contains in target or self.path_contains in unquote(target)

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Seen:
    """A request the proxy received, and the fault that acted on it (None: forwarded)."""

    method: str
    target: str
    headers: dict[str, str]
    fault: Action | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Request:
    method: str
    target: str
    version: str
    header_lines: list[tuple[str, str]]
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.header_lines}

    def encode(self) -> bytes:
        """The request for upstream: same headers, the body sent whole with its length."""
        lines = [f"{self.method} {self.target} {self.version}"]
        for name, value in self.header_lines:
            if name.lower() in ("expect", "transfer-encoding", "content-length"):
                continue
            lines.append(f"{name}: {value}")
        if self.body or self.method in ("PUT", "POST"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class _ClientGone(Exception):
    pass


def _read_head(reader: Any) -> _Request | None:
    """The request line and headers; None when the client closed the connection between requests."""
    line = reader.readline(_MAX_HEAD)
    while line in (b"\r\n", b"\n"):  # tolerated before a request line (RFC 9112 2.2)
        line = reader.readline(_MAX_HEAD)
    if not line:
        return None
    method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    header_lines: list[tuple[str, str]] = []
    while True:
        raw = reader.readline(_MAX_HEAD)
        if not raw:
            raise _ClientGone
        if raw in (b"\r\n", b"\n"):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        header_lines.append((name.strip(), value.strip()))
    return _Request(method, target, version, header_lines, b"")


def _read_exactly(reader: Any, size: int, bytes_per_second: float) -> bytes:
    if not bytes_per_second:
        data = reader.read(size)
    else:  # trickle: the client's sends block, a piece goes through every tenth of a second
        piece, parts, left = max(1, int(bytes_per_second / 10)), [], size
        while left > 0:
            part = reader.read(min(piece, left))
            if not part:
                break
            parts.append(part)
            left -= len(part)
            time.sleep(len(part) / bytes_per_second)
        data = b"".join(parts)
    if len(data) != size:
        raise _ClientGone
    return data


def _read_body(reader: Any, client: socket.socket, request: _Request, bytes_per_second: float = 0.0) -> None:
    """Read the body (answering ``Expect: 100-continue`` first) into ``request.body``."""
    headers = request.headers
    if headers.get("expect", "").lower() == "100-continue":
        client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = reader.readline(_MAX_HEAD)
            if not size_line:
                raise _ClientGone
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while reader.readline(_MAX_HEAD) not in (b"\r\n", b"\n", b""):
                    pass  # trailers: botocore sends its checksums inside the aws-chunked body
                break
            body += _read_exactly(reader, size, bytes_per_second)
            reader.read(2)
        request.body = bytes(body)
    else:
        length = int(headers.get("content-length", "0") or 0)
        request.body = _read_exactly(reader, length, bytes_per_second) if length else b""


def _error_response(method: str, status: int, code: str, message: str) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
    ).encode()
    reason = http.client.responses.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n"
        "x-amz-request-id: fault-proxy\r\n\r\n"
    )
    return head.encode("latin-1") + (b"" if method == "HEAD" else body)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a crashed peer or a dropped middlebox would.

    ``shutdown`` first: it acts at once, waking a thread blocked reading the socket, while
    ``close`` waits for that thread's file object to be closed too (then the reset goes out).
    """
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """An HTTP proxy on ``127.0.0.1:<port>`` in front of ``upstream_url`` with faults on demand."""

    def __init__(self, upstream_url: str, port: int = 0) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.port = port
        self.requests: list[Seen] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._stopping.clear()
        return self.up()

    def up(self) -> FaultProxy:
        """Listen (again, on the same port after :meth:`down`)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept, listener)
        return self

    def down(self) -> None:
        """Stop listening and reset every open connection: new connections are refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _reset(sock)

    def stop(self) -> None:
        """Down for good: release every held request and join every thread the proxy started."""
        self._stopping.set()
        self.down()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------------

    def _arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def lose_response(
        self, method: str | None, path_contains: str, times: int | None = 1, *, header: str | None = None
    ) -> Fault:
        """Forward, let upstream commit, then reset the client's connection without the answer."""
        return self._arm(Fault("lose_response", method, path_contains, times, header))

    def fail(
        self,
        method: str | None,
        path_contains: str,
        status: int = 500,
        times: int | None = 1,
        *,
        code: str | None = None,
        header: str | None = None,
    ) -> Fault:
        """Answer an S3 XML error with ``status`` without forwarding: nothing reaches the server."""
        return self._arm(Fault("fail", method, path_contains, times, header, status=status, code=code))

    def hang(
        self,
        method: str | None,
        path_contains: str,
        seconds: float,
        times: int | None = 1,
        *,
        header: str | None = None,
        then: Literal["close", "forward"] = "close",
    ) -> Fault:
        """Hold the request ``seconds`` without a byte of answer, then close (or forward) it."""
        return self._arm(Fault("hang", method, path_contains, times, header, seconds=seconds, then=then))

    def slow(
        self,
        method: str | None,
        path_contains: str,
        bytes_per_second: float,
        times: int | None = 1,
        *,
        header: str | None = None,
    ) -> Fault:
        """Forward, taking the request body in and the response out at ``bytes_per_second``."""
        return self._arm(Fault("slow", method, path_contains, times, header, bytes_per_second=bytes_per_second))

    def clear(self) -> None:
        """Disarm every fault (requests already held stay held until their time is up)."""
        with self._lock:
            for fault in self._faults:
                fault.cancel()
            self._faults = []

    def count(self, method: str | None = None, path_contains: str = "", *, header: str | None = None) -> int:
        """How many requests seen so far match (whether a fault acted on them or not)."""
        probe = Fault("fail", method, path_contains, None, header)
        with self._lock:
            seen = list(self.requests)
        return sum(probe.matches(s.method, s.target, s.headers) for s in seen)

    # -- clients --------------------------------------------------------------------------------

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client through the proxy; ``config`` goes to ``botocore.config.Config``."""
        from botocore.config import Config

        from dev.local_s3 import loopback_client

        return loopback_client(self.endpoint_url, Config(**config) if config else None)

    def store(self, bucket: str = "retrain-artifacts", prefix: str = "", **config: Any) -> Any:
        """An :class:`ArtifactStore` whose every request goes through the proxy."""
        from include.retrain.storage import ArtifactStore

        return ArtifactStore(self.client(**config), bucket, prefix)

    def airflow_connection(self) -> str:
        """An Airflow connection (JSON, for ``AIRFLOW_CONN_<ID>``) that reaches S3 through the proxy."""
        from dev.local_s3 import loopback_connection

        return loopback_connection(self.endpoint_url)

    # -- plumbing -------------------------------------------------------------------------------

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            if self._listener is not listener:
                _reset(client)
                return
            self._track(client)
            self._spawn(self._serve, client)

    def _pick(self, request: _Request) -> Fault | None:
        headers = request.headers
        with self._lock:
            fault = next((f for f in self._faults if f.matches(request.method, request.target, headers)), None)
            if fault is not None:
                fault.hits += 1
            self.requests.append(Seen(request.method, request.target, headers, fault.action if fault else None))
        return fault

    def _serve(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        upstream: socket.socket | None = None
        try:
            while not self._stopping.is_set():
                try:
                    request = _read_head(reader)
                    if request is None:
                        return
                    fault = self._pick(request)
                    rate = fault.bytes_per_second if fault is not None and fault.action == "slow" else 0.0
                    _read_body(reader, client, request, rate)
                except (_ClientGone, OSError, ValueError):
                    return
                if fault is not None and fault.action == "fail":
                    code = fault.code or S3_ERROR_CODES.get(fault.status, "InternalError")
                    client.sendall(_error_response(request.method, fault.status, code, "injected by the fault proxy"))
                    continue
                if fault is not None and fault.action == "hang":
                    self._stopping.wait(fault.seconds)
                    if fault.then == "close" or self._stopping.is_set():
                        return
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=60)
                    self._track(upstream)
                try:
                    upstream.sendall(request.encode())
                    response = http.client.HTTPResponse(upstream, method=request.method)
                    response.begin()
                    body = response.read()
                except (OSError, http.client.HTTPException):
                    _reset(client)  # the server went away mid-request: so does the answer
                    return
                if response.will_close:
                    self._untrack(upstream)
                    upstream.close()
                    upstream = None
                if fault is not None and fault.action == "lose_response":
                    _reset(client)  # committed upstream; the client never hears of it
                    return
                self._send(client, self._encode_response(request.method, response, body), rate)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                reader.close()
            for sock in (client, upstream):
                if sock is not None:
                    self._untrack(sock)
                    with contextlib.suppress(OSError):
                        sock.close()

    def _send(self, sock: socket.socket, data: bytes, bytes_per_second: float) -> None:
        """Send ``data``; with a rate, in 10 pieces a second, each followed by its share of time."""
        if not bytes_per_second:
            sock.sendall(data)
            return
        piece = max(1, int(bytes_per_second / 10))
        for start in range(0, len(data), piece):
            if self._stopping.is_set():
                raise OSError("proxy stopped")
            sock.sendall(data[start : start + piece])
            time.sleep(piece / bytes_per_second)

    @staticmethod
    def _encode_response(method: str, response: http.client.HTTPResponse, body: bytes) -> bytes:
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in response.getheaders():
            if name.lower() in ("transfer-encoding", "connection"):
                continue
            if name.lower() == "content-length" and method != "HEAD":
                continue
            lines.append(f"{name}: {value}")
        if method != "HEAD" and response.status not in (204, 304) and not 100 <= response.status < 200:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@contextlib.contextmanager
def fault_proxy_for(upstream_url: str) -> Iterator[FaultProxy]:
    """A started proxy, stopped (every thread joined) when the block ends, even on failure."""
    proxy = FaultProxy(upstream_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()
