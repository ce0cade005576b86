"""include.retrain.promotion.rollback against the real loopback S3 with real (tiny) skops models.

Every refusal leaves the registry exactly as it was; a tampered or untrusted target is refused by
the same sha256 and allowlist checks as any model load.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import EndpointConnectionError
from sklearn.linear_model import LogisticRegression

from include.retrain.config import DeploymentConfig
from include.retrain.errors import IntegrityError, PipelineFailure, UntrustedModelError
from include.retrain.modelio import dump_model
from include.retrain.promotion.deploy import deploy_champion, read_deployed
from include.retrain.promotion.moves import mirror_previous
from include.retrain.promotion.rollback import RollbackRefused, rollback_champion
from include.retrain.registry import CHAMPION, ModelRegistry
from include.retrain.storage import SHA256_METADATA_KEY, ArtifactStore, sha256_bytes
from tests.unit.fault_client import FaultyClient
from tests.untrusted_model import untrusted_model_bytes

V1, V2, V3 = "v20260101-1111111111", "v20260102-2222222222", "v20260103-3333333333"
DIRECT = DeploymentConfig()
OPERATOR = {"run_id": "manual__2026-02-01", "triggered_by": "manual:alice"}


def tiny_model(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 2))
    return dump_model(LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)))


@pytest.fixture
def registry(s3_client: Any) -> ModelRegistry:
    """V1, V2, V3 registered and promoted in turn, each deployed: champion V3, previous V2."""
    registry = ModelRegistry(ArtifactStore(s3_client, "retrain-artifacts", "retraining"), "churn")
    for seed, version in enumerate((V1, V2, V3)):
        registry.register(version, {"model.skops": tiny_model(seed)}, {"inputs_sha256": version})
        pointer = registry.set_alias(
            CHAMPION, version, expected=registry.get_alias(), run_id=f"run-{seed}", triggered_by="scheduled", reason="r"
        )
        mirror_previous(registry, pointer, run_id=f"run-{seed}", triggered_by="scheduled")
        deploy_champion(registry, "direct", audit={"run_id": f"run-{seed}", "triggered_by": "scheduled"})
    return registry


def snapshot(registry: ModelRegistry, client: Any) -> dict[str, str]:
    listed = client.list_objects_v2(Bucket="retrain-artifacts", Prefix=registry.key() + "/")
    return {item["Key"]: item["ETag"] for item in listed.get("Contents", [])}


def rollback(
    registry: ModelRegistry, to_version: str = "", reason: str = "incident 42", **audit: str
) -> dict[str, Any]:
    return rollback_champion(registry, DIRECT, to_version=to_version, reason=reason, audit={**OPERATOR, **audit})


def test_rolls_back_to_the_previous_version_by_default(registry: ModelRegistry) -> None:
    result = rollback(registry)

    assert (result["from_version"], result["to_version"]) == (V3, V2)
    champion = registry.get_alias(CHAMPION)
    assert (champion.version, champion.previous_version, champion.reason) == (V2, V3, "rollback: incident 42")
    assert (champion.run_id, champion.triggered_by) == (OPERATOR["run_id"], OPERATOR["triggered_by"])
    assert read_deployed(registry).version == V2
    event = [e for e in registry.events() if e["event"] == "rolled_back"]
    assert [(e["version"], e["reason"], e["details"]) for e in event] == [
        (
            V2,
            "incident 42",
            {"from_version": V3, "requested_version": None, "expected_champion": None, "requested_at": None},
        )
    ]


def test_rolls_back_to_a_given_version_and_a_retry_only_finishes(registry: ModelRegistry) -> None:
    rollback(registry, to_version=V1)
    events = registry.events()

    retried = rollback(registry, to_version=V1)  # the same run again (an Airflow retry)

    assert retried["from_version"] == V3
    assert registry.events() == events  # no second rolled_back or deployed event
    with pytest.raises(RollbackRefused, match=f"{V1} is already the champion"):
        rollback(registry, to_version=V1, run_id="manual__another")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"to_version": "v20990101-0000000000"},
            "'v20990101-0000000000' is not registered .*" + re.escape(f"(newest first): {V3}, {V2}, {V1}"),
        ),
        ({"reason": "   "}, "reason is required"),
        ({"to_version": V3}, f"{V3} is already the champion"),
        ({"to_version": "../../etc/passwd"}, "'../../etc/passwd' is not a version id"),
        ({"to_version": "/versions/v20260101-1111111111"}, "is not a version id"),
        ({"to_version": "s3://other-bucket/model.skops"}, "is not a version id"),
    ],
    ids=["unknown-version", "blank-reason", "already-champion", "path-traversal", "absolute-path", "uri"],
)
def test_refusals_change_nothing(registry: ModelRegistry, s3_client: Any, kwargs: dict[str, str], message: str) -> None:
    before = snapshot(registry, s3_client)

    with pytest.raises(RollbackRefused, match=message) as caught:
        rollback(registry, **kwargs)

    assert isinstance(caught.value, PipelineFailure)  # fails the task at once, no retry
    assert snapshot(registry, s3_client) == before


def test_nothing_to_roll_back_without_a_champion_or_a_previous_one(s3_client: Any) -> None:
    registry = ModelRegistry(ArtifactStore(s3_client, "retrain-artifacts", "retraining"), "churn")
    with pytest.raises(RollbackRefused, match="no champion yet"):
        rollback(registry)
    registry.register(V1, {"model.skops": tiny_model(0)}, {"inputs_sha256": V1})
    registry.set_alias(CHAMPION, V1, expected=None, run_id="r", triggered_by="t", reason="first")
    with pytest.raises(RollbackRefused, match=f"champion {V1} has no previous version; set to_version to one of: {V1}"):
        rollback(registry)


def test_a_tampered_target_is_refused(registry: ModelRegistry, s3_client: Any) -> None:
    key = registry.key("versions", V1, "model.skops")
    forged = tiny_model(99)  # a valid model file, just not the registered one
    s3_client.put_object(
        Bucket="retrain-artifacts", Key=key, Body=forged, Metadata={SHA256_METADATA_KEY: sha256_bytes(forged)}
    )
    before = snapshot(registry, s3_client)

    with pytest.raises(IntegrityError, match="corrupt or was replaced"):
        rollback(registry, to_version=V1)

    assert snapshot(registry, s3_client) == before


def test_a_target_asking_for_an_untrusted_type_is_refused(registry: ModelRegistry, s3_client: Any) -> None:
    version = "v20260104-4444444444"
    registry.register(version, {"model.skops": untrusted_model_bytes()}, {"inputs_sha256": version})
    before = snapshot(registry, s3_client)

    with pytest.raises(UntrustedModelError, match="Unlisted"):
        rollback(registry, to_version=version)

    assert snapshot(registry, s3_client) == before


class MovesChampionFirst:
    """A boto3 client that lets another promoter move the champion just before our first swap.

    Instrumentation, not a mock: both writes go to the real S3 server, whose conditional write
    refuses ours.
    """

    def __init__(self, client: Any, move: Any) -> None:
        self._client, self._move = client, move

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if kwargs["Key"].endswith("/aliases/champion.json") and self._move is not None:
            move, self._move = self._move, None
            move()
        return self._client.put_object(**kwargs)


def test_a_champion_moving_during_an_implicit_rollback_stops_it(registry: ModelRegistry, s3_client: Any) -> None:
    def concurrent_promotion() -> None:
        registry.set_alias(CHAMPION, V1, expected=registry.get_alias(), run_id="other", triggered_by="t", reason="r")

    racing = ModelRegistry(
        ArtifactStore(MovesChampionFirst(s3_client, concurrent_promotion), "retrain-artifacts", "retraining"), "churn"
    )

    with pytest.raises(RollbackRefused, match=f"changed from {V3} to {V1} while rolling back"):
        rollback(racing)

    assert registry.get_alias(CHAMPION).version == V1  # the other promoter's move stands
    assert not [e for e in registry.events() if e["event"] == "rolled_back"]


def test_an_explicit_target_does_not_replace_a_champion_it_was_not_asked_to(
    registry: ModelRegistry, s3_client: Any
) -> None:
    """A rollback replaces the champion it recorded; another promoter's move in between stops it."""

    def concurrent_promotion() -> None:
        registry.set_alias(CHAMPION, V1, expected=registry.get_alias(), run_id="other", triggered_by="t", reason="r")

    racing = ModelRegistry(
        ArtifactStore(MovesChampionFirst(s3_client, concurrent_promotion), "retrain-artifacts", "retraining"), "churn"
    )

    with pytest.raises(RollbackRefused, match=f"changed from {V3} to {V1} while rolling back to {V2}"):
        rollback(racing, to_version=V2)

    assert registry.get_alias(CHAMPION).version == V1
    assert not [e for e in registry.events() if e["event"] == "rolled_back"]


