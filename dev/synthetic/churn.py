"""Synthetic churn data: a customer snapshot per day with a learnable churn signal.

Deterministic: the same day, row count and seed always give the same rows, so demo runs and
tests are reproducible. Realistic on purpose: categoricals, a date column, a few nulls.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

PLANS = ("basic", "standard", "premium")
REGIONS = ("north", "south", "east", "west")


def churn_day(day: date, rows: int, seed: int = 7) -> pd.DataFrame:
    """One day's partition of churn data with ``rows`` customers.

    Columns: customer_id (unique across days), tenure_months, plan, monthly_charges (~1% null),
    support_calls, region (~0.5% null), signup_date, churned (0/1).
    """
    rng = np.random.default_rng([seed, day.toordinal()])
    index = np.arange(rows)
    plan_idx = rng.choice(len(PLANS), size=rows, p=[0.5, 0.3, 0.2])
    tenure = np.minimum(rng.geometric(1 / 20, size=rows) - 1, 120)
    base_charge = np.array([25.0, 55.0, 95.0])[plan_idx]
    charges = np.round(base_charge + rng.normal(0, 8, size=rows) + 0.05 * tenure, 2).clip(5, 400)
    calls = rng.poisson(np.array([1.8, 1.2, 0.8])[plan_idx])
    region_idx = rng.integers(0, len(REGIONS), size=rows)
    logit = (
        -0.6
        - 0.045 * tenure
        + 0.55 * calls
        + 0.012 * (charges - 50)
        + np.array([0.5, 0.0, -0.5])[plan_idx]
        + np.array([0.0, 0.3, 0.0, -0.2])[region_idx]
    )
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int64")
    signup = pd.Timestamp(day) - pd.to_timedelta(np.round(tenure * 30.44).astype("int64"), unit="D")

    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(np.char.add(f"C{day:%Y%m%d}-", np.char.zfill(index.astype(str), 7)), dtype="str"),
            "tenure_months": pd.array(tenure, dtype="Int64"),
            "plan": pd.Categorical.from_codes(plan_idx, categories=list(PLANS)),
            "monthly_charges": charges.astype("float64"),
            "support_calls": pd.array(calls, dtype="Int64"),
            "region": pd.Categorical.from_codes(region_idx, categories=list(REGIONS)),
            "signup_date": signup.astype("datetime64[us]"),
            "churned": pd.array(churned, dtype="Int64"),
        }
    )
    frame.loc[rng.random(rows) < 0.01, "monthly_charges"] = np.nan
    frame.loc[rng.random(rows) < 0.005, "region"] = np.nan
    return frame
