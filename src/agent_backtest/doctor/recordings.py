"""The recordings check: the LLM cassettes replay reads are intact, nothing half-written
is left behind, and tool recordings name tools the agent declares.

A cassette file is ``<key[:2]>/<key>.json`` where the key is the SHA-256 of the
canonical JSON of its ``request`` (the key material). Replay looks files up by
that key, so a file whose content no longer hashes to its name (edited by hand,
merged badly) is never found, or worse, answers a request it was not made for.
The one legitimate mismatch: replay redacts secrets in the stored request but
keeps the key of the request as sent, so a redacted request is not re-hashed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from agent_backtest.doctor.evalsets import EvalsetState
from agent_backtest.doctor.result import CheckResult, Status, listing
from agent_backtest.evalset.evalset import EvalSet
from agent_backtest.promote.detectors import PLACEHOLDER_RE
from agent_backtest.replay.llm_cassette import CASSETTE_SCHEMA
from agent_backtest.replay.runner import DEFAULT_LLM_DIR
from agent_backtest.replay.tools import ToolSpec

NAME = "recordings"
_KEY = re.compile(r"^[0-9a-f]{64}$")


def is_partial_write(name: str) -> bool:
    """A temp file of ``atomic_writer`` (``.<name>.<random>.tmp``) that was never renamed."""
    return name.startswith(".") and name.endswith(".tmp")


@dataclass(frozen=True)
class CassetteCheck:
    problem: str | None = None  # why replay cannot trust the file; None when it can
    # Replay redacts secrets in the stored request but keeps the key of the request
    # as sent, so such a file cannot be re-hashed to its key; that is not damage.
    redacted: bool = False
    stray: bool = False  # not in the <key[:2]>/<key>.json layout: replay never reads it


def check_cassette(path: Path) -> CassetteCheck:
    key = path.stem
    if path.suffix != ".json" or not _KEY.match(key) or path.parent.name != key[:2]:
        return CassetteCheck("not in the <key[:2]>/<key>.json layout", stray=True)
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        return CassetteCheck(f"invalid JSON ({exc})")
    except OSError as exc:
        return CassetteCheck(f"unreadable ({exc.strerror})")
    if not isinstance(data, dict):
        return CassetteCheck(f"a JSON {type(data).__name__}, not an interaction object")
    if data.get("schema") != CASSETTE_SCHEMA:
        return CassetteCheck(f"schema {data.get('schema')!r}, expected {CASSETTE_SCHEMA!r}")
    if data.get("key") != key:
        return CassetteCheck(f"its key {data.get('key')!r} is not its file name")
    request = data.get("request")
    if not isinstance(request, dict):
        return CassetteCheck("no request (the key material) to check the key against")
    if not isinstance(data.get("status"), int):
        return CassetteCheck("no integer HTTP status")
    if "body" not in data and not isinstance(data.get("chunks"), list):
        return CassetteCheck("neither a body nor stream chunks")
    canonical = orjson.dumps(request, option=orjson.OPT_SORT_KEYS)
    actual = hashlib.sha256(canonical).hexdigest()
    if actual == key:
        return CassetteCheck()
    if PLACEHOLDER_RE.search(canonical.decode("utf-8")):
        return CassetteCheck(redacted=True)
    return CassetteCheck(
        f"content address mismatch: its request hashes to {actual[:12]}…, not its key"
    )


@dataclass
class _Findings:
    cassettes: int = 0
    redacted: int = 0
    broken: list[tuple[Path, str]] = field(default_factory=list)
    stray: list[Path] = field(default_factory=list)
    partial: list[Path] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)


def _files(folder: Path, *, partial: bool) -> Iterator[Path]:
    """Files under ``folder`` in a stable order: partial writes only, or all but them.
    Names are tested before a Path is built: on 10,000 files the Paths cost seconds."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if is_partial_write(name) is partial:
                yield Path(root, name)


def cassette_dirs(evalset: EvalSet) -> dict[Path, str]:
    """Each case's LLM cassette folder (as the replay runner derives it) -> the case id."""
    return {
        evalset.root / (case.llm_recordings or f"{DEFAULT_LLM_DIR}/{case.id}"): case.id
        for case in evalset.cases
    }


