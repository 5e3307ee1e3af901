"""``pytest --agent-evals`` like a user runs it: pytester projects, with and without xdist."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fixtures.plugin.script import support_server_handler
from tests.support.openai_server import OpenAIServer

GOOD = "evalsets/support/cases/follows-recorded-path.yaml::follows-recorded-path"
LOOP = "evalsets/support/cases/loops-on-lookup.yaml::loops-on-lookup"
REFUND = "evalsets/support/cases/refunds-twice.yaml::refunds-twice"
XDIST = pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["inline", "xdist"])


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """node id -> PASSED/FAILED from the -rA short summary."""
    out: dict[str, str] = {}
    for line in result.stdout.lines:
        for word in ("PASSED", "FAILED", "ERROR"):
            if line.startswith(word + " "):
                out[line.split()[1]] = word
    return out


@XDIST
def test_record_once_then_replay_with_no_server(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    for cassettes in (project.path / "evalsets" / "support" / "llm").glob("*"):
        for file in cassettes.rglob("*.json"):
            file.unlink()  # start from nothing: this test records through pytest itself
    with OpenAIServer(handler=support_server_handler) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        recorded = project.runpytest("--agent-evals", "--agent-evals-llm=record", "-rA", *workers)
        assert len(server.completion_requests) == 10
    assert _outcomes(recorded) == {GOOD: "PASSED", LOOP: "FAILED", REFUND: "FAILED"}

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the server is gone
    replayed = project.runpytest("--agent-evals", "-rA", *workers)
    assert _outcomes(replayed) == {GOOD: "PASSED", LOOP: "FAILED", REFUND: "FAILED"}
    replayed.stdout.fnmatch_lines(
        [
            "*case loops-on-lookup (support): FAILED*",
            "*failed: step_repetition detected: lookup_order called 4 times*",
            '*repeated: lookup_order(order_id="A2") x4*',
        ]
    )
    assert "Traceback" not in replayed.stdout.str()
    assert not (project.path / "side-effects.log").exists()


@XDIST
def test_a_side_effecting_tool_never_runs_under_any_policy_or_flag(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    evalset = project.path / "evalsets" / "support" / "evalset.yaml"
    evalset.write_text(
        "schema: agent-backtest/evalset@1\nname: support\nagent: support_bot:run\n"
        "replay:\n  default:\n    unmatched: live\n"  # live asked for every tool, refund included
    )
    with OpenAIServer(handler=support_server_handler) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        for llm in ("live", "record", "replay"):
            result = project.runpytest("--agent-evals", f"--agent-evals-llm={llm}", "-k", "refund")
            result.assert_outcomes(failed=1)
    assert not (project.path / "side-effects.log").exists()


def test_k_and_failure_mode_markers_select_cases(project: pytest.Pytester) -> None:
    by_name = project.runpytest("--agent-evals", "-k", "loops", "--strict-markers")
    by_name.assert_outcomes(failed=1)
    by_mode = project.runpytest("--agent-evals", "-m", "step_repetition", "--strict-markers", "-rA")
    assert _outcomes(by_mode) == {GOOD: "PASSED", LOOP: "FAILED"}
    by_other = project.runpytest("--agent-evals", "-m", "hallucinated_tool_input", "-rA")
    assert _outcomes(by_other) == {REFUND: "FAILED"}
    assert "PytestUnknownMarkWarning" not in by_mode.stdout.str() + by_other.stdout.str()


@XDIST
def test_junitxml_has_one_testcase_per_case_with_its_result(
    project: pytest.Pytester, workers: list[str]
) -> None:
    project.runpytest("--agent-evals", "--junitxml=out.xml", *workers)
    cases = ET.parse(project.path / "out.xml").getroot().iter("testcase")
    by_name = {c.get("name", ""): c for c in cases}
    assert sorted(by_name) == ["follows-recorded-path", "loops-on-lookup", "refunds-twice"]
    properties = {
        p.get("name"): p.get("value") for p in by_name["loops-on-lookup"].iter("property")
    }
    assert properties["agent_backtest.outcome"] == "failed"
    result = json.loads(properties["agent_backtest.result"] or "")
    assert result["case_id"] == "loops-on-lookup"
    assert result["runs"][0]["divergence"]["repeated_calls"] == {'lookup_order(order_id="A2")': 4}


def test_without_paths_only_cases_run_and_with_paths_cases_under_them(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_ordinary="def test_ordinary():\n    pass\n")
    only_cases = project.runpytest("--agent-evals", "--collect-only", "-q")
    assert "test_ordinary" not in only_cases.stdout.str()
    only_cases.stdout.fnmatch_lines([GOOD, LOOP, REFUND])
    both = project.runpytest("--agent-evals", "--collect-only", "-q", ".")
    both.stdout.fnmatch_lines([GOOD, "*test_ordinary.py::test_ordinary*"])
    plain = project.runpytest("--collect-only", "-q")
    assert "follows-recorded-path" not in plain.stdout.str()


def test_an_agent_that_raises_fails_with_its_message_not_a_traceback(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "--agent-evals", "--agent-evals-agent=support_bot:boom", "-k", "A1 or follows"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*case follows-recorded-path (support): ERROR*",
            "*error: agent raised ValueError: the candidate blew up (at support_bot.py:*in boom)*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "raise ValueError" not in result.stdout.str()


def test_precedence_flag_beats_marker_beats_ini(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\npythonpath = .\nagent_evals_repeat = 2\n")
    args = ("--agent-evals", "-k", "loops")
    project.runpytest(*args).stdout.fnmatch_lines(["*pass rate 0% (0/2 runs; need all runs)*"])
    project.makeconftest(
        "import pytest\n"
        "def pytest_collection_modifyitems(items):\n"
        "    for item in items:\n"
        "        item.add_marker(pytest.mark.agent_evals(repeat=3))\n"
    )
    project.runpytest(*args).stdout.fnmatch_lines(["*(0/3 runs; need all runs)*"])
    flagged = project.runpytest(*args, "--agent-evals-repeat=4")
    flagged.stdout.fnmatch_lines(["*(0/4 runs; need all runs)*"])


def test_agent_precedence_flag_then_evalset_then_project(project: pytest.Pytester) -> None:
    args = ("--agent-evals", "-k", "follows")
    project.makeini("[pytest]\npythonpath = .\nagent_evals_agent = support_bot:boom\n")
    project.runpytest(*args).assert_outcomes(passed=1)  # evalset.yaml's agent beats the ini
    project.runpytest(*args, "--agent-evals-agent=support_bot:boom").assert_outcomes(failed=1)
    evalset = project.path / "evalsets" / "support" / "evalset.yaml"
    evalset.write_text(evalset.read_text().replace("agent: support_bot:run\n", ""))
    project.runpytest(*args).assert_outcomes(failed=1)  # now the ini's agent is used
    project.runpytest(*args, "--agent-evals-agent=support_bot:run_async").assert_outcomes(passed=1)


def test_bad_option_values_are_usage_errors(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\npythonpath = .\nagent_evals_repeat = many\n")
    result = project.runpytest("--agent-evals")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agent_evals_repeat = 'many' is not a valid int*"])


def test_pass_rate_threshold_and_traces_dir(project: pytest.Pytester, tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    result = project.runpytest(
        "--agent-evals",
        "-k",
        "follows",
        "--agent-evals-repeat=2",
        "--agent-evals-pass-rate=0.5",
        f"--agent-evals-traces={traces}",
    )
    result.assert_outcomes(passed=1)
    written = sorted(p.name for p in (traces / "support").iterdir())
    assert written == ["follows-recorded-path.0.otlp.json", "follows-recorded-path.1.otlp.json"]


def test_fixtures_run_a_case_from_an_ordinary_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_hand_written="""
        import pytest
        from support_bot import lookup_order
        from agent_backtest.replay.tools import ToolError

        def test_run(backtest_case, replay):
            case = backtest_case("support/follows-recorded-path")
            assert case.input.messages[0].content == "Where is order A1?"
            result = replay.run(case, agent="support_bot:run")
            assert result.passed, result.render()

        def test_session(replay):
            with replay.session("follows-recorded-path") as session:
                assert lookup_order(order_id="A1") == {"status": "shipped"}
                with pytest.raises(ToolError, match="no recorded response"):
                    lookup_order(order_id="A1")
            assert len(session.spans) == 2

        @pytest.mark.agent_evals(agent="support_bot:boom")
        def test_marker(replay):
            assert replay.run("loops-on-lookup").outcome.value == "error"
        """
    )
    project.runpytest("test_hand_written.py").assert_outcomes(passed=3)
