"""Model registry on the artifact store: immutable versions, CAS aliases, append-only events.

Layout under ``s3://<bucket>/<prefix>/<pipeline>/registry/``::

    versions/<version>/<file>           model.skops, metrics.json, model_card.json/.md, ...
    versions/<version>/manifest.json    commit marker: every file with its sha256, plus metadata
    aliases/<alias>.json                {"version", "previous_version", "updated_at", "run_id", "change_id", ...}
    events/<utc timestamp>-<event>-<version>-<id>.json   one immutable object per event
    intents/<task>/<run id>.json        what a run decided to change, recorded before it changes it
    deployed.json                       what serving runs (written by ``include.retrain.promotion.deploy``)

A version exists once its manifest exists. Every object under ``versions/`` is written
create-only (``If-None-Match: *``), so a committed version can never be overwritten. Aliases
change only by compare-and-swap on their ETag (``If-Match``): of two racing promoters exactly
one wins; the other gets :class:`ConcurrentUpdate`, re-reads and decides again
(``include.retrain.promotion.cas``).

Every alias write carries a ``change_id``: a retry (boto's, or Airflow's) that finds its own
``change_id`` in the alias knows its write landed, even when the response to it was lost and
the resent request was refused with 412. Every event that records a change has a key derived
from the change (its time and ``change_id``), written create-only, so whichever attempt
completes a change writes its one event and a retry can never write a second. Aliases and
events that name a version also carry the sha256 of its model and manifest, so a rewritten
version no longer matches what the history says it was.
"""

from include.retrain.layout import MODEL_FILE
from include.retrain.registry.history import EVENT_KINDS
from include.retrain.registry.model_registry import MANIFEST, ModelRegistry
from include.retrain.registry.records import (
    CHAMPION,
    PREVIOUS,
    AliasPointer,
    Audit,
    RegisteredVersion,
    new_change_id,
    utc_now,
)
from include.retrain.storage import ConcurrentUpdate

__all__ = [
    "CHAMPION",
    "EVENT_KINDS",
    "MANIFEST",
    "MODEL_FILE",
    "PREVIOUS",
    "AliasPointer",
    "Audit",
    "ConcurrentUpdate",
    "ModelRegistry",
    "RegisteredVersion",
    "new_change_id",
    "utc_now",
]
