"""Date parts (``features.date_parts``): computed inside the model from the dates serving passes.

The ``DateParts`` step of the feature transformer, the model input contract for date columns
(``to_model_input``), and the frame the reference profile and ``check_drift`` read
(``with_date_parts``): all three give the same parts for the same dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from include.retrain.config import DATE_PARTS, FeaturesConfig
from include.retrain.gates.profile import reference_profile
from include.retrain.modelio import dump_model, load_model
from include.retrain.stages.dates import DateParts, date_part_values, with_date_parts
from include.retrain.stages.features import build_feature_transformer, fit_transformer, to_model_input

FEATURES = FeaturesConfig(
    numeric=("amount",),
    date_parts={"signup_date": ("year", "month", "dayofweek", "is_weekend"), "last_seen": ("hour", "quarter")},
)

#: Saturday 2026-03-07 14:30, Monday 2025-12-29 (a new year's week), missing.
SIGNUPS = ["2026-03-07", "2025-12-29", None]
SEEN = ["2026-03-07T14:30:00", "2025-12-29T00:05:00", "2026-02-01T23:59:59"]


def window() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": pd.array([1.5, None, 3.0], dtype="Float64"),
            "signup_date": pd.Series(pd.to_datetime(SIGNUPS)).astype("datetime64[us]"),
            "last_seen": pd.Series(pd.to_datetime(SEEN)).astype("datetime64[us]"),
        }
    )


def test_each_part_of_the_closed_list() -> None:
    dates = pd.Series(pd.to_datetime(["2026-03-07 14:30", "2025-12-29 00:05", None]))
    expected = {
        "year": [2026, 2025],
        "quarter": [1, 4],
        "month": [3, 12],
        "day": [7, 29],
        "dayofweek": [5, 0],
        "dayofyear": [66, 363],
        "is_weekend": [1, 0],
        "hour": [14, 0],
    }
    assert set(expected) == set(DATE_PARTS)
    for part, values in expected.items():
        got = date_part_values(dates, part)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got[:2], values, err_msg=part)
        assert np.isnan(got[2]), part  # a missing date has no parts
    with pytest.raises(ValueError, match="unknown date part 'weekday'"):
        date_part_values(dates, "weekday")


def test_model_input_passes_dates_as_datetime64_from_dates_text_or_zoned_times() -> None:
    frame = window()
    as_text = frame.assign(signup_date=pd.Series(SIGNUPS, dtype="str"), last_seen=pd.Series(SEEN, dtype=object))
    zoned = frame.assign(last_seen=frame["last_seen"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin"))

    model_input = to_model_input(frame, FEATURES)

    assert list(model_input.columns) == ["amount", "signup_date", "last_seen"]
    assert str(model_input["signup_date"].dtype) == "datetime64[us]"
    assert model_input["signup_date"].isna().tolist() == [False, False, True]
    pd.testing.assert_frame_equal(to_model_input(as_text, FEATURES), model_input)
    pd.testing.assert_frame_equal(to_model_input(zoned, FEATURES), model_input)  # UTC wall time


def test_the_transformer_derives_the_parts_and_imputes_a_missing_date() -> None:
    model_input = to_model_input(window(), FEATURES)

    transformer = fit_transformer(build_feature_transformer(FEATURES), model_input)
    matrix = transformer.transform(model_input)

    assert list(matrix.columns) == [
        "amount",
        "signup_date_year",
        "signup_date_month",
        "signup_date_dayofweek",
        "signup_date_is_weekend",
        "last_seen_hour",
        "last_seen_quarter",
    ]
    assert matrix.loc[0, ["signup_date_month", "signup_date_dayofweek", "signup_date_is_weekend"]].tolist() == [3, 5, 1]
    assert matrix.loc[2, "signup_date_month"] == 7.5  # the median of the training rows' months (3, 12)
    assert not matrix.isna().any().any()
    # fitted branch by branch, it is the transformer a plain fit gives
    plain = build_feature_transformer(FEATURES).fit(model_input)
    pd.testing.assert_frame_equal(plain.transform(model_input), matrix)


def test_a_model_file_with_date_parts_loads_through_the_allowlist_only() -> None:
    model_input = to_model_input(window(), FEATURES)
    transformer = fit_transformer(build_feature_transformer(FEATURES), model_input)
    data = dump_model(transformer)

    loaded = load_model(data, source="transformer")

    pd.testing.assert_frame_equal(loaded.transform(model_input), transformer.transform(model_input))
    assert "include.retrain.stages.dates.DateParts" in sio.get_untrusted_types(data=data)


def test_profile_frame_holds_the_parts_the_model_computes() -> None:
    frame = window()
    profiled = with_date_parts(frame, FEATURES)
    step = DateParts(("year", "month", "dayofweek", "is_weekend")).fit(frame[["signup_date"]])

    for column in step.get_feature_names_out():
        np.testing.assert_array_equal(profiled[column].to_numpy(), step.transform(frame[["signup_date"]])[column])
    profile = reference_profile(profiled, numeric=["amount", *FEATURES.date_part_columns], categorical=[])
    assert set(profile["numeric"]) == {"amount", *FEATURES.date_part_columns}
    assert profile["numeric"]["signup_date_month"]["missing"] == pytest.approx(1 / 3)
    assert with_date_parts(frame[["amount"]], FEATURES).columns.tolist() == ["amount"]  # no date column read


def test_date_parts_refuses_an_unknown_part_when_fitted() -> None:
    with pytest.raises(ValueError, match="DateParts needs parts from"):
        DateParts(("fortnight",)).fit(window()[["signup_date"]])
