"""include.retrain.rollback against the real loopback S3 with real (tiny) skops models.

Every refusal leaves the registry exactly as it was; a tampered or untrusted target is refused by
the same sha256 and allowlist checks as any model load.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from include.retrain.config import DeploymentConfig
from include.retrain.deployment import deploy_champion, read_deployed
from include.retrain.errors import IntegrityError, PipelineFailure, UntrustedModelError
from include.retrain.modelio import dump_model
from include.retrain.registry import CHAMPION, ModelRegistry
from include.retrain.rollback import RollbackRefused, rollback_champion
from include.retrain.storage import SHA256_METADATA_KEY, ArtifactStore, sha256_bytes
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
        registry.mirror_previous(pointer, run_id=f"run-{seed}", triggered_by="scheduled")
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
        (V2, "incident 42", {"from_version": V3, "requested_version": None})
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


def test_an_explicit_target_survives_a_concurrent_move(registry: ModelRegistry, s3_client: Any) -> None:
    def concurrent_promotion() -> None:
        registry.set_alias(CHAMPION, V1, expected=registry.get_alias(), run_id="other", triggered_by="t", reason="r")

    racing = ModelRegistry(
        ArtifactStore(MovesChampionFirst(s3_client, concurrent_promotion), "retrain-artifacts", "retraining"), "churn"
    )

    result = rollback(racing, to_version=V2)

    assert result["from_version"] == V1  # re-read after the refused swap
    assert registry.get_alias(CHAMPION).version == V2
