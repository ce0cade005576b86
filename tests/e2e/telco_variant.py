"""A YAML-only variant unlike churn and demand, as a team would write it for its own table.

Text booleans ("Yes"/"No" strings, quoted as YAML 1.1 needs), a nullable int, a date and a
datetime column, a three-class label, semicolon-separated CSV landing files, two landing headers
that are not column names (read through ``landing_name``). No Python goes with it: its landing data
comes from ``dev.synthetic.SchemaGenerator``.
"""

from __future__ import annotations

from pathlib import Path

TELCO_YAML = """\
name: telco
description: Predicts the support tier a telco account needs (a YAML-only variant).
owner: telco-ml
dataset:
  name: telco
  format: csv
  csv: {delimiter: ";"}
  target: tier
  id_column: account_id
  event_date_column: signup_date
  columns:
    account_id: {type: string}
    paperless_billing: {type: category, landing_name: Paperless-Billing, values: ["Yes", "No"]}
    partner: {type: string, values: ["Yes", "No"], max_null_fraction: 0.05}
    dependents: {type: int, min: 0, max: 6, max_null_fraction: 0.1}
    monthly_charges: {type: float, min: 18, max: 120, landing_name: "Monthly charges ($)"}
    signup_date: {type: date, min: 2015-01-01, max: window_end}
    last_contact: {type: datetime, max: window_end}
    tier: {type: category, values: [bronze, silver, gold]}
window: {days: 4}
features:
  numeric: [dependents, monthly_charges]
  categorical: [paperless_billing, partner]
model:
  estimator: sklearn.ensemble.HistGradientBoostingClassifier
  params: {max_iter: 40}
promotion: {metric: accuracy, threshold: 0.5}
expectations:
  raw: {min_rows: 400, freshness_days: 1}
  features: {min_train_rows: 250, min_holdout_rows: 50}
schedule: {cron: "0 4 * * *"}
"""

#: Days of landing data the tests write, and rows per day.
DAYS, ROWS = 4, 150


def write_telco_yaml(folder: Path) -> Path:
    path = folder / "telco.yaml"
    path.write_text(TELCO_YAML)
    return path
