"""The README's two commands on the bundled example, as a user runs them on a fresh clone.

No API key, no ``OPENAI_BASE_URL`` and no model server: the default run replays
the recorded LLM interactions, so it needs no network at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.examples.processes import case_node_ids, clean_env, outcomes, run_python

EVALS = ["-m", "pytest", "--agent-evals", "-rA", "-p", "no:cacheprovider"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # Reports and caches go to a temporary folder, not into the repository.
    return clean_env(
        BACKTEST_REPORT_DIR=str(tmp_path / "report"), BACKTEST_CACHE_DIR=str(tmp_path / "cache")
    )


def test_the_candidate_passes_every_case_and_the_gate(env: dict[str, str]) -> None:
    done = run_python(EVALS, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    cases = case_node_ids()
    assert len(cases) == 4
    assert outcomes(done.stdout) == dict.fromkeys(cases, "PASSED")
    assert "agent examples.support_agent.candidate:run, llm replay" in done.stdout
    assert "gate PASSED" in done.stdout


def test_the_production_agent_fails_naming_the_failure_modes_that_came_back(
    env: dict[str, str],
) -> None:
    done = run_python(
        [*EVALS, "--agent-evals-agent", "examples.support_agent.production:run"], env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert outcomes(done.stdout) == dict.fromkeys(case_node_ids(), "FAILED")
    for line in (
        "failed: step_repetition detected: lookup_order called 6 times in a row",
        "failed: step_repetition detected: search_kb called 5 times in a row",
        "failed: hallucinated_tool_input detected: lookup_order: order_id=ORD-1043 appears in "
        "no earlier tool result or message",
        "failed: cascading_retries detected: get_refund_status failed 6 times in a row",
        "gate FAILED",
    ):
        assert line in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_without_agent_evals_the_evalsets_are_not_collected(env: dict[str, str]) -> None:
    # The repository's pyproject names the example's agent; plain pytest must not care,
    # even when the evalsets folder is passed explicitly.
    args = ["-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = run_python([*args, "tests/test_package.py", "evalsets"], env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected
    assert all(line.startswith("tests/test_package.py::") for line in collected)
