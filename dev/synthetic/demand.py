"""Synthetic daily demand: units sold per store, product family and day (a regression target).

Deterministic for (day, rows, seed). Demand follows price, promotions, the weekday, the
season and the weather, with multiplicative noise, so a model has something real to learn.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

STORES = tuple(f"S{number:02d}" for number in range(1, 21))
FAMILIES = ("grocery", "beverages", "cleaning", "produce", "dairy", "bakery")
_BASE_UNITS = np.array([40.0, 25.0, 8.0, 30.0, 20.0, 15.0])
_BASE_PRICE = np.array([3.5, 2.0, 6.0, 2.5, 1.8, 2.2])


def demand_day(day: date, rows: int, seed: int = 11) -> pd.DataFrame:
    """One day's partition of demand data with ``rows`` store/product records.

    Columns: record_id (unique across days), store_id, product_family, price, promo,
    temperature_c (~1% null), day_of_week, units_sold.
    """
    rng = np.random.default_rng([seed, day.toordinal()])
    family = rng.integers(0, len(FAMILIES), size=rows)
    store = rng.integers(0, len(STORES), size=rows)
    store_effect = np.random.default_rng(seed).normal(0, 0.25, size=len(STORES))[store]
    promo = rng.random(rows) < 0.15
    price = np.round(_BASE_PRICE[family] * rng.normal(1.0, 0.12, size=rows) * np.where(promo, 0.8, 1.0), 2).clip(0.2)
    season = np.sin(2 * np.pi * day.timetuple().tm_yday / 365.25)
    temperature = np.round(12 + 10 * season + rng.normal(0, 3, size=rows), 1)
    weekend = day.weekday() >= 5
    log_units = (
        np.log(_BASE_UNITS[family])
        + store_effect
        + 0.35 * promo
        - 1.2 * np.log(price / _BASE_PRICE[family])
        + (0.2 if weekend else 0.0)
        + np.where(family == 1, 0.03 * (temperature - 12), 0.0)
    )
    units = np.round(np.exp(log_units) * rng.gamma(8.0, 1 / 8.0, size=rows), 1)
    frame = pd.DataFrame(
        {
            "record_id": pd.Series(
                np.char.add(f"D{day:%Y%m%d}-", np.char.zfill(np.arange(rows).astype(str), 7)), dtype="str"
            ),
            "store_id": pd.Categorical.from_codes(store, categories=list(STORES)),
            "product_family": pd.Categorical.from_codes(family, categories=list(FAMILIES)),
            "price": price.astype("float64"),
            "promo": pd.array(promo, dtype="boolean"),
            "temperature_c": temperature.astype("float64"),
            "day_of_week": pd.array(np.full(rows, day.weekday()), dtype="Int64"),
            "units_sold": units.astype("float64"),
        }
    )
    frame.loc[rng.random(rows) < 0.01, "temperature_c"] = np.nan
    return frame
