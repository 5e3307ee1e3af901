"""Content-addressed judge cache: one small JSON file per (judge version, prompt, model params).

Layout: ``<cache_dir>/judge/<first 2 hex>/<sha256>.json``. The key is the sha256
of the canonical JSON of everything that determines the answer, so an unchanged
trace scored by an unchanged judge is answered from disk with no request, and a
changed judge or prompt simply misses. One file per entry means a run never
rewrites an index (cost stays O(1) per case) and git diffs stay small, so the
folder can be committed for deterministic CI.

Writes go to a temp file in the same folder and are renamed into place, so a
reader never sees half a file. They are not fsynced: losing an entry in a crash
only costs a re-ask, and an fsync per entry would dominate a large run. A file
that does not parse is treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CACHE_SCHEMA = "agent-backtest/judge-cache@1"


def cache_key(payload: Mapping[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class JudgeCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0
        self._made: set[Path] = set()

    @classmethod
    def in_cache_dir(cls, cache_dir: str | Path) -> JudgeCache:
        """The judge cache inside the project's cache folder (``settings.cache_dir``)."""
        return cls(Path(cache_dir) / "judge")

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path_for(key).read_bytes())
        except (OSError, ValueError):
            self.misses += 1
            return None
        if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        path = self.path_for(key)
        folder = path.parent
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        body = json.dumps({"schema": CACHE_SCHEMA, **entry}, sort_keys=True, indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
