"""Every artifact path of a run and of the registry, named once.

A key written by one module and read by another comes from a name here, so the two cannot drift
apart. Paths are relative: a run's under ``<prefix>/<pipeline>/runs/<run key>/``
(``RunContext.stage_key``), the registry's under ``<prefix>/<pipeline>/registry/``
(``ModelRegistry.key``). ``docs/serving/registry.md`` documents both layouts; a test checks that it
lists every path named here. Nothing heavy is imported: the DAG factory may read these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class RunPath:
    """One artifact of a run: ``<stage>/<name>`` under the run's folder, and what it holds."""

    stage: str
    name: str
    what: str = ""

    @property
    def path(self) -> str:
        return f"{self.stage}/{self.name}"


# -- a run's folder: <prefix>/<pipeline>/runs/<run key>/ ---------------------------------------

RUNS = "runs"
#: Every stage's manifest (what its task returned through XCom), next to its outputs.
STAGE_MANIFEST = "manifest.json"
#: The reference profile of the training rows; registered with the version as the same file name.
PROFILE_FILE = "reference_profile.json"

RAW = RunPath("ingest", "raw.parquet", "the window's landing data, coerced to the schema")
SOURCES = RunPath("ingest", "sources.json", "every landing file read, with its sha256 and row count")
TRAIN_MATRIX = RunPath("features", "train.parquet", "the training matrix (transformed features and the target)")
HOLDOUT_MATRIX = RunPath("features", "holdout.parquet", "the holdout matrix")
HOLDOUT_INPUT = RunPath("features", "holdout_input.parquet", "the holdout's raw model input and target (and segment)")
TRANSFORMER = RunPath("features", "transformer.skops", "the fitted feature transformer")
REFERENCE_PROFILE = RunPath("features", PROFILE_FILE, "the training rows' profile, registered with the version")
MODEL = RunPath("train", "model.skops", "the candidate: transformer + estimator")
PREDICTIONS = RunPath("evaluate", "predictions.parquet", "per-row outputs of the candidate and the champion")
SEGMENT_METRICS = RunPath(
    "evaluate", "segment_metrics.json", "every metric per segment (with expectations.model.segments)"
)
GATES = "gates"


def stage_manifest(stage: str) -> RunPath:
    """``<stage>/manifest.json``."""
    return RunPath(stage, STAGE_MANIFEST)


def gate_report(gate: str) -> RunPath:
    """``gates/<gate>.json``: the gate's full JSON report."""
    return RunPath(GATES, f"{gate}.json")


def gate_data_docs(gate: str) -> RunPath:
    """``gates/<gate>.html``: the gate's data docs."""
    return RunPath(GATES, f"{gate}.html")


#: Every fixed path of a run folder (the gate reports and stage manifests are per gate and stage).
RUN_PATHS = (
    RAW,
    SOURCES,
    TRAIN_MATRIX,
    HOLDOUT_MATRIX,
    HOLDOUT_INPUT,
    TRANSFORMER,
    REFERENCE_PROFILE,
    MODEL,
    PREDICTIONS,
    SEGMENT_METRICS,
)


def run_folder_block() -> str:
    """The run folder's layout as the serving page shows it (``make docs`` writes it there)."""
    rows = [(path.path, path.what) for path in RUN_PATHS]
    rows.append(
        (f"{gate_report('<gate>').path}, {gate_data_docs('<gate>').path}", "each gate's JSON report and data docs")
    )
    rows.append((stage_manifest("<stage>").path, "what the stage's task returned (its XCom)"))
    lines = [f"s3://<storage.bucket>/<storage.prefix>/<pipeline>/{RUNS}/<run key>/"]
    lines += [f"  {path:<38} {what}" for path, what in rows]
    return "```\n" + "\n".join(lines) + "\n```"


# -- the registry: <prefix>/<pipeline>/registry/ -----------------------------------------------

