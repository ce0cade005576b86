"""Where artifacts and the registry live and which connection reaches them (``storage``)."""

from __future__ import annotations

from pydantic import Field

from include.retrain.config.base import (
    BUCKET_RE,
    CONN_ID_RE,
    SafePrefix,
    _Strict,
)


class StorageConfig(_Strict):
    """Where artifacts and the registry live, and which Airflow connection reaches them."""

    conn_id: str = Field("aws_default", pattern=CONN_ID_RE, description="Airflow connection to the S3 endpoint.")
    bucket: str = Field(
        "retrain-artifacts", pattern=BUCKET_RE, description="Bucket for run artifacts and the registry."
    )
    prefix: SafePrefix = Field("retraining", description="Key prefix above `<pipeline>/` (relative, no `..`).")
    max_attempts: int = Field(
        10,
        ge=1,
        le=30,
        description="S3 client attempts per request (botocore standard retries, jittered exponential backoff); "
        "rides out a few seconds of refused connections or 5xx inside every task, gates included. With the "
        "default timeouts a request to an endpoint that never answers fails within 176 s (docs: Faults and "
        "what happens). The connection's config_kwargs win.",
    )
    connect_timeout_seconds: float = Field(
        2.0, gt=0, description="S3 client connect timeout per attempt (a TCP connect, not a transfer)."
    )
    read_timeout_seconds: float = Field(
        13.0,
        gt=0,
        description="S3 client read timeout per attempt: the longest wait for the next byte of an answer, "
        "not for a whole transfer, so large uploads and downloads are not cut short while bytes flow.",
    )
