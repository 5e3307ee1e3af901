"""Matching a candidate's tool call to a production recording, in tiers.

1. ``exact``: equal after normalization (canonical JSON, JSON-in-strings
   decoded, surrounding whitespace ignored) among the unconsumed recordings of
   that tool; ties go to the recording nearest the expected position.
2. ``matcher``: the tool's argument matcher from evalset.yaml (``subset``,
   ``superset``, ``exact`` with ignored keys, or a Python callable).
3. ``positional``: opt-in, read-only tools only: the next unconsumed recording
   of that tool, whatever the arguments.

A call no tier matches is ``unmatched``; when the session then lets the real
(read-only) tool answer it, the call is re-tagged ``live``.

Every answer is tagged with its tier so the divergence report can say how
loosely the candidate was matched. Pure functions and one small stateful book;
no I/O, so this is what the pytest plugin and Python users share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from agent_backtest.evalset.case import ToolRecording

ArgumentMatcher = Callable[[Any, Any], bool]  # (recorded, candidate) -> matches


class MatchTier(StrEnum):
    EXACT = "exact"
    MATCHER = "matcher"
    POSITIONAL = "positional"
    UNMATCHED = "unmatched"
    LIVE = "live"  # no recording; the real read-only tool answered


@dataclass(frozen=True)
class ToolMatchPolicy:
    """How one tool's calls are matched; built from evalset.yaml's replay policy."""

    matcher: str | ArgumentMatcher = "exact"  # exact | subset | superset | callable
    ignore_keys: frozenset[str] = frozenset()
    positional_fallback: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class Match:
    tier: MatchTier
    recording: ToolRecording | None
    reason: str


def normalize_arguments(value: Any) -> Any:
    """The comparable form of tool arguments (what the exact tier compares)."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "["):
            try:
                return normalize_arguments(orjson.loads(text))
            except orjson.JSONDecodeError:
                return text
        return text
    if isinstance(value, dict):
        return {str(k): normalize_arguments(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize_arguments(v) for v in value]
    return value


def canonical(value: Any) -> bytes:
    return orjson.dumps(
        normalize_arguments(value), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    )


def _drop_keys(value: Any, keys: frozenset[str]) -> Any:
    if keys and isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in keys}
    return value


def _is_subset(small: Any, big: Any) -> bool:
    """Every key/value in ``small`` is present (recursively) in ``big``."""
    if isinstance(small, dict) and isinstance(big, dict):
        return all(k in big and _is_subset(v, big[k]) for k, v in small.items())
    return bool(small == big)


def arguments_match(policy: ToolMatchPolicy, recorded: Any, candidate: Any) -> bool:
    recorded_n = _drop_keys(normalize_arguments(recorded), policy.ignore_keys)
    candidate_n = _drop_keys(normalize_arguments(candidate), policy.ignore_keys)
    matcher = policy.matcher
    if callable(matcher):
        return bool(matcher(recorded_n, candidate_n))
    if matcher == "subset":  # the recording's arguments are contained in the candidate's
        return _is_subset(recorded_n, candidate_n)
    if matcher == "superset":  # the candidate's arguments are contained in the recording's
        return _is_subset(candidate_n, recorded_n)
    return bool(recorded_n == candidate_n)


@dataclass
class CandidateCall:
    """One tool call the candidate made, and how it was answered."""

    index: int
    tool: str
    arguments: Any
    match: Match


@dataclass
class RecordingBook:
    """The recordings of one case with what the candidate has consumed so far."""

    recordings: Sequence[ToolRecording]
    policies: dict[str, ToolMatchPolicy] = field(default_factory=dict)
    default_policy: ToolMatchPolicy = field(default_factory=ToolMatchPolicy)
    consumed: set[int] = field(default_factory=set)  # indexes into ``recordings``
    calls: list[CandidateCall] = field(default_factory=list)
    # Canonical arguments per recording, computed once: every call compares against them.
    _canonical: dict[int, bytes] = field(default_factory=dict, repr=False)

    def _canonical_of(self, index: int) -> bytes:
        found = self._canonical.get(index)
        if found is None:
            found = self._canonical[index] = canonical(self.recordings[index].arguments)
        return found

    def policy(self, tool: str) -> ToolMatchPolicy:
        return self.policies.get(tool, self.default_policy)

    def _unconsumed(self, tool: str) -> list[int]:
        return [
            i
            for i, rec in enumerate(self.recordings)
            if rec.tool == tool and i not in self.consumed
        ]

    def _nearest(self, candidates: list[int]) -> int:
        expected = len(self.calls)  # the candidate's n-th call expects the n-th recording
        return min(candidates, key=lambda i: (abs(i - expected), i))

    def match(self, tool: str, arguments: Any) -> Match:
        """Find (and consume) the recording that answers this call."""
        pending = self._unconsumed(tool)
        policy = self.policy(tool)
        wanted = canonical(arguments)
        exact = [i for i in pending if self._canonical_of(i) == wanted]
        if exact:
            chosen, tier, why = self._nearest(exact), MatchTier.EXACT, "same arguments"
        else:
            loose = [
                i
                for i in pending
                if arguments_match(policy, self.recordings[i].arguments, arguments)
            ]
            if loose and (policy.matcher != "exact" or policy.ignore_keys):
                chosen, tier = self._nearest(loose), MatchTier.MATCHER
                why = f"{policy.matcher if isinstance(policy.matcher, str) else 'custom'} matcher"
            elif pending and policy.positional_fallback and policy.read_only:
                chosen, tier, why = (
                    pending[0],
                    MatchTier.POSITIONAL,
                    "next recording of a read-only tool",
                )
            else:
                result = Match(
                    MatchTier.UNMATCHED, None, self._explain_miss(tool, arguments, pending)
                )
                self.calls.append(CandidateCall(len(self.calls), tool, arguments, result))
                return result
        self.consumed.add(chosen)
        result = Match(tier, self.recordings[chosen], why)
        self.calls.append(CandidateCall(len(self.calls), tool, arguments, result))
        return result

    def _explain_miss(self, tool: str, arguments: Any, pending: list[int]) -> str:
        if not any(rec.tool == tool for rec in self.recordings):
            return f"tool {tool!r} was never called in production"
        if not pending:
            used = sum(1 for rec in self.recordings if rec.tool == tool)
            return f"all {used} recordings of {tool!r} were already used"
        nearest = self.recordings[pending[0]]
        return f"arguments differ from the recording #{nearest.seq}: {describe_difference(nearest.arguments, arguments)}"

    def unused(self) -> list[ToolRecording]:
        return [rec for i, rec in enumerate(self.recordings) if i not in self.consumed]


def describe_difference(recorded: Any, candidate: Any) -> str:
    """A short, human-readable difference between two argument values."""
    left, right = normalize_arguments(recorded), normalize_arguments(candidate)
    if isinstance(left, dict) and isinstance(right, dict):
        parts = []
        for key in sorted(set(left) | set(right)):
            if key not in right:
                parts.append(f"{key} missing (recorded {_short(left[key])})")
            elif key not in left:
                parts.append(f"{key} not recorded (got {_short(right[key])})")
            elif left[key] != right[key]:
                parts.append(f"{key}: recorded {_short(left[key])}, got {_short(right[key])}")
        return "; ".join(parts) or "equal"
    return f"recorded {_short(left)}, got {_short(right)}"


def format_call(tool: str, arguments: Any) -> str:
    """``lookup_order(order_id="1843")``: how a call is shown in errors and reports."""
    value = normalize_arguments(arguments)
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_short(v)}" for k, v in value.items())
    elif value is None:
        inner = ""
    else:
        inner = _short(value)
    return f"{tool}({inner})"


def _short(value: Any, limit: int = 60) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 1] + "…"
