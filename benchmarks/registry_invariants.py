"""Invariants of a whole registry, checked from its full write history (a versioned bucket).

The registry keeps only the current alias objects, so its history is read from the bucket's
object versions: every write of ``aliases/champion.json``, ``deployed.json`` and the intents is
kept by S3 versioning (enabled on the soak's bucket only; the registry code does not know).

The invariants (issue 17's soak), each reported with what broke it:

- ``champion_registered``: the champion is a registered version, and the model and manifest
  sha256 the alias recorded are the version's.
- ``champion_history_is_one_chain``: every champion write replaced exactly the write before it
  (its ``replaced.change_id``); two writes that replaced the same state would be a lost update.
- ``one_event_per_champion_change``: every champion write has exactly one ``promoted`` or
  ``rolled_back`` event with its change id and version, and every such event has its write.
- ``decided_against_what_it_replaced``: the decision behind every champion write (the promote
  or rollback intent with its change id) was made against the very state the write replaced.
- ``no_return_without_a_new_decision``: a version rolled back from comes back as champion only
  through a decision (promotion or rollback) made after that rollback.
- ``one_event_per_deployment``: every ``deployed.json`` write has exactly one ``deployed`` event;
  each names the version deployed before it (``previous_version``).
- ``deployed_follows_champion``: ``deployed.json`` serves the champion (at rest), and every
  version ever deployed had been champion.
- ``one_registered_event_per_version``: no version has two ``registered`` events (versions
  without one are listed; the harness decides whether their run finished).
- ``one_rejected_event_per_run``: no run rejected the same version twice.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from include.retrain.storage import sha256_bytes


@dataclass
class Write:
    """One stored version of an object."""

    key: str
    version_id: str
    payload: dict[str, Any]
    data: bytes


@dataclass
class RegistryReport:
    """What was checked and every violation, by invariant."""

    champion_writes: int = 0
    deployed_writes: int = 0
    events: dict[str, int] = field(default_factory=dict)
    versions: int = 0
    champion: str | None = None
    deployed: str | None = None
    versions_without_registered_event: list[str] = field(default_factory=list)
    violations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def violate(self, invariant: str, detail: str) -> None:
        self.violations[invariant].append(detail)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "champion_writes": self.champion_writes,
            "deployed_writes": self.deployed_writes,
            "events": self.events,
            "versions": self.versions,
            "champion": self.champion,
            "deployed": self.deployed,
            "versions_without_registered_event": self.versions_without_registered_event,
            "violations": {name: found[:20] for name, found in self.violations.items() if found},
            "violation_counts": {name: len(found) for name, found in self.violations.items() if found},
        }


INVARIANTS = (
    "champion_registered",
    "champion_history_is_one_chain",
    "one_event_per_champion_change",
    "decided_against_what_it_replaced",
    "no_return_without_a_new_decision",
    "one_event_per_deployment",
    "deployed_follows_champion",
    "one_registered_event_per_version",
    "one_rejected_event_per_run",
)


def _history(client: Any, bucket: str, prefix: str) -> list[Write]:
    """Every stored version of every object under ``prefix``, newest first per key (S3's order)."""
    writes: list[Write] = []
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []):
            data = client.get_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])["Body"].read()
            writes.append(Write(entry["Key"], entry["VersionId"], json.loads(data) if data else {}, data))
    return writes


def _current(client: Any, bucket: str, key: str) -> bytes | None:
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None


def _chain(writes: list[Write], report: RegistryReport) -> list[dict[str, Any]]:
    """The champion writes in order, following each write's ``replaced.change_id``."""
    by_id: dict[str, dict[str, Any]] = {}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for write in writes:
        payload = write.payload
        if payload["change_id"] in by_id:
            report.violate("champion_history_is_one_chain", f"change id {payload['change_id']} written twice")
        by_id[payload["change_id"]] = payload
        children[(payload.get("replaced") or {}).get("change_id")].append(payload)
    for parent, kids in children.items():
        if len(kids) > 1:
            report.violate(
                "champion_history_is_one_chain",
                f"{len(kids)} writes replaced the same champion write {parent}: "
                + ", ".join(f"{k['version']} by {k['run_id']}" for k in kids),
            )
        if parent is not None and parent not in by_id:
            report.violate("champion_history_is_one_chain", f"a write replaced {parent}, which was never written")
    chain: list[dict[str, Any]] = []
    step = children.get(None, [])
    seen: set[str] = set()
    while step and step[0]["change_id"] not in seen:
        chain.append(step[0])
        seen.add(step[0]["change_id"])
        step = children.get(step[0]["change_id"], [])
    if len(chain) != len(writes):
        report.violate("champion_history_is_one_chain", f"{len(writes) - len(chain)} champion writes are off the chain")
    return chain


