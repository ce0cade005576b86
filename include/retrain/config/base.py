"""What every schema part shares: the strict base model, name patterns, column types, safe prefixes.

The config package is kept light on purpose: DAG files import it at parse time, so it uses only
pydantic and PyYAML (both already loaded by Airflow) and never touches data or network.
Every model forbids unknown keys, so a typo is an error, not a silently ignored knob.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

NAME_RE = r"^[a-z][a-z0-9_]{0,62}$"
COLUMN_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
BUCKET_RE = r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"
CONN_ID_RE = r"^[A-Za-z0-9_.\-]{1,250}$"
_PREFIX_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.=\-]+$")

ColumnType = Literal["int", "float", "bool", "string", "category", "date", "datetime"]
NUMERIC_TYPES = frozenset({"int", "float", "bool"})
CATEGORICAL_TYPES = frozenset({"string", "category", "bool"})

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _value_fits(value: Any, column_type: str) -> bool:
    """``value`` is a label a column of ``column_type`` can hold (bool is no int here)."""
    return {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer(),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "category": isinstance(value, str),
        "string": isinstance(value, str),
    }.get(column_type, False)


def check_safe_prefix(value: str) -> str:
    """Refuse S3 prefixes that could escape their folder (``..``, absolute, odd characters)."""
    if value == "":
        return value
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(f"{value!r} must be relative, without leading/trailing or double slashes")
    for segment in value.split("/"):
        if segment in (".", "..") or not _PREFIX_SEGMENT_RE.match(segment):
            raise ValueError(f"{value!r} has an unsafe path segment {segment!r}")
    return value


#: A key prefix checked by ``check_safe_prefix`` (``dataset.prefix``, ``storage.prefix``).
SafePrefix = Annotated[str, AfterValidator(check_safe_prefix)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: ``max: window_end`` on a date or datetime column: every value before the run's window end.
WINDOW_END = "window_end"
