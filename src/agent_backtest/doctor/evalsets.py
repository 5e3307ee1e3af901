"""Evalset checks: each folder loads and validates, its lock is current, no secrets in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_backtest.doctor.result import CheckResult, Status, listing
from agent_backtest.errors import BacktestError
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.evalset import (
    CONFIG_FILE,
    LOCK_FILE,
    EvalSet,
    load_evalset,
    validate_evalset,
)
from agent_backtest.evalset.lock import lock_data
from agent_backtest.evalset.storage import load_evalset_config
from agent_backtest.evalset.yamlio import parse_yaml
from agent_backtest.promote.scan import scan_paths


def find_evalset_dirs(base: Path) -> list[Path]:
    """``base`` itself when it is an evalset, else every ``base/*/evalset.yaml`` folder."""
    if (base / CONFIG_FILE).is_file():
        return [base]
    return sorted(p.parent for p in base.glob(f"*/{CONFIG_FILE}"))


@dataclass(frozen=True)
class EvalsetState:
    """One evalset folder as far as it loaded: the config alone can load without the cases."""

    root: Path
    config: EvalSetConfig | None
    evalset: EvalSet | None
    result: CheckResult  # the evalset check's line

    @property
    def label(self) -> str:
        return self.config.name if self.config is not None else self.root.name


def no_evalsets(base: Path) -> CheckResult:
    return CheckResult(
        "evalsets",
        Status.FAIL,
        f"no evalset under {base}/ (no {base}/<name>/{CONFIG_FILE})",
        f"promote production failures with 'backtest promote TRACES --evalset {base}/<name>', "
        "or point evalsets = '...' in [tool.agent-backtest] (or --evalsets) at them",
    )


def load_state(root: Path, cache_dir: Path | None) -> EvalsetState:
    """Validate every file (all problems counted), then load the set if it is clean."""
    try:
        config: EvalSetConfig | None = load_evalset_config(root / CONFIG_FILE)
    except BacktestError:
        config = None  # validate_evalset reports it
    report = validate_evalset(root, cache_dir)
    if not report.ok:
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        fix = f"correct the file, then run 'backtest cases validate {root}' for every problem"
        if report.stale:
            fix = f"run 'backtest cases validate {root} --fix' to rewrite stale files; {fix}"
        result = CheckResult("evalsets", Status.FAIL, f"{first}{more}", fix)
        return EvalsetState(root, config, None, result)
    try:
        evalset = load_evalset(root, cache_dir)
    except BacktestError as error:  # e.g. a file changed between the two reads
        return EvalsetState(root, config, None, CheckResult.from_error("evalsets", error))
    detail = f"{root}: {evalset.name}, {len(evalset.cases)} case(s) load and validate"
    return EvalsetState(root, evalset.config, evalset, CheckResult("evalsets", Status.OK, detail))


def _blocked(name: str, state: EvalsetState) -> CheckResult:
    return CheckResult(name, Status.SKIP, f"{state.root}: the evalset does not load (see above)")


def check_lock(state: EvalsetState) -> CheckResult:
    """``evalset.lock`` names the current version: its lock hash covers config and every case."""
    if state.evalset is None:
        return _blocked("lock", state)
    evalset, path = state.evalset, state.root / LOCK_FILE
    relock = f"backtest cases lock --evalset {state.root}"
    if not path.is_file():
        return CheckResult(
            "lock",
            Status.WARN,
            f"{path}: missing, so a run's result cannot name the evalset version it ran on",
            relock,
        )
    try:
        stored = parse_yaml(path.read_text(encoding="utf-8"), path)
    except (BacktestError, OSError, UnicodeDecodeError) as exc:
        what = exc.one_line() if isinstance(exc, BacktestError) else f"{path}: unreadable ({exc})"
        return CheckResult("lock", Status.FAIL, what, f"write it again with '{relock}'")
    current = lock_data(evalset)
    if isinstance(stored, dict) and stored.get("lock_hash") == current["lock_hash"]:
        detail = f"{path}: matches {len(evalset.cases)} case(s) ({current['lock_hash'][:19]}…)"
        return CheckResult("lock", Status.OK, detail)
    locked = stored.get("cases") if isinstance(stored, dict) else None
    why = _lock_difference(locked if isinstance(locked, dict) else {}, current["cases"])
    return CheckResult(
        "lock",
        Status.FAIL,
        f"{path}: stale, {why}",
        f"review the change, then run '{relock}' and commit the lock",
    )


def _lock_difference(locked: dict[str, object], current: dict[str, str]) -> str:
    changed = sorted(i for i in current if i in locked and locked[i] != current[i])
    added = sorted(i for i in current if i not in locked)
    removed = sorted(i for i in locked if i not in current)
    parts = [
        f"{len(ids)} case(s) {verb} ({listing(ids)})"
        for ids, verb in ((changed, "changed"), (added, "added"), (removed, "removed"))
        if ids
    ]
    return ", ".join(parts) if parts else "evalset.yaml changed"


def check_secrets(roots: Sequence[Path]) -> CheckResult:
    """The same scan as ``backtest scan``, over every evalset folder (cases and cassettes)."""
    if not roots:
        return CheckResult("secrets", Status.SKIP, "no evalset to scan")
    result = scan_paths(roots)
    folders = " ".join(str(r) for r in roots)
    if result.findings:
        files = len({f.path for f in result.findings})
        return CheckResult(
            "secrets",
            Status.FAIL,
            f"{len(result.findings)} finding(s) in {files} file(s), first {result.findings[0]}",
            f"'backtest scan {folders}' lists them; remove or redact each value, and rotate "
            "any real credential",
        )
    unread = [f"{path} ({why})" for path, why in result.files_skipped if why != "binary"]
    if unread:
        return CheckResult(
            "secrets",
            Status.WARN,
            f"{result.files_scanned} file(s) clean, {len(unread)} not scanned: {listing(unread)}",
            "split or remove files too large to scan",
        )
    return CheckResult("secrets", Status.OK, f"{result.files_scanned} file(s) scanned, none found")
