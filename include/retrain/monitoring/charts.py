"""A time-series chart laid out for server-rendered SVG: series of points, event markers, bars.

:func:`lay_out` turns a :class:`TimeChart` (values in data units) into a :class:`ChartLayout`
(pixel coordinates, axis ticks and the words a reader needs); the ``chart`` macro in
``templates/chart.html.j2`` draws it as inline SVG. Nothing is fetched and nothing runs in the
browser: the page's Content-Security-Policy allows no scripts and no other origin.

Each series is drawn as a ``<g data-series="<name>">`` group and each point as a circle carrying
``data-date``, ``data-value`` and its own ``data-*`` attributes (e.g. ``data-version``), so a
browser test (or a person with the inspector) reads the values the chart shows. Colour is never
the only cue: the legend names each series and each marker kind, every point has a tooltip, and
the figure's caption says what is charted and what was left out.

The same chart serves every time series of the registry page: a metric per registered version
(markers: promotions and rollbacks), a live metric per day (markers: version boundaries) and PSI
per feature over runs (bars: the drift gate's warning and failure thresholds).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from include.retrain.monitoring.chart_axes import nice_step, time_range, time_ticks, value_range

#: The SVG's size in CSS pixels (it scales down with the page: ``viewBox`` and ``width: 100%``).
WIDTH, HEIGHT = 760, 280
#: Room for the y-axis labels (left), the x-axis labels (bottom) and marker labels (top).
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 40, 28, 40
#: Colours for the series, in order (each also has its name in the legend; the 8 are distinct for
#: the common colour-vision deficiencies: the Okabe-Ito palette).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442")

_ATTRIBUTE = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Point:
    """One value at one time; ``attributes`` become the point's ``data-*`` attributes (e.g. ``version``)."""

    at: datetime
    value: float
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Series:
    """A named line of points (drawn in time order; values that are not finite numbers are left out)."""

    name: str
    points: Sequence[Point]


@dataclass(frozen=True)
class Marker:
    """An event at a time, drawn as a vertical line: ``kind`` (e.g. ``promoted``) and what to say about it."""

    at: datetime
    kind: str
    label: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bar:
    """A horizontal reference line at a value (e.g. a threshold), with its label."""

    value: float
    label: str


@dataclass(frozen=True)
class TimeChart:
    """What to chart, in data units. ``value_format`` formats values for ticks and tooltips."""

    title: str
    value_label: str
    series: Sequence[Series]
    markers: Sequence[Marker] = ()
    bars: Sequence[Bar] = ()
    value_format: str = "{:.4f}"
    #: Sentences under the chart: what it shows, its bounds, what could not be read.
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class PlacedPoint:
    x: float
    y: float
    date: str
    value: str
    tooltip: str
    attributes: list[tuple[str, str]]


@dataclass(frozen=True)
class PlacedSeries:
    name: str
    colour: str
    path: str  # the polyline's ``points``
    points: list[PlacedPoint]


@dataclass(frozen=True)
class PlacedMarker:
    x: float
    kind: str
    label: str
    date: str
    attributes: list[tuple[str, str]]


@dataclass(frozen=True)
class PlacedBar:
    y: float
    label: str
    value: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class ChartLayout:
    """A chart in pixels, as the ``chart`` macro draws it. ``empty``: no point to draw (the macro says so)."""

    title: str
    value_label: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    series: list[PlacedSeries]
    markers: list[PlacedMarker]
    bars: list[PlacedBar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    marker_kinds: list[str]
    notes: list[str]
    summary: str

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _data_attributes(attributes: Mapping[str, str]) -> list[tuple[str, str]]:
    """``data-<name>`` pairs; a name that is no plain lower-case word is a programming error."""
    for name in attributes:
        if not _ATTRIBUTE.fullmatch(name) or name in ("date", "value", "series", "kind"):
            raise ValueError(f"chart attribute {name!r} is not a plain lower-case name of its own")
    return [(f"data-{name}", str(value)) for name, value in attributes.items()]


def lay_out(chart: TimeChart, *, width: int = WIDTH, height: int = HEIGHT) -> ChartLayout:
    """Where everything of ``chart`` goes in a ``width`` x ``height`` SVG.

    Time runs left to right over the span of every point and marker (see :func:`time_range`);
    values run bottom to top over round numbers enclosing every point and bar.
    """
    left, right = float(MARGIN_LEFT), float(width - MARGIN_RIGHT)
    top, bottom = float(MARGIN_TOP), float(height - MARGIN_BOTTOM)
    series = [
        (s.name, sorted((p for p in s.points if _finite(p.value)), key=lambda p: _utc(p.at))) for s in chart.series
    ]
    times = [_utc(p.at) for _, points in series for p in points] + [_utc(m.at) for m in chart.markers]
    values = [float(p.value) for _, points in series for p in points]
    bars = [b for b in chart.bars if _finite(b.value)]
    low, high, step = value_range(values + [b.value for b in bars])
    first, last = time_range(times)
    seconds = (last - first).total_seconds()

    def x_of(at: datetime) -> float:
        return round(left + (right - left) * (_utc(at) - first).total_seconds() / seconds, 2)

    def y_of(value: float) -> float:
        return round(bottom - (bottom - top) * (value - low) / (high - low), 2)

    fmt = chart.value_format.format
    placed = []
    for number, (name, points) in enumerate(series):
        spots = [
            PlacedPoint(
                x=x_of(p.at),
                y=y_of(p.value),
                date=_utc(p.at).isoformat(),
                value=repr(float(p.value)),
                tooltip=" ".join([name, *(str(v) for v in p.attributes.values()), f"{_utc(p.at):%Y-%m-%d %H:%M}:"])
                + f" {fmt(p.value)}",
                attributes=_data_attributes(p.attributes),
            )
            for p in points
        ]
        path = " ".join(f"{p.x},{p.y}" for p in spots)
        placed.append(PlacedSeries(name, PALETTE[number % len(PALETTE)], path, spots))
    markers = [
        PlacedMarker(x_of(m.at), m.kind, m.label, _utc(m.at).isoformat(), _data_attributes(m.attributes))
        for m in sorted(chart.markers, key=lambda m: _utc(m.at))
    ]
    y_ticks = []
    count = round((high - low) / step)
    for i in range(count + 1):
        value = low + i * step
        y_ticks.append(Tick(y_of(value), fmt(value)))
    x_ticks = [Tick(x_of(at), label) for at, label in time_ticks(first, last)]
    shown = sum(len(s.points) for s in placed)
    summary = f"{chart.title}: {shown} values in {len(placed)} series"
    if markers:
        summary += f", {len(markers)} events marked"
    return ChartLayout(
        title=chart.title,
        value_label=chart.value_label,
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        series=placed,
        markers=markers,
        bars=[PlacedBar(y_of(b.value), b.label, fmt(b.value)) for b in bars],
        x_ticks=x_ticks if times else [],
        y_ticks=y_ticks,
        marker_kinds=list(dict.fromkeys(m.kind for m in markers)),
        notes=list(chart.notes),
        summary=summary,
    )


__all__ = ["Bar", "ChartLayout", "Marker", "Point", "Series", "TimeChart", "lay_out", "nice_step", "value_range"]