def _inspect(evalset: EvalSet) -> _Findings:
    found = _Findings()
    used = cassette_dirs(evalset)
    for folder in sorted(used):
        for path in _files(folder, partial=False):  # partial writes: counted below, once
            checked = check_cassette(path)
            if checked.stray:
                found.stray.append(path)
            elif checked.problem is not None:
                found.broken.append((path, checked.problem))
            else:
                found.cassettes += 1
                found.redacted += checked.redacted
    default_root = evalset.root / DEFAULT_LLM_DIR
    if default_root.is_dir():
        # A case may keep its cassettes deeper (llm_recordings: llm/group/case), so a
        # folder is in use when it is a used folder or one of their parents.
        in_use = {folder for path in used for folder in (path, *path.parents)}
        found.orphans = [
            folder
            for folder in sorted(default_root.iterdir())
            if folder.is_dir() and folder not in in_use
        ]
    found.partial = list(_files(evalset.root, partial=True))
    return found


def _unknown_tools(evalset: EvalSet, declared: Mapping[str, ToolSpec]) -> dict[str, list[str]]:
    unknown: dict[str, list[str]] = {}
    for case in evalset.cases:
        for name in sorted({r.tool for r in case.recordings} - set(declared)):
            unknown.setdefault(name, []).append(case.id)
    return unknown


def check_recordings(
    state: EvalsetState, declared: Mapping[str, ToolSpec] | None
) -> list[CheckResult]:
    """``declared``: the tools the agent registered with ``@tool`` (None: the agent did not
    load, so tool names cannot be checked; empty: it declares none, so nothing to compare)."""
    if state.evalset is None:
        return [CheckResult(NAME, Status.SKIP, f"{state.root}: the evalset does not load")]
    evalset, found = state.evalset, _inspect(state.evalset)
    results: list[CheckResult] = []
    if found.broken:
        path, problem = found.broken[0]
        more = f" (and {len(found.broken) - 1} more)" if len(found.broken) > 1 else ""
        results.append(
            CheckResult(
                NAME,
                Status.FAIL,
                f"{path}: {problem}{more}",
                "delete the broken file(s) and record again: pytest --agent-evals "
                "--agent-evals-llm=record -k <case id> (needs the real LLM endpoint)",
            )
        )
    if found.partial:
        results.append(
            CheckResult(
                NAME,
                Status.WARN,
                f"{len(found.partial)} partial write(s) left by an interrupted run: "
                f"{listing(found.partial)}",
                "delete them (when nothing is writing); they are not part of the evalset",
            )
        )
    if found.stray or found.orphans:
        what = [f"{len(found.stray)} stray file(s) replay never reads"] if found.stray else []
        if found.orphans:
            what.append(f"{len(found.orphans)} cassette folder(s) no case uses")
        results.append(
            CheckResult(
                NAME,
                Status.WARN,
                f"{' and '.join(what)}: {listing([*found.stray, *found.orphans])}",
                "delete them, or run pytest --agent-evals --agent-evals-update to prune",
            )
        )
    unknown = _unknown_tools(evalset, declared or {})
    if declared and unknown:
        listed = "; ".join(f"{tool} ({listing(ids)})" for tool, ids in sorted(unknown.items()))
        results.append(
            CheckResult(
                NAME,
                Status.WARN,
                f"{state.root}: tool recordings name tools the agent does not declare with "
                f"@tool, so they never answer a call: {listed}",
                f"declare the tool (known: {', '.join(sorted(declared))}) or re-promote the cases",
            )
        )
    if not results:
        redacted = f" ({found.redacted} redacted, keyed as sent)" if found.redacted else ""
        tools = (
            "tool names match the agent's @tool functions"
            if declared
            else "tool names not checked (the agent "
            + ("did not load)" if declared is None else "declares no @tool functions)")
        )
        results.append(
            CheckResult(
                NAME,
                Status.OK,
                f"{state.root}: {found.cassettes} LLM recording(s) intact{redacted}, "
                f"no partial writes; {tools}",
            )
        )
    return results
