"""A TCP proxy in front of the loopback S3 server, for fault injection in the acceptance suite.

It produces real network faults rather than mocked ones: ``down()`` closes the listening
socket and resets every open connection (clients get connection refused/reset), ``up()``
listens again on the same port, ``throttle()`` slows uploads so a process can be killed
mid-upload, and ``on_request()`` calls back when a request line matches (once).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dev.local_s3 import free_port

_CHUNK = 16 * 1024


@dataclass
class _Trigger:
    marker: bytes
    callback: Callable[[], None]
    fired: bool = False


class S3Proxy:
    """Forwards ``127.0.0.1:<port>`` to the S3 server at ``upstream_port``, with faults on demand."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._triggers: list[_Trigger] = []
        self.requests_seen = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------

    def up(self) -> S3Proxy:
        """Listen (again) on the proxy port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        """Stop listening and reset every open connection: the endpoint is gone."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                connection.close()

    def throttle(self, bytes_per_second: float | None) -> None:
        """Limit client-to-server throughput (None: full speed)."""
        self._rate = bytes_per_second

    def on_request(self, marker: bytes, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in its own thread) the first time a request carries ``marker``."""
        self._triggers.append(_Trigger(marker, callback))

    def clear_triggers(self) -> None:
        self._triggers = []

    # -- plumbing -------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections.update({client, upstream})
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(_CHUNK):
                if from_client:
                    self._inspect(data)
                    if self._rate:
                        time.sleep(len(data) / self._rate)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.close()
            with self._lock:
                self._connections.difference_update({source, target})

    def _inspect(self, data: bytes) -> None:
        if data[:8].split(b" ", 1)[0] in (b"GET", b"PUT", b"POST", b"HEAD", b"DELETE"):
            self.requests_seen += 1
        for trigger in self._triggers:
            if not trigger.fired and trigger.marker in data:
                trigger.fired = True
                threading.Thread(target=trigger.callback, daemon=True).start()
