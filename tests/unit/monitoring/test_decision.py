"""The registry page's promotion decision, read from a registry the real task bodies wrote.

Two runs of churn on the loopback S3 (``tests.step_driver``): a weak model becomes the first
champion, a strong one replaces it after the paired bootstrap test. The page must show the numbers
that decision compared (both models on the strong run's holdout rows) with the test's interval,
and each version's own holdout metric only in the history, labelled as such.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from include.retrain.monitoring.overview import read_overview
from include.retrain.monitoring.pages import VariantSection, registry_page
from tests.step_driver import STRONG, STUMP, StepDriver, churn_config

pytestmark = pytest.mark.e2e

BOOTSTRAP = {"samples": 400, "confidence": 0.95}


@pytest.fixture
def driver(s3: Any) -> StepDriver:
    config = churn_config(promotion={"bootstrap": BOOTSTRAP})
    driver = StepDriver(config, s3.client())
    driver.write_landing(10)
    return driver


def test_the_decision_is_shown_on_the_rows_it_compared_with_its_interval(driver: StepDriver) -> None:
    weak = driver.run(8, {"model_params": STUMP})
    strong = driver.run(9, {"model_params": STRONG})
    assert strong["promoted"]
    assert strong["significance"] is not None

    overview = read_overview(driver.config, driver.registry, now=datetime.now(UTC))
    decision = overview.decision

    assert decision is not None
    assert (decision.version, decision.compared_with) == (strong["version"], weak["version"])
    assert decision.reason == strong["reason"] == overview.champion.reason
    evaluated = strong["evaluated"]
    assert decision.candidate_metrics == evaluated["metrics"]
    assert decision.champion_metrics == evaluated["champion"]["metrics"]  # the weak model on the strong run's rows
    assert decision.holdout_rows == evaluated["rows"]
    assert decision.significance == strong["significance"]
    own = {item.version: item.value for item in overview.history}
    assert own == {strong["version"]: evaluated["value"], weak["version"]: weak["evaluated"]["value"]}

    page = registry_page([VariantSection("churn", overview)])
    shown = page.split("<h3>Promotion decision</h3>")[1].split("<h3>Metrics history</h3>")[0]
    ours, theirs = evaluated["value"], evaluated["champion"]["value"]
    assert f"<td>{ours:.4f}</td><td>{theirs:.4f}</td><td>{ours - theirs:+.4f}</td>" in shown
    sig = strong["significance"]
    assert f"interval <strong>[{sig['ci_low']:+.4f}, {sig['ci_high']:+.4f}]</strong>" in shown
    assert f"{weak['evaluated']['value']:.4f}" not in shown  # the weak model's own holdout is other rows
    assert "not comparable row-for-row" in page.split("<h3>Metrics history</h3>")[1]
