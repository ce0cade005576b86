"""A boto3 client wrapper that injects one storage fault into a real request: test instrumentation.

Every request still goes to the real loopback S3 server. A rule picks the first ``put_object``
whose key ends with a given suffix and then:

- ``lose_response``: the write is sent and commits, then the client resends it, as botocore does
  when the response to a committed write is lost (a 500, a reset): the resend meets the write's
  own condition and the server answers 412, which is what the caller sees;
- ``fail_after``: the write commits, then the call raises a connection error (the task dies
  between two writes; Airflow retries it);
- ``fail_before``: the call raises a connection error and nothing is written.

The fault proxy in ``tests/faults`` does the same on the wire, for whole DAG runs.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import EndpointConnectionError


class FaultyClient:
    def __init__(self, client: Any, suffix: str, fault: str, times: int = 1) -> None:
        assert fault in ("lose_response", "fail_after", "fail_before"), fault
        self._client = client
        self.suffix = suffix
        self.fault = fault
        self.remaining = times
        self.injected = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if not kwargs["Key"].endswith(self.suffix) or self.remaining <= 0:
            return self._client.put_object(**kwargs)
        self.remaining -= 1
        self.injected += 1
        if self.fault == "fail_before":
            raise EndpointConnectionError(endpoint_url=f"injected before {kwargs['Key']}")
        self._client.put_object(**kwargs)
        if self.fault == "fail_after":
            raise EndpointConnectionError(endpoint_url=f"injected after {kwargs['Key']}")
        return self._client.put_object(**kwargs)  # the resend: 412 if the write was conditional