# -- retries, races and lost responses (issue 17) --------------------------------------------------

HOOKED = DeploymentConfig(notify_conn_id="deploy_hook", notify_timeout_seconds=2)


def rolled_back(registry: ModelRegistry) -> list[tuple[str, str]]:
    return [(e["version"], e["details"]["from_version"]) for e in registry.events() if e["event"] == "rolled_back"]


def test_a_retry_after_a_failed_hook_finishes_the_rollback_and_never_undoes_it(
    registry: ModelRegistry, hook_receiver: Any
) -> None:
    from airflow.sdk import BaseHook

    from include.retrain.webhook import WebhookFailed

    hook_receiver.status = 503
    with pytest.raises(WebhookFailed):
        rollback_champion(
            registry, HOOKED, to_version="", reason="incident 7", audit=OPERATOR, get_connection=BaseHook.get_connection
        )
    assert registry.get_alias(CHAMPION).version == V2  # moved, deployed, then the hook failed

    hook_receiver.status = 200
    result = rollback_champion(
        registry, HOOKED, to_version="", reason="incident 7", audit=OPERATOR, get_connection=BaseHook.get_connection
    )  # Airflow's retry: same run id

    assert registry.get_alias(CHAMPION).version == V2  # not moved back to V3
    assert (result["from_version"], result["to_version"]) == (V3, V2)
    assert rolled_back(registry) == [(V2, V3)]
    assert [e["version"] for e in registry.events() if e["event"] == "deployed"][-1:] == [V2]
    assert [json.loads(r["body"])["version"] for r in hook_receiver.requests] == [V2, V2]


