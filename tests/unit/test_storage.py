"""ArtifactStore against a real S3 HTTP endpoint (moto server on loopback, see conftest).

No mocks: every write, conditional write and read goes over HTTP to the loopback server, so
the tests exercise the same botocore request/response handling as production.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from include.retrain.errors import IntegrityError, PipelineFailure
from include.retrain.storage import (
    SHA256_METADATA_KEY,
    ArtifactRef,
    ArtifactStore,
    ConcurrentUpdate,
    MissingArtifact,
    ObjectAlreadyExists,
    sha256_bytes,
    sha256_file,
)

BUCKET = "retrain-artifacts"
PREFIX = "retraining"
MIB = 1024 * 1024


@pytest.fixture
def store(s3_client: Any) -> ArtifactStore:
    return ArtifactStore(s3_client, BUCKET, PREFIX)


def _raw_get(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


# -- round trips --------------------------------------------------------------------------------


class TestRoundTrip:
    """What goes in comes out, and the ref/metadata carry the true sha256 and size."""

    @pytest.mark.parametrize(
        "data",
        [b"", b"model bytes \x00\x01\xff", os.urandom(64 * 1024)],
        ids=["empty", "small-binary", "64KiB-random"],
    )
    def test_put_bytes_get_bytes(self, store: ArtifactStore, s3_client: Any, data: bytes) -> None:
        key = store.key("runs", "r1", "blob.bin")
        ref = store.put_bytes(key, data)

        assert ref == ArtifactRef(
            uri=f"s3://{BUCKET}/{PREFIX}/runs/r1/blob.bin", sha256=hashlib.sha256(data).hexdigest(), size=len(data)
        )
        assert store.get_bytes(ref) == data
        head = s3_client.head_object(Bucket=BUCKET, Key=key)
        assert head["Metadata"][SHA256_METADATA_KEY] == ref.sha256
        assert head["ContentType"] == "application/octet-stream"
        assert head["ContentLength"] == len(data)

    def test_put_json_get_json(self, store: ArtifactStore, s3_client: Any) -> None:
        payload = {"b": [1, 2.5, None], "a": "ü"}
        ref = store.put_json(store.key("x.json"), payload)

        assert store.get_json(ref) == payload
        assert s3_client.head_object(Bucket=BUCKET, Key=store.key("x.json"))["ContentType"] == "application/json"
        assert ref.sha256 == sha256_bytes(_raw_get(s3_client, store.key("x.json")))

    def test_ref_dict_round_trip(self, store: ArtifactStore) -> None:
        ref = store.put_bytes(store.key("a"), b"abc")
        assert ArtifactRef.from_dict(json.loads(json.dumps(ref.to_dict()))) == ref

    def test_multipart_put_file_download_file(self, s3_client: Any, tmp_path: Path) -> None:
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
        store = ArtifactStore(s3_client, BUCKET, PREFIX, transfer_config=config)
        source = tmp_path / "big.bin"
        data = os.urandom(12 * MIB + 123)
        source.write_bytes(data)
        key = store.key("big", "big.bin")

        ref = store.put_file(key, source)

        assert ref.sha256 == hashlib.sha256(data).hexdigest()
        assert ref.size == len(data)
        head = s3_client.head_object(Bucket=BUCKET, Key=key)
        # A completed multipart upload has an ETag of the form "<md5>-<parts>": 3 parts here.
        assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
        assert head["Metadata"][SHA256_METADATA_KEY] == ref.sha256

        target = tmp_path / "out" / "big.bin"
        target.parent.mkdir()
        assert store.download_file(ref, target) == target
        assert sha256_file(target) == ref.sha256
        assert target.read_bytes() == data
        assert store.ref_for(key) == ref


# -- tampering ------------------------------------------------------------------------------------


class TestTampering:
    """Bytes replaced behind a ref are detected on every read path, never returned."""

    def _tamper(self, client: Any, store: ArtifactStore, ref: ArtifactRef, data: bytes) -> None:
        client.put_object(Bucket=BUCKET, Key=store.key_of(ref.uri), Body=data)

    def test_get_bytes_detects_replacement(self, store: ArtifactStore, s3_client: Any) -> None:
        ref = store.put_bytes(store.key("m", "model.skops"), b"original")
        self._tamper(s3_client, store, ref, b"evil")

        with pytest.raises(IntegrityError) as caught:
            store.get_bytes(ref)
        assert ref.uri in str(caught.value)
        assert ref.sha256 in str(caught.value)
        assert isinstance(caught.value, PipelineFailure)  # permanent: never retried

    def test_get_bytes_detects_same_size_replacement(self, store: ArtifactStore, s3_client: Any) -> None:
        ref = store.put_bytes(store.key("m", "model.skops"), b"AAAA")
        # even keeping the (attacker-visible) sha256 metadata does not help: the ref is what counts
        s3_client.put_object(
            Bucket=BUCKET, Key=store.key_of(ref.uri), Body=b"AAAB", Metadata={SHA256_METADATA_KEY: ref.sha256}
        )
        with pytest.raises(IntegrityError, match="corrupt or was replaced"):
            store.get_json(ref)

    def test_download_file_detects_replacement_and_deletes(
        self, store: ArtifactStore, s3_client: Any, tmp_path: Path
    ) -> None:
        ref = store.put_bytes(store.key("m", "model.skops"), b"original")
        self._tamper(s3_client, store, ref, b"evil bytes")
        target = tmp_path / "model.skops"

        with pytest.raises(IntegrityError) as caught:
            store.download_file(ref, target)
        assert ref.uri in str(caught.value)
        assert not target.exists()

    def test_download_file_of_missing_object(self, store: ArtifactStore, tmp_path: Path) -> None:
        ref = ArtifactRef(uri=store.uri(store.key("nope.bin")), sha256=sha256_bytes(b"x"), size=1)
        with pytest.raises(MissingArtifact, match=r"nope\.bin"):
            store.download_file(ref, tmp_path / "nope.bin")


# -- create-only and compare-and-swap -------------------------------------------------------------


class TestConditionalWrites:
    """create_only never overwrites; swap_bytes lets exactly one of two racing writers win."""

    def test_create_only_refuses_existing_key(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("v1", "model.skops")
        first = store.put_bytes(key, b"first", create_only=True)

        with pytest.raises(ObjectAlreadyExists) as caught:
            store.put_bytes(key, b"second", create_only=True)
        assert key in str(caught.value)
        assert _raw_get(s3_client, key) == b"first"
        assert store.get_bytes(first) == b"first"
        assert s3_client.head_object(Bucket=BUCKET, Key=key)["Metadata"][SHA256_METADATA_KEY] == first.sha256

    def test_create_only_json_refuses_existing_key(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("v1", "manifest.json")
        store.put_json(key, {"n": 1}, create_only=True)
        with pytest.raises(ObjectAlreadyExists):
            store.put_json(key, {"n": 2}, create_only=True)
        assert json.loads(_raw_get(s3_client, key)) == {"n": 1}

    def test_plain_put_overwrites(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("scratch.bin")
        store.put_bytes(key, b"one")
        store.put_bytes(key, b"two")
        assert _raw_get(s3_client, key) == b"two"

    def test_swap_bytes_cas_sequence(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("aliases", "champion.json")

        created = store.swap_bytes(key, b'{"v": 1}', expected_etag=None)
        assert created == s3_client.head_object(Bucket=BUCKET, Key=key)["ETag"]
        assert store.read_object(key).etag == created

        with pytest.raises(ConcurrentUpdate, match=r"champion\.json"):
            store.swap_bytes(key, b'{"v": "other"}', expected_etag=None)
        assert _raw_get(s3_client, key) == b'{"v": 1}'

        moved = store.swap_bytes(key, b'{"v": 2}', expected_etag=created)
        assert moved != created
        assert _raw_get(s3_client, key) == b'{"v": 2}'
        head = s3_client.head_object(Bucket=BUCKET, Key=key)
        assert head["ETag"] == moved
        assert head["Metadata"][SHA256_METADATA_KEY] == sha256_bytes(b'{"v": 2}')

        with pytest.raises(ConcurrentUpdate):
            store.swap_bytes(key, b'{"v": "loser"}', expected_etag=created)
        found = store.read_object(key)
        assert found is not None
        assert found.data == b'{"v": 2}'
        assert found.etag == moved

    def test_swap_bytes_on_deleted_object_is_concurrent_update(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("aliases", "champion.json")
        etag = store.swap_bytes(key, b"1", expected_etag=None)
        s3_client.delete_object(Bucket=BUCKET, Key=key)
        with pytest.raises(ConcurrentUpdate):
            store.swap_bytes(key, b"2", expected_etag=etag)
        assert not store.exists(key)


# -- keys -----------------------------------------------------------------------------------------


class TestKeys:
    """Keys are built under the prefix and URIs outside the store are refused."""

    @pytest.mark.parametrize(
        ("parts", "expected"),
        [
            (("a",), "retraining/a"),
            (
                ("churn", "registry", "versions", "v1", "model.skops"),
                "retraining/churn/registry/versions/v1/model.skops",
            ),
            (("a/b", "c"), "retraining/a/b/c"),
            (("a", "", "c"), "retraining/a/c"),
            (("ds=2026-01-01", "part-0.parquet"), "retraining/ds=2026-01-01/part-0.parquet"),
        ],
        ids=["single", "nested", "slash-in-part", "empty-part-skipped", "partition"],
    )
    def test_key_joins_under_prefix(self, store: ArtifactStore, parts: tuple[str, ...], expected: str) -> None:
        assert store.key(*parts) == expected

    def test_key_without_prefix(self, s3_client: Any) -> None:
        assert ArtifactStore(s3_client, BUCKET, "").key("a", "b") == "a/b"

    @pytest.mark.parametrize(
        "parts",
        [("..",), ("a", ".."), ("a/../../etc",), ("/../x",), ("a", "."), ("a//b",), ("s3://other/x",), ("a b",)],
        ids=["dotdot", "dotdot-last", "dotdot-inside", "absolute-dotdot", "dot", "double-slash", "uri", "space"],
    )
    def test_key_refuses_escapes(self, store: ArtifactStore, parts: tuple[str, ...]) -> None:
        with pytest.raises(ValueError, match=r"unsafe|relative"):
            store.key(*parts)

    @pytest.mark.parametrize("part", ["/etc/passwd", "/abs", "trailing/"], ids=["etc-passwd", "abs", "trailing-slash"])
    def test_key_refuses_absolute_and_slashed_parts(self, store: ArtifactStore, part: str) -> None:
        """Keys are built from relative parts only: an absolute part is an error, not normalised."""
        with pytest.raises(ValueError, match="relative"):
            store.key(part)

    def test_constructor_refuses_unsafe_prefix(self, s3_client: Any) -> None:
        with pytest.raises(ValueError, match="unsafe"):
            ArtifactStore(s3_client, BUCKET, "a/../b")

    def test_key_of_accepts_inside(self, store: ArtifactStore) -> None:
        assert store.key_of(f"s3://{BUCKET}/{PREFIX}/a/b.json") == f"{PREFIX}/a/b.json"

    @pytest.mark.parametrize(
        "uri",
        [
            f"s3://retrain-landing/{PREFIX}/a.bin",
            f"s3://{BUCKET}/other/a.bin",
            f"s3://{BUCKET}/{PREFIX}x/a.bin",
            f"s3://{BUCKET}/{PREFIX}",
            f"s3://{BUCKET}/{PREFIX}/../other/a.bin",
            f"s3://{BUCKET}/{PREFIX}/a/../../other/a.bin",
        ],
        ids=["other-bucket", "outside-prefix", "prefix-lookalike", "prefix-itself", "dotdot", "nested-dotdot"],
    )
    def test_key_of_refuses_outside(self, store: ArtifactStore, uri: str) -> None:
        with pytest.raises(IntegrityError, match="outside the artifact store"):
            store.key_of(uri)

    @pytest.mark.parametrize(
        "uri", ["https://x/y", f"s3://{BUCKET}", "retraining/a"], ids=["https", "bucket-only", "bare-key"]
    )
    def test_key_of_refuses_non_s3_uri(self, store: ArtifactStore, uri: str) -> None:
        with pytest.raises(ValueError, match="not an s3://bucket/key URI"):
            store.key_of(uri)

    def test_get_bytes_refuses_ref_outside_store(self, store: ArtifactStore, s3_client: Any) -> None:
        s3_client.put_object(Bucket="retrain-landing", Key="secret.bin", Body=b"s")
        ref = ArtifactRef(uri="s3://retrain-landing/secret.bin", sha256=sha256_bytes(b"s"), size=1)
        with pytest.raises(IntegrityError, match="outside the artifact store"):
            store.get_bytes(ref)


# -- reads ----------------------------------------------------------------------------------------


class TestReads:
    """Missing objects read as None/False, present ones with their ETag, sha256 and listing."""

    def test_missing_key(self, store: ArtifactStore) -> None:
        key = store.key("missing.json")
        assert store.read_object(key) is None
        assert store.read_json(key) is None
        assert store.exists(key) is False
        assert store.ref_for(key) is None

    def test_existing_key(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("present.json")
        ref = store.put_json(key, {"ok": True})

        assert store.exists(key) is True
        assert store.read_json(key) == {"ok": True}
        found = store.read_object(key)
        assert found is not None
        assert found.data == _raw_get(s3_client, key)
        assert found.etag == s3_client.head_object(Bucket=BUCKET, Key=key)["ETag"]
        from_head = store.ref_for(key)
        assert from_head == ref
        assert from_head is not None
        assert from_head.sha256 == sha256_bytes(found.data)

    def test_ref_for_object_without_sha256(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("foreign.bin")
        s3_client.put_object(Bucket=BUCKET, Key=key, Body=b"not ours")
        with pytest.raises(IntegrityError, match="no recorded sha256"):
            store.ref_for(key)

    def test_list_keys_sorted_and_scoped(self, store: ArtifactStore) -> None:
        names = ["c.bin", "a.bin", "sub/z.bin", "b.json", "sub/a.bin"]
        for name in names:
            store.put_bytes(store.key("dir", name), name.encode())
        store.put_bytes(store.key("dirx", "outside.bin"), b"x")
        store.put_bytes(store.key("other", "a.bin"), b"x")

        keys = store.list_keys(store.key("dir") + "/")

        assert keys == sorted(store.key("dir", name) for name in names)
        assert keys == sorted(keys)
        assert store.list_keys(store.key("nothing-here") + "/") == []
        sizes = dict(store.list_objects(store.key("dir") + "/"))
        assert sizes[store.key("dir", "sub/z.bin")] == len(b"sub/z.bin")

    def test_get_bytes_missing_object(self, store: ArtifactStore) -> None:
        ref = ArtifactRef(uri=store.uri(store.key("gone.bin")), sha256=sha256_bytes(b"gone"), size=4)
        with pytest.raises(MissingArtifact) as caught:
            store.get_bytes(ref)
        assert ref.uri in str(caught.value)
        assert isinstance(caught.value, PipelineFailure)

    def test_get_bytes_after_delete(self, store: ArtifactStore, s3_client: Any) -> None:
        key = store.key("deleted.bin")
        ref = store.put_bytes(key, b"here today")
        s3_client.delete_object(Bucket=BUCKET, Key=key)
        with pytest.raises(MissingArtifact):
            store.get_bytes(ref)


class TestMissingBucket:
    """A missing bucket is a configuration error: it fails at once (PipelineFailure), never retried."""

    @pytest.mark.parametrize(
        "call",
        [
            lambda store, tmp: store.list_objects("x/"),
            lambda store, tmp: store.put_bytes(store.key("a.bin"), b"1"),
            lambda store, tmp: store.put_file(store.key("a.bin"), _small_file(tmp)),
            lambda store, tmp: store.read_object(store.key("a.bin")),
        ],
        ids=["list", "put-bytes", "put-file", "read"],
    )
    def test_missing_bucket_is_a_pipeline_failure_naming_it(self, s3_client: Any, tmp_path: Path, call) -> None:
        from include.retrain.errors import PipelineFailure
        from include.retrain.storage import MissingBucket

        store = ArtifactStore(s3_client, "no-such-bucket", "retraining")
        with pytest.raises(MissingBucket, match="'no-such-bucket' does not exist") as raised:
            call(store, tmp_path)
        assert isinstance(raised.value, PipelineFailure)


def _small_file(folder: Path) -> Path:
    path = folder / "small.bin"
    path.write_bytes(b"payload")
    return path
