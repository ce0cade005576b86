"""The bundle under a real scheduler, driven only through the REST API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from dev.local_airflow import wait_until
from include.retrain.context import dry_run_key
from include.retrain.registry import CHAMPION
from tests.acceptance.conftest import (
    SHIPPED,
    AirflowApi,
    LocalAirflow,
    Stack,
    Variant,
    isolation_records,
    trigger_and_wait,
    window,
)

pytestmark = pytest.mark.acceptance


def test_the_scheduler_fires_a_run_that_fails_cleanly_without_data(stack: Stack) -> None:
    """Unpausing schedules the latest cron interval; with no landing data ingest fails it, once, as a data failure."""
    run = stack.first_scheduled_run
    instances = stack.airflow.api.task_instances("retrain_churn", run["dag_run_id"])
    states = {task: instance["state"] for task, instance in instances.items()}

    assert run["run_type"] == "scheduled"
    assert run["state"] == "failed"
    assert states["ingest"] == "failed"
    assert instances["ingest"]["try_number"] == 1
    assert {state for task, state in states.items() if task != "ingest"} == {"upstream_failed"}, states


def test_a_backfill_of_two_intervals_runs_each_window(api: AirflowApi, variants: dict[str, Variant]) -> None:
    churn = variants["churn"]
    churn.land(31)
    response = api.request(
        "POST",
        "/api/v2/backfills",
        json={"dag_id": churn.dag_id, "from_date": "2026-01-30T03:00:00Z", "to_date": "2026-01-31T03:00:00Z"},
    )
    assert response.status_code == 200, response.text
    backfill_id = response.json()["id"]

    def backfill_runs() -> list[dict]:
        runs = api.get(f"/api/v2/dags/{churn.dag_id}/dagRuns", params={"run_type": "backfill", "limit": 10})["dag_runs"]
        return [run for run in runs if run.get("backfill_id") == backfill_id] or runs

    wait_until(
        lambda: len(backfill_runs()) == 2 and all(r["state"] in ("success", "failed") for r in backfill_runs()),
        600,
        "the backfill",
    )
    assert {run["state"] for run in backfill_runs()} == {"success"}
    assert churn.run_keys() == {"2026-01-30", "2026-01-31"}
    assert len(churn.registry.list_versions()) == 2


def test_manual_dry_run_through_the_api(api: AirflowApi, variants: dict[str, Variant]) -> None:
    churn = variants["churn"]
    churn.land(30)

    run = trigger_and_wait(api, churn.dag_id, window(29), conf={"dry_run": True})

    assert run["state"] == "success"
    assert run["conf"]["dry_run"] is True
    assert run["logical_date"] is None
    assert churn.registry.list_versions() == []
    # A dry run writes beside the real run's folder, never into it (issue 17.5).
    dry_key = dry_run_key("2026-01-30", run["dag_run_id"])
    promoted = churn.store.read_json(churn.store.key("churn", "runs", dry_key, "promote", "manifest.json"))
    assert promoted["dry_run"] is True
    assert churn.store.list_keys(churn.store.key("churn", "runs", "2026-01-30") + "/") == []


@pytest.mark.parametrize(
    ("conf", "param"),
    [({"window_days": 0}, "window_days"), ({"model_params": {"kernel": "rbf"}}, "model_params")],
    ids=["window-days", "undeclared-model-param"],
)
def test_invalid_params_are_refused_by_the_api(
    api: AirflowApi, variants: dict[str, Variant], conf: dict, param: str
) -> None:
    before = api.get(f"/api/v2/dags/{variants['churn'].dag_id}/dagRuns", params={"limit": 100})["total_entries"]

    response = api.trigger(variants["churn"].dag_id, conf=conf)

    assert response.status_code in (400, 422), response.text
    assert f"param {param}" in response.text
    after = api.get(f"/api/v2/dags/{variants['churn'].dag_id}/dagRuns", params={"limit": 100})["total_entries"]
    assert after == before


def test_two_variants_run_in_parallel(api: AirflowApi, variants: dict[str, Variant]) -> None:
    shipped = {name: variants[name] for name in SHIPPED}
    for variant in shipped.values():
        variant.land(30)

    with ThreadPoolExecutor(max_workers=len(shipped)) as pool:
        futures = {name: pool.submit(trigger_and_wait, api, v.dag_id, window(29)) for name, v in shipped.items()}
        results = {name: future.result() for name, future in futures.items()}

    assert {name: result["state"] for name, result in results.items()} == {"churn": "success", "demand": "success"}
    starts = sorted(result["start_date"] for result in results.values())
    ends = sorted(result["end_date"] for result in results.values())
    assert starts[1] < ends[0], "the two runs did not overlap in time"
    for variant in shipped.values():
        assert variant.registry.get_alias(CHAMPION) is not None


def test_clearing_a_finished_run_is_idempotent(api: AirflowApi, variants: dict[str, Variant]) -> None:
    churn = variants["churn"]
    churn.land(30)
    first = trigger_and_wait(api, churn.dag_id, window(29))
    assert first["state"] == "success"
    keys = set(churn.store.list_keys(churn.store.key("churn", "runs", "2026-01-30") + "/"))
    champion = churn.registry.get_alias(CHAMPION)
    decision = churn.store.read_json(churn.store.key("churn", "runs", "2026-01-30", "promote", "manifest.json"))

    response = api.request(
        "POST",
        f"/api/v2/dags/{churn.dag_id}/clearTaskInstances",
        json={"dag_run_id": first["dag_run_id"], "dry_run": False, "only_failed": False, "reset_dag_runs": True},
    )
    assert response.status_code == 200, response.text
    rerun = api.wait_for_run(churn.dag_id, first["dag_run_id"], timeout=420)

    assert rerun["state"] == "success"
    assert set(churn.store.list_keys(churn.store.key("churn", "runs", "2026-01-30") + "/")) == keys
    assert churn.registry.list_versions() == [champion.version]
    assert churn.registry.get_alias(CHAMPION).etag == champion.etag
    assert [e["event"] for e in churn.registry.events()] == ["registered", "promoted", "deployed"]
    redecided = churn.store.read_json(churn.store.key("churn", "runs", "2026-01-30", "promote", "manifest.json"))
    assert redecided["version"] == decision["version"]
    assert redecided["champion"] == decision["champion"]


def test_every_task_ran_in_its_own_empty_directories(airflow: LocalAirflow, variants: dict[str, Variant]) -> None:
    """Runs after the scenarios above: each attempt had a private cwd and temp dir, none shared."""
    records = isolation_records(airflow)
    assert len(records) >= 8, "no retrain task ran under the isolation policy"
    assert len({r["cwd"] for r in records}) == len(records)
    assert len({r["tmp"] for r in records}) == len(records)
    assert {r["task_id"] for r in records} >= {"ingest", "build_features", "train", "evaluate", "promote"}
    # Each started from a worker that had the libraries imported (include/retrain/preload.py).
    assert [r for r in records if not r["preloaded"]] == []
