"""A champion write whose response is lost, then replaced by another actor before the resend.

Found by the soak (benchmarks/bench_soak.py, seed 17 at 169008f, round 68). The rollback's
swap lands; its response is lost; while botocore waits to resend, another actor moves the
champion on from the rollback's write; the resend gets 412. The alias now names the other
actor's change, whose ``replaced`` is the rollback's: the rollback did happen. Before 629ac93
the rollback was refused as "nothing changed" and no ``rolled_back`` event was ever written;
now a refused swap checks whether the alias's ``replaced`` names its own change.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import date
from typing import Any

from benchmarks import bench_soak
from benchmarks.bench_soak import BUCKET, PREFIX, Actor, SoakWorld
from dev.local_s3 import LocalS3
from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline
from tests.faults.proxy import FaultProxy

A, B, C = "v20260101-aaaaaaaaaa", "v20260102-bbbbbbbbbb", "v20260103-cccccccccc"


def _world(endpoint_url: str) -> SoakWorld:
    base = load_pipeline(DEFAULT_PIPELINES_DIR / "churn.yaml")
    config = base.model_copy(
        update={
            "storage": base.storage.model_copy(update={"bucket": BUCKET, "prefix": PREFIX}),
            "deployment": base.deployment.model_copy(update={"strategy": "direct", "notify_conn_id": None}),
        }
    )
    return SoakWorld(config=config, endpoint_url=endpoint_url, rng=random.Random(1))


def test_a_rollback_whose_landed_write_was_replaced_before_the_resend_is_recorded(
    fault_proxy: FaultProxy, s3: LocalS3
) -> None:
    s3.client().create_bucket(Bucket=BUCKET)
    direct = _world(s3.endpoint_url)
    for run, version, value in (("run_a", A, 0.5), ("run_b", B, 0.9)):
        direct.values[version] = value
        bench_soak.promote_task(direct, Actor("promote", run, {"version": version, "window_end": date(2026, 1, 1)}))
    registry = direct.registry()
    registry.register(C, {"model.skops": bench_soak._model_bytes()}, {"inputs_sha256": C})

    fault_proxy.lose_response("PUT", "aliases/champion.json")  # the swap lands, its answer is lost
    fault_proxy.hang("PUT", "aliases/champion.json", seconds=2, then="forward")  # the resend waits
    outcome: dict[str, Any] = {}

    def rollback() -> None:
        actor = Actor("rollback", "run_rb", {"to_version": A, "expected_champion": B})
        try:
            outcome["result"] = bench_soak.rollback_task(_world(fault_proxy.endpoint_url), actor)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=rollback)
    thread.start()
    deadline = time.monotonic() + 10
    while (registry.get_alias("champion").run_id != "run_rb") and time.monotonic() < deadline:
        time.sleep(0.05)
    landed = registry.get_alias("champion")
    assert (landed.version, landed.run_id) == (A, "run_rb")  # the rollback's write is in
    registry.set_alias("champion", C, expected=landed, run_id="run_other", triggered_by="ops", reason="another actor")
    thread.join(timeout=60)

    assert "error" not in outcome, outcome.get("error")  # it did roll back: not "refused, nothing changed"
    rolled_back = [e for e in registry.events() if e["event"] == "rolled_back"]
    assert [(e["version"], e["run_id"]) for e in rolled_back] == [(A, "run_rb")]
