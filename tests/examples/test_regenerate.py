"""The example's committed files are exactly what its regenerate script makes.

Each step runs as a user runs it (``python -m examples.support_agent.regenerate
STEP --root DIR``) into a temporary copy and is compared byte for byte with the
repository: the production traces, the cases ``backtest promote`` wrote, and the
recorded LLM interactions of both agents.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from examples.support_agent.regenerate import (
    COVERAGE_COMMAND,
    EVALSET,
    LABEL_FILE,
    PROMOTE_COMMAND,
    RECORD_COMMANDS,
    REDACTION_KEY,
    TRACE_FILE,
)

from tests.examples.processes import REPO, clean_env, run_python

REGENERATE = ["-m", "examples.support_agent.regenerate"]


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _regenerate(step: str, root: Path) -> None:
    done = run_python([*REGENERATE, step, "--root", str(root)], env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_traces_regenerate_byte_for_byte(tmp_path: Path) -> None:
    _regenerate("traces", tmp_path)
    for name in (TRACE_FILE, LABEL_FILE):
        assert (tmp_path / name).read_bytes() == (REPO / name).read_bytes(), name


def test_backtest_promote_reproduces_the_committed_evalset(tmp_path: Path) -> None:
    for trace_file in (TRACE_FILE, LABEL_FILE):
        (tmp_path / trace_file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / trace_file, tmp_path / trace_file)
    _regenerate("promote", tmp_path)
    made, committed = tmp_path / EVALSET, REPO / EVALSET
    assert _files(made / "cases") == _files(committed / "cases")
    for name in ("evalset.yaml", "evalset.lock"):
        assert (made / name).read_bytes() == (committed / name).read_bytes(), name
    coverage = [
        json.loads((root / "evalsets/coverage.json").read_text()) for root in (tmp_path, REPO)
    ]
    for snapshot in coverage:
        snapshot.pop("generated_at")  # the one value that is the time of the run
    assert coverage[0] == coverage[1]


def test_recording_reproduces_the_llm_interactions_of_both_agents(tmp_path: Path) -> None:
    shutil.copytree(REPO / "evalsets", tmp_path / "evalsets", ignore=shutil.ignore_patterns("llm"))
    _regenerate("record", tmp_path)
    recorded = _files(tmp_path / EVALSET / "llm")
    assert recorded == _files(REPO / EVALSET / "llm")
    assert len(recorded) > 2 * len(list((REPO / EVALSET / "cases").glob("*.yaml")))


def test_the_documented_commands_are_the_ones_the_script_runs() -> None:
    promote = f"BACKTEST_REDACTION_KEY={REDACTION_KEY} {shlex.join(PROMOTE_COMMAND)}"
    record = [shlex.join(command) for command in (COVERAGE_COMMAND, *RECORD_COMMANDS)]
    for page in (REPO / "examples" / "README.md", REPO / "docs" / "example.md"):
        text = page.read_text(encoding="utf-8")
        assert promote in text, page
        for command in record:
            assert command in text, page
