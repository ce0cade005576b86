"""Churn landing data whose concept flips on a known day: the closed loop's story (issue 19).

From ``SHIFT`` on, the label's dependence on every feature is reflected about its mean logit, so
the churn rate and the feature distributions stay put (no drift gate trips) while a model trained
before the shift ranks the new days backwards. Shared by the e2e test (``dag.test``) and the
acceptance test (the real scheduler).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from dev.synthetic.churn import churn_day

FIRST = date(2026, 1, 1)
#: v1 trains on the WINDOW_DAYS days before this window end (2026-01-07 .. 2026-01-08), all pre-shift.
V1_END = date(2026, 1, 9)
#: The first day of the new concept.
SHIFT = date(2026, 1, 10)
LABEL_DELAY = 1
FOR_DAYS = 2
BAR = 0.6
#: Short enough that the retrain's window (ending after the newest labeled day) holds only post-shift days.
WINDOW_DAYS = 2
ROWS = 1500  # per day
#: The request must come by this scoring run: the live metric of day D is due once D + LABEL_DELAY < run end,
#: so the FOR_DAYS post-shift days SHIFT .. SHIFT + FOR_DAYS - 1 all have one at the run ending here.
REQUEST_BY = SHIFT + timedelta(days=LABEL_DELAY + FOR_DAYS)


def _logit(frame: pd.DataFrame) -> np.ndarray:
    """The churn generator's logit (dev.synthetic.churn), recomputed from a day's columns."""
    tenure = frame["tenure_months"].to_numpy(dtype="float64")
    calls = frame["support_calls"].to_numpy(dtype="float64")
    charges = frame["monthly_charges"].to_numpy(dtype="float64", na_value=np.nan)
    charges = np.where(np.isnan(charges), np.nanmean(charges), charges)
    plan = frame["plan"].map({"basic": 0.5, "standard": 0.0, "premium": -0.5}).to_numpy(dtype="float64")
    region = frame["region"].map({"north": 0.0, "south": 0.3, "east": 0.0, "west": -0.2})
    region = region.astype("float64").fillna(0.0).to_numpy()
    return -0.6 - 0.045 * tenure + 0.55 * calls + 0.012 * (charges - 50) + plan + region


def day_frame(day: date) -> pd.DataFrame:
    """One landing day, labeled; from SHIFT on the concept is reflected about its mean logit (same churn rate)."""
    frame = churn_day(day, ROWS)
    if day >= SHIFT:
        logit = _logit(frame)
        flipped = 2 * logit.mean() - logit
        rng = np.random.default_rng([99, day.toordinal()])
        frame["churned"] = pd.array((rng.random(len(frame)) < 1 / (1 + np.exp(-flipped))).astype("int64"), "Int64")
    return frame


def unlabeled(frame: pd.DataFrame) -> pd.DataFrame:
    """The day as it lands before its labels: the label column empty."""
    return frame.assign(churned=pd.array([None] * len(frame), dtype="Int64"))
