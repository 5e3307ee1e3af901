"""``promote``: selected production traces become redacted case files in an evalset.

Idempotent by construction: every case is indexed by its fingerprint first, a
trace whose case is already there is reported as a duplicate naming that case,
and an existing file changes only with ``update=True``. Each file is written
with ``atomic_writer`` (temp file + rename), so an interrupted run leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from agent_backtest.errors import ConfigError, Location
from agent_backtest.evalset.case import Case
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.evalset import CASES_DIR, CONFIG_FILE, case_files
from agent_backtest.evalset.storage import load_evalset_config, read_case, write_case
from agent_backtest.evalset.storage import write_evalset_config as _write_config
from agent_backtest.evalset.yamlio import parse_yaml
from agent_backtest.promote.build import RejectedError, build_case
from agent_backtest.promote.fingerprint import fingerprint
from agent_backtest.promote.modes import LabelMap
from agent_backtest.promote.redact import (
    KEY_FILE,
    RedactionRules,
    Redactor,
    load_or_create_key,
    rules_from_mapping,
)
from agent_backtest.promote.select import Selection
from agent_backtest.trace.api import TraceStream
from agent_backtest.trace.model import Trace
from agent_backtest.trace.source import ReadOptions


class Status(StrEnum):
    WRITTEN = "written"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Outcome:
    trace_id: str
    status: Status
    case_id: str | None = None
    path: Path | None = None
    reason: str | None = None
    failure_modes: tuple[str, ...] = ()
    redacted: dict[str, int] = field(default_factory=dict)


@dataclass
class PromoteResult:
    evalset: Path
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    created_config: bool = False
    leftover_temp_files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)


def load_label_map(evalset_dir: Path, extra: dict[str, str] | None = None) -> LabelMap:
    """``failure_mode_labels`` from ``evalset.yaml`` (when there is one), then ``extra`` on top."""
    mapping: dict[str, Any] = {}
    config_path = evalset_dir / CONFIG_FILE
    if config_path.is_file():
        mapping.update(load_evalset_config(config_path).failure_mode_labels)
    mapping.update(extra or {})
    return LabelMap.from_mapping(mapping, where=str(config_path))


def load_rules_file(path: Path) -> RedactionRules:
    """User redaction rules from YAML: ``patterns``, ``paths``, ``disable`` (optionally under ``redaction:``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read redaction rules: {exc.strerror}", where=Location(path)
        ) from None
    data = parse_yaml(text, path)
    if isinstance(data, dict) and set(data) == {"redaction"}:
        data = data["redaction"]
    return rules_from_mapping(data, where=path)


# Top-level keys as our writer puts them: at column 0, one line each. Nested keys
# are indented and block-scalar text is too, so these cannot match inside a value.
_ID_LINE = re.compile(r"^id: ['\"]?([a-z0-9-]+)['\"]?$", re.MULTILINE)
_FINGERPRINT_LINE = re.compile(r"^fingerprint: ['\"]?(fp\d+:[0-9a-f]+)['\"]?$", re.MULTILINE)


class _Index:
    """Existing cases by fingerprint and by id.

    Reads the ``id`` and ``fingerprint`` lines promote wrote instead of parsing
    and validating every case: re-running promote over a 10,000-case evalset must
    not cost a full load. A case without a stored fingerprint (written by hand)
    is parsed and fingerprinted from its content.
    """

    def __init__(self, root: Path) -> None:
        self.by_fingerprint: dict[str, tuple[str, Path]] = {}
        self.ids: dict[str, Path] = {}
        for path in case_files(root):
            text = path.read_text(encoding="utf-8")
            found_id, found_fp = _ID_LINE.search(text), _FINGERPRINT_LINE.search(text)
            if found_id and found_fp:
                self._remember(found_fp.group(1), found_id.group(1), path)
            else:
                self.add(read_case(path).case, path)

    def _remember(self, key: str, case_id: str, path: Path) -> None:
        self.by_fingerprint.setdefault(key, (case_id, path))
        self.ids[case_id] = path

    def add(self, case: Case, path: Path) -> None:
        self._remember(case.fingerprint or fingerprint(case), case.id, path)


