"""``backtest doctor`` through click's CliRunner, as a user runs it."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent_backtest.cli.main import cli
from agent_backtest.config import Settings
from agent_backtest.evalset.storage import load_case, write_case
from tests.doctor.project import Project, make_project
from tests.support.openai_server import OpenAIServer, Reply


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    return make_project(tmp_path / "orders-agent", monkeypatch)


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    # No BACKTEST_* or key from the machine running the tests leaks into the project.
    clean: dict[str, str | None] = {
        f"BACKTEST_{name.upper()}": None for name in Settings.model_fields
    }
    return CliRunner(env={**clean, **(env or {})}).invoke(cli, list(args), catch_exceptions=False)


def test_a_healthy_project_prints_ok_lines_and_exits_0(project: Project) -> None:
    result = run("doctor")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 6 + ["skip"]
    assert lines[1].startswith(f"ok    agent: {project.agent_module}:run")
    assert result.stderr == "7 checks: 6 ok, 1 skip\n"


def test_json_output_is_one_object(project: Project) -> None:
    result = run("doctor", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert payload["counts"] == {"ok": 6, "fail": 0, "warn": 0, "skip": 1}
    assert payload["checks"][3]["name"] == "lock"
    assert set(payload["checks"][0]) == {"name", "status", "detail", "fix"}


def test_a_failure_exits_1_and_its_fix_is_a_command_that_works(project: Project) -> None:
    case = load_case(project.case_file)
    write_case(case.model_copy(update={"title": "Loops forever"}), project.case_file)
    result = run("doctor")
    assert result.exit_code == 1
    [failure] = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failure.startswith("FAIL  lock: evalsets/orders/evalset.lock: stale, 1 case(s) changed")
    fix = failure.split("; fix: ", 1)[1]
    command = fix.split("'")[1]  # "review the change, then run '<command>' and commit the lock"
    assert command.startswith("backtest ")
    assert run(*shlex.split(command)[1:]).exit_code == 0
    assert run("doctor").exit_code == 0


def test_a_broken_pyproject_is_a_line_not_a_traceback(project: Project) -> None:
    (project.root / "pyproject.toml").write_text("[tool.agent-backtest]\nconcurrency = 'many'\n")
    result = run("doctor", "--skip-judge")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL  configuration: pyproject.toml")
    assert "concurrency" in first
    assert "; fix: valid keys:" in first


def test_evalsets_option_points_at_another_folder(project: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-evalsets"
    shutil.move(project.evalset.parent, elsewhere)
    assert run("doctor").exit_code == 1
    result = run("doctor", "--evalsets", str(elsewhere))
    assert result.exit_code == 0, result.output
    assert f"ok    evalsets: {elsewhere / 'orders'}" in result.stdout


def test_the_judge_endpoint_up_then_down(project: Project, openai_server: OpenAIServer) -> None:
    project.pyproject(f'judge_base_url = "{openai_server.base_url}"\njudge_model = "test-model"\n')
    env: dict[str, str | None] = {"OPENAI_API_KEY": "sk-test-doctor"}
    result = run("doctor", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("ok    judge endpoint: POST ")
    openai_server.script(Reply(status=503))
    result = run("doctor", env=env)
    assert result.exit_code == 1
    assert "FAIL  judge endpoint:" in result.stdout
    assert "HTTP 503" in result.stdout
    result = run("doctor", "--skip-judge", env=env)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "skip  judge endpoint: --skip-judge: no request made"
    assert len(openai_server.completion_requests) == 2
