"""Every shipped variant retrains end to end through Airflow against the loopback S3 endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest

from include.retrain.config import DEFAULT_PIPELINES_DIR
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import FIRST_DAY, task_states

pytestmark = pytest.mark.e2e

SHIPPED = sorted(path.stem for path in DEFAULT_PIPELINES_DIR.glob("*.yaml"))


def test_at_least_a_classifier_and_a_regressor_ship() -> None:
    from include.retrain.config import load_pipeline

    tasks = {load_pipeline(DEFAULT_PIPELINES_DIR / f"{name}.yaml").model.task for name in SHIPPED}
    assert tasks == {"classification", "regression"}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_variant_retrains_and_promotes(harness_for, name: str) -> None:
    harness = harness_for(name)
    harness.write_days(FIRST_DAY, 29)
    window_end = FIRST_DAY + timedelta(days=29)

    run = harness.run(window_end)

    assert set(task_states(run).values()) == {"success"}, task_states(run)
    champion = harness.registry.get_alias(CHAMPION)
    assert champion is not None
    assert harness.registry.list_versions() == [champion.version]
    evaluated = harness.store.read_json(harness.run_folder(window_end.isoformat()) + "/evaluate/manifest.json")
    assert evaluated["metric"] == harness.config.promotion.metric
    card = harness.registry.read_file(champion.version, "model_card.json")
    assert harness.config.model.estimator.encode() in card