REGISTRY = "registry"
VERSIONS = "versions"
ALIASES = "aliases"
EVENTS = "events"
INTENTS = "intents"
#: What serving runs (``promotion.deploy``).
DEPLOYED = "deployed.json"
#: A version's commit marker: it exists once this exists.
VERSION_MANIFEST = "manifest.json"
#: A version's files.
MODEL_FILE = "model.skops"
METRICS_FILE = "metrics.json"
MODEL_CARD_JSON = "model_card.json"
MODEL_CARD_MD = "model_card.md"
VERSION_FILES = (VERSION_MANIFEST, MODEL_FILE, METRICS_FILE, MODEL_CARD_JSON, MODEL_CARD_MD, PROFILE_FILE)


def version_file(version: str, name: str) -> tuple[str, str, str]:
    """``versions/<version>/<name>``, as parts for ``ModelRegistry.key``."""
    return (VERSIONS, version, name)


def alias_file(alias: str) -> tuple[str, str]:
    """``aliases/<alias>.json``."""
    return (ALIASES, f"{alias}.json")


def intent_file(task: str, run_name: str) -> tuple[str, str, str]:
    """``intents/<task>/<run id>.json`` (the run id made safe for a key)."""
    return (INTENTS, task, f"{run_name}.json")


#: Live performance: ``live/<version>/ds=<date>.json``, one immutable record per scored day once its labels landed.
LIVE = "live"


def live_file(version: str, day: str) -> tuple[str, str, str]:
    """``live/<version>/ds=<day>.json`` (``day`` an ISO date), as parts for ``ModelRegistry.key``."""
    return (LIVE, version, f"ds={day}.json")


#: The registry's layout as documented, one path pattern a line (a test checks the docs list each).
REGISTRY_PATHS = (
    DEPLOYED,
    f"{ALIASES}/<alias>.json",
    *(f"{VERSIONS}/<version>/{name}" for name in VERSION_FILES),
    f"{EVENTS}/<utc time>-<event>-<version>-<id>.json",
    f"{INTENTS}/<task>/<run id>.json",
    f"{LIVE}/<version>/ds=<date>.json",
)


# -- batch scoring: <prefix>/<pipeline>/predictions/ and <prefix>/<pipeline>/scoring/ -----------

#: ``predictions/ds=<date>/``: one folder per scored landing partition (``score_<name>``).
PREDICTIONS_ROOT = "predictions"
#: The partition's predictions: id, score, class probabilities, model version, run key (one PUT).
PREDICTIONS_PART = "part.parquet"
#: Serving drift: PSI/KS per feature of the scored rows against the deployed version's profile.
SERVING_DRIFT = "drift.json"
#: Written last: the partition is scored once this exists (sha256 of the other two, version, run key).
PREDICTIONS_MANIFEST = "manifest.json"
PREDICTION_FILES = (PREDICTIONS_PART, SERVING_DRIFT, PREDICTIONS_MANIFEST)
#: A scoring run's own folder (its input gate's reports): ``scoring/<run key>/``.
SCORING_RUNS = "scoring"
#: The gate on the scoring input: the raw gate's checks minus the label.
SCORING_GATE = "validate_scoring_input"


def prediction_file(day: str, name: str) -> tuple[str, str, str]:
    """``predictions/ds=<day>/<name>`` (``day`` an ISO date), as parts for ``ArtifactStore.key``."""
    return (PREDICTIONS_ROOT, f"ds={day}", name)


def partition_day(key: str) -> date | None:
    """The ``D`` of a key's ``ds=D/`` folder or ``ds=D.json`` file (live records, predictions), or None."""
    for part in key.split("/"):
        if part.startswith("ds="):
            try:
                return date.fromisoformat(part[3:].removesuffix(".json"))
            except ValueError:
                return None
    return None


def scoring_gate_file(run_key: str, suffix: str) -> tuple[str, str, str, str]:
    """``scoring/<run key>/gates/validate_scoring_input.<suffix>`` (``json`` or ``html``)."""
    return (SCORING_RUNS, run_key, GATES, f"{SCORING_GATE}.{suffix}")


#: The scoring layout as documented, relative to ``<prefix>/<pipeline>/`` (a test checks the docs list each).
SCORING_PATHS = (
    *(f"{PREDICTIONS_ROOT}/ds=<date>/{name}" for name in PREDICTION_FILES),
    f"{SCORING_RUNS}/<run key>/{GATES}/{SCORING_GATE}.json",
    f"{SCORING_RUNS}/<run key>/{GATES}/{SCORING_GATE}.html",
)
