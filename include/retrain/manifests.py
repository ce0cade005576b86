"""The XCom contract: what each task of ``retrain_<name>`` returns, as frozen dataclasses.

Task bodies take and return these types; the ``@task`` boundary converts: ``to_xcom()`` gives the
JSON dict a task pushes (its one-line ``summary`` first, then the stage, the run's identity and
the stage's facts, in that order) and ``from_xcom()`` reads one back for a downstream task.
``from_xcom(m.to_xcom()).to_xcom() == m.to_xcom()``: the XCom content is exactly what the tasks
returned as plain dicts before these types existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from include.retrain.storage import ArtifactRef
from include.retrain.summaries import stage_summary

#: The run's identity (``RunContext.describe()``), carried by every stage manifest.
RUN_KEYS = ("pipeline", "run_key", "run_id", "triggered_by", "window")

#: Field metadata: the key is left out of the XCom dict when the predicate holds (see ``to_xcom``).
OMIT = "omit"


def _omit_none(value: Any, _manifest: Any) -> bool:
    return value is None


@dataclass(frozen=True)
class StageManifest:
    """Common to every stage manifest: the run's identity and the stage's artifacts."""

    STAGE: ClassVar[str]

    run: Mapping[str, Any]

    def ref(self, name: str) -> ArtifactRef:
        """The named artifact (``raw``, ``model``, ...) this stage wrote."""
        return self.artifacts[name]  # type: ignore[attr-defined]

    def facts(self) -> dict[str, Any]:
        """The stage's own keys, in their XCom order (no summary, stage or run identity)."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            if spec.name == "run":
                continue
            value = getattr(self, spec.name)
            omit = spec.metadata.get(OMIT)
            if omit is not None and omit(value, self):
                continue
            out[spec.name] = {k: r.to_dict() for k, r in value.items()} if spec.name == "artifacts" else value
        return out

    def to_xcom(self) -> dict[str, Any]:
        """The JSON-able dict the task returns: ``summary`` first, then ``stage``, the run and the facts."""
        facts = self.facts()
        return {"summary": stage_summary(self.STAGE, facts), "stage": self.STAGE, **self.run, **facts}

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> Any:
        """Read a manifest back from what its task returned (keys it left out take their defaults)."""
        values: dict[str, Any] = {"run": {key: data[key] for key in RUN_KEYS}}
        for spec in fields(cls):
            if spec.name == "run" or spec.name not in data:
                continue
            value = data[spec.name]
            if spec.name == "artifacts":
                value = {name: ArtifactRef.from_dict(ref) for name, ref in value.items()}
            values[spec.name] = value
        return cls(**values)


@dataclass(frozen=True)
class IngestManifest(StageManifest):
    """``ingest``: the window's landing files read into ``raw``."""

    STAGE: ClassVar[str] = "ingest"

    files: int = 0
    partitions: int = 0
    rows: int = 0
    #: Only with ``dataset.target_nulls: drop``.
    target_nulls_dropped: int | None = field(default=None, metadata={OMIT: _omit_none})
    landing_sha256: str = ""
    skipped_folders: list[str] = field(default_factory=list)
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)


@dataclass(frozen=True)
class FeaturesManifest(StageManifest):
    """``build_features``: the train and holdout matrices, holdout input, transformer and profile."""

    STAGE: ClassVar[str] = "features"

    rows: dict[str, int] = field(default_factory=dict)
    feature_columns: list[str] = field(default_factory=list)
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainManifest(StageManifest):
    """``train``: the fitted model (transformer + estimator)."""

    STAGE: ClassVar[str] = "train"

    estimator: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    rows: int = 0
    train_seconds: float = 0.0
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluateManifest(StageManifest):
    """``evaluate``: holdout metrics of the candidate, the champion and a canary's challenger."""

    STAGE: ClassVar[str] = "evaluate"

    metric: str = ""
    value: float = float("nan")
    metrics: dict[str, Any] = field(default_factory=dict)
    metrics_ci: dict[str, Any] = field(default_factory=dict)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    classes: list[Any] | None = None
    score_std: float | None = None
    champion: dict[str, Any] | None = None
    challenger: dict[str, Any] | None = None
    improvement_over_champion: float | None = None
    rows: int = 0
    artifacts: dict[str, ArtifactRef] = field(default_factory=dict)

    @property
    def champion_version(self) -> str | None:
        return self.champion["version"] if self.champion else None


def _dry_run_only(_value: Any, manifest: Any) -> bool:
    return not manifest.dry_run


def _real_run_only(_value: Any, manifest: Any) -> bool:
    return manifest.dry_run


@dataclass(frozen=True)
class PromoteManifest(StageManifest):
    """``promote``: the registered version and the decision; a dry run has ``would_promote`` instead
    of what a real run did (challenger, override, compared version, strategy, canary, deployment)."""

    STAGE: ClassVar[str] = "promote"

    version: str = ""
    dry_run: bool = False
    registered: bool = False
    promoted: bool = False
    would_promote: bool = field(default=False, metadata={OMIT: _dry_run_only})
    challenger: bool = field(default=False, metadata={OMIT: _real_run_only})
    overridden: str | None = field(default=None, metadata={OMIT: _real_run_only})
    reason: str = ""
    compared_with: str | None = field(default=None, metadata={OMIT: _real_run_only})
    significance: dict[str, Any] | None = None
    champion: str | None = None
    strategy: str | None = field(default=None, metadata={OMIT: _real_run_only})
    canary: dict[str, Any] | None = field(default=None, metadata={OMIT: _real_run_only})
    deployed: dict[str, Any] | None = field(default=None, metadata={OMIT: _real_run_only})


@dataclass(frozen=True)
class GateSummary:
    """What a gate task returns (and, failed, pushes under ``GATE_SUMMARY_KEY``): its verdict and reports."""

    summary: str
    gate: str
    success: bool
    evaluated: int
    failed: list[str]
    dependent_failures: int
    warnings: list[str]
    notes: list[str]
    rows: dict[str, int]
    report_uri: str
    html_report_uri: str | None

    def to_xcom(self) -> dict[str, Any]:
        """The JSON-able dict, ``summary`` first."""
        return {spec.name: getattr(self, spec.name) for spec in fields(self)}

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> GateSummary:
        return cls(**{spec.name: data[spec.name] for spec in fields(cls)})
