from __future__ import annotations

from typing import Any

from agent_backtest.evalset.case import ToolRecording
from agent_backtest.replay.divergence import OrderAlignment, build_report
from agent_backtest.replay.matching import (
    MatchTier,
    RecordingBook,
    ToolMatchPolicy,
    describe_difference,
    format_call,
)


def rec(seq: int, tool: str, arguments: Any, result: Any = "ok") -> ToolRecording:
    return ToolRecording(seq=seq, tool=tool, arguments=arguments, result=result)


def test_exact_tier_normalizes_json_strings_and_key_order() -> None:
    book = RecordingBook([rec(0, "lookup_order", {"order_id": "1843", "verbose": True})])
    match = book.match("lookup_order", '{ "verbose": true, "order_id": " 1843" }')
    assert match.tier is MatchTier.EXACT
    assert match.recording is not None
    assert match.recording.seq == 0


def test_ties_go_to_the_recording_nearest_the_expected_position() -> None:
    recordings = [
        rec(0, "search_kb", {"q": "refund"}, "first"),
        rec(1, "lookup_order", {"id": 1}),
        rec(2, "search_kb", {"q": "refund"}, "second"),
    ]
    book = RecordingBook(recordings)
    book.match("lookup_order", {"id": 1})
    book.match("lookup_order", {"id": 9})  # unmatched, still advances the expected position
    match = book.match("search_kb", {"q": "refund"})
    assert match.recording is not None
    assert match.recording.result == "second"


def test_a_recording_is_consumed_once_so_a_loop_runs_out_of_answers() -> None:
    book = RecordingBook([rec(0, "lookup_order", {"order_id": "1843"})])
    assert book.match("lookup_order", {"order_id": "1843"}).tier is MatchTier.EXACT
    again = book.match("lookup_order", {"order_id": "1843"})
    assert again.tier is MatchTier.UNMATCHED
    assert "already used" in again.reason


def test_subset_and_superset_matchers_and_ignored_keys() -> None:
    recorded = {"order_id": "1843"}
    subset = RecordingBook(
        [rec(0, "t", recorded)], policies={"t": ToolMatchPolicy(matcher="subset")}
    )
    assert subset.match("t", {"order_id": "1843", "trace": "x"}).tier is MatchTier.MATCHER
    superset = RecordingBook(
        [rec(0, "t", {"order_id": "1843", "page": 2})],
        policies={"t": ToolMatchPolicy(matcher="superset")},
    )
    assert superset.match("t", recorded).tier is MatchTier.MATCHER
    strict = RecordingBook([rec(0, "t", recorded)])
    assert strict.match("t", {"order_id": "1843", "trace": "x"}).tier is MatchTier.UNMATCHED
    ignoring = RecordingBook(
        [rec(0, "t", {"order_id": "1843", "request_id": "a"})],
        policies={"t": ToolMatchPolicy(ignore_keys=frozenset({"request_id"}))},
    )
    assert ignoring.match("t", {"order_id": "1843", "request_id": "b"}).tier is MatchTier.MATCHER


def test_callable_matcher_gets_normalized_arguments() -> None:
    def same_order(recorded: Any, candidate: Any) -> bool:
        return bool(recorded["order_id"].lstrip("#") == candidate["order_id"].lstrip("#"))

    book = RecordingBook(
        [rec(0, "t", {"order_id": "#1843"})], policies={"t": ToolMatchPolicy(matcher=same_order)}
    )
    assert book.match("t", '{"order_id": "1843"}').tier is MatchTier.MATCHER


def test_positional_fallback_only_for_read_only_tools() -> None:
    read_only = ToolMatchPolicy(positional_fallback=True, read_only=True)
    book = RecordingBook([rec(0, "search_kb", {"q": "a"})], policies={"search_kb": read_only})
    assert book.match("search_kb", {"q": "b"}).tier is MatchTier.POSITIONAL
    writes = ToolMatchPolicy(positional_fallback=True, read_only=False)
    book = RecordingBook([rec(0, "issue_refund", {"amount": 5})], policies={"issue_refund": writes})
    assert book.match("issue_refund", {"amount": 500}).tier is MatchTier.UNMATCHED


def test_misses_say_whether_the_tool_or_the_arguments_differ() -> None:
    book = RecordingBook([rec(0, "lookup_order", {"order_id": "1843"})])
    unknown = book.match("escalate_to_human", {})
    assert "never called in production" in unknown.reason
    wrong = book.match("lookup_order", {"order_id": "9999"})
    assert 'order_id: recorded "1843", got "9999"' in wrong.reason


def test_divergence_report_for_a_looping_candidate() -> None:
    recordings = [
        rec(0, "lookup_order", {"order_id": "1843"}),
        rec(1, "get_refund_status", {"order_id": "1843"}),
    ]
    book = RecordingBook(recordings)
    for _ in range(4):
        book.match("lookup_order", {"order_id": "1843"})
    report = build_report(book)
    assert report.repeated_calls == {'lookup_order(order_id="1843")': 4}
    assert len(report.extra_calls) == 3
    assert report.unused_recordings == ['#1 get_refund_status(order_id="1843")']
    assert report.diverged
    text = report.render()
    assert 'repeated: lookup_order(order_id="1843") x4' in text
    assert "NO RECORDING" in text


def test_following_the_recorded_path_is_exact_alignment() -> None:
    recordings = [
        rec(0, "lookup_order", {"order_id": "1843"}),
        rec(1, "get_refund_status", {"order_id": "1843"}),
    ]
    book = RecordingBook(recordings)
    book.match("lookup_order", {"order_id": "1843"})
    book.match("get_refund_status", {"order_id": "1843"})
    report = build_report(book)
    assert report.alignment is OrderAlignment.EXACT
    assert not report.diverged


def test_out_of_order_is_any_order() -> None:
    book = RecordingBook([rec(0, "a", {}), rec(1, "b", {})])
    book.match("b", {})
    book.match("a", {})
    assert build_report(book).alignment is OrderAlignment.ANY_ORDER


def test_call_formatting_and_differences() -> None:
    assert format_call("lookup_order", {"order_id": "1843"}) == 'lookup_order(order_id="1843")'
    assert (
        describe_difference({"a": 1}, {"b": 1}) == "a missing (recorded 1); b not recorded (got 1)"
    )
