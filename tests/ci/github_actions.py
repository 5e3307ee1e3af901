"""Reading action.yml and workflows, checking them, and running the action's steps for real.

GitHub's runner cannot run here, so ``CompositeAction.run`` plays its part for one
``run:`` step: it resolves the step's ``env:`` expressions (the only place this
action uses expressions next to a script), runs the script with ``bash -eo
pipefail`` as the runner does, and reads back ``$GITHUB_OUTPUT`` and
``$GITHUB_ENV``. Expressions outside the small supported set raise, so a new kind
of expression in action.yml makes the tests say what to add here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / "tools" / "actionlint"

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
CONTEXT_PATH = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")
INPUT_REFERENCE = re.compile(r"\binputs\.([A-Za-z_][\w-]*)")
STEP_OUTPUT_REFERENCE = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)")
# A third-party action pinned to a major version (owner/repo[/path]@vN).
PINNED_TO_MAJOR = re.compile(r"[\w.-]+/[\w.-]+(?:/[\w./-]+)?@v\d+")
REQUIRED_ACTION_KEYS = ("name", "description", "runs")
BASH = shutil.which("bash") or "/bin/bash"  # found here: a step's own PATH may lack it


def load_yaml(path: Path) -> dict[str, Any]:
    """A workflow or action file; YAML 1.1 reads the key ``on`` as True, put it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a mapping")
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def workflow_steps(workflow: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, step) for every step of every job."""
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


def expression_texts(value: Any) -> Iterator[str]:
    """The text inside every ``${{ }}`` anywhere in a YAML value."""
    if isinstance(value, str):
        yield from EXPRESSION.findall(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from expression_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from expression_texts(item)


def step_expressions(step: Mapping[str, Any]) -> list[str]:
    """Expressions of a step, counting ``if:``, which is an expression without ``${{ }}``."""
    texts = list(expression_texts({k: v for k, v in step.items() if k != "if"}))
    condition = step.get("if")
    if isinstance(condition, str):
        texts.extend(EXPRESSION.findall(condition) or [condition])
    return texts


def action_problems(action: Mapping[str, Any]) -> list[str]:
    """What is wrong with a composite action's metadata (actionlint does not read it)."""
    problems = [
        f"missing top-level key {key!r}" for key in REQUIRED_ACTION_KEYS if key not in action
    ]
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append(f"runs.using is {runs.get('using')!r}, expected 'composite'")
    steps = runs.get("steps") or []
    if not steps:
        problems.append("runs.steps is empty")
    inputs = action.get("inputs") or {}
    problems += [
        f"input {name!r} has no description"
        for name, spec in inputs.items()
        if not (spec or {}).get("description")
    ]
    seen_ids: dict[str, dict[str, Any]] = {}
    for index, step in enumerate(steps):
        where = f"step {index + 1} ({step.get('name') or step.get('id') or step.get('uses')})"
        if ("run" in step) == ("uses" in step):
            problems.append(f"{where}: needs exactly one of run and uses")
        if "run" in step:
            if "shell" not in step:
                problems.append(f"{where}: a composite step with run needs shell")
            if EXPRESSION.search(str(step["run"])):
                problems.append(f"{where}: an expression inside run; pass it through env")
        if "uses" in step and not PINNED_TO_MAJOR.fullmatch(str(step["uses"])):
            problems.append(f"{where}: uses {step['uses']!r} is not pinned to a major version @vN")
        for text in step_expressions(step):
            problems += _reference_problems(where, text, inputs, seen_ids)
        if step.get("id"):
            if step["id"] in seen_ids:
                problems.append(f"{where}: id {step['id']!r} is used twice")
            seen_ids[step["id"]] = step
    for name, spec in (action.get("outputs") or {}).items():
        if not (spec or {}).get("description") or "value" not in (spec or {}):
            problems.append(f"output {name!r} needs a description and a value")
        for text in expression_texts((spec or {}).get("value", "")):
            problems += _reference_problems(f"output {name!r}", text, inputs, seen_ids)
    return problems


