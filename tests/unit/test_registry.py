"""ModelRegistry against a real S3 HTTP endpoint (moto server on loopback, see conftest).

Versions are immutable and committed by their manifest, aliases move only by
compare-and-swap, events are append-only. Races are simulated sequentially over real
conditional HTTP writes (If-None-Match / If-Match), with no mocks.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from include.retrain.errors import IntegrityError
from include.retrain.registry import CHAMPION, EVENT_KINDS, AliasPointer, ModelRegistry, RegisteredVersion
from include.retrain.storage import (
    SHA256_METADATA_KEY,
    ArtifactStore,
    ConcurrentUpdate,
    ObjectAlreadyExists,
    sha256_bytes,
)

BUCKET = "retrain-artifacts"
PREFIX = "retraining"
V1 = "v20260101-aaaaaaaaaa"
V2 = "v20260102-bbbbbbbbbb"
V3 = "v20260103-cccccccccc"

FILES: dict[str, bytes] = {
    "model.skops": b"PK\x03\x04 pretend skops bytes",
    "metrics.json": b'{"metric": "roc_auc", "value": 0.81}',
    "model_card.json": b'{"version": "x"}',
    "model_card.md": b"# Model card\n",
}
META: dict[str, Any] = {"inputs_sha256": "a" * 64, "metric": "roc_auc", "value": 0.81}


@pytest.fixture
def store(s3_client: Any) -> ArtifactStore:
    return ArtifactStore(s3_client, BUCKET, PREFIX)


@pytest.fixture
def registry(store: ArtifactStore) -> ModelRegistry:
    return ModelRegistry(store, "churn")


def version_key(version: str, name: str) -> str:
    return f"{PREFIX}/churn/registry/versions/{version}/{name}"


def etags_under(client: Any, prefix: str) -> dict[str, str]:
    """Every object under ``prefix`` with its ETag, straight from the server."""
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"]: item["ETag"] for item in listed.get("Contents", [])}


def raw_get(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


# -- versions -------------------------------------------------------------------------------------


class TestRegister:
    """A registered version lists every file with its sha256 and reads are checked against it."""

    def test_register_writes_files_and_manifest(self, registry: ModelRegistry, s3_client: Any) -> None:
        record, created = registry.register(V1, FILES, META)

        assert created is True
        assert set(record.files) == set(FILES)
        for name, data in FILES.items():
            ref = record.files[name]
            assert ref.sha256 == sha256_bytes(data)
            assert ref.size == len(data)
            assert ref.uri == f"s3://{BUCKET}/{version_key(V1, name)}"
            assert raw_get(s3_client, version_key(V1, name)) == data
        assert record.metadata == META

        manifest = json.loads(raw_get(s3_client, version_key(V1, "manifest.json")))
        assert manifest["version"] == V1
        assert manifest["metadata"] == META
        assert {name: ref["sha256"] for name, ref in manifest["files"].items()} == {
            name: sha256_bytes(data) for name, data in FILES.items()
        }
        assert registry.get_version(V1) == record
        assert RegisteredVersion.from_manifest(manifest) == record

    def test_content_types(self, registry: ModelRegistry, s3_client: Any) -> None:
        registry.register(V1, FILES, META)
        head = s3_client.head_object
        assert head(Bucket=BUCKET, Key=version_key(V1, "metrics.json"))["ContentType"] == "application/json"
        assert head(Bucket=BUCKET, Key=version_key(V1, "model.skops"))["ContentType"] == "application/octet-stream"

    @pytest.mark.parametrize("name", sorted(FILES), ids=sorted(FILES))
    def test_read_file_round_trip(self, registry: ModelRegistry, name: str) -> None:
        registry.register(V1, FILES, META)
        assert registry.read_file(V1, name) == FILES[name]

    @pytest.mark.parametrize("keep_metadata", [False, True], ids=["plain-overwrite", "forged-metadata"])
    def test_read_file_detects_tampering(self, registry: ModelRegistry, s3_client: Any, keep_metadata: bool) -> None:
        registry.register(V1, FILES, META)
        key = version_key(V1, "model.skops")
        extra = {"Metadata": {SHA256_METADATA_KEY: sha256_bytes(b"evil")}} if keep_metadata else {}
        s3_client.put_object(Bucket=BUCKET, Key=key, Body=b"evil", **extra)

        with pytest.raises(IntegrityError) as caught:
            registry.read_file(V1, "model.skops")
        assert f"s3://{BUCKET}/{key}" in str(caught.value)
        # the other files are untouched and still read fine
        assert registry.read_file(V1, "metrics.json") == FILES["metrics.json"]

    def test_read_file_unknown_version_or_name(self, registry: ModelRegistry) -> None:
        registry.register(V1, FILES, META)
        with pytest.raises(IntegrityError, match="not registered"):
            registry.read_file(V2, "model.skops")
        with pytest.raises(IntegrityError, match=r"no file 'weights\.bin'"):
            registry.read_file(V1, "weights.bin")

    def test_get_version_missing(self, registry: ModelRegistry) -> None:
        assert registry.get_version(V1) is None


class TestImmutability:
    """Re-registering is idempotent for the same inputs and refused for others; nothing is overwritten."""

    def test_same_inputs_is_idempotent(self, registry: ModelRegistry, s3_client: Any) -> None:
        first, created = registry.register(V1, FILES, META)
        assert created
        before = etags_under(s3_client, f"{PREFIX}/churn/registry/")

        again, created_again = registry.register(V1, FILES, dict(META))

        assert created_again is False
        assert again == first
        assert again.registered_at == first.registered_at
        assert etags_under(s3_client, f"{PREFIX}/churn/registry/") == before

    def test_different_inputs_refused(self, registry: ModelRegistry, s3_client: Any) -> None:
        registry.register(V1, FILES, META)
        before = etags_under(s3_client, f"{PREFIX}/churn/registry/")

        with pytest.raises(IntegrityError, match="different inputs") as caught:
            registry.register(V1, FILES, {**META, "inputs_sha256": "b" * 64})
        assert V1 in str(caught.value)
        with pytest.raises(IntegrityError, match="different inputs"):
            registry.register(V1, FILES, {k: v for k, v in META.items() if k != "inputs_sha256"})
        assert etags_under(s3_client, f"{PREFIX}/churn/registry/") == before

    def test_committed_files_never_overwritten(self, registry: ModelRegistry, s3_client: Any) -> None:
        original, _ = registry.register(V1, FILES, META)
        before = etags_under(s3_client, f"{PREFIX}/churn/registry/")
        changed = {name: data + b" changed" for name, data in FILES.items()} | {"extra.bin": b"new file"}

        record, created = registry.register(V1, changed, META)

        assert created is False
        assert record == original
        assert etags_under(s3_client, f"{PREFIX}/churn/registry/") == before
        for name, data in FILES.items():
            assert registry.read_file(V1, name) == data
        assert not registry.store.exists(version_key(V1, "extra.bin"))

    def test_version_objects_are_create_only_at_the_store(self, registry: ModelRegistry, s3_client: Any) -> None:
        """Even a writer that bypasses register() and uses create_only cannot replace a committed file."""
        registry.register(V1, FILES, META)
        with pytest.raises(ObjectAlreadyExists):
            registry.store.put_bytes(version_key(V1, "model.skops"), b"replacement", create_only=True)
        with pytest.raises(ObjectAlreadyExists):
            registry.store.put_json(version_key(V1, "manifest.json"), {"version": V1}, create_only=True)
        assert registry.read_file(V1, "model.skops") == FILES["model.skops"]


class TestInterruptedRegistration:
    """Files left by a crashed attempt (no manifest) are adopted as they are, then committed."""

    def _leave_orphan(self, client: Any, version: str, name: str, data: bytes) -> str:
        key = version_key(version, name)
        client.put_object(Bucket=BUCKET, Key=key, Body=data, Metadata={SHA256_METADATA_KEY: sha256_bytes(data)})
        return client.head_object(Bucket=BUCKET, Key=key)["ETag"]

    def test_orphan_file_adopted_and_committed(self, registry: ModelRegistry, s3_client: Any) -> None:
        orphan_etag = self._leave_orphan(s3_client, V1, "model.skops", FILES["model.skops"])
        assert registry.get_version(V1) is None
        assert registry.list_versions() == []

        record, created = registry.register(V1, FILES, META)

        assert created is True
        assert record.files["model.skops"].sha256 == sha256_bytes(FILES["model.skops"])
        assert s3_client.head_object(Bucket=BUCKET, Key=version_key(V1, "model.skops"))["ETag"] == orphan_etag
        assert registry.list_versions() == [V1]
        assert registry.get_version(V1) == record
        for name, data in FILES.items():
            assert registry.read_file(V1, name) == data

    def test_orphan_is_never_overwritten(self, registry: ModelRegistry, s3_client: Any) -> None:
        """The orphan's bytes are kept (and recorded) even if this attempt carries other bytes."""
        left = b"bytes from the interrupted attempt"
        orphan_etag = self._leave_orphan(s3_client, V1, "model.skops", left)

        record, created = registry.register(V1, FILES, META)

        assert created is True
        assert s3_client.head_object(Bucket=BUCKET, Key=version_key(V1, "model.skops"))["ETag"] == orphan_etag
        assert record.files["model.skops"].sha256 == sha256_bytes(left)
        assert registry.read_file(V1, "model.skops") == left

    def test_orphan_without_sha256_refused(self, registry: ModelRegistry, s3_client: Any) -> None:
        s3_client.put_object(Bucket=BUCKET, Key=version_key(V1, "model.skops"), Body=b"foreign")
        with pytest.raises(IntegrityError, match="no recorded sha256"):
            registry.register(V1, FILES, META)
        assert registry.get_version(V1) is None
        assert not registry.store.exists(version_key(V1, "manifest.json"))


