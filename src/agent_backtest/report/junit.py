"""JUnit XML: one test suite per failure mode, for every CI that reads JUnit.

A case with several failure modes appears in each of its modes' suites (a CI
shows "which failure modes regressed" without reading our files); its test
case is then counted once per suite. When the gate was decided, a last suite
``agent-backtest gate`` holds one test case that fails with the gate's reasons,
so a CI that ignores properties still shows a gate failure as red.

The XML is built by ``junit-xml`` and then normalized to the Jenkins/Ant
``junit-10.xsd`` schema that most consumers follow: junit-xml writes a
``disabled`` count the schema does not know and times with six decimals where
the schema allows three.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import junit_xml

from agent_backtest.gate.model import GateDecision, ModeRow
from agent_backtest.replay.result import CaseOutcome, CaseResult
from agent_backtest.report import formatting as fmt
from agent_backtest.report.model import RunReport
from agent_backtest.trace.writers import atomic_writer

NO_MODE_SUITE = "no_failure_mode"
GATE_SUITE = "agent-backtest gate"
GATE_CASE = "gate decision"
ROOT_NAME = "agent-backtest"
_UNKNOWN_ATTRIBUTES = ("disabled",)
_TIME_ATTRIBUTE = "time"


def write_junit(report: RunReport, path: Path) -> None:
    with atomic_writer(path) as handle:
        handle.write(render_junit(report).encode("utf-8"))


def render_junit(report: RunReport) -> str:
    suites = [_mode_suite(report, mode, cases) for mode, cases in _cases_by_mode(report)]
    if report.gate is not None:
        suites.append(_gate_suite(report, report.gate))
    text = junit_xml.to_xml_report_string(suites, prettyprint=False)
    root = ET.fromstring(text)
    root.set("name", ROOT_NAME)
    for element in root.iter():
        for name in _UNKNOWN_ATTRIBUTES:
            element.attrib.pop(name, None)
        if _TIME_ATTRIBUTE in element.attrib:
            element.set(_TIME_ATTRIBUTE, f"{float(element.attrib[_TIME_ATTRIBUTE]):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _cases_by_mode(report: RunReport) -> list[tuple[str, list[CaseResult]]]:
    """Suites in the gate's mode order (most frequent in production first), then the rest."""
    order = [row.mode for row in report.gate.modes] if report.gate else []
    by_mode: dict[str, list[CaseResult]] = {mode: [] for mode in order}
    for case in report.cases:
        for mode in case.failure_modes or [NO_MODE_SUITE]:
            by_mode.setdefault(mode, []).append(case)
    return [(mode, cases) for mode, cases in by_mode.items() if cases]


def _mode_suite(report: RunReport, mode: str, cases: list[CaseResult]) -> junit_xml.TestSuite:
    row = next((r for r in report.gate.modes if r.mode == mode), None) if report.gate else None
    properties = {"failure_mode": mode, **_mode_properties(row), **_run_properties(report)}
    return junit_xml.TestSuite(
        mode,
        [_test_case(report, case, mode) for case in cases],
        timestamp=report.created_at,
        properties=properties,
    )


def _test_case(report: RunReport, case: CaseResult, mode: str) -> junit_xml.TestCase:
    test = junit_xml.TestCase(
        case.case_id,
        classname=f"{case.evalset}.{mode}",
        elapsed_sec=case.duration_s,
        stdout=f"failure modes: {fmt.modes_of(case)}\ncase file: {fmt.case_file(report, case)}",
    )
    message = fmt.why_not_passed(case, mode)
    if case.outcome is CaseOutcome.FAILED:
        test.add_failure_info(message=message, output=case.render(), failure_type="failed")
    elif case.outcome is CaseOutcome.ERROR:
        test.add_error_info(message=message, output=case.render(), error_type="error")
    return test


def _gate_suite(report: RunReport, gate: GateDecision) -> junit_xml.TestSuite:
    test = junit_xml.TestCase(GATE_CASE, classname=ROOT_NAME, elapsed_sec=0.0)
    if not gate.passed:
        test.add_failure_info(
            message=fmt.gate_headline(gate),
            output="\n".join(gate.reasons) or fmt.gate_headline(gate),
            failure_type="gate",
        )
    properties = {**_gate_properties(gate), **_run_properties(report)}
    return junit_xml.TestSuite(
        GATE_SUITE, [test], timestamp=report.created_at, properties=properties
    )


def _mode_properties(row: ModeRow | None) -> dict[str, str]:
    if row is None:
        return {}
    values = {
        "mode.status": row.status.value,
        "mode.production_share": _number(row.production_share),
        "mode.cases": str(row.cases),
        "mode.pass_rate": _number(row.pass_rate),
        "mode.interval": (f"{row.interval[0]:.4f},{row.interval[1]:.4f}" if row.interval else None),
        "mode.baseline_pass_rate": _number(row.baseline_pass_rate),
        "mode.delta": _number(row.delta),
        "mode.p_value": _number(row.p_value),
    }
    return {name: value for name, value in values.items() if value is not None}


def _gate_properties(gate: GateDecision) -> dict[str, str]:
    values = {
        "gate.passed": str(gate.passed).lower(),
        "gate.coverage": _number(gate.coverage),
        "gate.min_coverage": _number(gate.min_coverage),
        "gate.override": gate.override,
        "gate.partial": str(gate.partial).lower(),
    }
    values.update({f"gate.reason.{i}": text for i, text in enumerate(gate.reasons, 1)})
    values.update({f"gate.warning.{i}": text for i, text in enumerate(gate.warnings, 1)})
    return {name: value for name, value in values.items() if value is not None}


def _run_properties(report: RunReport) -> dict[str, str]:
    """What every suite carries: who ran, with which classifiers, on which locked evalsets."""
    values: dict[str, str] = {"llm_mode": report.llm_mode}
    if report.agent:
        values["agent"] = report.agent
    if report.shard:
        values["shard"] = report.shard
    for classifier, version in sorted(report.classifier_versions.items()):
        values[f"classifier.{classifier}"] = version
    for info in report.evalsets:
        values[f"evalset.{info.name}.lock_hash"] = info.lock_hash or "unlocked"
    if report.gate is not None:
        values["gate.passed"] = str(report.gate.passed).lower()
        if report.gate.override is not None:
            values["gate.override"] = report.gate.override
    return values


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"
