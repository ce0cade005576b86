"""The registry page and gate report pages: what ops read, escaped, with the links they follow."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.monitoring.drift_history import DriftHistory, RunDrift
from include.retrain.monitoring.freshness import Freshness
from include.retrain.monitoring.overview import (
    ChampionMove,
    GateOutcome,
    LastRun,
    PromotionDecisionView,
    VariantOverview,
    VersionMetrics,
    VersionValue,
)
from include.retrain.monitoring.pages import VariantSection, gate_report_page, registry_page
from include.retrain.monitoring.reports import GateReport
from include.retrain.registry import AliasPointer

CHURN = load_pipeline(pipelines_dir() / "churn.yaml")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
V1, V2 = "v20260228-aaaaaaaaaa", "v20260301-bbbbbbbbbb"
RUN_ID = "manual__2026-03-02T10:00:00+00:00"


def overview(**changes: Any) -> VariantOverview:
    champion = AliasPointer(
        alias="champion",
        version=V2,
        previous_version=V1,
        updated_at="2026-03-01T16:00:00+00:00",
        run_id=RUN_ID,
        triggered_by="manual:alice",
        reason="roc_auc 0.7294 vs champion 0.7288: significant improvement <script>alert(1)</script>",
        etag='"x"',
    )
    # The champion's own holdout says 0.7294, its predecessor's own (other rows) 0.7306: not comparable.
    # The decision scored both on the champion's holdout: 0.7294 against 0.7288.
    decision = PromotionDecisionView(
        version=V2,
        at="2026-03-01T16:00:01+00:00",
        run_id=RUN_ID,
        reason=champion.reason,
        metric="roc_auc",
        compared_with=V1,
        forced=False,
        strategy="direct",
        holdout_rows=3411,
        candidate_metrics={"roc_auc": 0.7294, "accuracy": 0.81},
        champion_metrics={"roc_auc": 0.7288, "accuracy": 0.8},
        significance={
            "metric": "roc_auc",
            "difference": 0.0006,
            "ci_low": 0.0001,
            "ci_high": 0.0011,
            "confidence": 0.95,
            "samples": 1000,
            "valid_samples": 1000,
            "subsets": 1,
            "subset_rows": None,
        },
    )
    history = [
        VersionValue(V2, "2026-03-01T16:00:00+00:00", "roc_auc", 0.7294),
        VersionValue(V1, "2026-02-28T16:00:00+00:00", "roc_auc", 0.7306),
    ]
    values = {
        "config": CHURN,
        "champion": champion,
        "champion_metrics": VersionMetrics(V2, "roc_auc", 0.7294, {"roc_auc": 0.7294, "accuracy": 0.81}),
        "previous_metrics": VersionMetrics(V1, "roc_auc", 0.7306, {"roc_auc": 0.7306, "accuracy": 0.8}),
        "deployed": None,
        "challenger": None,
        "events": [{"at": "2026-03-01T16:00:01+00:00", "event": "promoted", "version": V2, "reason": "better"}],
        "freshness": Freshness("churn", NOW, 30, NOW - timedelta(hours=20), V2),
        "decision": decision,
        "history": history,
    }
    return VariantOverview(**{**values, **changes})


def failed_last_run() -> LastRun:
    summary = {
        "gate": "validate_raw",
        "success": False,
        "summary": "FAILED: 33/34 expectations met, 0 warnings",
        "failed": ["expect_column_values_to_be_between(column='tenure_months') on data: 3 unexpected values"],
        "report_uri": "s3://retrain-artifacts/retraining/churn/runs/2026-03-02/gates/validate_raw.json",
    }
    gates = [
        GateOutcome("validate_raw", "failed", summary),
        GateOutcome("validate_features", "upstream_failed", None),
        GateOutcome("validate_model", "upstream_failed", None),
    ]
    return LastRun("retrain_churn", RUN_ID, "failed", "manual", NOW, gates)


def test_the_champion_how_it_got_there_and_how_to_roll_back() -> None:
    page = registry_page([VariantSection("churn", overview())])

    assert f"<strong>{V2}</strong>" in page
    assert "2026-03-01 16:00:00 UTC" in page
    assert "manual:alice" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "rollback_churn --conf" in page
    assert V1 in page.split("Roll back")[1]
    assert "last successful retrain 20.0 h ago" in page


def test_the_page_states_one_comparison_the_decision_on_the_same_rows_with_its_interval() -> None:
    """The reason says 0.7294 vs 0.7288, and so does the table next to it: the rows the decision compared.

    Each version's own holdout metric (0.7294, and 0.7306 on other rows) is only in the history,
    labelled as such, and no difference is computed between them.
    """
    page = registry_page([VariantSection("churn", overview())])
    decision = page.split("<h3>Promotion decision</h3>")[1].split("<h3>")[0]
    history = page.split("<h3>Metrics history</h3>")[1].split("<h3>")[0]

    assert "roc_auc 0.7294 vs champion 0.7288" in decision
    assert f"same 3411 holdout rows of run {RUN_ID}: the rows the decision compared" in decision
    assert "<td><strong>roc_auc</strong> (policy metric)</td><td>0.7294</td><td>0.7288</td><td>+0.0006</td>" in decision
    assert "improvement <strong>+0.0006</strong>, 95% interval <strong>[+0.0001, +0.0011]</strong>" in decision
    assert "1000 of 1000 resamples" in decision
    assert "0.7306" not in decision
    assert "each on its own holdout (the rows of the run that trained it); not comparable row-for-row" in history
    assert f"<td>{V1}</td>" in history
    assert "roc_auc 0.7306" in history
    assert "-0.0012" not in page  # 0.7294 - 0.7306: a difference across different rows is shown nowhere


def test_without_the_bootstrap_test_the_page_says_it_was_a_point_comparison() -> None:
    point = replace(overview().decision, significance=None)
    page = registry_page([VariantSection("churn", overview(decision=point))])

    assert "No bootstrap test ran (promotion.bootstrap was off)" in page
    assert "interval <strong>" not in page


def test_a_failed_gate_of_the_last_run_says_what_failed_and_links_its_report() -> None:
    page = registry_page([VariantSection("churn", overview(), failed_last_run())])

    assert '<span class="failed">FAILED</span>' in page
    assert "expect_column_values_to_be_between(column=&#39;tenure_months&#39;)" in page
    link = "/registry/runs/retrain_churn/manual__2026-03-02T10%3A00%3A00%2B00%3A00/validate_raw/report"
    assert f'<a href="{link}">validate_raw report</a>' in page
    assert page.count("report</a>") == 1  # gates that did not run have no report


@pytest.mark.parametrize("root", ["", "/airflow"])
def test_links_follow_the_airflow_base_path(root: str) -> None:
    page = registry_page([VariantSection("churn", overview(), failed_last_run())], root=root)

    assert f'href="{root}/registry/runs/retrain_churn/' in page
    assert f'href="{root}/dags/rollback_churn"' in page


def test_a_registry_that_cannot_be_read_does_not_hide_the_others() -> None:
    page = registry_page(
        [
            VariantSection("demand", None, error="EndpointConnectionError: no S3 here"),
            VariantSection("churn", overview()),
        ]
    )

    assert "The registry of demand could not be read: EndpointConnectionError: no S3 here" in page
    assert f"<strong>{V2}</strong>" in page


def test_a_stale_variant_without_a_champion() -> None:
    empty = overview(
        champion=None,
        champion_metrics=None,
        previous_metrics=None,
        events=[],
        freshness=Freshness("churn", NOW, 30),
    )

    page = registry_page([VariantSection("churn", empty)])

    assert "none yet: no model has been promoted" in page
    assert '<span class="stale">churn: no successful retrain yet (limit 30 h)</span>' in page
    assert "Nothing to roll back" in page


def test_a_gate_report_lists_the_failed_expectations_first() -> None:
    expectations = [
        {
            "expectation": "expect_column_to_exist",
            "table": "data",
            "kwargs": {"column": "plan"},
            "severity": "fail",
            "success": True,
        },
        {
            "expectation": "expect_column_values_to_be_between",
            "table": "data",
            "kwargs": {"column": "tenure_months", "min_value": 0, "max_value": 120},
            "severity": "fail",
            "success": False,
            "unexpected_count": 3,
            "unexpected_sample": ["<b>999</b>"],
        },
    ]
    data = {
        "gate": "validate_raw",
        "success": False,
        "context": {"run_id": RUN_ID, "run_key": "2026-03-02", "window": {"start": "2026-02-02", "end": "2026-03-02"}},
        "statistics": {"evaluated": 2, "successful": 1, "failed": 1, "warnings": 0, "rows": {"data": 4200}},
        "expectations": expectations,
    }
    report = GateReport(
        uri="s3://retrain-artifacts/x/validate_raw.json",
        gate="validate_raw",
        data={**data, "notes": ["no champion yet: <nothing> to compare with"]},
        data_docs_uri="s3://retrain-artifacts/x/validate_raw.html",
    )

    page = gate_report_page(report, "churn", root="/airflow")

    failed_table = page.split("Failed expectations (1)")[1].split("All expectations")[0]
    assert "expect_column_values_to_be_between" in failed_table
    assert "column=&#39;tenure_months&#39;, min_value=0, max_value=120" in failed_table
    assert "3 unexpected values; e.g. [&#39;&lt;b&gt;999&lt;/b&gt;&#39;]" in failed_table
    assert "expect_column_to_exist" not in failed_table
    assert "1 of 2 met, 1 failed, 0 warnings" in page
    assert "<li>no champion yet: &lt;nothing&gt; to compare with</li>" in page
    data_docs = "/airflow/registry/variants/churn/report?uri=s3%3A%2F%2Fretrain-artifacts%2Fx%2Fvalidate_raw.html"
    assert f'<a href="{data_docs}">Great Expectations data docs of validate_raw</a>' in page


def test_the_metric_chart_draws_each_version_and_marks_the_champions_moves() -> None:
    moves = [
        ChampionMove("promoted", V1, "2026-02-28T16:00:01+00:00", "first champion"),
        ChampionMove("promoted", V2, "2026-03-01T16:00:01+00:00", "better <b>really</b>"),
        ChampionMove("rolled_back", V1, "2026-03-02T09:00:00+00:00", "INC-7"),
        ChampionMove("promoted", "v-old", "2026-01-01T00:00:00+00:00", "before the charted versions"),
    ]
    page = registry_page([VariantSection("churn", overview(moves=moves))])
    history = page.split("<h3>Metrics history</h3>")[1].split("<h3>")[0]

    figure = history.split("</figure>")[0]
    assert 'data-chart="chart-metric-churn"' in figure
    assert 'data-series="roc_auc"' in figure
    assert f'data-date="2026-02-28T16:00:00+00:00" data-value="0.7306" data-version="{V1}"' in figure
    assert f'data-date="2026-03-01T16:00:00+00:00" data-value="0.7294" data-version="{V2}"' in figure
    assert figure.count('data-kind="promoted"') == 2  # the promotion before the first charted version is left out
    assert figure.count('data-kind="rolled_back"') == 1
    assert f"{V2} promoted to champion 2026-03-01 16:00 UTC: better &lt;b&gt;really&lt;/b&gt;" in figure
    assert f"{V1} champion again by a rollback 2026-03-02 09:00 UTC: INC-7" in figure
    assert "2 registered versions (the newest, at most 30)" in figure


def test_the_history_table_lists_the_newest_versions_and_the_chart_all_that_were_read() -> None:
    history = [
        VersionValue(f"v{day:02d}", f"2026-02-{day:02d}T16:00:00+00:00", "roc_auc", 0.7 + day / 1000)
        for day in range(20, 0, -1)
    ]
    page = registry_page([VariantSection("churn", overview(history=history))])
    section = page.split("<h3>Metrics history</h3>")[1].split("<h3>")[0]

    assert section.split("</figure>")[0].count(' data-version="v') == 20
    assert "The 8 newest versions, each on its own holdout" in section
    assert "<td>v13</td>" in section
    assert "<td>v12</td>" not in section


def test_the_drift_chart_draws_psi_per_feature_over_runs_with_the_gates_bars() -> None:
    runs = [
        RunDrift("2026-02-28", datetime(2026, 2, 28, tzinfo=UTC), True, {"tenure_months": 0.02, "plan": 0.01}),
        RunDrift("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC), False, {"tenure_months": 0.4, "plan": 0.02}),
    ]
    drift = DriftHistory(runs, ["Read the 2 newest of 2 training runs (dry runs left out)."], 2)
    page = registry_page([VariantSection("churn", overview(drift=drift))])
    section = page.split("<h3>Drift over runs</h3>")[1].split("<h3>")[0]

    assert 'data-chart="chart-drift-churn"' in section
    assert 'data-series="plan"' in section
    assert 'data-series="tenure_months"' in section
    assert 'data-value="0.4" data-run-key="2026-03-01"' in section
    assert 'data-bar="drift above" data-value="0.2500"' in section  # churn.yaml's psi_fail
    assert "Read the 2 newest of 2 training runs" in section


def test_without_drift_values_the_drift_chart_says_why() -> None:
    drift = DriftHistory([], ["No check_drift report in 2 (the run stopped before the gate, or is running)."])
    page = registry_page([VariantSection("churn", overview(drift=drift))])
    section = page.split("<h3>Drift over runs</h3>")[1].split("<h3>")[0]

    assert "Nothing to chart yet." in section
    assert "No check_drift report in 2" in section
    assert "<svg" not in section


def drift_report(success: bool, **extra: Any) -> GateReport:
    expectations = [
        {
            "expectation": "expect_column_values_to_be_between",
            "table": "drift",
            "kwargs": {"column": "psi", "max_value": 0.25},
            "severity": "fail",
            "success": success,
            "unexpected_sample": [] if success else [{"feature": "tenure_months", "psi": 0.4}],
        }
    ]
    statistics = {"evaluated": 1, "successful": int(success), "failed": int(not success), "warnings": 0, "rows": {}}
    context = {"run_id": RUN_ID, "run_key": "2026-03-02", "window": {"start": "2026-02-02", "end": "2026-03-02"}}
    data = {"gate": "check_drift", "success": success, "context": context, "statistics": statistics}
    data = {**data, "expectations": expectations, **extra}
    return GateReport(uri="s3://retrain-artifacts/x/check_drift.json", gate="check_drift", data=data)


@pytest.mark.parametrize("success", [True, False], ids=["passed", "failed"])
def test_a_drift_report_lists_its_psi_and_ks_values_whether_it_passed_or_failed(success: bool) -> None:
    values = {
        "drift": [
            {"feature": "tenure_months", "kind": "numeric", "psi": 0.4 if not success else 0.02, "ks": 0.1},
            {"feature": "<b>plan</b>", "kind": "categorical", "psi": 0.01, "ks": None},
        ],
        "label": [{"column": "churned", "kind": "classes", "psi": 0.003, "largest_share_change": 0.01}],
    }
    page = gate_report_page(drift_report(success, values=values), "churn")

    psi = page.split("PSI and KS per feature (2 rows of table drift)")[1].split("</table>")[0]
    assert '<th scope="col">feature</th><th scope="col">kind</th><th scope="col">psi</th><th scope="col">ks</th>' in psi
    psi_value = "0.0200" if success else "0.4000"
    assert f'<td>tenure_months</td><td>numeric</td><td class="num">{psi_value}</td><td class="num">0.1000</td>' in psi
    assert '<td>&lt;b&gt;plan&lt;/b&gt;</td><td>categorical</td><td class="num">0.0100</td><td></td>' in psi
    assert "The label&#39;s PSI (1 rows of table label)" in page
    assert "lists no per-feature PSI or KS values" not in page


def test_a_drift_report_written_before_values_were_listed_says_so() -> None:
    passed = gate_report_page(drift_report(True), "churn")
    not_compared = gate_report_page(
        replace(drift_report(True), data={**drift_report(True).data, "expectations": []}), "c"
    )

    assert "This report lists no per-feature PSI or KS values" in passed
    assert "PSI and KS per feature" not in passed
    assert "lists no per-feature" not in not_compared  # no champion: nothing was compared
