"""Which gate reports the registry plugin may serve, and reading them from the real loopback S3.

The plugin reads S3 with the variant's connection, which can see much more than reports: only a
gate report inside the variant's own run folders is ever read.
"""

from __future__ import annotations

from typing import Any

import pytest

from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.monitoring.reports import ReportRefused, read_report, report_key
from include.retrain.storage import ArtifactStore

CHURN = load_pipeline(pipelines_dir() / "churn.yaml")
RUNS = "s3://retrain-artifacts/retraining/churn/runs"
REPORT = f"{RUNS}/2026-01-30/gates/validate_raw.json"


@pytest.mark.parametrize(
    "uri",
    [
        REPORT,
        f"{RUNS}/2026-01-30_0a1b2c3d4e/gates/validate_model.json",
        f"{RUNS}/2026-01-30/gates/validate_features.html",
    ],
    ids=["raw", "overridden-run-key", "html"],
)
def test_gate_reports_of_the_variant_are_accepted(uri: str) -> None:
    assert report_key(CHURN, uri) == uri.removeprefix("s3://retrain-artifacts/")


@pytest.mark.parametrize(
    "uri",
    [
        "s3://retrain-landing/retraining/churn/runs/2026-01-30/gates/validate_raw.json",
        "s3://retrain-artifacts/retraining/demand/runs/2026-01-30/gates/validate_raw.json",
        f"{RUNS}/2026-01-30/gates/../../../registry/deployed.json",
        f"{RUNS}/../registry/aliases/champion.json",
        f"{RUNS}/2026-01-30/train/model.skops",
        f"{RUNS}/2026-01-30/gates/validate_raw.json.bak",
        f"{RUNS}/2026-01-30/gates/other_gate.json",
        "s3://retrain-artifacts/retraining/churn/registry/deployed.json",
        "https://example.com/report.html",
        "s3://retrain-artifacts",
        "",
    ],
    ids=[
        "other-bucket",
        "other-variant",
        "dot-dot-out-of-gates",
        "dot-dot-into-registry",
        "model-file",
        "other-suffix",
        "unknown-gate",
        "registry-object",
        "not-s3",
        "bucket-only",
        "empty",
    ],
)
def test_anything_else_is_refused(uri: str) -> None:
    with pytest.raises(ReportRefused):
        report_key(CHURN, uri)


@pytest.fixture
def store(s3_client: Any) -> ArtifactStore:
    return ArtifactStore(s3_client, CHURN.storage.bucket, CHURN.storage.prefix)


def test_the_json_report_is_read(store: ArtifactStore) -> None:
    store.put_json(report_key(CHURN, REPORT), {"gate": "validate_raw", "success": False})

    report = read_report(CHURN, store, REPORT)

    assert report is not None
    assert (report.gate, report.uri, report.html, report.data_docs_uri) == ("validate_raw", REPORT, None, None)
    assert report.data == {"gate": "validate_raw", "success": False}


def test_the_gates_html_data_docs_are_found_next_to_it_and_read_on_their_own(store: ArtifactStore) -> None:
    key = report_key(CHURN, REPORT)
    store.put_json(key, {"gate": "validate_raw"})
    store.put_bytes(key.replace(".json", ".html"), b"<p>GX data docs</p>", content_type="text/html")
    data_docs = REPORT.replace(".json", ".html")

    report = read_report(CHURN, store, REPORT)
    page = read_report(CHURN, store, data_docs)

    assert report is not None
    assert report.data_docs_uri == data_docs
    assert page is not None
    assert (page.gate, page.html, page.data) == ("validate_raw", b"<p>GX data docs</p>", None)


def test_a_missing_report_is_none(store: ArtifactStore) -> None:
    assert read_report(CHURN, store, REPORT) is None
