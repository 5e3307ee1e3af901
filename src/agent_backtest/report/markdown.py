"""GitHub Actions output: the step summary (Markdown) and ``::error`` workflow commands.

Case text is untrusted (agent outputs, judge reasons), and GitHub renders HTML
inside Markdown, so everything from a case is either HTML-escaped or put in a
fenced code block whose fence is longer than any backtick run inside it.
"""

from __future__ import annotations

import html
import re

from agent_backtest.gate.model import GateDecision, ModeRow
from agent_backtest.replay.result import CaseResult
from agent_backtest.report import formatting as fmt
from agent_backtest.report.model import RunReport

TITLE = "agent-backtest"
GATE_TITLE = "agent-backtest gate"
MODE_TABLE_HEADER = (
    "| Failure mode | Production share | Cases | Pass rate | 95% interval "
    "| Δ vs baseline | Status |\n|---|--:|--:|--:|---|---|---|"
)
_STATUS_ICON = {
    "passed": "✅",
    "failed": "❌",
    "regressed": "📉",
    "uncovered": "⚠️",
    "error": "💥",
    "not_run": "⏸️",
}


def render_step_summary(report: RunReport) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: verdict, mode table, failed cases."""
    parts = [_verdict_section(report)]
    gate = report.gate
    if gate is not None and gate.modes:
        parts.append(MODE_TABLE_HEADER + "\n" + "\n".join(_mode_row(r) for r in gate.modes))
    unpassed = fmt.unpassed_cases(report)
    if unpassed:
        parts.append(f"### Failed cases ({len(unpassed)})")
        parts.extend(_case_details(report, case) for case in unpassed)
    return "\n\n".join(parts) + "\n"


def _verdict_section(report: RunReport) -> str:
    gate = report.gate
    icon = "⚪" if gate is None else ("✅" if gate.passed else "❌")
    if gate is not None and gate.override is not None:
        icon = "⚠️"
    lines = [
        f"## {icon} {TITLE}: {fmt.gate_headline(gate)}",
        "",
        _md_text(f"{len(report.cases)} cases: {fmt.outcome_counts(report)}"),
    ]
    if gate is not None:
        lines.extend(_gate_details(gate))
    evalsets = ", ".join(
        f"{_md_code(info.name)} (lock {_md_code(info.lock_hash or 'none')})"
        for info in report.evalsets
    )
    if evalsets:
        lines += ["", f"Evalsets: {evalsets}"]
    return "\n".join(lines)


def _gate_details(gate: GateDecision) -> list[str]:
    lines: list[str] = []
    coverage = fmt.coverage_line(gate)
    if coverage:
        lines += ["", _md_text(coverage[0].upper() + coverage[1:])]
    if gate.override is not None:
        lines += ["", f"> **Override:** {_md_text(gate.override)}"]
    if gate.reasons:
        lines += ["", "**Why the gate failed:**", *(f"- {_md_text(r)}" for r in gate.reasons)]
    if gate.warnings:
        lines += ["", "**Warnings:**", *(f"- {_md_text(w)}" for w in gate.warnings)]
    if gate.flaky:
        lines += ["", "Flaky: " + ", ".join(_md_code(c) for c in gate.flaky)]
    if gate.quarantined:
        quarantined = ", ".join(_md_code(c) for c in gate.quarantined)
        lines += ["", f"Quarantined (left out of the rates): {quarantined}"]
    return lines


def _mode_row(row: ModeRow) -> str:
    status = f"{_STATUS_ICON.get(row.status.value, '')} {row.status.value}".strip()
    cells = [
        _md_code(row.mode),
        fmt.production_share(row),
        str(row.cases),
        fmt.pass_rate(row),
        fmt.interval(row),
        fmt.delta(row),
        status + (f" ({_md_text(row.note)})" if row.note else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def _case_details(report: RunReport, case: CaseResult) -> str:
    # Inside <details> GitHub does not parse Markdown up to the first blank line:
    # the summary is raw HTML, so it is HTML-escaped rather than Markdown-escaped.
    summary = (
        f"<code>{_html_text(case.case_id)}</code> ({_html_text(case.evalset)}): "
        f"<b>{case.outcome.value.upper()}</b> [{_html_text(fmt.modes_of(case))}]: "
        f"{_html_text(fmt.why_not_passed(case))}"
    )
    body = case.render()
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return (
        f"<details><summary>{summary}</summary>\n\n"
        f"Case file: {_md_code(fmt.case_file(report, case))}\n\n"
        f"{fence}text\n{body}\n{fence}\n\n</details>"
    )


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


# What can start emphasis, code, links, autolinks (``:`` ``@`` ``.``), HTML and
# entities, headings and list markers after a bullet, table cells and math.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&:@$])")


def _md_text(text: str) -> str:
    """Untrusted text as literal Markdown on one line.

    CommonMark lets any ASCII punctuation character be escaped with a
    backslash, which disarms emphasis, links, tags, entities and table pipes
    in one rule; harmless punctuation (``,`` ``%`` ``/``) stays readable.
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", fmt.single_line(text))


def _md_code(text: str) -> str:
    return f"<code>{_md_text(text)}</code>"


def _html_text(text: str) -> str:
    """Untrusted text inside a raw HTML block, where Markdown escapes would show."""
    return html.escape(fmt.single_line(text), quote=True)


# --- GitHub workflow commands -------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message (actions/toolkit ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``escapeProperty``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    props = ",".join(f"{name}={escape_property(value)}" for name, value in properties.items())
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def github_annotations(report: RunReport) -> list[str]:
    """``::error`` lines: one per failed or errored case on its YAML file, one for the gate."""
    lines = [
        workflow_command(
            "error",
            case.render(),
            file=fmt.case_file(report, case),
            title=f"{case.outcome.value}: {case.case_id} ({fmt.modes_of(case)})",
        )
        for case in fmt.unpassed_cases(report)
    ]
    gate = report.gate
    if gate is not None and not gate.passed:
        lines.append(
            workflow_command(
                "error", "\n".join(gate.reasons) or fmt.gate_headline(gate), title=GATE_TITLE
            )
        )
    if gate is not None and gate.override is not None:
        lines.append(
            workflow_command(
                "warning", f"gate passed by override: {gate.override}", title=GATE_TITLE
            )
        )
    return lines
