"""Gate reports for the UI: which S3 objects may be shown, and reading them.

The registry plugin serves a report by its S3 URI. It must not become a proxy for anything else
the connection can read: a URI is accepted only if it names a gate report
(``runs/<run key>/gates/<gate>.json|.html``) inside the variant's own artifact store, with no
``..``, no other bucket and no other file. The JSON report is rendered as the plugin's own page;
the gate's HTML data docs (Great Expectations' page, written next to it) are one link further.
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
    """A report ready to show: a gate's JSON report (and where its HTML data docs are), or those data docs."""

    uri: str
    gate: str
    data: dict[str, Any] | None = None
    data_docs_uri: str | None = None
    html: bytes | None = None


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
    """The report at ``uri``, or None if it does not exist.

    A JSON report comes with the URI of the gate's HTML data docs when they were written next
    to it; an ``.html`` URI gives those data docs themselves.
    """
    key = report_key(config, uri)
    gate = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]  # the file is named after its gate
    found = store.read_object(key)
    if found is None:
        return None
    if key.endswith(".html"):
        return GateReport(uri=uri, gate=gate, html=found.data)
    html_key = key.removesuffix(".json") + ".html"
    data_docs = store.uri(html_key) if store.exists(html_key) else None
    return GateReport(uri=uri, gate=gate, data=json.loads(found.data), data_docs_uri=data_docs)
