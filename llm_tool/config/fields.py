"""Build typed dataclasses from untrusted JSON mappings: unknown keys and wrong types raise ConfigError."""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from llm_tool.errors import ConfigError
from llm_tool.untrusted import quoted, shown

T = TypeVar("T")


def _suggest(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; convert only lossless cases (int -> float)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        real = [a for a in args if a is not type(None)]
        if len(errors) == 1 and len(real) == 1:  # Optional[X]: X's own message says what is allowed
            raise ConfigError(errors[0] + " (or null)")
        names = " or ".join(_type_name(a) for a in args)
        raise ConfigError(f"{where} must be {names}, got {quoted(value)}")
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{where} must be one of {', '.join(map(repr, allowed))}, got {quoted(value)}")
        return value
    if origin is list:
        (item_tp,) = typing.get_args(tp) or (Any,)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {quoted(value)}")
        return [coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be an object, got {quoted(value)}")
        return dict(value)
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {quoted(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{where} must be a whole number, got {quoted(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {quoted(value)}")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            raise ConfigError(f"{where} is far too large: got {quoted(value)}") from None
        if not math.isfinite(number):  # NaN and Infinity train into NaN weights: never a setting
            raise ConfigError(f"{where} must be a finite number, got {value}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be text, got {quoted(value)}")
        return value
    return value


def build(cls: type[T], data: Mapping[str, Any], section: str, *, ignored: Iterable[str] = ()) -> T:
    """Instantiate dataclass ``cls`` from ``data``; keys in ``ignored`` are accepted and dropped."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"'{section}' must be a JSON object")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    ignored = set(ignored)
    kwargs = {}
    for key, value in data.items():
        if key in ignored:
            continue
        if key not in known:
            raise ConfigError(f"unknown key '{section}.{shown(key, 80)}'{_suggest(key[:100], known | ignored)}: "
                              "remove it or fix its spelling")
        kwargs[key] = coerce(value, hints[key], f"{section}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required key is missing
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in kwargs  # type: ignore[arg-type]
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise ConfigError(f"'{section}.{missing[0]}' is required") from exc
        raise


def field_help(cls: type) -> dict[str, str]:
    """Help text declared on each field (``metadata={'help': ...}``)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}
