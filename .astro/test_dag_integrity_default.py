"""Every DAG file imports: the check `astro dev parse` (and `astro dev pytest`) runs inside the image.

The Astro CLI writes its own version of this file on `astro dev init`; this project ships one
because the CLI's passes `include_examples` to `DagBag`, which Airflow 3.3 no longer accepts.
The full DAG integrity suite (tags, owners, retries, parse time, broken configs) is
`tests/dags/`, run by `make test`; this file only asks the image the first question.
"""

from __future__ import annotations

from pathlib import Path

import pytest

AIRFLOW_HOME = Path(__file__).resolve().parents[1]
EXCEPTIONS = AIRFLOW_HOME / ".astro" / "dag_integrity_exceptions.txt"


def _exempt() -> set[str]:
    if not EXCEPTIONS.exists():
        return set()
    lines = (line.strip() for line in EXCEPTIONS.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def _import_errors() -> dict[str, str]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(AIRFLOW_HOME / "dags"))
    assert bag.dags, "no DAG was found in dags/"
    return {str(Path(path).relative_to(AIRFLOW_HOME)): error for path, error in bag.import_errors.items()}


@pytest.mark.parametrize(("path", "error"), sorted(_import_errors().items()) or [("dags", "")])
def test_dag_files_import(path: str, error: str) -> None:
    assert not error or path in _exempt(), f"{path} failed to import:\n{error}"
