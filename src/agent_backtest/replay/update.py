"""``--agent-evals-update``: write back what a run recorded, prune what it did not use.

Like syrupy's ``--snapshot-update``, for the selected cases only. During the
run (see ``ReplaySession.update``) a tool call with no recording ran the real
tool when the tool is read-only and has no side effects, and an LLM request
missing from the cassette went to the endpoint and was stored. After the run:

- the case's new tool interactions (already redacted) are appended to its
  recordings after the last ``seq``; recordings the run did not use are pruned;
  the case file is rewritten with the storage writer (same format, fresh
  content hash, atomic) only when it changed;
- cassette files no request of the run used are pruned, but only in a folder
  every case of which ran in this batch: a folder shared with a case that did
  not run may hold what that case needs;
- the evalset's ``evalset.lock``, when it has one, is refreshed.

A run that errored changes no case file and prunes nothing: it stopped part
way, so "unused" would prune recordings it simply never reached (LLM answers
it already stored stay; they are real, redacted answers). Repeated updates
are idempotent: the second run replays everything the first one recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agent_backtest.errors import BacktestError
from agent_backtest.evalset.case import Case, ToolRecording
from agent_backtest.evalset.evalset import CASES_DIR, LOCK_FILE, case_files, load_evalset
from agent_backtest.evalset.lock import write_lock
from agent_backtest.evalset.storage import read_case, write_case
from agent_backtest.replay.llm_cassette import CassetteStore
from agent_backtest.replay.matching import format_call
from agent_backtest.replay.result import RecordingUpdate
from agent_backtest.replay.session import ReplaySession

DEFAULT_LLM_DIR = "llm"
# Top-level keys as the case writer puts them (column 0, one line each).
_ID_LINE = re.compile(r"^id: ['\"]?([a-z0-9-]+)['\"]?$", re.MULTILINE)
_LLM_LINE = re.compile(r"^llm_recordings: ['\"]?(.+?)['\"]?$", re.MULTILINE)


@dataclass
class CaseRun:
    """One case's run in update mode: what the runner hands over once it finished."""

    case: Case
    root: Path  # the evalset folder
    session: ReplaySession
    error: str | None  # the run's error, if it had one
    store: CassetteStore
    llm_before: frozenset[str]  # cassette keys in the folder before the batch ran
    case_path: Path | None = None


def llm_folder(case: Case, root: Path) -> Path:
    return root / (case.llm_recordings or f"{DEFAULT_LLM_DIR}/{case.id}")


def apply_updates(runs: Sequence[CaseRun]) -> list[RecordingUpdate]:
    """Write every run's changes; one ``RecordingUpdate`` per run, in order."""
    updates = [RecordingUpdate() for _ in runs]
    for root in sorted({run.root for run in runs}):
        members = [i for i, run in enumerate(runs) if run.root == root]
        with _evalset_guard(root):
            changed = False
            for i in members:
                try:
                    updates[i] = _update_case(runs[i])
                except BacktestError as exc:  # e.g. the file was broken by hand meanwhile
                    updates[i] = RecordingUpdate(skipped=exc.one_line())
                except OSError as exc:
                    updates[i] = RecordingUpdate(skipped=f"cannot write the case file: {exc}")
                changed = changed or updates[i].case_file is not None
            _prune_cassettes(root, [runs[i] for i in members], [updates[i] for i in members])
            if changed and (root / LOCK_FILE).is_file():
                write_lock(load_evalset(root))
    return updates


# -- tool recordings -----------------------------------------------------------------


def _update_case(run: CaseRun) -> RecordingUpdate:
    if run.error is not None:
        return RecordingUpdate(skipped=f"the run errored ({run.error})")
    book = run.session.book
    kept = [rec for i, rec in enumerate(book.recordings) if i in book.consumed]
    pruned = [rec for i, rec in enumerate(book.recordings) if i not in book.consumed]
    next_seq = max((rec.seq for rec in book.recordings), default=-1) + 1
    added = [
        ToolRecording(
            seq=next_seq + n,
            tool=call.tool,
            arguments=call.arguments,
            result=call.result,
            error=call.error,
            latency_ms=call.latency_ms,
        )
        for n, call in enumerate(run.session.live_results)
    ]
    update = RecordingUpdate(
        added=[_describe(rec) for rec in added], pruned=[_describe(rec) for rec in pruned]
    )
    if not added and not pruned:
        return update
    path = run.case_path or _find_case_file(run.root, run.case.id)
    if path is None:
        update.skipped = f"no file for case {run.case.id!r} under {run.root / CASES_DIR}"
        return update
    # The file as it is now, so an edit made since collection is not overwritten.
    current = read_case(path).case
    write_case(current.model_copy(update={"recordings": [*kept, *added]}), path)
    update.case_file = str(path)
    return update


def _describe(rec: ToolRecording) -> str:
    return f"#{rec.seq} {format_call(rec.tool, rec.arguments)}"


def _find_case_file(root: Path, case_id: str) -> Path | None:
    expected = root / CASES_DIR / f"{case_id}.yaml"
    if expected.is_file():
        return expected
    for path in case_files(root):
        found = _ID_LINE.search(path.read_text(encoding="utf-8"))
        if found and found.group(1) == case_id:
            return path
    return None


# -- LLM cassettes -------------------------------------------------------------------


def _prune_cassettes(
    root: Path, runs: Sequence[CaseRun], updates: Sequence[RecordingUpdate]
) -> None:
    by_folder: dict[Path, list[int]] = {}
    for i, run in enumerate(runs):
        by_folder.setdefault(run.store.root.resolve(), []).append(i)
        llm = run.session.llm
        if llm is not None and run.error is None:
            updates[i].llm_added = sorted(set(llm.recorded) - run.llm_before)
    owners: dict[Path, set[str]] | None = None
    for folder, members in by_folder.items():
        llms = [runs[i].session.llm for i in members]
        if any(runs[i].error is not None for i in members) or any(
            llm is None or llm.mode == "live" for llm in llms
        ):
            continue  # an unfinished run or unrecorded calls say nothing about what is unused
        owners = owners if owners is not None else _folder_owners(root)
        if not owners.get(folder, set()) <= {runs[i].case.id for i in members}:
            continue  # shared with a case that did not run in this batch
        used = {key for llm in llms if llm is not None for key in llm.interactions}
        store = runs[members[0]].store
        unused = [key for key in store.stored_keys() if key not in used]
        for key in unused:
            store.remove(key)
        for i in members:
            updates[i].llm_pruned = unused


def _folder_owners(root: Path) -> dict[Path, set[str]]:
    """Cassette folder -> ids of the evalset's cases that replay from it."""
    owners: dict[Path, set[str]] = {}
    for path in case_files(root):
        text = path.read_text(encoding="utf-8")
        found_id = _ID_LINE.search(text)
        if found_id is None:
            continue
        found_dir = _LLM_LINE.search(text)
        relative = found_dir.group(1) if found_dir else f"{DEFAULT_LLM_DIR}/{found_id.group(1)}"
        owners.setdefault((root / relative).resolve(), set()).add(found_id.group(1))
    return owners


@contextmanager
def _evalset_guard(root: Path) -> Iterator[None]:
    """One writer per evalset at a time (xdist workers update cases in parallel).

    Rewriting cases and then the lock from a fresh load is only right if no
    other process writes in between; an advisory lock on the folder itself
    serializes them without leaving a file behind.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; xdist updates there race on the lock
        yield
        return
    import os

    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