class TestListVersions:
    """Only committed versions are listed, sorted."""

    def test_only_committed_sorted(self, registry: ModelRegistry, s3_client: Any) -> None:
        assert registry.list_versions() == []
        registry.register(V3, FILES, META)
        registry.register(V1, FILES, META)
        s3_client.put_object(
            Bucket=BUCKET,
            Key=version_key(V2, "model.skops"),
            Body=b"orphan",
            Metadata={SHA256_METADATA_KEY: sha256_bytes(b"orphan")},
        )
        # another pipeline's registry in the same store is not ours
        ModelRegistry(registry.store, "fraud").register("v20260104-dddddddddd", FILES, META)

        assert registry.list_versions() == [V1, V3]


# -- aliases --------------------------------------------------------------------------------------


class TestAliases:
    """Aliases move only by compare-and-swap: a stale reader always loses and can retry."""

    @pytest.fixture
    def versions(self, registry: ModelRegistry) -> list[str]:
        for version in (V1, V2, V3):
            registry.register(version, FILES, {**META, "inputs_sha256": version})
        return [V1, V2, V3]

    def _set(self, registry: ModelRegistry, version: str, expected: AliasPointer | None, run: str) -> AliasPointer:
        return registry.set_alias(
            CHAMPION, version, expected=expected, run_id=run, triggered_by="scheduler", reason=f"{run} wins"
        )

    def test_first_set_and_move(self, registry: ModelRegistry, versions: list[str], s3_client: Any) -> None:
        assert registry.get_alias() is None

        first = self._set(registry, V1, None, "run-1")
        assert first.version == V1
        assert first.previous_version is None
        assert registry.get_alias() == first

        moved = self._set(registry, V2, registry.get_alias(), "run-2")
        assert moved.version == V2
        assert moved.previous_version == V1
        assert moved.etag != first.etag
        current = registry.get_alias(CHAMPION)
        assert current == moved
        assert (current.run_id, current.triggered_by, current.reason) == ("run-2", "scheduler", "run-2 wins")
        stored = json.loads(raw_get(s3_client, f"{PREFIX}/churn/registry/aliases/champion.json"))
        assert stored["version"] == V2
        assert stored["previous_version"] == V1

    def test_second_create_refused(self, registry: ModelRegistry, versions: list[str]) -> None:
        winner = self._set(registry, V1, None, "run-1")
        with pytest.raises(ConcurrentUpdate):
            self._set(registry, V2, None, "run-2")
        assert registry.get_alias() == winner

    def test_stale_pointer_refused(self, registry: ModelRegistry, versions: list[str]) -> None:
        old = self._set(registry, V1, None, "run-1")
        winner = self._set(registry, V2, old, "run-2")

        with pytest.raises(ConcurrentUpdate):
            self._set(registry, V3, old, "run-3")
        current = registry.get_alias()
        assert current == winner
        assert current.version == V2

    def test_two_promoters_exactly_one_wins(self, registry: ModelRegistry, versions: list[str]) -> None:
        self._set(registry, V1, None, "setup")
        seen_by_a = registry.get_alias()
        seen_by_b = registry.get_alias()
        assert seen_by_a == seen_by_b

        outcomes: dict[str, AliasPointer | ConcurrentUpdate] = {}
        for run, version, seen in (("a", V2, seen_by_a), ("b", V3, seen_by_b)):
            try:
                outcomes[run] = self._set(registry, version, seen, run)
            except ConcurrentUpdate as lost:
                outcomes[run] = lost

        winners = [run for run, outcome in outcomes.items() if isinstance(outcome, AliasPointer)]
        assert winners == ["a"]
        assert isinstance(outcomes["b"], ConcurrentUpdate)
        assert registry.get_alias().version == V2

        # the loser re-reads, decides again and now succeeds against the fresh pointer
        fresh = registry.get_alias()
        retried = self._set(registry, V3, fresh, "b")
        assert retried.version == V3
        assert retried.previous_version == V2
        assert registry.get_alias() == retried

    def test_unregistered_version_refused(self, registry: ModelRegistry, versions: list[str], s3_client: Any) -> None:
        current = self._set(registry, V1, None, "run-1")
        s3_client.put_object(
            Bucket=BUCKET,
            Key=version_key("v20990101-orphan0000", "model.skops"),
            Body=b"x",
            Metadata={SHA256_METADATA_KEY: sha256_bytes(b"x")},
        )
        for version in ("v20990101-nothing000", "v20990101-orphan0000"):
            with pytest.raises(IntegrityError, match="not a registered version"):
                self._set(registry, version, current, "run-x")
        assert registry.get_alias() == current

    def test_details_round_trip(self, registry: ModelRegistry, versions: list[str]) -> None:
        details = {"wins": 2, "comparisons": [{"run_key": "2026-01-02", "won": True}]}
        written = registry.set_alias(
            "challenger", V2, expected=None, run_id="r", triggered_by="t", reason="x", details=details
        )
        assert registry.get_alias("challenger") == written
        assert written.details == details

    def test_cleared_alias_keeps_an_etag_to_swap_against(self, registry: ModelRegistry, versions: list[str]) -> None:
        set_first = registry.set_alias("challenger", V2, expected=None, run_id="r", triggered_by="t", reason="x")

        cleared = registry.clear_alias("challenger", expected=set_first, run_id="r2", triggered_by="t", reason="lost")

        current = registry.get_alias("challenger")
        assert current == cleared
        assert (current.version, current.previous_version, current.reason) == (None, V2, "lost")
        with pytest.raises(ConcurrentUpdate):  # a clear is a CAS like any move
            registry.clear_alias("challenger", expected=set_first, run_id="r3", triggered_by="t", reason="late")
        moved = registry.set_alias("challenger", V3, expected=current, run_id="r4", triggered_by="t", reason="new")
        assert moved.version == V3

    def test_aliases_are_independent(self, registry: ModelRegistry, versions: list[str]) -> None:
        champion = self._set(registry, V2, None, "run-1")
        previous = registry.set_alias("previous", V1, expected=None, run_id="r", triggered_by="t", reason="x")
        assert registry.get_alias("previous") == previous
        assert registry.get_alias(CHAMPION) == champion


