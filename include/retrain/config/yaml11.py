"""YAML 1.1 surprises: where PyYAML read an unquoted yes/no/on/off as a boolean, said with the word as written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

#: libyaml's safe loader when PyYAML was built with it (several times faster at parse time).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Where YAML 1.1 read an unquoted word as a boolean: the path to it (loaded keys and list indexes;
#: a key's own path ends with "[key]") -> (the word as written, its line).
YamlBooleans = dict[tuple[Any, ...], tuple[str, int]]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"


def yaml11_booleans(text: str) -> YamlBooleans:
    """Every plain scalar of ``text`` that YAML 1.1 (PyYAML) reads as a boolean: yes, no, on, off, true, false.

    Composed from the text again, so only for a file that already has a problem (anchors and deep
    nesting are refused before, by ``_check_yaml_bounds``).
    """
    found: YamlBooleans = {}
    root = yaml.compose(text, Loader=YAML_LOADER)
    if root is not None:
        _walk(root, (), found)
    return found


def _loaded(node: yaml.Node) -> Any:
    """A key's value as PyYAML loads it (a boolean, an int, else the text), for the path to what follows it."""
    if node.tag == _BOOL_TAG:
        return node.value.lower() in ("yes", "true", "on")
    if node.tag == _INT_TAG:
        try:
            return int(node.value)
        except ValueError:
            return node.value
    return node.value


def _walk(node: yaml.Node, path: tuple[Any, ...], found: YamlBooleans) -> None:
    """Record in ``found`` every plain boolean scalar (and boolean key) under ``node``, at ``path``."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.tag == _BOOL_TAG:
                    found[(*path, _loaded(key), "[key]")] = (key.value, key.start_mark.line + 1)
                _walk(value, (*path, _loaded(key)), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), found)
    elif isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG and not node.style:
        found[path] = (node.value, node.start_mark.line + 1)


def _where(path: tuple[Any, ...]) -> str:
    """``("dataset", "columns", "x", "values", 0)`` -> ``dataset.columns.x.values[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{part}"
    return text.lstrip(".") or "(top level)"


def yaml11_problem(path: tuple[Any, ...], value: bool, written: str, line: int) -> str:
    return (
        f"{_where(path)}: the boolean {value}, not text: YAML 1.1 reads unquoted {written} as a boolean; "
        f"write '{written}' in quotes (line {line})"
    )


def boolean_keys(node: Any, booleans: Callable[[], YamlBooleans], path: tuple[Any, ...] = ()) -> list[str]:
    """Keys YAML 1.1 turned into booleans (a bare on/off/yes/no), named instead of "Keys should be strings"."""
    if not isinstance(node, dict):
        return []
    problems = []
    for key, value in node.items():
        if isinstance(key, bool):
            written, line = booleans().get((*path, key, "[key]"), (str(key).lower(), 0))
            problems.append(
                f"{_where(path)}: a key reads as the boolean {str(key).lower()}: YAML 1.1 reads unquoted {written} "
                f"as a boolean; write '{written}' in quotes (line {line}), or for notifications use `events`"
            )
        else:
            problems += boolean_keys(value, booleans, (*path, key))
    return problems


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` if the YAML held a mapping there, else an empty one (pydantic reports the wrong shape)."""
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    """``value`` if the YAML held a list there, else an empty one."""
    return value if isinstance(value, list) else []


def text_labels_read_as_booleans(raw: dict[str, Any], booleans: Callable[[], YamlBooleans]) -> list[str]:
    """Labels of text columns that YAML 1.1 made booleans where booleans are also valid config.

    ``dataset.positive_class`` and a raw check's ``in_set`` accept booleans (for bool columns), so
    pydantic takes ``Yes`` for ``true`` there; for a category or string column it is a text label.
    """
    dataset = _mapping(raw.get("dataset"))
    columns = _mapping(dataset.get("columns"))

    def is_text(column: Any) -> bool:
        spec = columns.get(column) if isinstance(column, str) else None
        return isinstance(spec, dict) and spec.get("type") in ("category", "string")

    places: list[tuple[tuple[Any, ...], Any]] = []
    if is_text(dataset.get("target")):
        places.append((("dataset", "positive_class"), dataset.get("positive_class")))
    label = _mapping(dataset.get("label"))
    if is_text(label.get("column")):
        places.append((("dataset", "label", "equals"), label.get("equals")))
        for index, value in enumerate(_sequence(label.get("in_set"))):
            places.append((("dataset", "label", "in_set", index), value))
    gate = _mapping(_mapping(raw.get("expectations")).get("raw"))
    checks = _sequence(gate.get("checks"))
    for number, check in enumerate(checks):
        if isinstance(check, dict) and is_text(check.get("column")) and isinstance(check.get("in_set"), list):
            for index, value in enumerate(check["in_set"]):
                places.append((("expectations", "raw", "checks", number, "in_set", index), value))
    problems = []
    for path, value in places:
        if isinstance(value, bool) and (found := booleans().get(path)) is not None:
            problems.append(yaml11_problem(path, value, *found))
    return problems


def cached_booleans(compute: Callable[[], YamlBooleans]) -> Callable[[], YamlBooleans]:
    cache: list[YamlBooleans] = []

    def get() -> YamlBooleans:
        if not cache:
            cache.append(compute())
        return cache[0]

    return get
