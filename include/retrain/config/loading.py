"""Loading one variant file: bounded YAML, validation, and errors that name file, field and reason."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from include.retrain.config.pipeline import PipelineConfig
from include.retrain.config.yaml11 import (
    YAML_LOADER,
    YamlBooleans,
    boolean_keys,
    cached_booleans,
    text_labels_read_as_booleans,
    yaml11_booleans,
    yaml11_problem,
)
from include.retrain.errors import ConfigError

#: Bounds on one variant file, so one hostile file cannot stall or crash discovery (it runs at every
#: DAG file parse and every registry page request). A real config is a few kB and a few levels deep.
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIG_DEPTH = 32


def _format_validation_error(error: ValidationError, booleans: Callable[[], YamlBooleans] | None = None) -> list[str]:
    """One ``location: message`` per pydantic error; a YAML 1.1 boolean where text belongs says so."""
    problems = []
    for item in error.errors():
        if booleans is not None and isinstance(item.get("input"), bool) and item["type"] == "string_type":
            found = booleans().get(tuple(item["loc"]))
            if found is not None:
                problems.append(yaml11_problem(tuple(item["loc"]), item["input"], *found))
                continue
        location = ".".join(str(part) for part in item["loc"] if part != "[key]") or "(top level)"
        if "[key]" in item["loc"]:
            location += " (the key itself)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (not part of the pipeline config schema)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{location}: {message}")
    return problems


def _check_yaml_bounds(path: Path, text: str) -> None:
    """Refuse anchors and aliases and deep nesting, from the parser's events, before anything is built.

    One alias can stand for a whole mapping, so a 1 kB file of nested aliases ("billion laughs")
    expands to 10**9 values once walked; merge keys (``<<: *a``) copy them eagerly. libyaml's
    composer recurses once per nesting level and crashes the process around 100,000 levels. The
    event stream itself is flat and cheap (well under a millisecond for a shipped variant).
    """
    depth = 0
    for event in yaml.parse(text, Loader=YAML_LOADER):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            written = f"*{anchor}" if isinstance(event, yaml.AliasEvent) else f"&{anchor}"
            raise ConfigError(
                str(path),
                [
                    f"{_at(event)}: YAML anchors and aliases ({written}) are not "
                    "accepted in pipeline configs (a few nested aliases expand a small file into billions of "
                    "values); write the value out in full where it is used"
                ],
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_CONFIG_DEPTH:
                raise ConfigError(
                    str(path),
                    [
                        f"{_at(event)}: values are nested more than "
                        f"{MAX_CONFIG_DEPTH} levels deep; a pipeline config needs fewer than ten"
                    ],
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Load and validate one variant file; raise :class:`ConfigError` naming file, field and reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                str(path),
                [
                    f"(file): {size / 1024:.0f} KiB is more than a pipeline config may have "
                    f"({MAX_CONFIG_BYTES // 1024} KiB); a variant file is a few kB: is this the right file?"
                ],
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read file: {exc}"]) from exc
    try:
        _check_yaml_bounds(path, text)
        raw: Any = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), [f"YAML syntax error: {where}{getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["(top level): the file must be a mapping of config keys"])
    booleans = cached_booleans(partial(yaml11_booleans, text))
    if problems := boolean_keys(raw, booleans):
        raise ConfigError(str(path), problems)
    raw.setdefault("name", path.stem)
    labels = text_labels_read_as_booleans(raw, booleans)
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        problems = _format_validation_error(exc, booleans)
        if any(".positive_class:" in label for label in labels):  # said once, with the word as written
            problems = [p for p in problems if not p.startswith("dataset: positive_class")]
        if any(".label." in label for label in labels):
            problems = [p for p in problems if not p.startswith("dataset: label.")]
        raise ConfigError(str(path), labels + problems) from exc
    if labels:
        raise ConfigError(str(path), labels)
    return config


def _at(event: yaml.Event) -> str:
    """``line L, column C`` where a parser event starts (PyYAML types its mark as optional)."""
    mark = event.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(position unknown)"
