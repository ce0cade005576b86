"""One line per task for the grid view: counts, metrics and the decision."""

from __future__ import annotations

from include.retrain.summaries import gate_headline, stage_summary, summary_parts

EVALUATED = {"metric": "roc_auc", "value": 0.73061, "champion": {"version": "v20260131-aaaaaaaaaa", "value": 0.72881}}
PROMOTED = {
    "version": "v20260201-5b34971e29",
    "registered": True,
    "promoted": True,
    "reason": "first champion: roc_auc 0.7306 meets the threshold",
    "champion": "v20260201-5b34971e29",
}


def test_each_stage_in_one_line() -> None:
    assert stage_summary("ingest", {"partitions": 28, "rows": 16800}) == "28 partitions, 16800 rows"
    assert (
        stage_summary("features", {"rows": {"train": 13389, "holdout": 3411}}) == "train 13389 rows, holdout 3411 rows"
    )
    assert (
        stage_summary("train", {"estimator": "sklearn.ensemble.HistGradientBoostingClassifier", "train_seconds": 0.123})
        == "HistGradientBoostingClassifier fitted in 0.1s"
    )
    assert stage_summary("evaluate", EVALUATED) == (
        "holdout roc_auc 0.7306 (champion v20260131-aaaaaaaaaa scores 0.7288 on the same rows)"
    )
    assert stage_summary("evaluate", {**EVALUATED, "champion": None}) == "holdout roc_auc 0.7306 (no champion yet)"


def test_the_decision_in_parts_for_the_demo_and_joined_for_the_grid() -> None:
    assert summary_parts("promote", PROMOTED) == [
        "version v20260201-5b34971e29 (newly registered: True); champion MOVED",
        "why: first champion: roc_auc 0.7306 meets the threshold",
        "champion now: v20260201-5b34971e29",
    ]
    assert stage_summary("promote", {**PROMOTED, "promoted": False}).startswith(
        "version v20260201-5b34971e29 (newly registered: True); champion unchanged; why: "
    )


def test_gate_headline() -> None:
    assert gate_headline(success=True, evaluated=34, successful=34, warnings=0) == (
        "passed: 34/34 expectations met, 0 warnings"
    )
    assert gate_headline(success=False, evaluated=34, successful=31, warnings=1) == (
        "FAILED: 31/34 expectations met, 1 warnings"
    )
