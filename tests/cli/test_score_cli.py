"""``backtest score`` through click, against the real local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_backtest.cli.main import cli
from agent_backtest.trace.writers import write_normalized_jsonl
from tests.scoring.judge_helpers import HELPFUL_JUDGE_YAML
from tests.support.openai_server import OpenAIServer
from tests.support.traces import agent_trace


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        running.handler = lambda request: json.dumps(
            {"label": "no" if "q1" in request.prompt else "yes", "reason": "r"}
        )
        yield running


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.agent-backtest]\n")
    (tmp_path / "classifiers").mkdir()
    (tmp_path / "classifiers" / "helpful.yaml").write_text(HELPFUL_JUDGE_YAML)
    write_normalized_jsonl(
        [agent_trace(f"{i + 1:032x}", question=f"q{i}") for i in range(3)],
        tmp_path / "traces.jsonl",
    )
    return tmp_path


def _score(server: OpenAIServer, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    base = ["score", "traces.jsonl", "--base-url", server.base_url, "--model", "m"]
    result = runner.invoke(cli, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_score_prints_distribution_and_writes_annotations(
    server: OpenAIServer, project: Path
) -> None:
    code, out, err = _score(server, "-c", "helpful", "-o", "ann.jsonl")
    assert code == 0, err
    assert "helpful@" in out
    assert "yes" in out
    assert "66.7%" in out
    assert "scored 3 of 3 traces; 3 judge requests, 0 cache hits" in err
    assert len((project / "ann.jsonl").read_text().splitlines()) == 3
    # a second run is answered from .backtest/cache: zero requests
    server.reset()
    code, _, err = _score(server, "-c", "helpful")
    assert code == 0
    assert "0 judge requests, 3 cache hits" in err
    assert server.completion_requests == []
    assert any((project / ".backtest" / "cache" / "judge").iterdir())


def test_judge_errors_exit_1(server: OpenAIServer, project: Path) -> None:
    server.handler = lambda request: "maybe later"
    code, out, err = _score(server, "-c", "helpful", "--no-cache")
    assert code == 1
    assert "error" in out
    assert "3 verdicts are errors" in err


def test_bad_judge_file_is_one_line(server: OpenAIServer, project: Path) -> None:
    (project / "classifiers" / "helpful.yaml").write_text(HELPFUL_JUDGE_YAML + "temprature: 0\n")
    code, _, err = _score(server, "-c", "helpful")
    assert code == 2
    assert "helpful.yaml:6 at temprature: unknown key 'temprature'" in err
    assert "Traceback" not in err