def _origins(stream: TraceStream, trace: Trace) -> tuple[str | None, str | None]:
    for report in stream.reports:
        if trace.trace_id in report.trace_ids:
            return str(report.path), report.format
    return None, None


def _leftovers(cases_dir: Path) -> list[Path]:
    # atomic_writer names temp files ".<name>.<random>.tmp"; one left behind means a
    # writer was killed before its rename. The case file itself is intact.
    if not cases_dir.is_dir():
        return []
    return sorted(p for p in cases_dir.glob(".*.tmp") if p.is_file())


def promote(
    sources: Sequence[Path],
    evalset_dir: Path,
    selection: Selection,
    *,
    dry_run: bool = False,
    update: bool = False,
    rules: RedactionRules | None = None,
    format_name: str | None = None,
    skip_invalid: bool = False,
    key: bytes | None = None,
) -> PromoteResult:
    """Promote the selected traces in ``sources`` into ``evalset_dir``; see the module doc."""
    evalset_dir = Path(evalset_dir)
    result = PromoteResult(evalset=evalset_dir, dry_run=dry_run)
    config_path = evalset_dir / CONFIG_FILE
    if config_path.is_file():
        load_evalset_config(config_path)  # a broken evalset.yaml stops promote before any write
    cases_dir = evalset_dir / CASES_DIR
    index = _Index(evalset_dir)
    result.leftover_temp_files = _leftovers(cases_dir)
    if key is None:
        has_key = (evalset_dir / KEY_FILE).is_file()
        # A dry run must not create the key file; a throwaway key gives the same
        # ids and fingerprints (neither depends on the key).
        key = load_or_create_key(evalset_dir) if (has_key or not dry_run) else _throwaway_key()
    redactor = Redactor(key, rules)
    stream = TraceStream(
        list(sources), format=format_name, options=ReadOptions(skip_invalid=skip_invalid)
    )
    if not dry_run and not config_path.is_file():
        _write_config(EvalSetConfig(name=evalset_dir.resolve().name), config_path)
        result.created_config = True
    for trace in selection.select(stream):
        origin, fmt = _origins(stream, trace)
        result.outcomes.append(
            _promote_one(
                trace, origin, fmt, selection.label_map, redactor, index, cases_dir, dry_run, update
            )
        )
    if stream.unattached_annotations:
        result.warnings.append(
            f"{len(stream.unattached_annotations)} annotations name traces not in the input"
        )
    result.warnings.extend(stream.warnings)
    return result


def _throwaway_key() -> bytes:
    return secrets.token_hex(32).encode("ascii")


def _promote_one(
    trace: Trace,
    origin: str | None,
    fmt: str | None,
    label_map: LabelMap,
    redactor: Redactor,
    index: _Index,
    cases_dir: Path,
    dry_run: bool,
    update: bool,
) -> Outcome:
    try:
        built = build_case(
            trace, label_map=label_map, redactor=redactor, origin=origin, format_name=fmt
        )
    except RejectedError as why:
        return Outcome(trace.trace_id, Status.REJECTED, reason=str(why))
    case = built.case
    modes = tuple(case.failure_modes)
    redacted = built.redaction.as_dict()
    assert case.fingerprint is not None
    existing = index.by_fingerprint.get(case.fingerprint)
    if existing is not None:
        case_id, path = existing
        if not update:
            return Outcome(trace.trace_id, Status.DUPLICATE, case_id, path, None, modes, redacted)
        case.id = case_id  # the file keeps its name and id
        new = case.with_content_hash()
        old = read_case(path).case if path.is_file() else None
        if old is not None and old.to_data() == new.to_data():
            return Outcome(trace.trace_id, Status.UNCHANGED, case_id, path, None, modes, redacted)
        if not dry_run:
            write_case(case, path)
        return Outcome(trace.trace_id, Status.UPDATED, case_id, path, None, modes, redacted)
    path = cases_dir / f"{case.id}.yaml"
    if case.id in index.ids or path.exists():
        return Outcome(
            trace.trace_id,
            Status.REJECTED,
            case.id,
            path,
            f"a different case already has id {case.id!r}; rename that case and promote again",
            modes,
            redacted,
        )
    if not dry_run:
        write_case(case, path)
    index.add(case, path)
    return Outcome(trace.trace_id, Status.WRITTEN, case.id, path, None, modes, redacted)
