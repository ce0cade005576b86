"""Promotion through the real task bodies: real S3, real sklearn models, real skops files.

Each scenario runs ingest -> build_features -> train -> evaluate -> promote (``tests.step_driver``;
no Airflow, no GX gates) over consecutive windows, with model params chosen so that models rank
clearly (a stump, a small and a larger gradient boosting model). Checked: concurrent promoters,
the bootstrap policy, the canary's pointer sequence, and that every registered model is loaded
only through the sha256 and allowlist checks.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.retrain.errors import IntegrityError, UntrustedModelError
from include.retrain.promotion.canary import CHALLENGER, challenger_alias
from include.retrain.promotion.deploy import read_deployed
from include.retrain.registry import CHAMPION
from include.retrain.storage import SHA256_METADATA_KEY, sha256_bytes
from tests.step_driver import MEDIUM, STRONG, STUMP, StepDriver, churn_config
from tests.untrusted_model import untrusted_model_bytes

SMALL = {"max_iter": 2, "max_leaf_nodes": 3}
GOOD = {"max_iter": 10, "max_leaf_nodes": 8}
OVERFIT = {**STRONG, "max_iter": 80}
BOOTSTRAP = {"bootstrap": {"samples": 1000, "confidence": 0.95}}


def params(model: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"model_params": model, **options}


def event_log(driver: StepDriver) -> list[tuple[str, str]]:
    return [(e["event"], e["version"]) for e in driver.registry.events()]


def alias_version(driver: StepDriver, alias: str) -> str | None:
    pointer = driver.registry.get_alias(alias)
    return pointer.version if pointer else None


@pytest.fixture
def landing(s3: Any) -> Any:
    """Twelve days of churn landing data; returns a factory of drivers for configs over it."""

    def make(**sections: Any) -> StepDriver:
        driver = StepDriver(churn_config(**sections), s3.client())
        driver.write_landing(12)
        return driver

    return make


# -- concurrent promoters ----------------------------------------------------------------------


class SwapBarrier:
    """A boto3 client whose first write of ``aliases/champion.json`` waits for the other promoter.

    Test instrumentation, not a mock: every call still goes to the real S3 server. It only lines
    the two threads up so both swap against the ETag they read before either has written, which
    is the race; the refusal (HTTP 412) comes from the server's conditional write.
    """

    def __init__(self, client: Any, barrier: threading.Barrier, refusals: list[str]) -> None:
        self._client = client
        self._barrier = barrier
        self._refusals = refusals
        self._waited = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        champion = kwargs["Key"].endswith("/aliases/champion.json")
        if champion and not self._waited:
            self._waited = True
            self._barrier.wait(timeout=60)
        try:
            return self._client.put_object(**kwargs)
        except ClientError as exc:
            if champion:
                self._refusals.append(str(exc.response["Error"]["Code"]))
            raise


def test_two_concurrent_promotions_one_wins_the_other_re_decides(landing: Any, s3: Any) -> None:
    driver = landing()
    first = driver.run(8, params(STUMP))
    barrier, refusals = threading.Barrier(2), []
    racers = {}
    for name, model in (("good", GOOD), ("small", SMALL)):
        racer = StepDriver(driver.config, SwapBarrier(s3.client(), barrier, refusals))
        run, manifests = racer.evaluate(9, params(model))  # both evaluate against the stump
        assert manifests["evaluated"]["champion"]["version"] == first["version"]
        assert manifests["evaluated"]["value"] > manifests["evaluated"]["champion"]["value"]
        racers[name] = (racer, run, manifests)
    results: dict[str, Any] = {}

    def promote(name: str) -> None:
        racer, run, manifests = racers[name]
        results[name] = racer.promote(run, manifests)

    threads = [threading.Thread(target=promote, args=(name,)) for name in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(refusals) == 1, refusals  # exactly one swap against the stale ETag was refused
    good, small = results["good"], results["small"]
    winner, loser = (good, small) if good["compared_with"] == first["version"] else (small, good)
    assert winner["promoted"]
    assert winner["compared_with"] == first["version"]
    assert loser["compared_with"] == winner["version"]  # re-read, scored the winner, decided again
    # the better model ends as champion whichever thread won the race
    assert alias_version(driver, CHAMPION) == good["version"]
    assert driver.registry.get_alias(CHAMPION).previous_version == (
        first["version"] if winner is good else small["version"]
    )
    assert sorted(driver.registry.list_versions()) == sorted([first["version"], good["version"], small["version"]])
    # nothing lost: every version registered once, and one outcome event per promoter
    log = event_log(driver)
    versions = [first["version"], good["version"], small["version"]]
    assert sorted(v for e, v in log if e == "registered") == sorted(versions)
    outcomes = [(e, v) for e, v in log if e in ("promoted", "rejected")]
    assert outcomes[0] == ("promoted", first["version"])
    assert sorted(outcomes[1:]) == sorted(
        [("promoted", good["version"]), ("promoted" if winner is small else "rejected", small["version"])]
    )
    assert read_deployed(driver.registry).version == good["version"]


# -- the bootstrap policy ----------------------------------------------------------------------


def test_better_but_not_significant_is_not_promoted_until_forced(landing: Any) -> None:
    driver = landing(promotion=BOOTSTRAP)
    champion = driver.run(8, params(OVERFIT))["version"]

    better = driver.run(9, params(GOOD))

    evaluated = better["evaluated"]
    assert evaluated["improvement_over_champion"] > 0.01  # better on the point estimate
    assert better["promoted"] is False
    significance = better["significance"]
    assert significance["ci_low"] < 0 < significance["difference"]
    assert "not significant" in better["reason"]
    rejected = [e for e in driver.registry.events() if e["event"] == "rejected"]
    assert [e["version"] for e in rejected] == [better["version"]]
    assert rejected[0]["details"]["significance"] == significance
    assert alias_version(driver, CHAMPION) == champion

    forced = driver.run(9, params(GOOD, force_promote=True, reason="ticket 12: ship the fix"))

    assert forced["promoted"] is True
    assert forced["significance"] is None  # force bypasses the test
    promoted = [e for e in driver.registry.events() if e["event"] == "promoted"][-1]
    assert promoted["version"] == forced["version"]
    assert promoted["details"]["forced"] is True
    assert promoted["reason"] == "forced promotion: ticket 12: ship the fix"


def test_clearly_better_is_promoted_and_a_dry_run_records_nothing(landing: Any) -> None:
    driver = landing(promotion=BOOTSTRAP)
    champion = driver.run(8, params(STUMP))["version"]
    before = event_log(driver)

    dry = driver.run(9, params(GOOD, dry_run=True))

    assert dry["would_promote"] is True
    assert dry["significance"]["ci_low"] > 0
    assert event_log(driver) == before
    assert driver.registry.list_versions() == [champion]

    better = driver.run(9, params(GOOD))

    assert better["promoted"] is True
    assert better["significance"]["ci_low"] > 0
    assert "significant" in better["reason"]
    assert alias_version(driver, CHAMPION) == better["version"]
    card = driver.registry.store.read_json(driver.registry.key("versions", better["version"], "model_card.json"))
    for name, interval in card["metrics_ci"].items():
        assert interval["ci_low"] <= interval["value"] == card["metrics"][name] <= interval["ci_high"], name
    assert card["bootstrap"]["samples"] == 1000
    # a holdout this small gets the plain bootstrap, and the card says so
    assert (card["bootstrap"]["method"], card["bootstrap"]["subsets"]) == ("bootstrap", 1)
    assert card["bootstrap"]["subset_rows"] == card["bootstrap"]["rows"] == card["data"]["rows"]["holdout"]


# -- the canary ----------------------------------------------------------------------------------


def pointers(driver: StepDriver) -> tuple[str | None, str | None, str | None]:
    """(champion, challenger, deployed) as serving systems would read them."""
    deployed = read_deployed(driver.registry)
    return alias_version(driver, CHAMPION), alias_version(driver, CHALLENGER), deployed.version if deployed else None


def test_canary_that_wins_n_times_becomes_champion(landing: Any) -> None:
    driver = landing(deployment={"strategy": "canary", "canary_runs": 2})
    v0 = driver.run(8, params(STUMP))
    assert pointers(driver) == (v0["version"], None, v0["version"])  # no champion to shadow: straight in

    v1 = driver.run(9, params(MEDIUM))
    assert (v1["promoted"], v1["challenger"]) == (False, True)
    assert pointers(driver) == (v0["version"], v1["version"], v0["version"])

    v2 = driver.run(10, params(STUMP))  # the challenger wins 1/2; a new candidate waits its turn
    assert v2["canary"]["result"] == "won"
    assert challenger_alias(driver.registry)[1].wins == 1
    assert "canary of" in v2["reason"]
    assert "in progress" in v2["reason"]
    assert pointers(driver) == (v0["version"], v1["version"], v0["version"])

    v3 = driver.run(11, params(STUMP))  # 2/2: the challenger becomes champion and is deployed
    assert v3["canary"]["result"] == "promoted"
    assert pointers(driver) == (v1["version"], None, v1["version"])
    assert v3["compared_with"] == v1["version"]  # the new candidate faced the new champion

    again = driver.run(11, params(STUMP))  # a re-run counts nothing twice and moves nothing
    assert again["canary"] is None
    assert pointers(driver) == (v1["version"], None, v1["version"])
    assert event_log(driver) == [
        ("registered", v0["version"]),
        ("promoted", v0["version"]),
        ("deployed", v0["version"]),
        ("registered", v1["version"]),
        ("canary_started", v1["version"]),
        ("registered", v2["version"]),
        ("canary_scored", v1["version"]),
        ("rejected", v2["version"]),
        ("registered", v3["version"]),
        ("canary_scored", v1["version"]),
        ("promoted", v1["version"]),
        ("rejected", v3["version"]),
        ("deployed", v1["version"]),
    ]


def test_canary_that_loses_is_removed(landing: Any) -> None:
    driver = landing(deployment={"strategy": "canary", "canary_runs": 3})
    v0 = driver.run(8, params(STUMP))
    v1 = driver.run(9, params(MEDIUM))
    assert pointers(driver) == (v0["version"], v1["version"], v0["version"])

    hotfix = driver.run(10, params(GOOD, force_promote=True, reason="hotfix"))  # forced: skips the canary
    assert hotfix["canary"]["result"] == "won"  # the challenger still beat the stump first, 1/3
    assert pointers(driver) == (hotfix["version"], v1["version"], hotfix["version"])

    v3 = driver.run(11, params(STUMP))  # against the stronger champion the challenger loses

    assert v3["canary"]["result"] == "lost"
    assert pointers(driver) == (hotfix["version"], None, hotfix["version"])
    slot = driver.registry.get_alias(CHALLENGER)
    assert (slot.version, slot.previous_version) == (None, v1["version"])
    rejected = [e for e in driver.registry.events() if e["event"] == "rejected" and e["version"] == v1["version"]]
    assert len(rejected) == 1
    assert "lost the canary comparison" in rejected[0]["reason"]
    assert rejected[0]["details"]["canary"]["champion_version"] == hotfix["version"]


# -- every registered model is loaded through the checks -----------------------------------------


def test_a_tampered_champion_fails_the_run_and_stays_champion(landing: Any, s3_client: Any) -> None:
    driver = landing()
    champion = driver.run(8, params(STUMP))["version"]
    key = driver.registry.key("versions", champion, "model.skops")
    forged = b"not the registered bytes"
    s3_client.put_object(
        Bucket="retrain-artifacts", Key=key, Body=forged, Metadata={SHA256_METADATA_KEY: sha256_bytes(forged)}
    )

    with pytest.raises(IntegrityError, match=f"s3://retrain-artifacts/{key} is corrupt or was replaced"):
        driver.evaluate(9, params(GOOD))

    assert alias_version(driver, CHAMPION) == champion


def test_a_registered_model_asking_for_an_untrusted_type_is_refused(landing: Any) -> None:
    driver = landing()
    driver.run(8, params(STUMP))
    registry = driver.registry
    registry.register("v20260108-0000000000", {"model.skops": untrusted_model_bytes()}, {"inputs_sha256": "x"})
    registry.set_alias(
        CHAMPION, "v20260108-0000000000", expected=registry.get_alias(), run_id="r", triggered_by="t", reason="x"
    )

    with pytest.raises(UntrustedModelError, match="Unlisted"):
        driver.evaluate(9, params(GOOD))  # the file's sha256 matches: the allowlist refuses it
