"""Typed, validated pipeline configuration: one YAML file per variant.

Kept light on purpose: DAG files import this package at parse time, so it uses only pydantic
and PyYAML (both already loaded by Airflow) and never touches data or network. Every model
forbids unknown keys, so a typo is an error, not a silently ignored knob.

The schema parts (``dataset``, ``features``, ``model``, ``expectations``, ...) each have a
module; ``loading`` reads one file (bounded YAML, YAML 1.1 booleans named as written, one
message per problem) and ``discovery`` a folder of them. Import from the package:
``from include.retrain.config import PipelineConfig, load_pipeline``.
"""

from include.retrain.config.base import WINDOW_END, check_safe_prefix
from include.retrain.config.checks import CheckRule, Severity
from include.retrain.config.columns import ColumnSpec, LabelConfig
from include.retrain.config.dataset import CsvConfig, DatasetConfig, WindowConfig
from include.retrain.config.deployment import DeploymentConfig
from include.retrain.config.discovery import DEFAULT_PIPELINES_DIR, PipelineSource, discover_pipelines, pipelines_dir
from include.retrain.config.expectations import (
    DriftGateConfig,
    ExpectationsConfig,
    FeaturesGateConfig,
    LabelDriftConfig,
    ModelGateConfig,
    RawGateConfig,
    SegmentsConfig,
)
from include.retrain.config.features import DATE_PARTS, FeaturesConfig
from include.retrain.config.loading import load_pipeline
from include.retrain.config.model import (
    ESTIMATORS,
    METRICS,
    BootstrapConfig,
    ModelConfig,
    PromotionConfig,
    SplitConfig,
)
from include.retrain.config.notifications import (
    MonitoringConfig,
    NotificationEvent,
    NotificationsConfig,
    RetrainWhenConfig,
)
from include.retrain.config.pipeline import PipelineConfig
from include.retrain.config.schedule import ScheduleConfig
from include.retrain.config.scoring import ScoringConfig
from include.retrain.config.storage import StorageConfig
from include.retrain.config.tasks import TasksConfig

__all__ = [
    "DATE_PARTS",
    "DEFAULT_PIPELINES_DIR",
    "ESTIMATORS",
    "METRICS",
    "WINDOW_END",
    "BootstrapConfig",
    "CheckRule",
    "ColumnSpec",
    "CsvConfig",
    "DatasetConfig",
    "DeploymentConfig",
    "DriftGateConfig",
    "ExpectationsConfig",
    "FeaturesConfig",
    "FeaturesGateConfig",
    "LabelConfig",
    "LabelDriftConfig",
    "ModelConfig",
    "ModelGateConfig",
    "MonitoringConfig",
    "NotificationEvent",
    "NotificationsConfig",
    "PipelineConfig",
    "PipelineSource",
    "PromotionConfig",
    "RawGateConfig",
    "RetrainWhenConfig",
    "ScheduleConfig",
    "ScoringConfig",
    "SegmentsConfig",
    "Severity",
    "SplitConfig",
    "StorageConfig",
    "TasksConfig",
    "WindowConfig",
    "check_safe_prefix",
    "discover_pipelines",
    "load_pipeline",
    "pipelines_dir",
]