def test_a_retry_after_a_crash_between_the_swap_and_its_event_writes_the_event_once(
    registry: ModelRegistry, s3_client: Any
) -> None:
    crashing = FaultyClient(s3_client, "/aliases/champion.json", "fail_after")
    store = ArtifactStore(crashing, "retrain-artifacts", "retraining")
    with pytest.raises(EndpointConnectionError):
        rollback(ModelRegistry(store, "churn"))
    assert registry.get_alias(CHAMPION).version == V2
    assert rolled_back(registry) == []

    rollback(registry)  # the retry

    assert registry.get_alias(CHAMPION).version == V2
    assert rolled_back(registry) == [(V2, V3)]
    assert registry.get_alias("previous").version == V3
    assert read_deployed(registry).version == V2


def test_a_lost_response_on_the_champion_write_is_recognized_as_ours(registry: ModelRegistry, s3_client: Any) -> None:
    lossy = FaultyClient(s3_client, "/aliases/champion.json", "lose_response")

    result = rollback(ModelRegistry(ArtifactStore(lossy, "retrain-artifacts", "retraining"), "churn"))

    assert lossy.injected == 1
    assert (result["from_version"], result["champion"]) == (V3, V2)
    assert rolled_back(registry) == [(V2, V3)]
    assert registry.get_alias("previous").version == V3
    assert read_deployed(registry).version == V2


def test_an_implicit_rollback_refuses_when_the_champion_changed_since_it_was_requested(
    registry: ModelRegistry, s3_client: Any
) -> None:
    asked = datetime.now(UTC)  # the operator asks to undo V3
    time.sleep(0.01)
    registry.set_alias(CHAMPION, V1, expected=registry.get_alias(), run_id="late", triggered_by="t", reason="later")
    before = snapshot(registry, s3_client)

    with pytest.raises(RollbackRefused, match=f"changed since this rollback was requested .*it was {V3}, it is {V1}"):
        rollback_champion(registry, DIRECT, to_version="", reason="undo V3", audit=OPERATOR, requested_at=asked)

    assert snapshot(registry, s3_client) == before  # nothing written, not even an intent


