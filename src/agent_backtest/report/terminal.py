"""The terminal summary: the mode table, the gate line and the failed cases, as plain text.

What pytest prints at the end of ``--agent-evals`` and ``backtest merge`` prints.
Reasons and case lines wrap at ``width`` (with a hanging indent) and are never cut:
the reason a gate failed is the one thing a reader came for. The mode table is
never wrapped and keeps whole failure-mode names; without a baseline it drops the
all-dashes "vs baseline" column, which keeps it inside 80 columns.
"""

from __future__ import annotations

import textwrap

from agent_backtest.gate.model import GateDecision, ModeRow
from agent_backtest.report import formatting as fmt
from agent_backtest.report.model import RunReport

HEADERS = ("failure mode", "prod share", "cases", "pass rate", "95% interval", "vs baseline")
STATUS_HEADER = "status"


def render_summary(report: RunReport, *, width: int = 100) -> str:
    lines = [wrapped for line in _headline(report) for wrapped in _wrap(line, width)]
    gate = report.gate
    if gate is not None and gate.modes:
        lines.append("")
        lines.extend(_mode_table(gate.modes))  # a table is never wrapped
    prose = [""]
    prose.extend(_gate_lines(gate))
    unpassed = fmt.unpassed_cases(report)
    if unpassed:
        prose.append("")
        prose.append("failed cases:")
        prose.extend(
            f"  {case.outcome.value.upper():6} {case.case_id} [{fmt.modes_of(case)}]: "
            + fmt.why_not_passed(case)
            for case in unpassed
        )
    lines.extend(wrapped for line in prose for wrapped in _wrap(line, width))
    return "\n".join(lines)


def _headline(report: RunReport) -> list[str]:
    total = len(report.cases)
    where = [f"agent {report.agent}"] if report.agent else []
    where.append(f"llm {report.llm_mode}")
    if report.shard:
        where.append(f"shard {report.shard}")
    return [
        f"agent-backtest: {total} case{'s' if total != 1 else ''}: {fmt.outcome_counts(report)}",
        "  " + ", ".join(where),
    ]


def _row_cells(row: ModeRow) -> tuple[str, ...]:
    return (
        row.mode,
        fmt.production_share(row),
        str(row.cases),
        fmt.pass_rate(row),
        fmt.interval(row),
        fmt.delta(row),
        row.status.value + (f" ({row.note})" if row.note else ""),
    )


def _mode_table(rows: list[ModeRow]) -> list[str]:
    cells: list[tuple[str, ...]] = [_row_cells(row) for row in rows]
    header: tuple[str, ...] = (*HEADERS, STATUS_HEADER)
    if all(row.baseline_pass_rate is None for row in rows):
        # Without a baseline the column would be all dashes; 80 columns are precious in CI.
        drop = HEADERS.index("vs baseline")
        header = header[:drop] + header[drop + 1 :]
        cells = [c[:drop] + c[drop + 1 :] for c in cells]
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        name = values[0].ljust(widths[0])
        numbers = [
            value.rjust(w) if i in (1, 2) else value.ljust(w)
            for i, (value, w) in enumerate(zip(values[1:-1], widths[1:-1], strict=True), 1)
        ]
        return "  ".join([name, *numbers, values[-1]])

    return [line(header), *(line(c) for c in cells)]


def _gate_lines(gate: GateDecision | None) -> list[str]:
    lines = [fmt.gate_headline(gate)]
    if gate is None:
        return lines
    coverage = fmt.coverage_line(gate)
    if coverage:
        lines.append(f"  {coverage}")
    lines.extend(f"  - {reason}" for reason in gate.reasons)
    lines.extend(f"  warning: {warning}" for warning in gate.warnings)
    if gate.override is not None:
        lines.append(f"  override: {gate.override}")
    if gate.flaky:
        lines.append(f"  flaky: {', '.join(gate.flaky)}")
    if gate.quarantined:
        lines.append(f"  quarantined (left out of the rates): {', '.join(gate.quarantined)}")
    return lines


def _wrap(line: str, width: int) -> list[str]:
    if len(line) <= width or not line.strip():
        return [line]
    stripped = line.lstrip(" ")
    indent = " " * (len(line) - len(stripped))
    # "- reason" and "FAILED id: why" continue under their text, not under the bullet.
    hang = indent + "    "
    return textwrap.wrap(
        stripped,
        width=max(width, 40),
        initial_indent=indent,
        subsequent_indent=hang,
        break_on_hyphens=False,
        break_long_words=False,
    )
