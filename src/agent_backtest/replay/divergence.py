"""How the candidate's tool calls diverged from production's recorded path.

Pure data (JSON-serializable) plus a text rendering for pytest failure output.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from pydantic import BaseModel, Field

from agent_backtest.replay.matching import MatchTier, RecordingBook, format_call


class OrderAlignment(StrEnum):
    EXACT = "exact"  # every recording used once, in production order
    IN_ORDER = "in_order"  # the matched recordings were used in production order
    ANY_ORDER = "any_order"  # matched, but out of order
    NONE = "none"  # nothing matched


class CallDivergence(BaseModel):
    index: int
    call: str
    tier: MatchTier
    recording_seq: int | None = None
    level: str | None = None  # "tool" (never recorded) or "arguments" (recorded, other args)
    reason: str


class DivergenceReport(BaseModel):
    alignment: OrderAlignment
    calls: list[CallDivergence] = Field(default_factory=list)
    extra_calls: list[CallDivergence] = Field(default_factory=list)
    unused_recordings: list[str] = Field(default_factory=list)
    repeated_calls: dict[str, int] = Field(default_factory=dict)  # call -> times, when > 1
    tiers: dict[str, int] = Field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return bool(self.extra_calls) or self.alignment not in (OrderAlignment.EXACT,)

    def render(self) -> str:
        lines = [
            f"tool calls: {len(self.calls)}, alignment with production: {self.alignment.value}"
        ]
        for call in self.calls:
            if call.recording_seq is not None:
                where = f"recording #{call.recording_seq}"
            else:
                where = "REAL TOOL" if call.tier is MatchTier.LIVE else "NO RECORDING"
            lines.append(f"  {call.index + 1:>3}. {call.call}  -> {where} [{call.tier.value}]")
            if call.tier in _OFF_PATH:
                lines.append(f"       {call.level}-level: {call.reason}")
        for repeated, times in self.repeated_calls.items():
            lines.append(f"  repeated: {repeated} x{times}")
        if self.unused_recordings:
            lines.append("  unused recordings: " + ", ".join(self.unused_recordings))
        return "\n".join(lines)


# Calls no recording answered: the real tool may have (live), but production never did.
_OFF_PATH = (MatchTier.UNMATCHED, MatchTier.LIVE)


def _alignment(book: RecordingBook) -> OrderAlignment:
    seqs = [c.match.recording.seq for c in book.calls if c.match.recording is not None]
    if not seqs:
        return OrderAlignment.NONE if book.recordings else OrderAlignment.EXACT
    in_order = seqs == sorted(seqs)
    if in_order and not book.unused() and len(seqs) == len(book.calls):
        return OrderAlignment.EXACT
    return OrderAlignment.IN_ORDER if in_order else OrderAlignment.ANY_ORDER


def build_report(book: RecordingBook) -> DivergenceReport:
    calls: list[CallDivergence] = []
    for call in book.calls:
        recorded_tools = {rec.tool for rec in book.recordings}
        level = None
        if call.match.tier in _OFF_PATH:
            level = "tool" if call.tool not in recorded_tools else "arguments"
        calls.append(
            CallDivergence(
                index=call.index,
                call=format_call(call.tool, call.arguments),
                tier=call.match.tier,
                recording_seq=call.match.recording.seq if call.match.recording else None,
                level=level,
                reason=call.match.reason,
            )
        )
    counts = Counter(c.call for c in calls)
    return DivergenceReport(
        alignment=_alignment(book),
        calls=calls,
        extra_calls=[c for c in calls if c.tier in _OFF_PATH],
        unused_recordings=[
            f"#{rec.seq} {format_call(rec.tool, rec.arguments)}" for rec in book.unused()
        ],
        repeated_calls={call: n for call, n in counts.items() if n > 1},
        tiers=dict(Counter(c.tier.value for c in calls)),
    )