def check_registry(client: Any, bucket: str, registry_prefix: str) -> RegistryReport:
    """Check every invariant over the registry under ``s3://bucket/<registry_prefix>/`` (versioned)."""
    report = RegistryReport()
    root = registry_prefix.rstrip("/") + "/"
    champion_key, deployed_key = root + "aliases/champion.json", root + "deployed.json"

    events = [json.loads(_current(client, bucket, key) or b"{}") for key in _list(client, bucket, root + "events/")]
    report.events = dict(Counter(e["event"] for e in events))
    manifests = {
        key[len(root + "versions/") :].split("/")[0]: key
        for key in _list(client, bucket, root + "versions/")
        if key.endswith("/manifest.json")
    }
    report.versions = len(manifests)

    # -- the champion ----------------------------------------------------------------------------
    champion_writes = [w for w in _history(client, bucket, champion_key) if w.key == champion_key]
    report.champion_writes = len(champion_writes)
    current = _current(client, bucket, champion_key)
    champion = json.loads(current) if current else None
    report.champion = champion["version"] if champion else None
    if champion is not None:
        manifest = (
            _current(client, bucket, manifests.get(champion["version"], ""))
            if champion["version"] in manifests
            else None
        )
        if manifest is None:
            report.violate("champion_registered", f"champion {champion['version']} is not a registered version")
        else:
            model_sha = json.loads(manifest)["files"].get("model.skops", {}).get("sha256")
            if champion.get("manifest_sha256") != sha256_bytes(manifest) or champion.get("model_sha256") != model_sha:
                report.violate("champion_registered", f"champion {champion['version']}'s digests are not its version's")
    chain = _chain(champion_writes, report)
    if chain and champion is not None and chain[-1]["change_id"] != champion["change_id"]:
        report.violate("champion_history_is_one_chain", "the current champion is not the end of its history")

    # -- one event per champion change --------------------------------------------------------
    moves = [e for e in events if e["event"] in ("promoted", "rolled_back")]
    by_change: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for event in moves:
        by_change[event.get("change_id")].append(event)
    written = {w["change_id"]: w for w in chain}
    for write in chain:
        found = by_change.get(write["change_id"], [])
        if len(found) != 1 or found[0]["version"] != write["version"]:
            kinds = [f"{e['event']} {e['version']}" for e in found] or ["no event"]
            report.violate(
                "one_event_per_champion_change",
                f"champion -> {write['version']} by {write['run_id']} ({write['reason'][:60]}): {', '.join(kinds)}",
            )
    for event in moves:
        if event.get("change_id") not in written:
            report.violate(
                "one_event_per_champion_change",
                f"{event['event']} {event['version']} by {event['run_id']} has no champion write",
            )

    # -- decisions: against what they replaced; no return without a new one ------------------
    intents: dict[str, dict[str, Any]] = {}
    for write in _history(client, bucket, root + "intents/"):
        if write.payload.get("change_id"):
            intents.setdefault(write.payload["change_id"], write.payload)
    position = {w["change_id"]: i for i, w in enumerate(chain)}
    rolled_back_from: dict[str, int] = {}  # version -> chain index of the rollback that removed it
    for index, write in enumerate(chain):
        intent = intents.get(write["change_id"])
        replaced = (write.get("replaced") or {}).get("change_id")
        if intent is None:
            report.violate(
                "decided_against_what_it_replaced",
                f"champion -> {write['version']} by {write['run_id']} has no recorded decision",
            )
        elif ((intent.get("expected") or {}).get("change_id")) != replaced:
            against = (intent.get("expected") or {}).get("version")
            report.violate(
                "decided_against_what_it_replaced",
                f"champion -> {write['version']} by {write['run_id']} was decided against {against}, "
                f"but replaced {(write.get('replaced') or {}).get('version')}",
            )
        version = write["version"]
        if version in rolled_back_from:
            removed_at = rolled_back_from[version]
            decided_at = position.get((intent or {}).get("expected", {}).get("change_id"), -1)
            if decided_at < removed_at:
                report.violate(
                    "no_return_without_a_new_decision",
                    f"{version} came back (run {write['run_id']}) on a decision made before the rollback "
                    f"that removed it (chain position {removed_at})",
                )
            del rolled_back_from[version]
        is_rollback = str(write.get("reason", "")).startswith("rollback:") or any(
            e["event"] == "rolled_back" for e in by_change.get(write["change_id"], [])
        )
        previous = (write.get("replaced") or {}).get("version")
        if is_rollback and previous:
            rolled_back_from[previous] = index

    # -- deployments ----------------------------------------------------------------------------
    deployed_writes = [w.payload for w in _history(client, bucket, deployed_key) if w.key == deployed_key][::-1]
    report.deployed_writes = len(deployed_writes)
    deployed_events = Counter(e.get("change_id") for e in events if e["event"] == "deployed")
    for before, write in zip([None, *deployed_writes], deployed_writes, strict=False):
        if deployed_events.get(write.get("change_id"), 0) != 1:
            report.violate(
                "one_event_per_deployment",
                f"deployed -> {write['version']} by {write['run_id']}: "
                f"{deployed_events.get(write.get('change_id'), 0)} deployed events",
            )
        if write.get("previous_version") != (before["version"] if before else None):
            report.violate(
                "one_event_per_deployment",
                f"deployed -> {write['version']} says it replaced {write.get('previous_version')}, "
                f"but {before['version'] if before else None} was deployed",
            )
    known = {w.get("change_id") for w in deployed_writes}
    for change_id, count in deployed_events.items():
        if change_id not in known:
            report.violate("one_event_per_deployment", f"{count} deployed event(s) without a deployed.json write")
    deployed = json.loads(_current(client, bucket, deployed_key) or b"null")
    report.deployed = deployed["version"] if deployed else None
    if report.deployed != report.champion:
        report.violate("deployed_follows_champion", f"deployed {report.deployed}, champion {report.champion}")
    ever_champion = {w["version"] for w in chain}
    for write in deployed_writes:
        if write["version"] not in ever_champion:
            report.violate("deployed_follows_champion", f"{write['version']} was deployed but never champion")

    # -- registered and rejected ----------------------------------------------------------------
    registered = Counter(e["version"] for e in events if e["event"] == "registered")
    for version, count in registered.items():
        if count > 1:
            report.violate("one_registered_event_per_version", f"{version}: {count} registered events")
    report.versions_without_registered_event = sorted(set(manifests) - set(registered))
    rejected = Counter((e["run_id"], e["version"]) for e in events if e["event"] == "rejected")
    for (run_id, version), count in rejected.items():
        if count > 1:
            report.violate("one_rejected_event_per_run", f"{version} rejected {count} times by {run_id}")
    return report


def _list(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)
