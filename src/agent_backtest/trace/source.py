"""Reading a trace file: streaming, byte progress, and errors that name the place.

Every reader goes through these helpers, so bad input is reported the same way
everywhere (file, line or byte offset, what was expected) and ``skip_invalid``
behaves the same for every format.
"""

from __future__ import annotations

import codecs
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from agent_backtest.errors import InputError, Location

_CHUNK = 1 << 20


@dataclass
class ReadOptions:
    skip_invalid: bool = False
    progress: Callable[[int], None] | None = None  # called with bytes consumed so far


@dataclass
class SkipLog:
    """Records skipped when ``skip_invalid`` is on: nothing is dropped silently."""

    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first: list[str] = field(default_factory=list)

    def add(self, error: InputError) -> None:
        self.count += 1
        self.reasons[error.what] += 1
        if len(self.first) < 5:
            self.first.append(error.one_line())


class FileSource:
    """One input file plus the options and skip log that go with reading it."""

    def __init__(self, path: Path, options: ReadOptions | None = None) -> None:
        self.path = path
        self.options = options or ReadOptions()
        self.skipped = SkipLog()
        self.warnings: list[str] = []

    def fail(
        self,
        what: str,
        *,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> InputError:
        return InputError(what, where=Location(self.path, line=line, field=field), fix=fix)

    def skip_or_raise(self, error: InputError) -> None:
        """Skip the bad record when asked to, else stop with the error."""
        if not self.options.skip_invalid:
            raise error
        self.skipped.add(error)

    def open(self) -> IO[bytes]:
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise InputError(
                f"cannot open: {exc.strerror}", where=Location(self.path), fix="check the path"
            ) from None

    def _report(self, consumed: int) -> None:
        if self.options.progress is not None:
            self.options.progress(consumed)

    def iter_json_lines(self) -> Iterator[tuple[int, Any]]:
        """(line number, parsed value) for each non-blank line of a JSON Lines file."""
        consumed = 0
        with self.open() as handle:
            for lineno, line in enumerate(handle, start=1):
                consumed += len(line)
                if lineno % 1024 == 0:
                    self._report(consumed)
                if not line.strip():
                    continue
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    self.skip_or_raise(self._json_error(line, exc, lineno))
                    continue
                yield lineno, value
        self._report(consumed)

    def read_document(self) -> Any:
        """The whole file as one JSON value (formats that are a single document)."""
        with self.open() as handle:
            data = handle.read()
        self._report(len(data))
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise self._json_error(data, exc, None) from None

    def iter_concatenated_json(self) -> Iterator[tuple[int, Any]]:
        """(line, value) for JSON values written back to back (console exporters do this)."""
        decoder = json.JSONDecoder()
        utf8 = codecs.getincrementaldecoder("utf-8")()
        buffer = ""
        base_line = 1
        consumed = 0
        with self.open() as handle:
            while True:
                chunk = handle.read(_CHUNK)
                consumed += len(chunk)
                try:
                    buffer += utf8.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    raise self.fail(
                        f"invalid UTF-8 at byte {consumed - len(chunk) + exc.start}",
                        line=base_line + buffer.count("\n") + chunk[: exc.start].count(b"\n"),
                        fix="traces must be UTF-8 JSON",
                    ) from None
                pos = 0
                while True:
                    while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                        if buffer[pos] == "\n":
                            base_line += 1
                        pos += 1
                    if pos >= len(buffer):
                        break
                    try:
                        value, end = decoder.raw_decode(buffer, pos)
                    except json.JSONDecodeError as exc:
                        if chunk:  # maybe the value continues in the next chunk
                            break
                        raise self.fail(
                            f"invalid JSON: {exc.msg}",
                            line=base_line + buffer.count("\n", pos, exc.pos),
                            fix="the file looks truncated or hand-edited; re-export it",
                        ) from None
                    yield base_line, value
                    base_line += buffer.count("\n", pos, end)
                    pos = end
                buffer = buffer[pos:]
                self._report(consumed)
                if not chunk:
                    return

    def _json_error(
        self, data: bytes, exc: orjson.JSONDecodeError, lineno: int | None
    ) -> InputError:
        if b"\x00" in data[:4096] or not _is_utf8(data):
            what = "invalid UTF-8: not a JSON text file"
        else:
            what = f"invalid JSON: {exc.msg}"
        line = lineno if lineno is not None else exc.lineno
        col = exc.colno if lineno is None else None
        error = InputError(
            what,
            where=Location(self.path, line=line, column=col),
            fix="the file looks truncated or is not this format; re-export it or pass --format",
        )
        return error


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_head(path: Path, size: int = 65536) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise InputError(
            f"cannot open: {exc.strerror}", where=Location(path), fix="check the path"
        ) from None
