"""The terminal summary: the mode table, the gate line and the failed cases, as plain text.

What pytest prints at the end of ``--agent-evals`` and ``backtest merge`` prints.
Every line fits ``width`` columns; a longer one is cut with an ellipsis rather
than wrapped, so the table stays a table in a narrow CI log.
"""

from __future__ import annotations

from agent_backtest.gate.model import GateDecision, ModeRow
from agent_backtest.report import formatting as fmt
from agent_backtest.report.model import RunReport

HEADERS = ("failure mode", "prod share", "cases", "pass rate", "95% interval", "vs baseline")
STATUS_HEADER = "status"
MIN_MODE_COLUMN = 12


def render_summary(report: RunReport, *, width: int = 100) -> str:
    lines = _headline(report)
    gate = report.gate
    if gate is not None and gate.modes:
        lines.append("")
        lines.extend(_mode_table(gate.modes, width))
    lines.append("")
    lines.extend(_gate_lines(gate))
    unpassed = fmt.unpassed_cases(report)
    if unpassed:
        lines.append("")
        lines.append("failed cases:")
        lines.extend(
            f"  {case.outcome.value.upper():6} {case.case_id} [{fmt.modes_of(case)}]: "
            + fmt.why_not_passed(case)
            for case in unpassed
        )
    return "\n".join(_fit(line, width) for line in lines)


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


def _mode_table(rows: list[ModeRow], width: int) -> list[str]:
    cells = [_row_cells(row) for row in rows]
    header = (*HEADERS, STATUS_HEADER)
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(len(header))]
    # Long mode names give way first: the numbers matter more than the full name.
    others = sum(widths[1:-1]) + 2 * (len(widths) - 1) + len(STATUS_HEADER)
    widths[0] = max(MIN_MODE_COLUMN, min(widths[0], width - others))

    def line(values: tuple[str, ...]) -> str:
        name = _fit(values[0], widths[0]).ljust(widths[0])
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


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: max(1, width - 1)] + "…"
