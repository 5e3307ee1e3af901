"""Builders shared by the judge tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_backtest.scoring.judge import LLMJudge
from agent_backtest.scoring.judge_client import JudgeConfig, JudgeRuntime, RetryPolicy
from agent_backtest.scoring.judge_definition import JudgeDefinition, judge_from_mapping
from tests.support.openai_server import OpenAIServer

# The judge the score tests (Python API and CLI) both run.
HELPFUL_JUDGE_YAML = """\
id: helpful
kind: binary
labels: [yes, no]
pass: [yes]
prompt: "Q: {{input}} A: {{output}}"
"""

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, timeout=0.5)

HELPFUL: dict[str, Any] = {
    "id": "helpful",
    "description": "Was the answer helpful?",
    "kind": "binary",
    "labels": {"yes": "the agent solved it", "no": "it did not"},
    "pass": ["yes"],
    "failure_mode": "task_failure",
    "prompt": "User: {{input}}\nTools:\n{{tool_calls}}\nAnswer: {{output}}",
}


def definition(**changes: Any) -> JudgeDefinition:
    return judge_from_mapping({**HELPFUL, **changes})


def runtime(server: OpenAIServer, cache_dir: Path | None, **config: Any) -> JudgeRuntime:
    values: dict[str, Any] = {
        "base_url": server.base_url,
        "model": "judge-model",
        "concurrency": 4,
        "retry": FAST_RETRY,
        "cache_dir": cache_dir,
    }
    values.update(config)
    return JudgeRuntime(JudgeConfig(**values))


def judge(server: OpenAIServer, cache_dir: Path | None = None, **config: Any) -> LLMJudge:
    return LLMJudge(definition(), runtime(server, cache_dir, **config))
