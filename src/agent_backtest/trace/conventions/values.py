"""Attribute values arrive loosely typed; these turn them into what the model needs.

Readers hand over plain Python values, but the same fact is spelled differently
by each exporter: token counts as ints or decimal strings (Jaeger ``int64``
tags, Phoenix dataframes), lists as lists or JSON strings (ADK writes
``gen_ai.response.finish_reasons`` as ``'["stop"]'``). Every helper returns
``None`` instead of raising, because one odd attribute must not lose a span.
"""

from __future__ import annotations

from typing import Any

import orjson


def as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return int(float(text))
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def loads(value: Any) -> Any:
    """A JSON string -> its value; anything else (already structured) unchanged.

    Returns ``None`` for a string that is not JSON, so callers can fall back.
    """
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def loads_if_json(value: Any) -> Any:
    """Parse a string that looks like a JSON object or array; keep other strings as they are.

    Tool results and outputs are often JSON text, but a plain-text result such
    as ``"rainy, 57°F"`` must stay the text it was.
    """
    if isinstance(value, str):
        head = value.lstrip()[:1]
        if head in ("{", "["):
            parsed = loads(value)
            if parsed is not None:
                return parsed
    return value


def dumps(value: Any) -> str:
    """Compact JSON text for a structured value (the form raw argument strings take)."""
    return orjson.dumps(value).decode()


def as_str_list(value: Any) -> list[str]:
    """A list of strings from a list, a JSON-encoded list, or a single string."""
    if value is None:
        return []
    if isinstance(value, str):
        if value.startswith("["):
            parsed = loads(value)
            if isinstance(parsed, list):
                return [str(v) for v in parsed if v is not None]
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]
