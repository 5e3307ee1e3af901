"""How often each failure mode happens in production, and how many cases cover it.

``backtest coverage`` counts the failure modes that production annotations name
(with the same label mapping ``promote`` uses, so both agree on what a trace's
modes are) into ``evalsets/coverage.json``. That snapshot is committed, so CI
can weigh coverage by production frequency without production access.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent_backtest.errors import ConfigError, InputError, Location
from agent_backtest.evalset.evalset import CONFIG_FILE, iter_case_files
from agent_backtest.evalset.storage import load_evalset_config
from agent_backtest.gate.model import COVERAGE_SCHEMA, CoverageSnapshot, ModeFrequency
from agent_backtest.promote.modes import LabelMap
from agent_backtest.trace.model import Trace
from agent_backtest.trace.writers import atomic_writer

COVERAGE_FILE = "coverage.json"
_REGENERATE = "regenerate it with 'backtest coverage --traces PROD...'"


def iso_time(ns: int) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second: what a reader of coverage.json expects."""
    moment = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class ModeCounter:
    """Counts failure modes trace by trace, so a stream of any size fits in memory."""

    label_map: LabelMap = field(default_factory=LabelMap)
    traces: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    last_seen_ns: dict[str, int] = field(default_factory=dict)

    def add(self, trace: Trace) -> list[str]:
        """Count one trace; returns the failure modes it was counted under."""
        self.traces += 1
        modes = self.label_map.modes_for(trace.annotations)
        for mode in modes:
            self.counts[mode] += 1
            if trace.start_ns > self.last_seen_ns.get(mode, 0):
                self.last_seen_ns[mode] = trace.start_ns
        return modes

    def snapshot(
        self, sources: Iterable[str | Path] = (), *, generated_at: str | None = None
    ) -> CoverageSnapshot:
        # Most frequent first; ties by name so the file never reorders between runs.
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        modes = [
            ModeFrequency(
                mode=mode,
                count=count,
                # Rounded so a re-count of the same traces is byte-identical in a diff.
                share=round(count / self.traces, 6),
                last_seen=iso_time(self.last_seen_ns[mode]) if mode in self.last_seen_ns else None,
            )
            for mode, count in ordered
        ]
        return CoverageSnapshot(
            generated_at=generated_at or iso_time(time.time_ns()),
            sources=[Path(s).as_posix() for s in sources],
            traces=self.traces,
            modes=modes,
        )


def count_failure_modes(
    traces: Iterable[Trace],
    label_map: LabelMap | None = None,
    *,
    sources: Iterable[str | Path] = (),
    generated_at: str | None = None,
) -> CoverageSnapshot:
    """Count each failure mode over ``traces`` (each trace once per mode)."""
    counter = ModeCounter(label_map or LabelMap())
    for trace in traces:
        counter.add(trace)
    return counter.snapshot(sources, generated_at=generated_at)


def read_coverage(path: Path) -> CoverageSnapshot | None:
    """``coverage.json`` at ``path``; None when there is none (coverage is then not checked)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=Location(path)) from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(
            f"not valid JSON: {getattr(exc, 'msg', exc)}",
            where=Location(path, line=line),
            fix=_REGENERATE,
        ) from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != COVERAGE_SCHEMA:
        raise InputError(
            f"schema is {schema!r}, expected {COVERAGE_SCHEMA!r}",
            where=Location(path, field="schema"),
            fix=f"upgrade agent-backtest, or {_REGENERATE}",
        )
    try:
        return CoverageSnapshot.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{first['msg']}", where=Location(path, field=place), fix=_REGENERATE
        ) from None


def write_coverage(snapshot: CoverageSnapshot, path: Path) -> None:
    """Write atomically, keys in model order, so a re-run diffs only in what changed."""
    body = snapshot.model_dump(mode="json", by_alias=True)
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    with atomic_writer(path) as handle:
        handle.write(text.encode("utf-8"))


def evalset_roots(folders: Path | Iterable[Path]) -> list[Path]:
    """Each folder is an evalset (has evalset.yaml) or holds evalsets one level down."""
    found: set[Path] = set()
    for folder in [folders] if isinstance(folders, Path) else folders:
        if (folder / CONFIG_FILE).is_file():
            found.add(folder)
        elif folder.is_dir():
            found.update(p.parent for p in folder.glob(f"*/{CONFIG_FILE}"))
    return sorted(found)


def cases_per_mode(folders: Path | Iterable[Path], cache_dir: Path | None = None) -> dict[str, int]:
    """Failure mode -> how many cases carry it, over every evalset in ``folders``."""
    counts: Counter[str] = Counter()
    for root in evalset_roots(folders):
        for loaded in iter_case_files(root, cache_dir):
            counts.update(set(loaded.case.failure_modes))
    return dict(sorted(counts.items()))


def evalsets_label_map(roots: Iterable[Path], extra: Mapping[str, str] | None = None) -> LabelMap:
    """The evalsets' ``failure_mode_labels`` together, then ``extra`` (flags) on top.

    Two evalsets that map one label to different modes would count the same
    production trace differently, so that is an error rather than a silent pick.
    """
    mapping: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for root in roots:
        config_path = root / CONFIG_FILE
        for label, mode in load_evalset_config(config_path).failure_mode_labels.items():
            if label in mapping and mapping[label] != mode:
                raise ConfigError(
                    f"failure_mode_labels {label!r} maps to {mode!r} here and to "
                    f"{mapping[label]!r} in {origin[label]}",
                    where=Location(config_path, field=f"failure_mode_labels.{label}"),
                    fix="map the label to one failure mode in every evalset",
                )
            mapping[label] = mode
            origin[label] = config_path
    mapping.update(extra or {})
    return LabelMap.from_mapping(mapping, where="failure_mode_labels")


def is_covered(mode: str, cases: Mapping[str, int], min_cases_per_mode: int) -> bool:
    return cases.get(mode, 0) >= min_cases_per_mode


def weighted_coverage(
    snapshot: CoverageSnapshot, cases: Mapping[str, int], min_cases_per_mode: int
) -> float:
    """Share of production failure-mode occurrences whose mode is covered (1.0 with none)."""
    total = sum(m.count for m in snapshot.modes)
    if total == 0:
        return 1.0
    covered = sum(m.count for m in snapshot.modes if is_covered(m.mode, cases, min_cases_per_mode))
    return covered / total
