"""Model freshness from the registry's events on the real loopback S3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.retrain.monitoring.freshness import StaleModel, check_freshness, require_fresh
from include.retrain.registry import ModelRegistry
from include.retrain.storage import ArtifactStore

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def registry(s3_client: Any) -> ModelRegistry:
    return ModelRegistry(ArtifactStore(s3_client, "retrain-artifacts", "retraining"), "churn")


def registered_at(registry: ModelRegistry, at: datetime, version: str) -> None:
    """A ``registered`` event written as if at ``at`` (record_event always uses the current time)."""
    key = registry.key("events", f"{at:%Y%m%dT%H%M%S%fZ}-registered-{version}-abcd1234.json")
    registry.store.put_json(key, {"event": "registered", "version": version, "at": at.isoformat()}, create_only=True)


def test_the_newest_registration_counts_and_other_events_do_not(registry: ModelRegistry) -> None:
    registered_at(registry, NOW - timedelta(hours=50), "v20260228-aaaaaaaaaa")
    registered_at(registry, NOW - timedelta(hours=20), "v20260301-bbbbbbbbbb")
    # a later promotion or rollback is no retrain
    registry.record_event("rolled_back", "v20260228-aaaaaaaaaa", run_id="r", triggered_by="t", reason="x")

    fresh = check_freshness(registry, 30, now=NOW)

    assert (fresh.version, fresh.age_hours, fresh.stale) == ("v20260301-bbbbbbbbbb", 20.0, False)
    assert fresh.describe() == (
        "churn: last successful retrain 20.0 h ago (2026-03-01 16:00 UTC, version v20260301-bbbbbbbbbb; limit 30 h)"
    )


def test_older_than_the_limit_is_stale(registry: ModelRegistry) -> None:
    registered_at(registry, NOW - timedelta(hours=31), "v20260301-bbbbbbbbbb")

    stale = check_freshness(registry, 30, now=NOW)

    assert stale.stale
    assert stale.describe().startswith("STALE: churn: last successful retrain 31.0 h ago")


def test_never_retrained_is_stale_and_no_limit_is_never_stale(registry: ModelRegistry) -> None:
    never = check_freshness(registry, 30, now=NOW)
    assert never.stale
    assert never.describe() == "churn: no successful retrain yet (limit 30 h)"

    registered_at(registry, NOW - timedelta(days=400), "v20250101-aaaaaaaaaa")
    assert not check_freshness(registry, None, now=NOW).stale


def test_require_fresh_returns_the_manifest_or_raises(registry: ModelRegistry) -> None:
    registered_at(registry, NOW - timedelta(hours=20), "v20260301-bbbbbbbbbb")

    manifest = require_fresh(registry, 30, now=NOW)

    assert manifest == {
        "summary": "churn: last successful retrain 20.0 h ago (2026-03-01 16:00 UTC, version v20260301-bbbbbbbbbb; "
        "limit 30 h)",
        "pipeline": "churn",
        "last_retrain_at": "2026-03-01T16:00:00+00:00",
        "version": "v20260301-bbbbbbbbbb",
        "age_hours": 20.0,
        "max_age_hours": 30,
    }
    with pytest.raises(StaleModel, match=r"STALE: churn: last successful retrain 20\.0 h ago"):
        require_fresh(registry, 10, now=NOW)
