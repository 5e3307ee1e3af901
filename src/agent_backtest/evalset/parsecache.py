"""A content-addressed cache of parsed case files, so repeat loads skip YAML parsing.

YAML parsing is ~90% of loading a large evalset (libyaml builds a node tree and
PyYAML constructs Python objects from it in Python: ~1 ms for a 3 KB case), while
JSON parsing with orjson is ~50x faster. Entries are keyed by the SHA-256 of the
file's bytes (plus the loader version), so an edited file can never be served
stale; there is nothing to invalidate. One pack file per evalset folder keeps
the I/O to a single read, and only the entries used by the last load are kept.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from agent_backtest.trace.writers import atomic_writer

# Bump when parsing rules change (yamlio.StrictLoader) so old entries stop matching.
LOADER_VERSION = "1"


def _json_exact(data: Any) -> bytes | None:
    """The JSON encoding of ``data`` if it decodes back to an equal value, else None.

    YAML can hold what JSON cannot (non-string keys, NaN, binary); such files are
    simply not cached and are parsed every time.
    """
    try:
        encoded = orjson.dumps(data)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return encoded if orjson.loads(encoded) == data else None


class ParseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._old: dict[str, Any] = {}
        self._used: dict[str, Any] = {}
        self._dirty = False
        try:
            loaded = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            loaded = None  # a missing or corrupt cache is only a slower load
        if isinstance(loaded, dict) and loaded.get("loader") == LOADER_VERSION:
            entries = loaded.get("entries")
            self._old = entries if isinstance(entries, dict) else {}

    @classmethod
    def for_evalset(cls, cache_dir: Path, root: Path) -> ParseCache:
        key = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
        return cls(cache_dir / "evalset-parse" / f"{root.name}-{key}.json")

    @staticmethod
    def key(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def get(self, key: str) -> Any | None:
        if key in self._used:
            return self._used[key]
        if key in self._old:
            self._used[key] = self._old[key]
            return self._used[key]
        return None

    def put(self, key: str, data: Any) -> None:
        if _json_exact(data) is not None:
            self._used[key] = data
            self._dirty = True

    def save(self) -> None:
        # Dropped entries (files deleted or edited) also make the pack worth rewriting.
        if not self._dirty and len(self._used) == len(self._old):
            return
        body = {"loader": LOADER_VERSION, "entries": self._used}
        try:
            with atomic_writer(self.path) as handle:
                handle.write(orjson.dumps(body))
        except OSError:
            pass  # a read-only checkout still loads, just without the speed-up
