"""The trigger form of ``retrain_<name>`` as the Airflow UI sees it: submittable as it opens.

Airflow 3's trigger form (``FlexibleForm``, ``isParamRequired.tsx``) marks a Param required when
its schema has a ``type`` that is not a list containing ``"null"``, and it disables Trigger while a
required field is empty; a cleared text or number field sends ``null``. Every trigger Param is
optional (docs/reference/params.md), so each must accept ``null`` and its default must validate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dags.retrain_factory.params import DRAFT_07

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRIGGER_PARAMS = {
    "window_end",
    "window_days",
    "dry_run",
    "force_promote",
    "accept_drift",
    "reason",
    "sample_fraction",
    "model_params",
}


def ui_marks_required(schema: dict[str, Any]) -> bool:
    """The UI's rule (isParamRequired.tsx): a type is set and it does not allow null."""
    kind = schema.get("type")
    return bool(kind) and not (isinstance(kind, list) and "null" in kind)


@pytest.fixture(scope="module")
def served_retrain_dags() -> dict[str, Any]:
    """Each retrain DAG after a serialization round trip: the params the API serves to the form."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return {
        dag_id: DagSerialization.from_dict(DagSerialization.to_dict(dag))
        for dag_id, dag in bag.dags.items()
        if dag_id.startswith("retrain_")
    }


def api_form(dag: Any) -> dict[str, dict[str, Any]]:
    """The params as the REST API serves them to the form (DAGDetailsResponse.params)."""
    return {name: param.dump() for name, param in dag.params.items()}


def test_the_form_has_the_documented_params_and_marks_none_required(served_retrain_dags: dict[str, Any]) -> None:
    assert served_retrain_dags
    for dag_id, dag in served_retrain_dags.items():
        form = api_form(dag)
        assert set(form) == TRIGGER_PARAMS, dag_id
        required = sorted(name for name, field in form.items() if ui_marks_required(field["schema"]))
        assert required == [], f"{dag_id}: the trigger form would require {required}"
        # Each schema names draft-07, so each parse checks it against draft-07's cheaper meta-schema.
        assert {field["schema"]["$schema"] for field in form.values()} == {DRAFT_07}, dag_id


def test_the_form_validates_as_it_opens(served_retrain_dags: dict[str, Any]) -> None:
    """Trigger with every default: the values the form shows, submitted unchanged, as the API checks them."""
    for dag_id, dag in served_retrain_dags.items():
        shown = {name: field["value"] for name, field in api_form(dag).items()}
        values = dag.params.deep_merge(shown).validate()
        assert values["force_promote"] is False, dag_id
        assert values == dag.params.validate(), dag_id


def test_every_field_may_be_cleared(served_retrain_dags: dict[str, Any]) -> None:
    """A text or number field a person clears is sent as null; it means "as the config says"."""
    for dag in served_retrain_dags.values():
        for name in TRIGGER_PARAMS:
            dag.params.deep_merge({name: None}).validate()  # ParamValidationError names the param


@pytest.mark.parametrize("value", ["0001-01-01", "1969-12-31", "3000-01-01", "2026-02-30", "soon"])
def test_window_end_outside_its_range_is_refused_by_the_form(served_retrain_dags: dict[str, Any], value: str) -> None:
    """Refused before a run exists; 0001-01-01 used to pass and fail ingest with an OverflowError."""
    from airflow.sdk.exceptions import ParamValidationError

    for dag in served_retrain_dags.values():
        with pytest.raises(ParamValidationError, match="param window_end"):
            dag.params.deep_merge({"window_end": value}).validate()


def test_reason_is_checked_when_the_run_starts_not_by_the_form() -> None:
    """force_promote without a reason passes the form and is refused, with the rule's message, by the run."""
    from include.retrain.config import load_pipeline, pipelines_dir
    from include.retrain.errors import InvalidRunOptions
    from include.retrain.runs import RunOptions

    config = load_pipeline(pipelines_dir() / "churn.yaml")
    assert RunOptions.from_params({"reason": None}, config).reason == ""
    with pytest.raises(InvalidRunOptions, match=r"param reason is required \(non-empty\) when force_promote is true"):
        RunOptions.from_params({"force_promote": True, "reason": None}, config)
