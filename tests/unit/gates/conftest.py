"""Helpers shared by the gate tests."""

from __future__ import annotations

import pandas as pd
import pytest

from include.retrain.config import PipelineConfig
from include.retrain.gates.parquet_table import ParquetTable


def schema_defaults(config: PipelineConfig) -> PipelineConfig:
    """``config`` without its shorthand checks and segment floors: the defaults every variant gets."""
    rules = config.expectations
    gates = {name: getattr(rules, name).model_copy(update={"checks": ()}) for name in ("raw", "features", "model")}
    gates["model"] = gates["model"].model_copy(update={"segments": None})
    return config.model_copy(update={"expectations": rules.model_copy(update=gates)})


@pytest.fixture
def parquet_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str] | None]:
    """Every ``ParquetTable.read`` call's columns (None: the whole table), in order; reads still happen."""
    reads: list[list[str] | None] = []
    read = ParquetTable.read

    def recorded(table: ParquetTable, columns: list[str] | None = None) -> pd.DataFrame:
        reads.append(None if columns is None else list(columns))
        return read(table, columns)

    monkeypatch.setattr(ParquetTable, "read", recorded)
    return reads
