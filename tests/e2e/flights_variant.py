"""A YAML-only variant whose label is derived in config and whose dates become model features.

A flights table as a team would point the bundle at it: a text boolean ("Yes"/"No" strings,
quoted as YAML 1.1 needs), a nullable int, a date and a datetime whose parts (month, day of week,
weekend, hour) are features, and a label derived from a landing column (``late``: arrival delay
above 15 minutes; a flight whose delay is not known yet has no label and is dropped at ingest).
No Python goes with it: its landing data comes from ``dev.synthetic.SchemaGenerator``.
"""

from __future__ import annotations

from pathlib import Path

FLIGHTS_YAML = """\
name: flights
description: Predicts whether a domestic flight arrives more than 15 minutes late (a YAML-only variant).
owner: ops-ml
dataset:
  name: flights
  format: csv
  target: late
  label: {column: arr_delay, greater_than: 15}
  target_nulls: drop
  id_column: flight_id
  columns:
    flight_id: {type: string}
    carrier: {type: category, values: [AA, DL, UA, WN]}
    red_eye: {type: string, values: ["Yes", "No"]}
    seats_sold: {type: int, min: 0, max: 300, max_null_fraction: 0.1}
    distance: {type: float, min: 100, max: 3000}
    flight_date: {type: date, min: 2024-01-01, max: window_end}
    scheduled_departure: {type: datetime, min: 2024-01-01, max: window_end}
    arr_delay: {type: float, min: -60, max: 600, max_null_fraction: 0.1}
window: {days: 4}
features:
  numeric: [seats_sold, distance]
  categorical: [carrier, red_eye]
  date_parts:
    flight_date: [month, dayofweek, is_weekend]
    scheduled_departure: [hour]
model:
  estimator: sklearn.ensemble.HistGradientBoostingClassifier
  params: {max_iter: 60}
promotion: {metric: roc_auc, threshold: 0.6}
expectations:
  raw: {min_rows: 400, freshness_days: 1}
  features: {min_train_rows: 250, min_holdout_rows: 50}
schedule: {cron: "0 5 * * *"}
"""

#: Days of landing data the tests write, and rows per day.
DAYS, ROWS = 4, 200


def write_flights_yaml(folder: Path) -> Path:
    path = folder / "flights.yaml"
    path.write_text(FLIGHTS_YAML)
    return path
