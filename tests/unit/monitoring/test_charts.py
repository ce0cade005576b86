"""The time-series chart: scaling, ticks, markers and bars, and the SVG the page draws (escaped, readable)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from include.retrain.monitoring.charts import Bar, Marker, Point, Series, TimeChart, lay_out, nice_step, value_range
from include.retrain.monitoring.pages import chart_figure

DAY = datetime(2026, 3, 1, tzinfo=UTC)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of a piece of HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, attribute: str) -> list[dict[str, str | None]]:
        return [attrs for _, attrs in self.tags if attribute in attrs]


def metric_chart(**changes: object) -> TimeChart:
    values = {
        "title": "roc_auc per version over time",
        "value_label": "roc_auc",
        "series": [
            Series(
                "roc_auc",
                [
                    Point(DAY + timedelta(days=2), 0.75, {"version": "v3"}),
                    Point(DAY, 0.70, {"version": "v1"}),
                    Point(DAY + timedelta(days=1), 0.72, {"version": "v2"}),
                ],
            )
        ],
        "markers": [Marker(DAY + timedelta(days=1, hours=1), "promoted", "v2 promoted", {"version": "v2"})],
        "bars": [Bar(0.7, "promotion threshold")],
    }
    return TimeChart(**{**values, **changes})


def test_points_are_drawn_in_time_order_left_to_right_and_higher_values_higher() -> None:
    layout = lay_out(metric_chart())

    (series,) = layout.series
    assert [dict(p.attributes)["data-version"] for p in series.points] == ["v1", "v2", "v3"]
    xs, ys = [p.x for p in series.points], [p.y for p in series.points]
    assert layout.left < xs[0] < xs[1] < xs[2] < layout.right
    assert ys[0] > ys[1] > ys[2]  # SVG's y grows downwards
    assert all(layout.top <= y <= layout.bottom for y in ys)
    assert series.path == " ".join(f"{x},{y}" for x, y in zip(xs, ys, strict=True))
    assert [p.value for p in series.points] == ["0.7", "0.72", "0.75"]  # exact, for tests and the inspector
    assert series.points[0].date == DAY.isoformat()


def test_the_value_axis_has_round_ticks_enclosing_every_point_and_bar() -> None:
    layout = lay_out(metric_chart(bars=[Bar(0.9, "high bar")]))

    labels = [tick.label for tick in layout.y_ticks]
    assert labels[0] == "0.7000"
    assert labels[-1] == "0.9000"
    assert layout.y_ticks[0].position == layout.bottom
    assert layout.y_ticks[-1].position == layout.top
    assert layout.bars[0].y == layout.top


@pytest.mark.parametrize(
    ("span", "step"), [(1.0, 0.5), (0.05, 0.02), (0.3, 0.1), (7.0, 2.0), (0.0, 1.0), (math.inf, 1.0)]
)
def test_tick_steps_are_one_two_or_five_times_a_power_of_ten(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_one_value_gets_a_small_range_around_it_and_no_values_a_unit_range() -> None:
    low, high, _ = value_range([0.5])
    assert low < 0.5 < high
    assert high - low <= 0.1
    assert value_range([]) == (0.0, 1.0, 0.25)
    assert value_range([0.0])[0] < 0 < value_range([0.0])[1]


def test_one_point_sits_in_the_middle_and_is_drawn_without_a_line() -> None:
    chart = metric_chart(series=[Series("roc_auc", [Point(DAY, 0.7, {"version": "v1"})])], markers=[], bars=[])
    layout = lay_out(chart)

    (point,) = layout.series[0].points
    assert point.x == (layout.left + layout.right) / 2
    assert layout.top < point.y < layout.bottom
    html = Elements(chart_figure(layout, "one"))
    assert [tag for tag, _ in html.tags if tag == "polyline"] == []
    assert [attrs["data-version"] for attrs in html.having("data-version")] == ["v1"]


def test_an_empty_chart_says_so_and_draws_no_svg() -> None:
    layout = lay_out(metric_chart(series=[Series("roc_auc", [Point(DAY, math.nan)])], markers=[]))

    assert layout.empty
    html = chart_figure(layout, "empty")
    assert "Nothing to chart yet." in html
    assert "<svg" not in html


def test_markers_and_bars_are_placed_on_the_time_and_value_axes() -> None:
    layout = lay_out(metric_chart())

    (marker,) = layout.markers
    v2, v3 = layout.series[0].points[1:]
    assert v2.x < marker.x < v3.x
    assert (marker.kind, marker.attributes) == ("promoted", [("data-version", "v2")])
    (bar,) = layout.bars
    assert bar.y == layout.series[0].points[0].y  # the threshold is v1's value
    assert layout.marker_kinds == ["promoted"]


def test_the_svg_carries_each_series_and_point_as_data_attributes() -> None:
    two = Series("accuracy", [Point(DAY, 0.8, {"version": "v1"})])
    html = Elements(chart_figure(lay_out(metric_chart(series=[*metric_chart().series, two])), "metrics"))

    assert [attrs["data-series"] for attrs in html.having("data-series")] == ["roc_auc", "accuracy"]
    points = [(a["data-version"], a["data-value"], a["data-date"]) for a in html.having("data-value") if "cx" in a]
    assert points == [
        ("v1", "0.7", DAY.isoformat()),
        ("v2", "0.72", (DAY + timedelta(days=1)).isoformat()),
        ("v3", "0.75", (DAY + timedelta(days=2)).isoformat()),
        ("v1", "0.8", DAY.isoformat()),
    ]
    (marker,) = html.having("data-kind")
    assert (marker["data-kind"], marker["data-version"]) == ("promoted", "v2")
    (svg,) = [attrs for tag, attrs in html.tags if tag == "svg" and attrs.get("role") == "img"]
    assert svg["data-chart"] == "metrics"
    text = " ".join(html.text)
    assert "roc_auc per version over time: 4 values in 2 series, 1 events marked" in text  # the SVG's title
    assert "promotion threshold" in text
    assert "promoted (vertical line" in text


def test_hostile_names_labels_and_values_are_escaped() -> None:
    hostile = '"><script>alert(1)</script>'
    chart = TimeChart(
        title=f"title {hostile}",
        value_label=hostile,
        series=[Series(hostile, [Point(DAY, 0.5, {"version": hostile})])],
        markers=[Marker(DAY, "promoted", f"reason {hostile}", {"version": hostile})],
        bars=[Bar(0.4, hostile)],
        notes=[f"note {hostile}"],
    )
    html = chart_figure(lay_out(chart), "hostile")

    assert "<script>" not in html
    assert html.count("&lt;script&gt;") >= 6
    parsed = Elements(html)
    assert [attrs["data-series"] for attrs in parsed.having("data-series")] == [hostile]
    assert {attrs["data-version"] for attrs in parsed.having("data-version")} == {hostile}


def test_an_attribute_name_that_is_no_plain_name_is_refused() -> None:
    chart = metric_chart(series=[Series("x", [Point(DAY, 1.0, {'x" onload="alert(1)': "v"})])])
    with pytest.raises(ValueError, match="not a plain lower-case name"):
        lay_out(chart)
    with pytest.raises(ValueError, match="of its own"):
        lay_out(metric_chart(series=[Series("x", [Point(DAY, 1.0, {"value": "v"})])]))


def test_times_without_a_zone_are_utc_and_the_time_axis_has_round_ticks() -> None:
    naive = Series("psi", [Point(datetime(2026, 3, 1), 0.1), Point(datetime(2026, 3, 11), 0.2)])
    layout = lay_out(TimeChart("PSI", "psi", [naive]))

    assert layout.series[0].points[0].date == "2026-03-01T00:00:00+00:00"
    assert [tick.label for tick in layout.x_ticks] == ["2026-03-01", "2026-03-04", "2026-03-07", "2026-03-10"]
    assert all(layout.left < tick.position < layout.right for tick in layout.x_ticks)


def test_events_seconds_apart_are_drawn_on_a_day_around_them_with_hour_ticks() -> None:
    registered = DAY + timedelta(hours=12)
    chart = TimeChart(
        "roc_auc",
        "roc_auc",
        [Series("roc_auc", [Point(registered, 0.7, {"version": "v1"})])],
        markers=[Marker(registered + timedelta(seconds=2), "promoted", "v1 promoted")],
    )
    layout = lay_out(chart)

    (point,) = layout.series[0].points
    middle = (layout.left + layout.right) / 2
    assert abs(point.x - middle) < 1
    assert abs(layout.markers[0].x - point.x) < 1
    labels = [tick.label for tick in layout.x_ticks]
    assert labels[0] == "03-01 00:00"
    assert len(set(labels)) == len(labels) >= 4
