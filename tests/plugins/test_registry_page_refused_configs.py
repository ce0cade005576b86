"""The registry page runs the same discovery as the DAG file: refused files are shown with their reason, fast.

Two files claiming one name are both refused (no first-wins), and an alias bomb is refused from
the parser's events, so the page neither hangs nor silently leaves a variant out.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from include.retrain.config import DEFAULT_PIPELINES_DIR
from tests.plugins.conftest import ApiServer

ALIAS_BOMB = "name: bomb\nl0: &l0 {" + ", ".join(f"k{i}: lol" for i in range(10)) + "}\n"
ALIAS_BOMB += "".join(
    f"l{level}: &l{level} {{" + ", ".join(f"k{i}: *l{level - 1}" for i in range(10)) + "}\n" for level in range(1, 9)
)


def test_refused_config_files_are_listed_with_their_reason(
    api_server: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    churn = (DEFAULT_PIPELINES_DIR / "churn.yaml").read_text()
    (tmp_path / "churn.yaml").write_text(churn)
    (tmp_path / "churn-experiment.yaml").write_text(churn)  # a copy that still says name: churn
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

    start = time.perf_counter()
    response = api_server.get("/registry/")
    seconds = time.perf_counter() - start

    assert response.status_code == 200
    assert seconds < 10, seconds
    page = response.text
    assert "its pipeline config churn.yaml is refused" in page
    assert "also claimed by churn-experiment.yaml" in page
    assert "its pipeline config churn-experiment.yaml is refused" in page
    assert "its pipeline config bomb.yaml is refused" in page
    assert "anchors and aliases" in page
