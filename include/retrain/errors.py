"""Failure taxonomy: which faults fail a run at once and which are worth a retry.

Everything that subclasses :class:`PipelineFailure` is permanent for this run (bad data,
a model below its bar, a tampered artifact, invalid run options): the DAG layer turns it
into ``AirflowFailException`` so Airflow does not retry. Anything else (network, storage,
timeouts) is an infra failure and is retried with backoff.
"""

from __future__ import annotations


class PipelineFailure(Exception):
    """A failure that retrying cannot fix; the run fails at once."""


class DataFailure(PipelineFailure):
    """Input data cannot be used: unreadable, missing, or not what the config declares."""


class GateFailure(DataFailure):
    """A Great Expectations gate found failures of severity ``fail``.

    ``summary`` is the gate's small JSON-able summary (what went to XCom) and
    ``report_uri`` points at the full report in the artifact store.
    """

    def __init__(self, message: str, *, summary: dict, report_uri: str) -> None:
        super().__init__(message)
        self.summary = summary
        self.report_uri = report_uri


class IntegrityError(PipelineFailure):
    """An artifact's bytes do not match the sha256 recorded when it was written."""


class UntrustedModelError(PipelineFailure):
    """A model file asks for a type outside the allowlist; it is never loaded."""


class InvalidRunOptions(PipelineFailure):
    """Run parameters (Params or trigger conf) are invalid for this pipeline."""


class ConfigError(ValueError):
    """A pipeline YAML file is invalid; the message names the file, field and reason."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        detail = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid pipeline config {path}:\n{detail}")
