"""docs/quickstart.md, followed literally: every ``$`` line runs, in order, in one shell.

The page is the test's script. Each command must exit as the page says (0, or the
``# exits N`` comment at its end), and every output line the page shows under a
command must appear in that command's real output, in the same order (a ``...``
line stands for lines the page leaves out). Only the install line is skipped:
the package under test is already installed, and the network is not there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "quickstart.md"
INSTALL = re.compile(r"^(python3? -m )?pip install\b")
EXPECTED_EXIT = re.compile(r"\s+# exits (\d+)$")
# pytest's progress column; where it lands depends on the terminal width.
PROGRESS = re.compile(r"\s*\[\s*\d+%\]$")


@dataclass
class Step:
    command: str
    exit_code: int
    output: list[str] = field(default_factory=list)


def steps(page: str) -> list[Step]:
    found: list[Step] = []
    for block in re.findall(r"```console\n(.*?)```", page, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                expected = EXPECTED_EXIT.search(command)
                found.append(Step(command, int(expected.group(1)) if expected else 0))
            elif found and line.strip():
                found[-1].output.append(line.rstrip())
    return found


def shown_in_order(shown: list[str], actual: list[str]) -> list[str]:
    """The shown lines missing from ``actual`` (in order; ``...`` skips ahead)."""
    remaining = iter(actual)
    missing: list[str] = []
    for line in shown:
        if line == "...":
            continue
        if not any(candidate == line for candidate in remaining):
            missing.append(line)
            remaining = iter(actual)  # report every missing line, not just the first
    return missing


def _shims(folder: Path) -> dict[str, str]:
    """``python3`` and ``backtest`` as the interpreter running this test, whatever PATH says."""
    folder.mkdir()
    for name, target in (
        ("python3", f'exec "{sys.executable}" "$@"'),
        ("backtest", f'exec "{sys.executable}" -m agent_backtest "$@"'),
    ):
        shim = folder / name
        shim.write_text(f"#!/bin/sh\n{target}\n", encoding="utf-8")
        shim.chmod(0o755)
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "BACKTEST_", "PYTEST_", "GITHUB_", "COV_"))
    }
    keep["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    keep["COLUMNS"] = "80"  # the page shows 80-column output
    return keep


def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    plan = [s for s in steps(PAGE.read_text(encoding="utf-8")) if not INSTALL.match(s.command)]
    assert len(plan) >= 8, "the quickstart lost its commands"
    shutil.copytree(
        REPO / "examples",
        tmp_path / "clone" / "examples",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = _shims(tmp_path / "bin")
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    # One shell, so 'cd' carries over as it does for a reader; each command's output
    # and exit code land in files the test checks afterwards.
    script = ["set -u"]
    for number, step in enumerate(plan):
        script.append(
            f"{{ {step.command}\n}} > '{outputs}/{number}.out' 2>&1; "
            f"echo $? > '{outputs}/{number}.rc'"
        )
    subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path / "clone", env=env, check=True, timeout=600
    )
    for number, step in enumerate(plan):
        out_file, rc_file = outputs / f"{number}.out", outputs / f"{number}.rc"
        assert rc_file.exists(), f"step {number} never ran: {step.command}"
        text = out_file.read_text(encoding="utf-8")
        lines = [PROGRESS.sub("", line.rstrip()) for line in text.splitlines()]
        assert int(rc_file.read_text()) == step.exit_code, f"{step.command}\n{text}"
        missing = shown_in_order(step.output, lines)
        assert missing == [], f"{step.command}: the page shows lines the run did not print"
    report = tmp_path / "clone" / "demo" / ".backtest" / "report" / "result.json"
    assert '"passed": false' in report.read_text(encoding="utf-8")  # the last run: production
