"""agent-backtest's own normalized JSONL: one ``Trace`` per line, round-trips exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import ValidationError

from agent_backtest.trace.model import Trace
from agent_backtest.trace.raw import ReadItem
from agent_backtest.trace.source import FileSource
from agent_backtest.trace.writers import TRACE_SCHEMA

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "normalized"
DESCRIPTION = "agent-backtest normalized JSONL (one trace per line, schema agent-backtest/trace@1)"


def sniff(head: Head) -> bool:
    first = head.first_value
    if isinstance(first, dict):
        return str(first.get("schema", "")).startswith("agent-backtest/trace@")
    # A first line longer than the head cannot be parsed; our writer puts the
    # schema key first, so its opening bytes are enough.
    return head.raw.startswith(b'{"schema":"agent-backtest/trace@')


def read(source: FileSource) -> Iterator[ReadItem]:
    for line, value in source.iter_json_lines():
        if not isinstance(value, dict) or value.get("schema") != TRACE_SCHEMA:
            found = value.get("schema") if isinstance(value, dict) else type(value).__name__
            source.skip_or_raise(
                source.fail(
                    f"expected schema {TRACE_SCHEMA!r}, found {found!r}",
                    line=line,
                    fix="convert the file again with this version: backtest traces convert",
                )
            )
            continue
        body = {k: v for k, v in value.items() if k != "schema"}
        try:
            trace = Trace.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            source.skip_or_raise(source.fail(first["msg"], line=line, field=field))
            continue
        yield ReadItem(trace=trace, line=line)
