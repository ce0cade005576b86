"""JSON over HTTP POST to a URL held in an Airflow connection: the deployment hook and notifications.

Only the standard library: the connection's fields (conn_type, host, port, schema as the path,
login/password as basic auth) give the URL, ``urllib`` sends the body. No HTTP provider needed.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from include.retrain.errors import PipelineFailure


class WebhookFailed(Exception):
    """The receiver did not accept the message (no answer, or not 2xx): an infra failure, worth a retry."""


class InvalidWebhook(PipelineFailure):
    """The connection does not describe an http(s) URL; retrying cannot fix that."""


def webhook_url(connection: Any) -> str:
    """The URL from an Airflow connection's fields.

    ``AIRFLOW_CONN_<ID>='http://serving.internal:8080/hooks/deployed'`` gives conn_type ``http``,
    host, port and the path in ``schema``; a full URL in ``host`` (as the HTTP provider allows)
    works too. Only http and https are accepted.
    """
    host = (connection.host or "").strip()
    if "://" in host:
        base = host.rstrip("/")
    else:
        scheme = "https" if connection.conn_type == "https" else "http"
        base = f"{scheme}://{host}" + (f":{connection.port}" if connection.port else "")
    path = (connection.schema or "").strip("/")
    url = f"{base}/{path}" if path else base
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhook(
            f"connection {connection.conn_id!r} does not describe an http(s) URL (got {url!r}); "
            "set host (and port, and the path as schema)"
        )
    return url


def post_json(connection: Any, payload: Mapping[str, Any], *, timeout: float, purpose: str = "webhook") -> int:
    """POST ``payload`` as JSON to the connection's URL; return the HTTP status.

    Login and password, when set, are sent as HTTP basic auth. Anything but a 2xx answer in
    ``timeout`` seconds raises :class:`WebhookFailed`, naming ``purpose``, the connection and the URL.
    """
    url = webhook_url(connection)
    headers = {"Content-Type": "application/json"}
    if connection.login:
        token = base64.b64encode(f"{connection.login}:{connection.password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    body = json.dumps(dict(payload), sort_keys=True, default=str).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except (urllib.error.URLError, OSError) as exc:  # HTTPError (4xx/5xx) is a URLError
        raise WebhookFailed(f"{purpose} {connection.conn_id!r} at {url} failed: {exc}") from exc
