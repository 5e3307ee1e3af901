"""The format-neutral span every reader produces, before conventions are decoded.

Readers only deal with the *container* (OTLP, Jaeger, console dumps, ...): they
turn ids into lower-case hex, times into integer nanoseconds and attribute
values into plain Python values. Convention decoders (``conventions/``) then
turn a ``RawSpan`` into a normalized ``Span``. Plain slotted dataclasses here,
because this is the hot path of ingestion.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from agent_backtest.trace.model import Annotation, LLMCall, ToolCall, Trace


@dataclass(slots=True)
class RawEvent:
    name: str
    time_ns: int | None
    attributes: dict[str, Any]


@dataclass(slots=True)
class RawSpan:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    otel_kind: str | None = None  # internal/server/client/producer/consumer
    status_code: str = "unset"  # ok/error/unset
    status_message: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[RawEvent] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None
    # Some formats (Langfuse, Phoenix) carry the span kind or session explicitly.
    kind_hint: str | None = None
    session_hint: str | None = None
    # Formats with structured fields of their own (Langfuse) fill these directly;
    # convention decoders then only fill what is still missing.
    preset_llm: LLMCall | None = None
    preset_tool: ToolCall | None = None
    preset_input: Any = None
    preset_output: Any = None


@dataclass(slots=True)
class ReadItem:
    """One thing a reader yields: a span or an annotation, with where it came from."""

    span: RawSpan | None = None
    annotation: Annotation | None = None
    trace: Trace | None = None  # formats that are already normalized
    line: int | None = None


_HEX = frozenset("0123456789abcdefABCDEF")


def normalize_id(value: Any, width: int) -> str | None:
    """Trace/span id in any spelling -> lower-case hex of ``width`` chars.

    Accepts hex (any case, with or without ``0x``), decimal integers (the Python
    SDK console exporter), base64 (protobuf-JSON mapping) and UUIDs. An all-zero
    id means "no id" in OTLP, so it becomes ``None``.
    """
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int):
        text = format(value, "x")
    else:
        text = str(value).strip()
        if text.startswith(("0x", "0X")):
            text = text[2:]
        if "-" in text and len(text) == 36:  # UUID
            text = text.replace("-", "")
        if not all(c in _HEX for c in text):
            try:
                text = base64.b64decode(text, validate=True).hex()
            except (binascii.Error, ValueError):
                return text  # keep an opaque id (Langfuse cuid, etc.) as-is
    text = text.lower()
    if set(text) == {"0"}:
        return None
    return text.rjust(width, "0") if len(text) < width else text


def to_int(value: Any) -> int:
    """A 64-bit number that may arrive as int, decimal string or (lossy) float."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.lstrip("-").isdigit() else int(float(value))
    if isinstance(value, float):
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")
