from __future__ import annotations

from pathlib import Path

import junit_xml
import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, TestSuite

from agent_backtest.gate.model import GateDecision
from agent_backtest.replay.result import CaseOutcome, CaseResult, RunResult
from agent_backtest.report.junit import GATE_SUITE, NO_MODE_SUITE, render_junit, write_junit
from agent_backtest.report.model import RunReport
from tests.report.factory import (
    INVENTED_REASON,
    JUDGE_ERROR,
    LOCK_HASH,
    LOOP_REASON,
    failed_case,
    failing_gate,
    run_report,
)

SCHEMA_FILE = Path(__file__).parent.parent / "fixtures" / "junit" / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_FILE))


def _write(report: RunReport, tmp_path: Path) -> JUnitXml:
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    return JUnitXml.fromfile(str(path))


def _suites(xml: JUnitXml) -> dict[str, TestSuite]:
    return {suite.name: suite for suite in xml}


def _properties(suite: TestSuite) -> dict[str, str]:
    # junitparser leaves properties() unannotated.
    return {prop.name: prop.value for prop in suite.properties()}  # type: ignore[no-untyped-call]


def test_the_file_validates_against_the_jenkins_junit_schema(
    tmp_path: Path, schema: xmlschema.XMLSchema
) -> None:
    path = tmp_path / "junit.xml"
    write_junit(run_report(), path)
    schema.validate(str(path))


def test_junit_xml_alone_would_not_validate_so_the_schema_check_has_teeth(
    schema: xmlschema.XMLSchema,
) -> None:
    raw = junit_xml.to_xml_report_string(
        [junit_xml.TestSuite("m", [junit_xml.TestCase("c", elapsed_sec=0.1234567)])]
    )
    assert not schema.is_valid(raw)


@pytest.mark.parametrize(
    "report",
    [
        run_report(with_gate=False),
        run_report(gate=GateDecision(passed=True)),
        RunReport(created_at="2025-01-01T00:00:00Z"),
    ],
    ids=["no-gate", "passing-gate", "empty"],
)
def test_other_shapes_validate_too(report: RunReport, schema: xmlschema.XMLSchema) -> None:
    schema.validate(render_junit(report))


def test_one_suite_per_failure_mode_in_gate_order_then_the_gate(tmp_path: Path) -> None:
    suites = _suites(_write(run_report(), tmp_path))
    # cost_blowup has no cases, so no suite; the gate suite comes last.
    assert list(suites) == [
        "step_repetition",
        "hallucinated_tool_input",
        "context_overflow",
        GATE_SUITE,
    ]
    names = {mode: [case.name for case in suite] for mode, suite in suites.items()}
    assert names["step_repetition"] == [
        "loops-on-lookup-order-3f9a2c",
        "invents-refund-amount-9be41d",
    ]
    # A case with two failure modes appears in both suites.
    assert names["hallucinated_tool_input"] == ["invents-refund-amount-9be41d"]
    assert (suites["step_repetition"].tests, suites["step_repetition"].failures) == (2, 1)
    assert (suites["context_overflow"].errors, suites["context_overflow"].failures) == (1, 0)


def test_failures_carry_the_rendered_case_and_a_reason_for_the_suites_mode(
    tmp_path: Path,
) -> None:
    suites = _suites(_write(run_report(), tmp_path))
    rendered = failed_case().render().replace("\r", "")  # XML has no bare carriage return
    by_mode = {}
    for mode in ("step_repetition", "hallucinated_tool_input"):
        case = next(c for c in suites[mode] if c.name == "invents-refund-amount-9be41d")
        (result,) = case.result
        assert isinstance(result, Failure)
        assert result.text == rendered
        assert case.classname == f"support-agent.{mode}"
        by_mode[mode] = result.message
    assert by_mode["step_repetition"] == f"step_repetition: {LOOP_REASON}"
    assert by_mode["hallucinated_tool_input"].startswith(
        f"hallucinated_tool_input: {INVENTED_REASON}"
    )
    assert "failure modes: step_repetition, hallucinated_tool_input" in (
        next(iter(suites["hallucinated_tool_input"])).system_out or ""
    )


def test_errored_cases_are_errors_and_passed_cases_have_no_result(tmp_path: Path) -> None:
    suites = _suites(_write(run_report(), tmp_path))
    (errored,) = list(suites["context_overflow"])
    (result,) = errored.result
    assert isinstance(result, Error)
    assert result.message == JUDGE_ERROR
    passed = next(iter(suites["step_repetition"]))
    assert passed.result == []
    assert passed.time == pytest.approx(1.25)


def test_properties_name_the_mode_classifier_versions_lock_hash_and_gate(
    tmp_path: Path,
) -> None:
    suites = _suites(_write(run_report(), tmp_path))
    props = _properties(suites["step_repetition"])
    assert props["failure_mode"] == "step_repetition"
    assert props["mode.status"] == "passed"
    assert props["mode.production_share"] == "0.4200"
    assert props["mode.interval"] == "0.1500,0.8500"
    assert props["mode.delta"] == "-0.2500"
    assert props["classifier.step_repetition"] == "v1"
    assert props["classifier.task_outcome"] == "j-5d1e"
    assert props["evalset.support-agent.lock_hash"] == LOCK_HASH
    assert props["agent"] == "support_bot.agent:run"
    assert props["gate.passed"] == "false"
    assert "mode.delta" not in _properties(suites["hallucinated_tool_input"])


def test_the_gate_suite_fails_with_its_reasons_and_records_an_override(
    tmp_path: Path,
) -> None:
    suites = _suites(_write(run_report(), tmp_path))
    (gate_case,) = list(suites[GATE_SUITE])
    (result,) = gate_case.result
    assert isinstance(result, Failure)
    assert result.text == "\n".join(failing_gate().reasons)
    props = _properties(suites[GATE_SUITE])
    assert props["gate.reason.2"] == failing_gate().reasons[1]
    assert props["gate.coverage"] == "0.7200"

    overridden = failing_gate().model_copy(update={"passed": True, "override": "incident 4411"})
    suites = _suites(_write(run_report(gate=overridden), tmp_path))
    (gate_case,) = list(suites[GATE_SUITE])
    assert gate_case.result == []
    assert _properties(suites[GATE_SUITE])["gate.override"] == "incident 4411"
    assert _properties(suites["step_repetition"])["gate.override"] == "incident 4411"


def test_without_a_gate_there_is_no_gate_suite_and_unlabelled_cases_get_their_own(
    tmp_path: Path,
) -> None:
    report = run_report(with_gate=False)
    report.cases.append(
        CaseResult(
            case_id="no-modes",
            evalset="support-agent",
            outcome=CaseOutcome.PASSED,
            runs=[RunResult(outcome=CaseOutcome.PASSED)],
        )
    )
    suites = _suites(_write(report, tmp_path))
    assert GATE_SUITE not in suites
    assert [case.name for case in suites[NO_MODE_SUITE]] == ["no-modes"]
    assert "gate.passed" not in _properties(suites[NO_MODE_SUITE])


def test_control_characters_in_case_text_still_make_well_formed_xml(
    tmp_path: Path, schema: xmlschema.XMLSchema
) -> None:
    report = run_report()
    report.cases[2].runs[0].error = "bad \x00byte \x1b[31mred\x1b[0m"
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    schema.validate(str(path))
    errored = next(iter(_suites(JUnitXml.fromfile(str(path)))["context_overflow"]))
    assert errored.result[0].message == "bad byte [31mred[0m"
