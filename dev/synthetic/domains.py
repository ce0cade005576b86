"""What one column of a variant's schema may hold once its spec and the raw gate's checks are combined.

``SchemaGenerator`` (``dev.synthetic.schema``) draws each column's values inside its domain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from include.retrain.config import CheckRule, ColumnSpec

#: Default span of an unbounded numeric column, and of an unbounded date column (days).
DEFAULT_SPAN = 100.0
DEFAULT_DATE_SPAN_DAYS = 730


@dataclass(frozen=True)
class Domain:
    """What one column may hold once the schema and the raw gate's checks are combined."""

    low: float | None
    high: float | None
    values: tuple[Any, ...] | None
    null_fraction: float
    unique: bool
    mean: float | None


def column_domain(name: str, spec: ColumnSpec, checks: tuple[CheckRule, ...]) -> Domain:
    low = spec.min if isinstance(spec.min, float) else None
    high = spec.max if isinstance(spec.max, float) else None
    values: tuple[Any, ...] | None = spec.values
    null_fraction = spec.max_null_fraction
    unique, mean = False, None
    for check in checks:
        if check.column != name:
            continue
        if check.between is not None:
            low = check.between[0] if low is None or (check.between[0] is not None and check.between[0] > low) else low
            high = (
                check.between[1] if high is None or (check.between[1] is not None and check.between[1] < high) else high
            )
        elif check.in_set is not None:
            allowed = check.in_set if values is None else tuple(v for v in values if v in check.in_set)
            values = allowed or values
        elif check.max_null_fraction is not None:
            null_fraction = min(null_fraction, check.max_null_fraction)
        elif check.unique:
            unique = True
        elif check.mean_between is not None:
            bounds = [b for b in check.mean_between if b is not None]
            mean = sum(bounds) / len(bounds)
    return Domain(low, high, values, null_fraction, unique, mean)


def numeric_range(domain: Domain, non_negative: bool) -> tuple[float, float]:
    low, high = domain.low, domain.high
    if non_negative:
        low = 0.0 if low is None else max(low, 0.0)
    if low is None and high is None:
        low, high = 0.0, DEFAULT_SPAN
    elif low is None:
        low = high - DEFAULT_SPAN
    elif high is None:
        high = low + DEFAULT_SPAN
    if domain.mean is not None and low <= domain.mean <= high:  # a symmetric range centred on the asked mean
        half = min(domain.mean - low, high - domain.mean)
        low, high = domain.mean - half, domain.mean + half
    return float(low), float(high)


def stable_seed(text: str) -> int:
    """A seed from ``text`` that is the same in every process (``hash()`` of a str is not)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