# -- events ---------------------------------------------------------------------------------------


class TestEvents:
    """Each event is its own immutable object; events() returns them oldest first."""

    def test_events_recorded_in_order(self, registry: ModelRegistry, s3_client: Any) -> None:
        assert registry.events() == []
        script = [
            ("registered", V1, "run-1", "scheduler", "roc_auc=0.81"),
            ("promoted", V1, "run-1", "scheduler", "first champion"),
            ("registered", V2, "run-2", "manual:alice", "roc_auc=0.79"),
            ("rejected", V2, "run-2", "manual:alice", "below champion"),
            ("rolled_back", V1, "run-3", "manual:bob", "incident 42"),
        ]
        keys = [
            registry.record_event(kind, version, run_id=run, triggered_by=who, reason=why, details={"n": i})
            for i, (kind, version, run, who, why) in enumerate(script)
        ]

        assert len(set(keys)) == len(script)
        assert sorted(etags_under(s3_client, f"{PREFIX}/churn/registry/events/")) == sorted(keys)
        events = registry.events()
        assert [(e["event"], e["version"], e["run_id"], e["triggered_by"], e["reason"]) for e in events] == script
        assert [e["details"] for e in events] == [{"n": i} for i in range(len(script))]
        assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    def test_recent_events_are_the_newest_first_optionally_of_one_kind(self, registry: ModelRegistry) -> None:
        for kind, version in [("registered", V1), ("promoted", V1), ("rolled_back", V1), ("registered", V2)]:
            registry.record_event(kind, version, run_id="r", triggered_by="t", reason=f"{kind} {version}")

        assert [e["reason"] for e in registry.recent_events(3)] == [
            "registered v20260102-bbbbbbbbbb",
            "rolled_back v20260101-aaaaaaaaaa",
            "promoted v20260101-aaaaaaaaaa",
        ]
        assert [e["version"] for e in registry.recent_events(5, kind="registered")] == [V2, V1]
        assert [e["event"] for e in registry.recent_events(1, kind="rolled_back")] == ["rolled_back"]
        assert registry.recent_events(5, kind="deployed") == []
        assert registry.recent_events(0) == []

    def test_event_objects_are_immutable(self, registry: ModelRegistry, s3_client: Any) -> None:
        key = registry.record_event("deployed", V1, run_id="r", triggered_by="t", reason="why")
        with pytest.raises(ObjectAlreadyExists):
            registry.store.put_json(key, {"event": "forged"}, create_only=True)
        assert json.loads(raw_get(s3_client, key))["event"] == "deployed"

    def test_same_event_twice_gives_two_objects(self, registry: ModelRegistry) -> None:
        first = registry.record_event("promoted", V1, run_id="r", triggered_by="t", reason="x")
        second = registry.record_event("promoted", V1, run_id="r", triggered_by="t", reason="x")
        assert first != second
        assert len(registry.events()) == 2

    @pytest.mark.parametrize("kind", sorted(EVENT_KINDS), ids=sorted(EVENT_KINDS))
    def test_every_known_kind_accepted(self, registry: ModelRegistry, kind: str) -> None:
        registry.record_event(kind, V1, run_id="r", triggered_by="t", reason="x")
        assert [e["event"] for e in registry.events()] == [kind]

    @pytest.mark.parametrize("kind", ["deleted", "", "Promoted"], ids=["deleted", "empty", "wrong-case"])
    def test_unknown_kind_refused(self, registry: ModelRegistry, kind: str) -> None:
        with pytest.raises(ValueError, match="unknown registry event"):
            registry.record_event(kind, V1, run_id="r", triggered_by="t", reason="x")
        assert registry.events() == []
