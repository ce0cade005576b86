"""Artifact store: objects on S3-compatible storage, each with a sha256 checked on read.

The store wraps a boto3 S3 client (in Airflow it comes from ``S3Hook`` and the variant's
connection, so the endpoint is whatever the connection says: AWS, MinIO, or the loopback
server used in tests). It never reads outside its bucket and prefix.

Writes are atomic by S3's own semantics: an object (single PUT or completed multipart
upload) becomes visible only when complete, so a killed writer leaves either the old object
or nothing, never half a file. The sha256 recorded in each manifest catches anything else.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import ClientError

from include.retrain.artifact_ref import ArtifactRef, VersionedObject, parse_s3_uri, sha256_bytes, sha256_file
from include.retrain.config import StorageConfig, check_safe_prefix
from include.retrain.errors import IntegrityError, PipelineFailure

P = ParamSpec("P")
R = TypeVar("R")

SHA256_METADATA_KEY = "sha256"
JSON_CONTENT_TYPE = "application/json"
BINARY_CONTENT_TYPE = "application/octet-stream"


def client_config(storage: StorageConfig) -> Config:
    """The botocore config of a task's S3 client: the variant's attempts and timeouts.

    Standard retry mode retries connection errors, 5xx and throttling with exponential backoff;
    the timeouts bound how long a hung endpoint can hold a task (the fault table, docs/operations/faults.md).
    """
    return Config(
        retries={"mode": "standard", "total_max_attempts": storage.max_attempts},
        connect_timeout=storage.connect_timeout_seconds,
        read_timeout=storage.read_timeout_seconds,
    )


class ObjectAlreadyExists(Exception):
    """A create-only write found the key taken (HTTP 412 on ``If-None-Match: *``)."""


class ConcurrentUpdate(Exception):
    """A compare-and-swap lost: the object changed since it was read (HTTP 412 on ``If-Match``)."""


class MissingArtifact(PipelineFailure):
    """A manifest points at an object that is not in the store."""


class MissingBucket(PipelineFailure):
    """The bucket does not exist at the connection's endpoint: a configuration error, not a blip."""


