"""Gate reports for the UI: which S3 objects may be shown, and reading them.

The registry plugin serves a report by its S3 URI. It must not become a proxy for anything else
the connection can read: a URI is accepted only if it names a gate report
(``runs/<run key>/gates/<gate>.json|.html``) inside the variant's own artifact store, with no
``..``, no other bucket and no other file. A gate's HTML report, when one was written next to the
JSON one, is preferred; otherwise the JSON report is rendered as a page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from include.retrain.config import PipelineConfig
from include.retrain.monitoring.links import GATES
from include.retrain.storage import ArtifactStore, parse_s3_uri

_GATE_REPORT = re.compile(r"runs/[A-Za-z0-9_.=\-]+/gates/(?P<gate>" + "|".join(GATES) + r")\.(?P<ext>json|html)")


class ReportRefused(Exception):
    """The URI is not a gate report of this variant; nothing is read."""


@dataclass(frozen=True)
class GateReport:
    """A report ready to show: the HTML file written by the gate, or the parsed JSON report."""

    uri: str
    gate: str
    html: bytes | None = None
    data: dict[str, Any] | None = None


def report_key(config: PipelineConfig, uri: str) -> str:
    """The store key of ``uri`` if it is one of this variant's gate reports; else ReportRefused."""
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise ReportRefused(str(exc)) from None
    base = "/".join(part for part in (config.storage.prefix, config.name) if part) + "/"
    rest = key[len(base) :] if key.startswith(base) else ""
    if bucket != config.storage.bucket or ".." in key.split("/") or not _GATE_REPORT.fullmatch(rest):
        raise ReportRefused(
            f"{uri} is not a gate report of {config.name} "
            f"(s3://{config.storage.bucket}/{base}runs/<run key>/gates/<gate>.json)"
        )
    return key


def read_report(config: PipelineConfig, store: ArtifactStore, uri: str) -> GateReport | None:
    """The report at ``uri`` (its HTML sibling when there is one), or None if it does not exist."""
    key = report_key(config, uri)
    match = _GATE_REPORT.search(key)
    assert match is not None
    html_key = key.removesuffix(".json") + ".html" if key.endswith(".json") else key
    found = store.read_object(html_key)
    if found is not None:
        return GateReport(uri=store.uri(html_key), gate=match["gate"], html=found.data)
    found = store.read_object(key) if html_key != key else None
    if found is None:
        return None
    return GateReport(uri=uri, gate=match["gate"], data=json.loads(found.data))