def _reference_problems(
    where: str, text: str, inputs: Mapping[str, Any], earlier: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    problems = [
        f"{where}: inputs.{name} is not an input"
        for name in INPUT_REFERENCE.findall(text)
        if name not in inputs
    ]
    for step_id, output in STEP_OUTPUT_REFERENCE.findall(text):
        step = earlier.get(step_id)
        if step is None:
            problems.append(f"{where}: steps.{step_id} is not an earlier step")
        elif not re.search(rf"(?m)\b{re.escape(output)}=", str(step.get("run", ""))):
            problems.append(f"{where}: step {step_id!r} never writes output {output!r}")
    return problems


def bash_scripts(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, script) of every bash ``run:`` in an action or a workflow."""
    if "runs" in document:
        steps: list[tuple[str, dict[str, Any]]] = [
            ("action", step) for step in document["runs"].get("steps", [])
        ]
        default_shell = None
    else:
        steps = list(workflow_steps(document))
        default_shell = "bash"  # what ubuntu runners use when a workflow step has no shell
    for owner, step in steps:
        if "run" in step and step.get("shell", default_shell) == "bash":
            yield f"{owner}: {step.get('name') or step.get('id') or step['run'][:30]}", step["run"]


def shellcheck(shellcheck_path: str, script: str, tmp: Path) -> list[dict[str, Any]]:
    """shellcheck's findings for one run script, expressions blanked as actionlint does."""
    blanked = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
    path = tmp / "step.bash"
    # The runner's bash invocation: bash --noprofile --norc -eo pipefail FILE.
    path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + blanked, encoding="utf-8")
    done = subprocess.run(
        [shellcheck_path, "--format=json1", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"shellcheck failed: {done.stderr}")
    comments: list[dict[str, Any]] = json.loads(done.stdout)["comments"]
    return comments


@dataclass
class StepRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    exported: dict[str, str]  # what the step wrote to $GITHUB_ENV


@dataclass
class CompositeAction:
    """action.yml's run steps, executed one at a time like the Actions runner would."""

    workspace: Path  # $GITHUB_WORKSPACE: where the steps' working-directory starts
    temp: Path  # $RUNNER_TEMP
    inputs: dict[str, str] = field(default_factory=dict)
    github: dict[str, Any] = field(default_factory=dict)  # the github context
    env: dict[str, str] = field(default_factory=dict)  # the job's environment
    path: Path = ACTION
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # step id -> outputs

    def __post_init__(self) -> None:
        self.action = load_yaml(self.path)
        self.github = {"token": "test-token", "repository": "owner/project", **self.github}
        declared = self.action.get("inputs") or {}
        unknown = sorted(set(self.inputs) - set(declared))
        if unknown:
            raise KeyError(f"not inputs of {self.path.name}: {unknown}")
        defaults = {name: str((spec or {}).get("default", "")) for name, spec in declared.items()}
        self.inputs = {
            name: self.resolve(value) for name, value in {**defaults, **self.inputs}.items()
        }

    def step(self, step_id: str) -> dict[str, Any]:
        for step in self.action["runs"]["steps"]:
            if step.get("id") == step_id or step.get("name") == step_id:
                return dict(step)
        raise KeyError(f"no step {step_id!r} in {self.path.name}")

    def resolve(self, value: str) -> str:
        contexts = {
            "inputs": getattr(self, "inputs", {}),
            "github": self.github,
            "runner": {"temp": str(self.temp)},
            "steps": {sid: {"outputs": out} for sid, out in self.outputs.items()},
        }

        def one(match: re.Match[str]) -> str:
            path = match.group(1)
            if not CONTEXT_PATH.fullmatch(path):
                raise ValueError(f"unsupported expression in a value: {match.group(0)}")
            node: Any = contexts
            for part in path.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            return "" if node is None else str(node)  # GitHub renders null as ''

        return EXPRESSION.sub(one, value)

    def run(self, step_id: str) -> StepRun:
        step = self.step(step_id)
        output_file = self.temp / f"{step_id}.output"
        env_file = self.temp / f"{step_id}.env"
        output_file.write_text("")
        env_file.write_text("")
        workdir = self.workspace / self.resolve(str(step.get("working-directory", ".")))
        env = {
            **self.env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": str(self.github["repository"]),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_ENV": str(env_file),
            "RUNNER_TEMP": str(self.temp),
            **{name: self.resolve(str(value)) for name, value in (step.get("env") or {}).items()},
        }
        done = subprocess.run(
            [BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        outputs = _key_values(output_file.read_text())
        exported = _key_values(env_file.read_text())
        if step.get("id"):
            self.outputs[step["id"]] = outputs
        self.env.update(exported)  # later steps see $GITHUB_ENV, as on the runner
        return StepRun(done.returncode, done.stdout, done.stderr, outputs, exported)


def _key_values(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return dict(pairs)


def base_env() -> dict[str, str]:
    """A clean environment for a step: this interpreter first on PATH, no pytest or gate leaks."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"])
    return env


def path_with_only(folder: Path, *programs: str) -> str:
    """A PATH holding only ``programs``: a step that would call gh (and the network) cannot."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in programs:
        found = shutil.which(name)
        if found is None:
            raise FileNotFoundError(name)
        (folder / name).symlink_to(found)
    return str(folder)
