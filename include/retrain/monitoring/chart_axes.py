"""The axes of a time chart (``monitoring.charts``): value and time ranges, round ticks and their labels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

#: The shortest time span an axis shows: events seconds apart (a version registered and promoted by
#: one run) are drawn on a readable scale, around their middle.
MIN_SPAN = timedelta(days=1)
#: Room left at each end of the time axis, as a share of the span (no point sits on the axis).
TIME_PADDING = 0.03
#: About how many ticks each axis gets.
Y_TICKS, X_TICKS = 5, 6


def nice_step(span: float, ticks: int = Y_TICKS) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(ticks - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))  # 0.2/4 is 0.05 too


def value_range(values: Sequence[float]) -> tuple[float, float, float]:
    """The y-axis: ``(low, high, step)``, round numbers enclosing ``values`` (one value or none: a unit around it)."""
    if not values:
        return 0.0, 1.0, 0.25
    low, high = min(values), max(values)
    if high - low < 1e-12:
        pad = abs(low) * 0.05 or 0.05
        low, high = low - pad, high + pad
    step = nice_step(high - low)
    # Rounded a little first: 0.7 / 0.05 is 13.999... in floating point, and must give 0.7, not 0.65.
    return math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step, step


def time_range(times: Sequence[datetime]) -> tuple[datetime, datetime]:
    """The time axis: every time, padded a little at both ends, and at least ``MIN_SPAN`` long."""
    if not times:
        now = datetime(1970, 1, 1, tzinfo=UTC)
        return now, now + MIN_SPAN
    first, last = min(times), max(times)
    span = max(last - first, MIN_SPAN)
    middle = first + (last - first) / 2
    half = span * (0.5 + TIME_PADDING)
    return middle - half, middle + half


#: Tick steps of the time axis, in hours: the first that gives at most about ``X_TICKS`` ticks.
_TIME_STEPS = (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 672, 1344, 2184, 4368, 8760)


def time_ticks(start: datetime, end: datetime, ticks: int = X_TICKS) -> list[tuple[datetime, str]]:
    """Round times between ``start`` and ``end`` (whole hours, or midnights a step of days apart), labelled."""
    hours = (end - start).total_seconds() / 3600 / max(ticks - 1, 1)
    step = timedelta(hours=next((h for h in _TIME_STEPS if h >= hours), math.ceil(hours / 24) * 24))
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        at = midnight if midnight >= start else midnight + timedelta(days=1)
    else:
        at = midnight + step * math.ceil((start - midnight) / step)
    found = []
    while at <= end:
        found.append((at, f"{at:%Y-%m-%d}" if step >= timedelta(days=1) else f"{at:%m-%d %H:%M}"))
        at += step
    return found