def test_an_implicit_rollback_requested_after_the_last_change_names_the_champion_it_replaces(
    registry: ModelRegistry,
) -> None:
    result = rollback_champion(
        registry, DIRECT, to_version="", reason="undo V3", audit=OPERATOR, requested_at=datetime.now(UTC)
    )

    assert (result["replaces_champion"], result["to_version"]) == (V3, V2)
    assert result["summary"].startswith(f"champion {V3} -> {V2}")


def test_expected_champion_refuses_any_other_champion(registry: ModelRegistry, s3_client: Any) -> None:
    before = snapshot(registry, s3_client)

    with pytest.raises(RollbackRefused, match=f"expected_champion is {V2}, but the champion of churn is {V3}"):
        rollback_champion(registry, DIRECT, to_version=V1, reason="x", audit=OPERATOR, expected_champion=V2)

    assert snapshot(registry, s3_client) == before
    result = rollback_champion(registry, DIRECT, to_version=V1, reason="x", audit=OPERATOR, expected_champion=V3)
    assert (result["replaces_champion"], registry.get_alias(CHAMPION).version) == (V3, V1)


def test_a_rollback_to_a_version_rewritten_with_a_matching_manifest_is_refused(
    registry: ModelRegistry, s3_client: Any
) -> None:
    """A bucket writer replaces V1's model by another valid model and rewrites its manifest to match."""
    registry.record_event("registered", V1, run_id="run-0", triggered_by="scheduled", reason="registered")
    forged = tiny_model(99)
    model_key = registry.key("versions", V1, "model.skops")
    s3_client.put_object(
        Bucket="retrain-artifacts", Key=model_key, Body=forged, Metadata={SHA256_METADATA_KEY: sha256_bytes(forged)}
    )
    manifest_key = registry.key("versions", V1, "manifest.json")
    manifest = json.loads(s3_client.get_object(Bucket="retrain-artifacts", Key=manifest_key)["Body"].read())
    manifest["files"]["model.skops"].update(sha256=sha256_bytes(forged), size=len(forged))
    s3_client.put_object(Bucket="retrain-artifacts", Key=manifest_key, Body=json.dumps(manifest).encode())
    registry.read_file(V1, "model.skops")  # consistent in itself: the file matches the rewritten manifest
    before = snapshot(registry, s3_client)

    with pytest.raises(IntegrityError, match=f"refusing to roll back to {V1}: .*rewritten"):
        rollback(registry, to_version=V1)

    assert snapshot(registry, s3_client) == before


def test_aliases_and_events_carry_the_version_digests(registry: ModelRegistry) -> None:
    rollback(registry)

    digests = registry.version_digests(V2)
    champion = registry.get_alias(CHAMPION)
    assert (champion.model_sha256, champion.manifest_sha256) == (digests["model_sha256"], digests["manifest_sha256"])
    event = next(e for e in registry.events() if e["event"] == "rolled_back")
    assert (event["model_sha256"], event["manifest_sha256"]) == (digests["model_sha256"], digests["manifest_sha256"])
    assert read_deployed(registry).manifest_sha256 == digests["manifest_sha256"]


class LosesResponseWhileAnotherMoves:
    """The champion write commits, another promoter replaces it, then the client's resend gets 412."""

    def __init__(self, client: Any, move: Any) -> None:
        self._client, self._move = client, move

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if not kwargs["Key"].endswith("/aliases/champion.json") or self._move is None:
            return self._client.put_object(**kwargs)
        move, self._move = self._move, None
        self._client.put_object(**kwargs)  # commits; its response is lost
        move()
        return self._client.put_object(**kwargs)  # botocore's resend: 412


def test_a_landed_rollback_replaced_before_its_lost_response_was_resent_is_recorded(
    registry: ModelRegistry, s3_client: Any
) -> None:
    def concurrent_promotion() -> None:
        registry.set_alias(CHAMPION, V1, expected=registry.get_alias(), run_id="other", triggered_by="t", reason="r")

    racing = ModelRegistry(
        ArtifactStore(
            LosesResponseWhileAnotherMoves(s3_client, concurrent_promotion), "retrain-artifacts", "retraining"
        ),
        "churn",
    )

    result = rollback(racing)  # not refused: it did move the champion

    assert "since then the champion moved to" in result["note"]
    assert registry.get_alias(CHAMPION).version == V1  # the other promoter's move stands
    assert rolled_back(registry) == [(V2, V3)]