def _bucket_must_exist(method: Callable[P, R]) -> Callable[P, R]:
    """Turn S3's NoSuchBucket (also inside boto3's transfer errors) into MissingBucket."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (ClientError, S3UploadFailedError) as exc:
            code = _error_code(exc) if isinstance(exc, ClientError) else ""
            if code == "NoSuchBucket" or "NoSuchBucket" in str(exc):
                bucket = getattr(args[0], "bucket", None)  # the S3Store the method is bound to
                raise MissingBucket(
                    f"bucket {bucket!r} does not exist at the S3 endpoint of this connection; check the "
                    "pipeline's dataset.bucket / storage.bucket and the connection's endpoint_url"
                ) from exc
            raise

    return wrapper


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_precondition_failure(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return _error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412)


def _is_not_found(exc: ClientError) -> bool:
    return _error_code(exc) in ("NoSuchKey", "404", "NotFound")


class ArtifactStore:
    """Objects under ``s3://<bucket>/<prefix>/``, written with their sha256 and verified on read."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", transfer_config: Any = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = check_safe_prefix(prefix.strip("/"))
        self._transfer_config = transfer_config

    # -- keys -------------------------------------------------------------------------------

    def key(self, *parts: str) -> str:
        """Join relative ``parts`` under the store prefix; absolute or escaping parts are refused."""
        checked = [check_safe_prefix(str(part)) for part in parts]
        return "/".join([p for p in (self.prefix, *checked) if p])

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def key_of(self, uri: str) -> str:
        """The key of ``uri``, provided it lies inside this store."""
        bucket, key = parse_s3_uri(uri)
        inside = bucket == self.bucket and (not self.prefix or key.startswith(self.prefix + "/"))
        if not inside or ".." in key.split("/"):
            raise IntegrityError(
                f"refusing to read {uri}: it is outside the artifact store s3://{self.bucket}/{self.prefix}"
            )
        return key

    # -- writes -----------------------------------------------------------------------------

    @_bucket_must_exist
    def put_bytes(
        self, key: str, data: bytes, *, content_type: str = BINARY_CONTENT_TYPE, create_only: bool = False
    ) -> ArtifactRef:
        """Write ``data`` at ``key``; with ``create_only`` an existing key raises ObjectAlreadyExists."""
        digest = sha256_bytes(data)
        extra: dict[str, Any] = {"IfNoneMatch": "*"} if create_only else {}
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata={SHA256_METADATA_KEY: digest},
                **extra,
            )
        except ClientError as exc:
            if create_only and _is_precondition_failure(exc):
                raise ObjectAlreadyExists(self.uri(key)) from exc
            raise
        return ArtifactRef(uri=self.uri(key), sha256=digest, size=len(data))

    def put_json(self, key: str, payload: Any, *, create_only: bool = False) -> ArtifactRef:
        data = json.dumps(payload, indent=2, sort_keys=True, default=str).encode()
        return self.put_bytes(key, data, content_type=JSON_CONTENT_TYPE, create_only=create_only)

    @_bucket_must_exist
    def put_file(self, key: str, path: str | Path, *, content_type: str = BINARY_CONTENT_TYPE) -> ArtifactRef:
        """Upload a local file (multipart above the transfer threshold) with its sha256."""
        digest = sha256_file(path)
        extra = {"ContentType": content_type, "Metadata": {SHA256_METADATA_KEY: digest}}
        kwargs = {"Config": self._transfer_config} if self._transfer_config is not None else {}
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, **kwargs)
        return ArtifactRef(uri=self.uri(key), sha256=digest, size=Path(path).stat().st_size)

    @_bucket_must_exist
    def swap_bytes(self, key: str, data: bytes, *, expected_etag: str | None) -> str:
        """Compare-and-swap: write only if the object still has ``expected_etag``.

        ``expected_etag=None`` means "only if the object does not exist yet". Returns the new
        ETag; raises :class:`ConcurrentUpdate` when another writer got there first.
        """
        condition = {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=JSON_CONTENT_TYPE,
                Metadata={SHA256_METADATA_KEY: sha256_bytes(data)},
                **condition,
            )
        except ClientError as exc:
            if _is_precondition_failure(exc) or (expected_etag and _is_not_found(exc)):
                raise ConcurrentUpdate(self.uri(key)) from exc
            raise
        return str(response["ETag"])

    # -- reads ------------------------------------------------------------------------------

    @_bucket_must_exist
    def get_bytes(self, ref: ArtifactRef) -> bytes:
        """Read an artifact and check its bytes against the sha256 in ``ref``."""
        key = self.key_of(ref.uri)
        try:
            data = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _is_not_found(exc):
                raise MissingArtifact(f"artifact {ref.uri} is missing from the store") from exc
            raise
        actual = sha256_bytes(data)
        if actual != ref.sha256:
            raise IntegrityError(
                f"artifact {ref.uri} is corrupt or was replaced: sha256 {actual} does not match "
                f"the recorded {ref.sha256}"
            )
        return data

    def get_json(self, ref: ArtifactRef) -> Any:
        return json.loads(self.get_bytes(ref))

    @_bucket_must_exist
    def download_file(self, ref: ArtifactRef, path: str | Path) -> Path:
        """Download an artifact to ``path`` and verify it; a mismatching file is deleted."""
        key = self.key_of(ref.uri)
        path = Path(path)
        kwargs = {"Config": self._transfer_config} if self._transfer_config is not None else {}
        try:
            self.client.download_file(self.bucket, key, str(path), **kwargs)
        except ClientError as exc:
            if _is_not_found(exc):
                raise MissingArtifact(f"artifact {ref.uri} is missing from the store") from exc
            raise
        actual = sha256_file(path)
        if actual != ref.sha256:
            path.unlink(missing_ok=True)
            raise IntegrityError(
                f"artifact {ref.uri} is corrupt or was replaced: sha256 {actual} does not match "
                f"the recorded {ref.sha256}"
            )
        return path

    @_bucket_must_exist
    def read_object(self, key: str) -> VersionedObject | None:
        """Read the current bytes and ETag at ``key``, or None if there is no object."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_not_found(exc):
                return None
            raise
        return VersionedObject(data=response["Body"].read(), etag=str(response["ETag"]))

    def read_json(self, key: str) -> Any | None:
        found = self.read_object(key)
        return None if found is None else json.loads(found.data)

    @_bucket_must_exist
    def ref_for(self, key: str) -> ArtifactRef | None:
        """An ArtifactRef for an existing object, from the sha256 recorded when it was written."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_not_found(exc) or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        digest = head.get("Metadata", {}).get(SHA256_METADATA_KEY)
        if not digest:
            raise IntegrityError(f"{self.uri(key)} has no recorded sha256; it was not written by this store")
        return ArtifactRef(uri=self.uri(key), sha256=digest, size=int(head["ContentLength"]))

    @_bucket_must_exist
    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_not_found(exc) or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return True

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (a key prefix inside this store), sorted."""
        return sorted(key for key, _ in self.list_objects(prefix))

    @_bucket_must_exist
    def list_objects(self, prefix: str) -> list[tuple[str, int]]:
        """``(key, size)`` for every object under ``prefix``."""
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[tuple[str, int]] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
        return found


__all__ = [
    "BINARY_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "SHA256_METADATA_KEY",
    "ArtifactRef",
    "ArtifactStore",
    "ConcurrentUpdate",
    "MissingArtifact",
    "MissingBucket",
    "ObjectAlreadyExists",
    "VersionedObject",
    "client_config",
    "parse_s3_uri",
    "sha256_bytes",
    "sha256_file",
]
