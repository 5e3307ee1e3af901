"""``backtest scan``: find secrets that reached files (evalsets, cassettes, any text).

Uses the same detectors as redaction, so anything promote would have replaced is
reported, and placeholders (``<redacted:...>``) are not. A finding shows the
file, line and kind, and at most a masked preview: the report itself must be
safe to paste into a CI log.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_backtest.errors import InputError, Location
from agent_backtest.promote.detectors import BUILTIN_DETECTORS, Detector, find_all

# Directories that hold tool state, not content a user would commit as data.
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__"})
_SKIP_FILES = frozenset({".redaction-key"})
_MAX_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    line: int
    column: int
    kind: str
    preview: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.kind} ({self.preview})"


def mask(value: str) -> str:
    """Enough to recognise which value it is (a vendor prefix), never enough to use it."""
    flat = " ".join(value.split())
    shown = min(4, len(flat) // 4)
    return f"{flat[:shown]}…[{len(value)} chars]"


def scan_text(
    text: str, path: Path, detectors: Sequence[Detector] = BUILTIN_DETECTORS
) -> list[Finding]:
    findings: list[Finding] = []
    line_starts = [0]
    line_starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
    line_index = 0
    for start, end, kind in find_all(text, detectors):
        while line_index + 1 < len(line_starts) and line_starts[line_index + 1] <= start:
            line_index += 1
        column = start - line_starts[line_index] + 1
        findings.append(Finding(path, line_index + 1, column, kind, mask(text[start:end])))
    return findings


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths, in a stable order; missing paths are an InputError."""
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for name in sorted(files):
                    if name not in _SKIP_FILES:
                        yield Path(root) / name
        else:
            raise InputError(
                "no such file or directory", where=Location(path), fix="check the path"
            )


@dataclass
class ScanResult:
    findings: list[Finding]
    files_scanned: int
    files_skipped: list[tuple[Path, str]]  # (path, why): binary or too large


def scan_paths(
    paths: Iterable[Path], detectors: Sequence[Detector] = BUILTIN_DETECTORS
) -> ScanResult:
    result = ScanResult([], 0, [])
    for file in iter_files(paths):
        try:
            size = file.stat().st_size
            if size > _MAX_BYTES:
                result.files_skipped.append((file, f"larger than {_MAX_BYTES >> 20} MiB"))
                continue
            data = file.read_bytes()
        except OSError as exc:
            result.files_skipped.append((file, exc.strerror or "unreadable"))
            continue
        if b"\x00" in data[:8192]:
            result.files_skipped.append((file, "binary"))
            continue
        text = data.decode("utf-8", errors="replace")
        result.files_scanned += 1
        result.findings.extend(scan_text(text, file, detectors))
    return result
