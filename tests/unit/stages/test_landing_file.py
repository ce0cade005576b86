"""Unit tests for ``include.retrain.stages.landing_file``: Parquet and CSV landing files, good and bad."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dev.synthetic.churn import churn_day
from dev.synthetic.landing import encode_frame
from include.retrain.config import CsvConfig
from include.retrain.errors import DataFailure
from include.retrain.stages.landing_file import read_landing_file

SOURCE = "s3://retrain-landing/churn/ds=2026-01-05/part-0"


def _parquet_bytes() -> bytes:
    return encode_frame(churn_day(date(2026, 1, 5), 300), "parquet")


class TestReadLandingFile:
    """read_landing_file round-trips good files and turns unreadable ones into DataFailure."""

    def test_read_parquet_round_trip(self, tmp_path: Path) -> None:
        frame = churn_day(date(2026, 1, 5), 200)
        path = tmp_path / "part-0.parquet"
        path.write_bytes(encode_frame(frame, "parquet"))
        read = read_landing_file(path, "parquet", SOURCE)
        pd.testing.assert_frame_equal(read, frame)

    def test_read_parquet_selects_known_columns_only(self, tmp_path: Path) -> None:
        frame = churn_day(date(2026, 1, 5), 20)
        path = tmp_path / "part-0.parquet"
        path.write_bytes(encode_frame(frame, "parquet"))
        read = read_landing_file(path, "parquet", SOURCE, columns=["plan", "churned", "not_there"])
        assert list(read.columns) == ["plan", "churned"]
        assert read["churned"].tolist() == frame["churned"].tolist()

    def test_read_csv_round_trip_as_strings(self, tmp_path: Path) -> None:
        frame = churn_day(date(2026, 1, 5), 200)
        path = tmp_path / "part-0.csv"
        path.write_bytes(encode_frame(frame, "csv"))
        read = read_landing_file(path, "csv", SOURCE)
        assert list(read.columns) == list(frame.columns)
        assert len(read) == len(frame)
        assert all(str(dtype) == "str" for dtype in read.dtypes)
        assert read["customer_id"].tolist() == frame["customer_id"].tolist()
        assert read["monthly_charges"].isna().tolist() == frame["monthly_charges"].isna().tolist()
        assert read["signup_date"].iloc[0] == frame["signup_date"].iloc[0].strftime("%Y-%m-%d")

    @pytest.mark.parametrize(
        "make_body",
        [
            pytest.param(lambda: np.random.default_rng(0).bytes(4096), id="random-bytes"),
            pytest.param(lambda: _parquet_bytes()[: len(_parquet_bytes()) // 2], id="truncated-half"),
            pytest.param(lambda: b"PAR1" + np.random.default_rng(1).bytes(100) + b"PAR1", id="fake-magic"),
            pytest.param(lambda: b"", id="empty"),
        ],
    )
    def test_read_corrupt_parquet_raises_data_failure(self, tmp_path: Path, make_body: Callable[[], bytes]) -> None:
        path = tmp_path / "part-0.parquet"
        path.write_bytes(make_body())
        with pytest.raises(DataFailure, match="Parquet") as excinfo:
            read_landing_file(path, "parquet", SOURCE)
        assert SOURCE in str(excinfo.value)

    def test_read_truncated_csv_raises(self, tmp_path: Path) -> None:
        body = encode_frame(churn_day(date(2026, 1, 5), 50), "csv")
        assert body.endswith(b"\n")
        last_line_start = body.rstrip(b"\n").rfind(b"\n") + 1
        last_line = body[last_line_start:].rstrip(b"\n")
        cut = last_line_start + len(last_line) // 2
        path = tmp_path / "part-0.csv"
        path.write_bytes(body[:cut])
        with pytest.raises(DataFailure, match="truncated") as excinfo:
            read_landing_file(path, "csv", SOURCE)
        assert SOURCE in str(excinfo.value)

    def test_read_csv_without_final_newline_but_complete_is_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "part-0.csv"
        path.write_bytes(b"a,b\n1,2\n3,4")
        assert read_landing_file(path, "csv", SOURCE)["b"].tolist() == ["2", "4"]

    def test_read_non_utf8_csv_raises(self, tmp_path: Path) -> None:
        path = tmp_path / "part-0.csv"
        path.write_bytes("customer_id,plan\nC1,caf\xe9\nC2,basic\n".encode("latin-1"))
        with pytest.raises(DataFailure, match="UTF-8") as excinfo:
            read_landing_file(path, "csv", SOURCE)
        assert SOURCE in str(excinfo.value)

    def test_read_empty_csv_raises(self, tmp_path: Path) -> None:
        path = tmp_path / "part-0.csv"
        path.write_bytes(b"")
        with pytest.raises(DataFailure, match="empty"):
            read_landing_file(path, "csv", SOURCE)


class TestCsvDialect:
    """``dataset.csv``: semicolons, tabs, extra missing-value markers and spaces after delimiters."""

    @pytest.mark.parametrize("delimiter", [";", "\t", "|"])
    def test_a_delimiter_reads_like_commas(self, tmp_path: Path, delimiter: str) -> None:
        frame = churn_day(date(2026, 1, 5), 50)
        path = tmp_path / "part-0.csv"
        path.write_bytes(encode_frame(frame, "csv", delimiter=delimiter))
        read = read_landing_file(path, "csv", SOURCE, csv=CsvConfig(delimiter=delimiter))
        assert list(read.columns) == list(frame.columns)
        assert read["customer_id"].tolist() == frame["customer_id"].tolist()

    def test_the_uci_wine_layout_reads_with_semicolons(self, tmp_path: Path) -> None:
        path = tmp_path / "winequality-red.csv"
        path.write_bytes(b'"fixed acidity";"volatile acidity";"quality"\n7.4;0.7;5\n7.8;0.88;5\n')
        read = read_landing_file(path, "csv", SOURCE, csv=CsvConfig(delimiter=";"))
        assert list(read.columns) == ["fixed acidity", "volatile acidity", "quality"]
        assert read["volatile acidity"].tolist() == ["0.7", "0.88"]

    def test_the_uci_adult_layout_reads_question_marks_as_missing(self, tmp_path: Path) -> None:
        path = tmp_path / "adult.csv"
        path.write_bytes(b"age, workclass, hours\n39, State-gov, 40\n50, ?, 13\n")
        adult = CsvConfig(missing_values=("?",), skip_initial_space=True)
        read = read_landing_file(path, "csv", SOURCE, csv=adult)
        assert list(read.columns) == ["age", "workclass", "hours"]
        assert read["workclass"].tolist()[0] == "State-gov"
        assert read["workclass"].isna().tolist() == [False, True]
        plain = read_landing_file(path, "csv", SOURCE)
        assert plain[" workclass"].tolist()[1] == " ?"  # without the dialect: a value, under a spaced header

    def test_a_truncated_semicolon_file_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "part-0.csv"
        path.write_bytes(b"a;b;c\n1;2;3\n4;5")
        with pytest.raises(DataFailure, match="truncated: its last line has 2 fields where the header has 3"):
            read_landing_file(path, "csv", SOURCE, csv=CsvConfig(delimiter=";"))
