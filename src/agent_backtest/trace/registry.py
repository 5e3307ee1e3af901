"""Trace readers: the protocol, the built-in list, and detection by content.

A reader is a module-like object with a ``NAME``, a ``sniff(head)`` that says
whether a file looks like its format, and ``read(source)`` that yields
``ReadItem``s. Third parties register more under the entry-point group
``agent_backtest.trace_readers``. Detection never looks at the file extension:
Collector exports are often ``.json`` while holding JSON Lines, and Phoenix
exports are Parquet or JSONL under any name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import orjson

from agent_backtest.errors import InputError, Location
from agent_backtest.trace.raw import ReadItem
from agent_backtest.trace.source import FileSource, read_head

ENTRY_POINT_GROUP = "agent_backtest.trace_readers"

# Order matters: the first reader whose sniff() accepts a file wins, so the
# most specific markers come first.
_BUILTIN_MODULES = (
    "normalized",
    "sidecar",
    "phoenix_annotations",
    "phoenix",
    "langfuse",
    "otlp_json",
    "jaeger",
    "otel_console",
    "otlp_proto",
)


@dataclass(frozen=True, slots=True)
class Head:
    """The start of a file, as readers need it to recognise their format."""

    raw: bytes
    text: str | None  # None when the head is not UTF-8 text
    first_value: Any  # the first JSON line (or the whole file if it fits), else None
    complete: bool  # the head is the whole file
    # Binary formats keep their schema at the end (Parquet's footer), so a sniff
    # may need the file itself, not just its head.
    path: Path | None = None


class TraceReader(Protocol):
    NAME: str
    DESCRIPTION: str

    def sniff(self, head: Head) -> bool: ...

    def read(self, source: FileSource) -> Iterator[ReadItem]: ...


@cache
def readers() -> dict[str, TraceReader]:
    found: dict[str, TraceReader] = {}
    for module_name in _BUILTIN_MODULES:
        module: Any = importlib.import_module(f"agent_backtest.trace.readers.{module_name}")
        found[module.NAME] = module
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        reader = entry.load()
        found.setdefault(reader.NAME, reader)
    return found


def read_file_head(path: Path, size: int = 65536) -> Head:
    raw = read_head(path, size)
    complete = len(raw) < size
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the head size is still text.
        text = (
            raw[: exc.start].decode("utf-8") if exc.start >= len(raw) - 3 and not complete else None
        )
    first_value: Any = None
    if text is not None:
        candidates = [raw] if complete else []
        candidates.append(raw.split(b"\n", 1)[0])
        for candidate in candidates:
            try:
                first_value = orjson.loads(candidate)
                break
            except orjson.JSONDecodeError:
                continue
    return Head(raw=raw, text=text, first_value=first_value, complete=complete, path=path)


def detect_format(path: Path) -> str:
    head = read_file_head(path)
    if not head.raw.strip():
        raise InputError(
            "the file is empty", where=Location(path), fix="pass a trace file with spans"
        )
    for name, reader in readers().items():
        if reader.sniff(head):
            return name
    if head.text is None:
        what = "not UTF-8 text and not a known binary trace format (OTLP protobuf, Parquet)"
    else:
        what = "unknown trace format"
    raise InputError(
        what,
        where=Location(path, line=1),
        fix=f"expected one of: {', '.join(readers())}; pass --format to choose one",
    )


def get_reader(name: str) -> TraceReader:
    try:
        return readers()[name]
    except KeyError:
        raise InputError(
            f"unknown format {name!r}", fix=f"choose one of: {', '.join(readers())}"
        ) from None
