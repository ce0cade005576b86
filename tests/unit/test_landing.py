"""Unit tests for ``include.retrain.landing``: landing files read from the loopback S3 under their schema names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from dev.synthetic.landing import as_landed, encode_frame, partition_key
from include.retrain.config import DatasetConfig
from include.retrain.errors import DataFailure
from include.retrain.landing import read_landing_files, to_column_names
from include.retrain.stages.ingest import LandingFile
from include.retrain.storage import ArtifactStore

DAY = date(2026, 3, 1)


def dataset(fmt: str = "csv") -> DatasetConfig:
    return DatasetConfig.model_validate(
        {
            "name": "wine",
            "format": fmt,
            "target": "quality",
            "columns": {
                "fixed_acidity": {"type": "float", "landing_name": "fixed acidity"},
                "education_num": {"type": "int", "landing_name": "education-num"},
                "quality": {"type": "int"},
            },
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_landing_headers_are_read_under_their_column_names(s3: Any, fmt: str) -> None:
    config = dataset(fmt)
    client = s3.client()
    client.create_bucket(Bucket=config.bucket)
    generated = pd.DataFrame({"fixed_acidity": [7.4, 7.8], "education_num": [9, 13], "quality": [5, 6]})
    landed = as_landed(generated, config)
    assert list(landed.columns) == ["fixed acidity", "education-num", "quality"]
    key = partition_key(config, DAY)
    client.put_object(Bucket=config.bucket, Key=key, Body=encode_frame(landed, fmt))

    frames, sources = read_landing_files(
        client, ArtifactStore(client, config.bucket, ""), config, [LandingFile(key=key, partition=DAY, size=1)]
    )

    assert [day for day, _ in frames] == [DAY]
    frame = frames[0][1]
    assert list(frame.columns) == ["fixed_acidity", "education_num", "quality"]
    assert frame["fixed_acidity"].astype(float).tolist() == [7.4, 7.8]
    assert sources[0]["rows"] == 2


def test_a_file_with_both_the_header_and_the_name_is_refused_naming_both() -> None:
    frame = pd.DataFrame({"fixed acidity": [1.0], "fixed_acidity": [2.0], "quality": [5]})
    with pytest.raises(DataFailure, match="has both 'fixed_acidity' and its landing_name 'fixed acidity'"):
        to_column_names(frame, dataset(), source="s3://retrain-landing/wine/ds=2026-03-01/a.csv")


def test_a_file_already_under_the_column_names_is_read_as_it_is() -> None:
    frame = pd.DataFrame({"fixed_acidity": [1.0], "quality": [5]})
    assert to_column_names(frame, dataset(), source="a.csv") is frame
