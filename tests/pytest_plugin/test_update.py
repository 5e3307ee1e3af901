"""``pytest --agent-evals --agent-evals-update`` like a user runs it, with and without xdist."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent_backtest.evalset.case import ToolRecording
from agent_backtest.evalset.evalset import LOCK_FILE, load_evalset
from agent_backtest.evalset.lock import lock_hash, write_lock
from agent_backtest.evalset.storage import read_case, write_case

XDIST = pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["inline", "xdist"])
CASE = Path("evalsets/support/cases/follows-recorded-path.yaml")


def _add_unused_recording(project: pytest.Pytester) -> None:
    path = project.path / CASE
    case = read_case(path).case
    unused = ToolRecording(seq=1, tool="lookup_order", arguments={"order_id": "A7"}, result={})
    write_case(case.model_copy(update={"recordings": [*case.recordings, unused]}), path)


def _result_property(project: pytest.Pytester) -> dict[str, object]:
    (testcase,) = ET.parse(project.path / "out.xml").getroot().iter("testcase")
    props = {p.get("name"): p.get("value") for p in testcase.iter("property")}
    value = json.loads(props["agent_backtest.result"] or "{}")
    assert isinstance(value, dict)
    return value


@XDIST
def test_update_prunes_the_unused_recording_refreshes_the_lock_and_is_idempotent(
    project: pytest.Pytester, workers: list[str]
) -> None:
    _add_unused_recording(project)
    root = project.path / "evalsets" / "support"
    write_lock(load_evalset(root))
    args = ["--agent-evals", "--agent-evals-update", "-k", "follows", "--junitxml=out.xml"]

    first = project.runpytest(*args, *workers)
    first.assert_outcomes(passed=1)
    case = read_case(project.path / CASE)
    assert [r.arguments for r in case.case.recordings] == [{"order_id": "A1"}]
    assert case.stored_hash_ok
    updated = _result_property(project)["updated"]
    assert updated == {
        "added": [],
        "pruned": ['#1 lookup_order(order_id="A7")'],
        "llm_added": [],
        "llm_pruned": [],
        "case_file": str(project.path / CASE),
    }
    lock = (root / LOCK_FILE).read_text()
    assert lock_hash(load_evalset(root)) in lock

    files = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    again = project.runpytest(*args, *workers)
    again.assert_outcomes(passed=1)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == files
    assert _result_property(project)["updated"] == {
        "added": [],
        "pruned": [],
        "llm_added": [],
        "llm_pruned": [],
    }


def test_without_the_flag_nothing_is_written(project: pytest.Pytester) -> None:
    _add_unused_recording(project)
    before = (project.path / CASE).read_bytes()
    project.runpytest("--agent-evals", "-k", "follows").assert_outcomes(passed=1)
    assert (project.path / CASE).read_bytes() == before
