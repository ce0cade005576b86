"""Unit tests for ``dev.synthetic``: the churn generator and the landing writer."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from dev.local_s3 import LocalS3
from dev.synthetic import GENERATORS
from dev.synthetic.churn import PLANS, REGIONS, churn_day
from dev.synthetic.landing import encode_frame, partition_key, write_days
from include.retrain.config import PipelineConfig, load_pipeline
from include.retrain.runs import TrainingWindow
from include.retrain.stages.ingest import assemble_window, coerce_to_schema, select_window_files
from include.retrain.stages.landing_file import read_landing_file

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
DAY = date(2026, 1, 5)
COLUMNS = {
    "customer_id": "str",
    "tenure_months": "Int64",
    "plan": "category",
    "monthly_charges": "float64",
    "support_calls": "Int64",
    "region": "category",
    "signup_date": "datetime64[us]",
    "churned": "Int64",
}


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


@pytest.fixture(scope="module")
def big_day() -> pd.DataFrame:
    return churn_day(DAY, 20_000)


class TestChurnDay:
    """churn_day is deterministic, realistic and matches the churn config."""

    def test_deterministic_for_day_rows_and_seed(self) -> None:
        pd.testing.assert_frame_equal(churn_day(DAY, 300), churn_day(DAY, 300))
        pd.testing.assert_frame_equal(churn_day(DAY, 300, seed=11), churn_day(DAY, 300, seed=11))

    def test_seed_changes_the_data(self) -> None:
        first, second = churn_day(DAY, 300, seed=1), churn_day(DAY, 300, seed=2)
        assert first["customer_id"].tolist() == second["customer_id"].tolist()
        assert not first["tenure_months"].equals(second["tenure_months"])

    def test_differs_between_days(self) -> None:
        first, second = churn_day(DAY, 300), churn_day(DAY + timedelta(days=1), 300)
        assert not first["tenure_months"].equals(second["tenure_months"])
        assert not first["monthly_charges"].equals(second["monthly_charges"])

    def test_ids_unique_within_and_across_days(self) -> None:
        frames = [churn_day(DAY + timedelta(days=i), 500) for i in range(3)]
        ids = pd.concat([f["customer_id"] for f in frames], ignore_index=True)
        assert ids.is_unique
        assert len(ids) == 1500
        assert frames[0]["customer_id"].iloc[0] == "C20260105-0000000"

    def test_columns_and_dtypes(self) -> None:
        frame = churn_day(DAY, 50)
        assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == COLUMNS
        assert len(frame) == 50
        assert list(frame["plan"].cat.categories) == list(PLANS)
        assert list(frame["region"].cat.categories) == list(REGIONS)

    def test_matches_the_churn_config(self, config: PipelineConfig, big_day: pd.DataFrame) -> None:
        assert list(big_day.columns) == list(config.dataset.columns)
        for name, spec in config.dataset.columns.items():
            column = big_day[name]
            if spec.min is not None:
                assert column.min() >= spec.min, name
            if spec.max is not None:
                assert column.max() <= spec.max, name
            if spec.values is not None:
                assert set(column.dropna()) <= set(spec.values), name
            assert column.isna().mean() <= spec.max_null_fraction, name
        assert (big_day["signup_date"] <= pd.Timestamp(DAY)).all()

    def test_about_one_percent_nulls_in_monthly_charges(self, big_day: pd.DataFrame) -> None:
        assert 0.005 <= big_day["monthly_charges"].isna().mean() <= 0.015
        assert 0.002 <= big_day["region"].isna().mean() <= 0.01
        for name in ("customer_id", "tenure_months", "plan", "support_calls", "signup_date", "churned"):
            assert big_day[name].notna().all(), name

    def test_churn_rate_is_plausible(self, big_day: pd.DataFrame) -> None:
        assert set(big_day["churned"].unique()) == {0, 1}
        assert 0.05 <= big_day["churned"].mean() <= 0.60

    def test_churn_signal_is_learnable(self, big_day: pd.DataFrame) -> None:
        many_calls = big_day["support_calls"] >= 3
        assert big_day.loc[many_calls, "churned"].mean() > big_day.loc[~many_calls, "churned"].mean() + 0.1

    def test_registered_as_the_churn_generator(self) -> None:
        assert GENERATORS["churn"] is churn_day


class TestLanding:
    """write_days and partition_key write the landing layout that ingest reads."""

    def test_partition_key(self, config: PipelineConfig) -> None:
        assert partition_key(config.dataset, DAY) == "churn/ds=2026-01-05/part-0.parquet"
        assert partition_key(config.dataset, DAY, "csv") == "churn/ds=2026-01-05/part-0.csv"
        prefixed = config.dataset.model_copy(update={"prefix": "landing/v2"})
        assert partition_key(prefixed, DAY) == "landing/v2/churn/ds=2026-01-05/part-0.parquet"

    @pytest.mark.parametrize("fmt", ["parquet", "csv"])
    def test_write_days_to_loopback_s3(self, s3: LocalS3, config: PipelineConfig, tmp_path: Path, fmt: str) -> None:
        client = s3.client()
        dataset = config.dataset.model_copy(update={"format": fmt})
        keys = write_days(client, dataset, churn_day, first_day=DAY, days=3, rows_per_day=40)
        days = [DAY + timedelta(days=i) for i in range(3)]
        assert keys == [f"churn/ds={day.isoformat()}/part-0.{fmt}" for day in days]
        assert keys == [partition_key(dataset, day) for day in days]

        listing = client.list_objects_v2(Bucket="retrain-landing", Prefix=dataset.landing_prefix)
        stored = {item["Key"]: item["Size"] for item in listing["Contents"]}
        assert sorted(stored) == keys

        window = TrainingWindow(start=DAY, end=DAY + timedelta(days=3))
        selected = select_window_files(stored.items(), dataset, window)
        assert [f.key for f in selected] == keys
        assert [f.partition for f in selected] == days

        frames = []
        for landing_file in selected:
            path = tmp_path / f"{landing_file.partition}.{fmt}"
            client.download_file(dataset.bucket, landing_file.key, str(path))
            assert path.read_bytes() == encode_frame(churn_day(landing_file.partition, 40), fmt)
            frames.append(
                (landing_file.partition, read_landing_file(path, fmt, f"s3://{dataset.bucket}/{landing_file.key}"))
            )
        raw = coerce_to_schema(assemble_window(frames, dataset.partition_column), dataset.columns)
        expected = pd.concat([churn_day(day, 40) for day in days], ignore_index=True)
        assert len(raw) == 120
        assert raw["customer_id"].tolist() == expected["customer_id"].tolist()
        assert raw["tenure_months"].tolist() == expected["tenure_months"].tolist()
        assert raw["signup_date"].tolist() == expected["signup_date"].tolist()
        assert raw["ds"].tolist() == [pd.Timestamp(day) for day in days for _ in range(40)]
        for name, dtype in COLUMNS.items():
            assert str(raw[name].dtype) == dtype, name

    def test_write_days_with_format_override(self, s3: LocalS3, config: PipelineConfig) -> None:
        client = s3.client()
        keys = write_days(client, config.dataset, churn_day, first_day=DAY, days=1, rows_per_day=5, fmt="csv")
        assert keys == ["churn/ds=2026-01-05/part-0.csv"]
        body = client.get_object(Bucket="retrain-landing", Key=keys[0])["Body"].read()
        assert body.startswith(b"customer_id,tenure_months,plan,monthly_charges,")
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
        assert len(rows) == 5
        expected = churn_day(DAY, 5)
        assert [r["signup_date"] for r in rows] == expected["signup_date"].dt.strftime("%Y-%m-%d").tolist()
        assert [r["customer_id"] for r in rows] == expected["customer_id"].tolist()


def test_csv_landing_files_keep_a_datetime_columns_time_of_day() -> None:
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-01-02", "2026-01-03"]),
            "departure": pd.to_datetime(["2026-01-02 17:04:46", None]),
        }
    )

    text = encode_frame(frame, "csv").decode()

    assert text.splitlines() == ["day,departure", "2026-01-02,2026-01-02T17:04:46", "2026-01-03,"]
