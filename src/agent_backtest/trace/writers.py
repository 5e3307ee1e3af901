"""Writing traces: our normalized JSONL (one trace per line), atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import IO

import orjson

from agent_backtest.trace.model import Trace

TRACE_SCHEMA = "agent-backtest/trace@1"


@cache
def _default_file_mode() -> int:
    # mkstemp creates 0600 files; a case or trace file should get the mode any
    # other file the user creates gets. Reading the umask means setting it, so
    # do it once, on the first write rather than at import.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def trace_to_json_line(trace: Trace) -> bytes:
    body = trace.model_dump(mode="json", exclude_defaults=True)
    return orjson.dumps({"schema": TRACE_SCHEMA, **body}) + b"\n"


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Write to a temp file beside ``path`` and rename over it only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _default_file_mode())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_normalized_jsonl(traces: Iterable[Trace], path: Path) -> int:
    count = 0
    with atomic_writer(path) as handle:
        for trace in traces:
            handle.write(trace_to_json_line(trace))
            count += 1
    return count
