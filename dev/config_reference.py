"""The pipeline config reference of the docs site (docs/reference/config.md), from the config models.

Every key's type, default and meaning come from ``include.retrain.config`` itself, so the
docs cannot drift: ``make docs`` (``dev.docs_pages``) rewrites the table and
a test fails if the committed page is stale.
"""

from __future__ import annotations

import json
import types
import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from include.retrain.config import PipelineConfig


def _literal(value: typing.Any) -> str:
    """A Literal value as YAML writes it: booleans in lower case, whitespace (a tab) quoted and escaped."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value.isspace():
        return json.dumps(value)
    return str(value)


def _type_name(annotation: typing.Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{_literal(a)}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" \\| null" if type(None) in args else "")
    if origin is tuple and len(args) > 1 and args[1] is not Ellipsis:
        return "[" + ", ".join(_type_name(a) for a in args) + "]"
    if origin in (tuple, list):
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: typing.Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default is PydanticUndefined else field.default
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "`null`"
    if value == "":
        return '`""`'
    if isinstance(value, tuple | list):
        return f"`{list(value)}`"
    return f"`{value}`"


def _is_model(annotation: typing.Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _nested_model(annotation: typing.Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds (directly, optionally, per map key or per list item) and its path suffix."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if _is_model(annotation):
        return annotation, ""
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if _is_model(a)]
        return (models[0], "") if len(models) == 1 else (None, "")
    if origin is dict and _is_model(args[1]):
        return args[1], ".<column>"
    if origin in (tuple, list) and _is_model(args[0]):
        return args[0], "[]"
    return None, ""


def reference_rows(
    model: type[BaseModel] = PipelineConfig, prefix: str = "", documented: dict[type, str] | None = None
) -> list[str]:
    """One Markdown table row per config key, depth first; a model met again points at its first rows."""
    documented = {} if documented is None else documented
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        meaning = field.description or ""
        nested, suffix = _nested_model(field.annotation)
        if nested is not None and nested in documented:
            meaning += f" Keys as in `{documented[nested]}`."
        rows.append(f"| `{path}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |")
        if nested is not None and nested not in documented:
            documented[nested] = f"{path}{suffix}"
            rows.extend(reference_rows(nested, f"{path}{suffix}.", documented))
    return rows


def reference_table() -> str:
    """Every config key as one Markdown table."""
    header = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    return "\n".join([*header, *reference_rows()])
