"""Build ``RawSpan``s straight from attribute-map fixtures, independent of any reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_backtest.trace.conventions.decode import DecodedSpan, decode_span
from agent_backtest.trace.raw import RawEvent, RawSpan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conventions"


def attrs(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def raw(
    attributes: dict[str, Any],
    *,
    name: str = "span",
    status: str = "unset",
    status_message: str | None = None,
    events: list[RawEvent] | None = None,
) -> RawSpan:
    return RawSpan(
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        parent_id=None,
        name=name,
        start_ns=1_000,
        end_ns=2_000,
        status_code=status,
        status_message=status_message,
        attributes=attributes,
        events=events or [],
    )


def decode(attributes: dict[str, Any], **kwargs: Any) -> DecodedSpan:
    return decode_span(raw(attributes, **kwargs))
