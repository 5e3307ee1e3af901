"""A recorded copy of the plugin fixture project, shared by the plugin tests.

The LLM calls are recorded once per module against the real local server, so
every pytester run below replays with no server at all.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from agent_backtest.evalset.evalset import load_evalset
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases
from tests.fixtures.plugin.script import support_server_handler
from tests.support.openai_server import OpenAIServer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "plugin"
CLOSED_PORT = "http://127.0.0.1:9/v1"  # nothing listens: a real request would fail


def copy_project(source: Path, target: Path) -> None:
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, target / entry.name)


@pytest.fixture(scope="session")
def recorded_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recorded")
    copy_project(FIXTURE, root)
    evalset = load_evalset(root / "evalsets" / "support")
    jobs = [
        CaseJob(c, evalset.config, evalset.root, "tests.fixtures.plugin.support_bot:run")
        for c in evalset.cases
    ]
    with pytest.MonkeyPatch.context() as mp, OpenAIServer(handler=support_server_handler) as srv:
        mp.setenv("OPENAI_API_KEY", "test")
        mp.setenv("OPENAI_BASE_URL", srv.base_url)
        mp.setenv("SUPPORT_BOT_SIDE_EFFECTS", str(root / "recording-side-effects.log"))
        asyncio.run(run_cases(jobs, RunOptions(llm_mode="record")))
    return root


@pytest.fixture
def project(
    pytester: pytest.Pytester, recorded_project: Path, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A pytester project with the tiny agent, its evalset and recorded LLM calls."""
    copy_project(recorded_project, pytester.path)
    pytester.makeini("[pytest]\npythonpath = .\n")
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("OPENAI_BASE_URL", CLOSED_PORT)
    monkeypatch.setenv("SUPPORT_BOT_SIDE_EFFECTS", str(pytester.path / "side-effects.log"))
    for name in ("BACKTEST_AGENT", "BACKTEST_REPEAT", "BACKTEST_LLM_MODE"):
        monkeypatch.delenv(name, raising=False)
    return pytester
