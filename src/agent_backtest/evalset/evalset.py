"""An evalset folder: ``evalset.yaml`` plus ``cases/*.yaml``, loaded and checked.

``load_evalset`` is strict about each file's schema and fails on the first bad
file (the plugin must not run a half-loaded set); ``validate_evalset`` instead
collects every problem across the folder, for ``backtest cases validate``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agent_backtest.errors import BacktestError, ConfigError, InputError, Location
from agent_backtest.evalset.case import Case
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.parsecache import ParseCache
from agent_backtest.evalset.storage import CaseFile, load_evalset_config, read_case, write_case

CONFIG_FILE = "evalset.yaml"
CASES_DIR = "cases"
LOCK_FILE = "evalset.lock"


@dataclass
class EvalSet:
    root: Path
    config: EvalSetConfig
    cases: list[Case]  # sorted by id
    paths: dict[str, Path] = field(default_factory=dict)  # case id -> file

    @property
    def name(self) -> str:
        return self.config.name

    def case(self, case_id: str) -> Case:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise InputError(
            f"no case {case_id!r} in evalset {self.name!r}",
            where=Location(self.root / CASES_DIR),
            fix="list ids with 'backtest cases list'",
        )

    def failure_modes(self) -> list[str]:
        return sorted({mode for case in self.cases for mode in case.failure_modes})


def case_files(root: Path) -> list[Path]:
    folder = root / CASES_DIR
    if not folder.is_dir():
        return []
    # Sorted so loading order (and the first error reported) never depends on the OS.
    files = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(files, key=lambda p: p.name)  # str keys: Path comparison is 10x slower


def _require_root(root: Path) -> Path:
    if not (root / CONFIG_FILE).is_file():
        raise ConfigError(
            f"no {CONFIG_FILE} in {root}",
            where=Location(root / CONFIG_FILE),
            fix="point at an evalset folder (evalsets/<name>) or create its evalset.yaml",
        )
    return root


@contextmanager
def _bulk_load() -> Iterator[None]:
    """Pause the cyclic GC while building many small objects that all stay alive.

    Every gen-2 collection rescans everything loaded so far, which made loading
    10,000 cases ~40% slower; nothing created here forms garbage cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def iter_case_files(root: Path, cache_dir: Path | None = None) -> Iterator[CaseFile]:
    """Every case file under ``root``, in path order; ``cache_dir`` enables the parse cache."""
    cache = ParseCache.for_evalset(cache_dir, root) if cache_dir is not None else None
    for path in case_files(root):
        yield read_case(path, cache)
    if cache is not None:
        cache.save()


def load_evalset(root: Path, cache_dir: Path | None = None) -> EvalSet:
    """Load ``root``: its config and every case, sorted by id. Raises on the first bad file.

    ``cache_dir`` (the ``cache_dir`` setting) lets repeat loads skip YAML parsing
    of unchanged files; results are identical with or without it.
    """
    root = _require_root(Path(root))
    config = load_evalset_config(root / CONFIG_FILE)
    paths: dict[str, Path] = {}
    cases: list[Case] = []
    with _bulk_load():
        _collect(root, cache_dir, paths, cases)
    cases.sort(key=lambda c: c.id)
    return EvalSet(root=root, config=config, cases=cases, paths=paths)


def _collect(root: Path, cache_dir: Path | None, paths: dict[str, Path], cases: list[Case]) -> None:
    for loaded in iter_case_files(root, cache_dir):
        case = loaded.case
        if case.id in paths:
            raise InputError(
                f"duplicate case id {case.id!r} (also in {paths[case.id].name})",
                where=Location(loaded.path, field="id"),
                fix="every case needs its own id; rename one of them and its file",
            )
        paths[case.id] = loaded.path
        cases.append(case)


@dataclass(frozen=True)
class Problem:
    """One thing ``validate`` found wrong, as the one line the CLI prints."""

    message: str
    path: Path | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class ValidationReport:
    cases: int = 0
    problems: list[Problem] = field(default_factory=list)
    stale: list[CaseFile] = field(default_factory=list)  # fixable by re-writing

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_evalset(root: Path, cache_dir: Path | None = None) -> ValidationReport:
    """Every problem in the folder: schema errors, hashes, dangling references, duplicates."""
    root = Path(root)
    report = ValidationReport()
    try:
        _require_root(root)
        load_evalset_config(root / CONFIG_FILE)
    except BacktestError as error:
        report.problems.append(Problem(error.one_line(), root / CONFIG_FILE))
    seen: dict[str, Path] = {}
    cache = ParseCache.for_evalset(cache_dir, root) if cache_dir is not None else None
    with _bulk_load():
        for path in case_files(root):
            try:
                loaded = read_case(path, cache)
            except BacktestError as error:
                report.problems.append(Problem(error.one_line(), path))
                continue
            report.cases += 1
            report.problems.extend(_check_case(root, loaded, seen))
            if loaded.migrated_from is not None or not loaded.stored_hash_ok:
                report.stale.append(loaded)
    if cache is not None:
        cache.save()
    return report


def rewrite_stale(report: ValidationReport) -> list[Path]:
    """Re-write migrated or mis-hashed cases in the current schema with a fresh hash."""
    for loaded in report.stale:
        write_case(loaded.case, loaded.path)
    return [loaded.path for loaded in report.stale]


def _check_case(root: Path, loaded: CaseFile, seen: dict[str, Path]) -> Iterator[Problem]:
    case, path = loaded.case, loaded.path
    if case.id in seen:
        yield Problem(
            f"{path}: duplicate case id {case.id!r} (also in {seen[case.id]}) "
            "(give one of them a new id)",
            path,
        )
    else:
        seen[case.id] = path
    if path.stem != case.id:
        yield Problem(
            f"{path}: file name does not match id {case.id!r} (rename it to {case.id}.yaml)",
            path,
        )
    if loaded.migrated_from is not None:
        yield Problem(
            f"{path}: old schema case@{loaded.migrated_from} "
            "(run 'backtest cases validate --fix' to rewrite it as case@1)",
            path,
        )
    elif case.content_hash is None:
        yield Problem(
            f"{path}: missing content_hash (run 'backtest cases validate --fix' to add it)",
            path,
        )
    elif not loaded.stored_hash_ok:
        yield Problem(
            f"{path}: content_hash does not match the content (edited by hand? review the "
            "change, then run 'backtest cases validate --fix' to re-hash)",
            path,
        )
    if case.llm_recordings is not None and not (root / case.llm_recordings).exists():
        yield Problem(
            f"{path}: llm_recordings {case.llm_recordings!r} does not exist under {root} "
            "(restore the recordings or remove the reference)",
            path,
        )
