"""Each doctor check on a real temp project: healthy, then one failure at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_backtest.doctor import Status, counts, failed
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.storage import load_case, write_case, write_evalset_config
from tests.doctor.project import CASE_ID, Project, make_project, named, not_ok, only
from tests.promote.seeded import SEEDS, planted


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    return make_project(tmp_path, monkeypatch)


def test_a_healthy_project_passes_every_check_in_order(project: Project) -> None:
    results = project.results()
    assert [r.name for r in results] == [
        "configuration",
        "agent",
        "evalsets",
        "lock",
        "recordings",
        "secrets",
        "judge endpoint",
    ]
    assert not_ok(results) == []
    assert not failed(results)
    assert counts(results) == {"ok": 6, "fail": 0, "warn": 0, "skip": 1}
    assert "agent, cache_dir from [tool.agent-backtest]" in only(results, "configuration").detail
    assert f"{project.agent_module}:run" in only(results, "agent").detail
    assert "1 case(s) load and validate" in only(results, "evalsets").detail
    assert "matches 1 case(s)" in only(results, "lock").detail
    recordings = only(results, "recordings").detail
    assert "1 LLM recording(s) intact" in recordings
    assert "tool names match" in recordings
    assert "none found" in only(results, "secrets").detail
    judge = only(results, "judge endpoint")
    assert judge.status is Status.SKIP
    assert "no LLM judge configured" in judge.detail


# -- configuration -------------------------------------------------------------------


def test_invalid_toml_fails_configuration_and_skips_what_needs_the_settings(
    project: Project,
) -> None:
    (project.root / "pyproject.toml").write_text("[tool.agent-backtest\nagent = 1\n")
    results = project.results()
    config = only(results, "configuration")
    assert config.status is Status.FAIL
    assert "pyproject.toml" in config.detail
    assert "invalid TOML" in config.detail
    assert config.fix == "fix the syntax"
    assert only(results, "agent").status is Status.SKIP
    # The evalset does not depend on the file: it is still checked.
    assert only(results, "evalsets").status is Status.OK


def test_unknown_setting_names_the_key_and_the_valid_ones(project: Project) -> None:
    project.pyproject('judge_modle = "gpt-4o-mini"\n')
    config = only(project.results(), "configuration")
    assert config.status is Status.FAIL
    assert "judge_modle" in config.detail
    assert config.fix is not None
    assert "judge_model" in config.fix


def test_a_gate_policy_out_of_range_fails_configuration(project: Project) -> None:
    project.pyproject("\n[tool.agent-backtest.gate]\nmin_coverage = 2\n")
    config = only(project.results(), "configuration")
    assert config.status is Status.FAIL
    assert "[tool.agent-backtest.gate] min_coverage" in config.detail
    assert config.fix is not None
    assert "min_pass_rate" in config.fix


def test_environment_beats_pyproject_in_the_sources_shown(project: Project) -> None:
    project.environ["BACKTEST_CONCURRENCY"] = "2"
    detail = only(project.results(), "configuration").detail
    assert "concurrency from $BACKTEST_CONCURRENCY" in detail


# -- agent ----------------------------------------------------------------------------


def test_an_agent_that_does_not_import_fails_with_the_fix(project: Project) -> None:
    (project.root / f"{project.agent_module}.py").write_text("import orders_sdk_not_installed\n")
    results = project.results()
    agent = only(results, "agent")
    assert agent.status is Status.FAIL
    assert f"{project.agent_module}:run" in agent.detail
    assert "cannot import" in agent.detail
    assert "orders_sdk_not_installed" in agent.detail
    assert agent.fix is not None
    assert "importable" in agent.fix
    assert "tool names not checked (the agent did not load)" in only(results, "recordings").detail


def test_an_agent_module_that_raises_names_the_line(project: Project) -> None:
    (project.root / f"{project.agent_module}.py").write_text("x = 1\nraise ValueError('no DSN')\n")
    agent = only(project.results(), "agent")
    assert agent.status is Status.FAIL
    assert "ValueError: no DSN" in agent.detail
    assert ":2 in <module>" in agent.detail
    assert agent.fix == "fix the error in the agent module"


def test_a_missing_callable_lists_what_the_module_has(project: Project) -> None:
    project.environ["BACKTEST_AGENT"] = f"{project.agent_module}:main"
    agent = only(project.results(), "agent")
    assert agent.status is Status.FAIL
    assert "has no attribute 'main'" in agent.detail
    assert "$BACKTEST_AGENT" in agent.detail
    assert agent.fix is not None
    assert "lookup_order" in agent.fix
    assert "run" in agent.fix


def test_an_evalset_override_is_checked_on_its_own(project: Project) -> None:
    (project.root / "other_agent_doctor.py").write_text("run = 'not callable'\n")
    config = EvalSetConfig(name="orders", agent="other_agent_doctor:run")
    write_evalset_config(config, project.evalset / "evalset.yaml")
    project.relock()
    agents = named(project.results(), "agent")
    assert [a.status for a in agents] == [Status.OK, Status.FAIL]
    assert "[tool.agent-backtest] agent" in agents[0].detail
    assert "used by" not in agents[0].detail  # the only evalset brings its own
    assert "evalsets/orders/evalset.yaml" in agents[1].detail
    assert "is a str, not callable" in agents[1].detail


def test_no_agent_anywhere_fails(project: Project) -> None:
    (project.root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    agent = only(project.results(), "agent")
    assert agent.status is Status.FAIL
    assert agent.detail == "no candidate agent configured"
    assert agent.fix is not None
    assert "agent = 'package.module:run'" in agent.fix


# -- evalsets -------------------------------------------------------------------------


def test_invalid_case_yaml_fails_the_evalset_and_skips_lock_and_recordings(
    project: Project,
) -> None:
    text = project.case_file.read_text()
    project.case_file.write_text(text.replace("title: ", "title: [unclosed "))
    results = project.results()
    evalsets = only(results, "evalsets")
    assert evalsets.status is Status.FAIL
    assert str(Path("evalsets/orders/cases") / f"{CASE_ID}.yaml") in evalsets.detail
    assert "invalid YAML" in evalsets.detail
    assert evalsets.fix is not None
    assert "backtest cases validate evalsets/orders" in evalsets.fix
    assert only(results, "lock").status is Status.SKIP
    assert only(results, "recordings").status is Status.SKIP


def test_a_hand_edited_case_suggests_validate_fix(project: Project) -> None:
    text = project.case_file.read_text()
    project.case_file.write_text(text.replace("Loops on lookup_order", "Loops forever"))
    evalsets = only(project.results(), "evalsets")
    assert evalsets.status is Status.FAIL
    assert "content_hash does not match" in evalsets.detail
    assert evalsets.fix is not None
    assert evalsets.fix.startswith("run 'backtest cases validate evalsets/orders --fix'")


def test_no_evalsets_fails_with_the_promote_command(project: Project, tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    results = project.results(evalsets=empty)
    evalsets = only(results, "evalsets")
    assert evalsets.status is Status.FAIL
    assert evalsets.fix is not None
    assert "backtest promote" in evalsets.fix
    assert only(results, "secrets").status is Status.SKIP


# -- lock -----------------------------------------------------------------------------


def test_a_stale_lock_names_the_changed_and_added_cases(project: Project) -> None:
    case = load_case(project.case_file)
    write_case(case.model_copy(update={"title": "Loops forever"}), project.case_file)
    other = case.model_copy(update={"id": "invents-order-id-d4e5f6"})
    write_case(other, project.evalset / "cases" / "invents-order-id-d4e5f6.yaml")
    lock = only(project.results(), "lock")
    assert lock.status is Status.FAIL
    assert f"1 case(s) changed ({CASE_ID})" in lock.detail
    assert "1 case(s) added (invents-order-id-d4e5f6)" in lock.detail
    assert lock.fix is not None
    assert "'backtest cases lock --evalset evalsets/orders'" in lock.fix


def test_a_config_change_makes_the_lock_stale(project: Project) -> None:
    config = EvalSetConfig(name="orders", description="now with a description")
    write_evalset_config(config, project.evalset / "evalset.yaml")
    lock = only(project.results(), "lock")
    assert lock.status is Status.FAIL
    assert lock.detail.endswith("stale, evalset.yaml changed")


def test_a_missing_lock_is_a_warning(project: Project) -> None:
    (project.evalset / "evalset.lock").unlink()
    results = project.results()
    lock = only(results, "lock")
    assert lock.status is Status.WARN
    assert lock.fix == "backtest cases lock --evalset evalsets/orders"
    assert not failed(results)


# -- recordings -----------------------------------------------------------------------


def test_a_cassette_that_is_not_json_fails(project: Project) -> None:
    project.cassette.write_bytes(project.cassette.read_bytes()[:40])
    recordings = only(project.results(), "recordings")
    assert recordings.status is Status.FAIL
    assert str(project.cassette.relative_to(project.root)) in recordings.detail
    assert "invalid JSON" in recordings.detail
    assert recordings.fix is not None
    assert "--agent-evals-llm=record" in recordings.fix


def _edit_request(data: dict[str, Any], content: str) -> None:
    data["request"]["messages"][0]["content"] = content


@pytest.mark.parametrize(
    ("edit", "status", "says"),
    [
        (
            lambda d: _edit_request(d, "Where is order A1043?"),  # edited by hand
            Status.FAIL,
            "content address mismatch: its request hashes to",
        ),
        (
            # Replay redacts the stored request but keeps the key of the request as sent.
            lambda d: _edit_request(d, "key <redacted:openai_api_key:3f9a2c1d>"),
            Status.OK,
            "1 LLM recording(s) intact (1 redacted, keyed as sent)",
        ),
        (lambda d: d.update(schema="agent-backtest/llm-interaction@9"), Status.FAIL, "schema"),
        (lambda d: d.update(key="0" * 64), Status.FAIL, "is not its file name"),
        (lambda d: d.pop("body"), Status.FAIL, "neither a body nor stream chunks"),
    ],
    ids=["hand-edited", "redacted", "schema", "key", "no-answer"],
)
def test_cassette_content_is_checked_against_its_address(
    project: Project, edit: Callable[[dict[str, Any]], None], status: Status, says: str
) -> None:
    data = orjson.loads(project.cassette.read_bytes())
    edit(data)
    project.cassette.write_bytes(orjson.dumps(data))
    recordings = only(project.results(), "recordings")
    assert recordings.status is status
    assert says in recordings.detail


def test_partial_writes_stray_files_and_orphan_folders_are_warnings(project: Project) -> None:
    partial = project.cassette.parent / f".{project.cassette.name}.x8k2p.tmp"
    partial.write_text("{")
    stray = project.cassette.parent.parent / "notes.json"
    stray.write_text("{}")
    orphan = project.evalset / "llm" / "deleted-case-0a0b0c"
    orphan.mkdir()
    results = project.results()
    warnings = named(results, "recordings")
    assert [w.status for w in warnings] == [Status.WARN, Status.WARN]
    assert "1 partial write(s)" in warnings[0].detail
    assert partial.name in warnings[0].detail
    assert "1 stray file(s) replay never reads and 1 cassette folder(s) no case uses" in (
        warnings[1].detail
    )
    assert "notes.json" in warnings[1].detail
    assert "deleted-case-0a0b0c" in warnings[1].detail
    assert not failed(results)


def test_recordings_of_a_tool_the_agent_does_not_declare_warn(project: Project) -> None:
    case = load_case(project.case_file)
    renamed = f"refund_{project.tool}"  # unique: no other test's agent declares it
    recording = case.recordings[0].model_copy(update={"tool": renamed})
    write_case(case.model_copy(update={"recordings": [recording]}), project.case_file)
    project.relock()
    recordings = only(project.results(), "recordings")
    assert recordings.status is Status.WARN
    assert f"{renamed} ({CASE_ID})" in recordings.detail
    assert recordings.fix is not None
    assert project.tool in recordings.fix


# -- secrets --------------------------------------------------------------------------


def test_a_planted_secret_fails_the_scan_without_showing_it(project: Project) -> None:
    seed = SEEDS[0]
    case = load_case(project.case_file)
    message = case.input.messages[0].model_copy(update={"content": planted(seed)})
    updated = case.model_copy(
        update={"input": case.input.model_copy(update={"messages": [message]})}
    )
    write_case(updated, project.case_file)
    project.relock()
    results = project.results()
    secrets = only(results, "secrets")
    assert secrets.status is Status.FAIL
    assert seed.kind in secrets.detail
    assert f"{CASE_ID}.yaml" in secrets.detail
    assert seed.secret not in secrets.detail
    assert secrets.fix is not None
    assert "'backtest scan evalsets/orders'" in secrets.fix
    assert [r.name for r in not_ok(results)] == ["secrets"]
