"""Finding the variant files in a folder: each loads or is refused on its own.

A conflict between files (one name, overlapping storage trees) refuses every file involved.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from include.retrain.config.loading import load_pipeline
from include.retrain.config.pipeline import PipelineConfig
from include.retrain.errors import ConfigError

#: Where the shipped variants live; ``RETRAIN_PIPELINES_DIR`` points elsewhere (tests, forks).
DEFAULT_PIPELINES_DIR = Path(__file__).resolve().parents[2] / "pipelines"


def pipelines_dir() -> Path:
    """The folder holding ``<name>.yaml`` variant files."""
    return Path(os.environ.get("RETRAIN_PIPELINES_DIR") or DEFAULT_PIPELINES_DIR)


@dataclass(frozen=True)
class PipelineSource:
    """The outcome of loading one YAML file: a config, or the error that stops it."""

    path: Path
    name: str
    config: PipelineConfig | None = None
    error: ConfigError | None = None


def discover_pipelines(directory: str | Path | None = None) -> list[PipelineSource]:
    """Load every ``*.yaml``/``*.yml`` file; a broken file never hides the others.

    Returns one entry per file, sorted by file name. A problem between files refuses every file
    involved, never only the later one: two files claiming one name (else the first in sort order
    would silently own ``retrain_<name>`` and its registry) and variants whose storage trees
    overlap (each one's registry listing would read the other's objects).
    """
    folder = Path(directory) if directory is not None else pipelines_dir()
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    outcomes: dict[Path, PipelineConfig | ConfigError] = {}
    for path in files:
        try:
            outcomes[path] = load_pipeline(path)
        except ConfigError as exc:
            outcomes[path] = exc
    loaded = {path: outcome for path, outcome in outcomes.items() if isinstance(outcome, PipelineConfig)}
    duplicates, overlaps = _duplicate_names(loaded), _overlapping_trees(loaded)
    sources: list[PipelineSource] = []
    for path, outcome in outcomes.items():
        if isinstance(outcome, ConfigError):
            sources.append(PipelineSource(path=path, name=_fallback_name(path), error=outcome))
        elif path in duplicates or path in overlaps:
            error = ConfigError(str(path), duplicates.get(path, []) + overlaps.get(path, []))
            # A shared name is the problem: show each file under its own stem, not under the name.
            name = _fallback_name(path) if path in duplicates else outcome.name
            sources.append(PipelineSource(path=path, name=name, error=error))
        else:
            sources.append(PipelineSource(path=path, name=outcome.name, config=outcome))
    return _unique_broken_names(sources, {source.name for source in sources if source.config is not None})


def _duplicate_names(loaded: dict[Path, PipelineConfig]) -> dict[Path, list[str]]:
    """The problem of each file whose variant name another file also claims."""
    claims: dict[str, list[Path]] = {}
    for path, config in loaded.items():
        claims.setdefault(config.name, []).append(path)
    problems: dict[Path, list[str]] = {}
    for name, paths in claims.items():
        for path in paths if len(paths) > 1 else ():
            others = ", ".join(other.name for other in paths if other != path)
            problems[path] = [
                f"name: variant name {name!r} is also claimed by {others}; every file claiming it is refused, so "
                f"none takes over retrain_{name} or its registry. Give each file its own `name` (a copied file "
                "needs a new one)"
            ]
    return problems


@dataclass(frozen=True)
class _Tree:
    """A folder in a bucket, as path segments: ``s3://bucket/a/b/`` is ``("bucket", ("a", "b"))``."""

    bucket: str
    parts: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/" + "".join(f"{part}/" for part in self.parts)

    def overlaps(self, other: _Tree) -> bool:
        """One folder is the other or lies inside it (by whole segments: ``alpha_v2/`` is not in ``alpha/``)."""
        common = min(len(self.parts), len(other.parts))
        return self.bucket == other.bucket and self.parts[:common] == other.parts[:common]


def _artifact_tree(config: PipelineConfig) -> _Tree:
    """``s3://<storage.bucket>/<storage.prefix>/<name>/``: the variant's registry/ and runs/."""
    return _Tree(config.storage.bucket, (*(p for p in config.storage.prefix.split("/") if p), config.name))


def _landing_tree(config: PipelineConfig) -> _Tree:
    return _Tree(config.dataset.bucket, tuple(config.dataset.landing_prefix.strip("/").split("/")))


def _overlapping_trees(loaded: dict[Path, PipelineConfig]) -> dict[Path, list[str]]:
    """Refuse variants whose artifact trees nest, or whose landing data nests with an artifact tree.

    A registry listing (events, versions) would read another variant's objects, and ingest would
    read artifacts as landing data (or runs would write among it). Sharing landing data is fine.
    """
    problems: dict[Path, list[str]] = {}
    items = list(loaded.items())
    for index, (path, config) in enumerate(items):
        artifacts = _artifact_tree(config)
        for other_path, other in items[index + 1 :]:
            theirs = _artifact_tree(other)
            if other.name != config.name and artifacts.overlaps(theirs):  # one name: a duplicate, said once
                for own, own_tree, far, far_config, far_tree in (
                    (path, artifacts, other_path, other, theirs),
                    (other_path, theirs, path, config, artifacts),
                ):
                    problems.setdefault(own, []).append(
                        f"storage.prefix: this variant's artifact tree {own_tree.uri} (its registry/ and runs/) and "
                        f"that of {far_config.name!r} in {far.name}, {far_tree.uri}, overlap: one lies inside the "
                        "other, so each registry would list the other's objects. Give one of them another "
                        "storage.prefix or storage.bucket"
                    )
        for other_path, other in items:
            landing, theirs = _landing_tree(config), _artifact_tree(other)
            if not landing.overlaps(theirs):
                continue
            if other_path == path:
                problems.setdefault(path, []).append(
                    f"dataset.prefix: the landing data {landing.uri} and this variant's own artifact tree "
                    f"{theirs.uri} overlap, so ingest would read artifacts as data. Move one of them "
                    "(dataset.bucket/dataset.prefix or storage.bucket/storage.prefix)"
                )
                continue
            problems.setdefault(path, []).append(
                f"dataset.prefix: this variant's landing data {landing.uri} and the artifact tree of "
                f"{other.name!r} in {other_path.name}, {theirs.uri}, overlap, so ingest would read artifacts as "
                "data and runs would write among landing files. Move one of them (dataset.bucket/dataset.prefix "
                "or storage.bucket/storage.prefix)"
            )
            problems.setdefault(other_path, []).append(
                f"storage.prefix: this variant's artifact tree {theirs.uri} and the landing data of "
                f"{config.name!r} in {path.name}, {landing.uri}, overlap, so that variant's ingest would read these "
                "artifacts as data. Move one of them (storage.bucket/storage.prefix or dataset.bucket/dataset.prefix)"
            )
    return problems


def _unique_broken_names(sources: list[PipelineSource], valid_names: set[str]) -> list[PipelineSource]:
    """Give each broken file a name no valid variant uses, so it never shadows a working DAG."""
    taken = set(valid_names)
    result = []
    for source in sources:
        if source.error is not None:
            name, counter = source.name, 1
            while name in taken:
                name = f"{source.name}_broken" if counter == 1 else f"{source.name}_broken{counter}"
                counter += 1
            source = PipelineSource(path=source.path, name=name, error=source.error)
        taken.add(source.name)
        result.append(source)
    return result


def _fallback_name(path: Path) -> str:
    """A DAG-id-safe name for a file whose config could not be read."""
    return re.sub(r"[^a-z0-9_]", "_", path.stem.lower()) or "unnamed"
