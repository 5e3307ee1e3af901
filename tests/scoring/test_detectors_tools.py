"""hallucinated_tool_input, silent_tool_failure, tool_error_rate: fire and near-miss."""

from __future__ import annotations

from typing import Any

from agent_backtest.scoring.detectors import (
    HallucinatedToolInput,
    SilentToolFailure,
    ToolErrorRate,
)
from agent_backtest.scoring.detectors.schema_check import schema_errors
from agent_backtest.scoring.verdict import Outcome
from tests.scoring.traces import TraceBuilder

REFUND_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "reason": {"type": "string", "enum": ["damaged", "late", "other"]},
    },
    "required": ["order_id", "reason"],
    "additionalProperties": False,
}
OPENAI_TOOLS = [{"type": "function", "function": {"name": "refund", "parameters": REFUND_SCHEMA}}]


def test_hallucinated_id_never_seen_before() -> None:
    b = TraceBuilder("Where is my latest order?")
    b.llm(calls=(("list_orders", {}),))
    b.tool("list_orders", {}, {"orders": [{"order_id": "ORD-1843"}]})
    b.llm(calls=(("lookup_order", {"order_id": "ORD-1844"}),))
    bad = b.tool("lookup_order", {"order_id": "ORD-1844"}, {"error": "not found"})
    verdict = HallucinatedToolInput().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == [bad]
    assert verdict.reason == (
        "lookup_order: order_id=ORD-1844 appears in no earlier tool result or message"
    )


def test_hallucinated_id_near_miss_id_from_an_earlier_tool_result() -> None:
    b = TraceBuilder("Where is my latest order?")
    b.tool("list_orders", {}, {"orders": [{"order_id": "ORD-1843"}, {"order_id": 77}]})
    b.tool("lookup_order", {"order_id": "ORD-1843"}, {"status": "shipped"})
    b.tool("lookup_order", {"orderId": 77}, {"status": "late"})
    verdict = HallucinatedToolInput().classify(b.build())
    assert verdict.outcome is Outcome.PASS, verdict.reason


def test_hallucinated_id_near_miss_id_from_the_users_message() -> None:
    b = TraceBuilder("Please check order 1843 for me")
    b.llm(calls=(("lookup_order", {"order_id": 1843}),))
    b.tool("lookup_order", {"order_id": 1843}, {"status": "shipped"})
    assert HallucinatedToolInput().classify(b.build()).outcome is Outcome.PASS


def test_hallucinated_id_the_models_own_words_do_not_count_as_a_source() -> None:
    b = TraceBuilder("Where is my order?")
    b.llm("Let me look up order 1843.")
    # The next call sees that assistant message in its input; it is still not a source.
    b.llm(calls=(("lookup_order", {"order_id": 1843}),))
    bad = b.tool("lookup_order", {"order_id": 1843}, {"status": "shipped"})
    verdict = HallucinatedToolInput().classify(b.build())
    assert verdict.evidence == [bad]


def test_hallucinated_id_value_pattern_catches_ids_under_any_key() -> None:
    b = TraceBuilder("Cancel my subscription")
    bad = b.tool("cancel", {"subscription": "sub_9s6XKzk"}, {"ok": True})
    b.tool("search", {"city": "new_york"}, {"ok": True})  # a word, not an id
    verdict = HallucinatedToolInput().classify(b.build())
    assert verdict.evidence == [bad]
    assert "subscription=sub_9s6XKzk" in verdict.reason


def test_schema_violation_from_the_tools_the_llm_was_given() -> None:
    b = TraceBuilder("Refund order ORD-1 because it came broken")
    b.llm(tools=OPENAI_TOOLS, calls=(("refund", {"order_id": "ORD-1", "reason": "broken"}),))
    bad = b.tool("refund", {"order_id": "ORD-1", "reason": "broken", "amount": 5}, {"ok": True})
    verdict = HallucinatedToolInput().classify(b.build())
    assert verdict.evidence == [bad]
    assert verdict.reason == (
        "refund: arguments fail its schema: $.reason = 'broken' is not one of "
        "['damaged', 'late', 'other']; $.amount is not a known parameter"
    )


def test_schema_from_parameters_and_a_conforming_call() -> None:
    b = TraceBuilder("Refund order ORD-1, it was damaged")
    b.tool("refund", {"order_id": "ORD-1", "reason": "damaged"}, {"ok": True})
    detector = HallucinatedToolInput(tool_schemas={"refund": REFUND_SCHEMA})
    verdict = detector.classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert "1 against a schema" in verdict.reason


def test_schema_errors_cover_types_required_and_bounds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1},
            "tags": {"items": {"type": "string"}},
        },
        "required": ["n"],
    }
    assert schema_errors({"n": 2, "tags": ["a"]}, schema) == []
    assert schema_errors({"tags": [1]}, schema) == [
        "$.n is required but missing",
        "$.tags[0] is int 1, expected string",
    ]
    assert schema_errors({"n": True}, schema) == ["$.n is bool True, expected integer"]
    assert schema_errors({"n": 0}, schema) == ["$.n = 0 is below the minimum 1"]


# --- silent_tool_failure ----------------------------------------------------


def test_silent_tool_failure_fires_when_the_answer_ignores_the_error() -> None:
    b = TraceBuilder("Where is order 1843?")
    b.llm(calls=(("lookup_order", {"order_id": 1843}),))
    failed = b.tool("lookup_order", {"order_id": 1843}, {"error": "order service timeout"})
    carried_on = b.llm("Your order 1843 has shipped and arrives Tuesday.")
    verdict = SilentToolFailure().classify(b.build("Your order 1843 has shipped."))
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == [failed, carried_on]
    assert verdict.reason.startswith(
        "lookup_order returned an error (order service timeout) and the next answer "
        f"({carried_on}: 'Your order 1843 has shipped and arrives Tuesday.') carried on"
    )


def test_silent_tool_failure_uses_the_final_answer_and_error_text_payloads() -> None:
    b = TraceBuilder("Book a table")
    failed = b.tool("book_table", {"time": "19:00"}, "Error: no tables left")
    verdict = SilentToolFailure().classify(b.build("Booked for 19:00!"))
    assert verdict.evidence == [failed, "root"]


def test_silent_tool_failure_near_miss_error_acknowledged() -> None:
    b = TraceBuilder("Where is order 1843?")
    b.tool("lookup_order", {"order_id": 1843}, error="order service timeout", status_error=True)
    b.llm("Sorry, I couldn't reach the order system right now.")
    verdict = SilentToolFailure().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert verdict.reason == "1 failed tool call, each retried or acknowledged"


def test_silent_tool_failure_near_miss_error_retried() -> None:
    b = TraceBuilder("Where is order 1843?")
    b.tool("lookup_order", {"order_id": 1843}, {"status": "error", "message": "timeout"})
    b.llm("Let me try that again.", calls=(("lookup_order", {"order_id": 1843}),))
    b.tool("lookup_order", {"order_id": 1843}, {"status": "shipped"})
    b.llm("Your order has shipped.")
    assert SilentToolFailure().classify(b.build()).outcome is Outcome.PASS


def test_silent_tool_failure_ack_words_are_whole_words() -> None:
    b = TraceBuilder()
    b.tool("lookup_order", {"order_id": 1}, error="timeout")
    b.llm("The tissue samples are fine.")  # "issue" inside "tissue" is no acknowledgement
    assert SilentToolFailure().classify(b.build()).outcome is Outcome.FAIL


# --- tool_error_rate --------------------------------------------------------


def test_tool_error_rate_fires_over_the_threshold() -> None:
    b = TraceBuilder()
    failed = [b.tool("search", {"q": i}, error="500") for i in range(2)]
    b.tool("search", {"q": 9}, {"hits": []})
    b.tool("fetch", {"url": "x"}, {"ok": True})
    verdict = ToolErrorRate().classify(b.build())
    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence == failed
    assert verdict.value == 0.5
    assert verdict.reason == (
        "2 of 4 tool calls failed (50%), over the 20% threshold (failing: search)"
    )


def test_tool_error_rate_near_misses() -> None:
    b = TraceBuilder()
    b.tool("search", {"q": 0}, error="500")
    for i in range(1, 10):
        b.tool("search", {"q": i}, {"hits": []})
    verdict = ToolErrorRate().classify(b.build())
    assert verdict.outcome is Outcome.PASS
    assert verdict.reason == "1 of 10 tool calls failed (10%); fires above 20%"

    few = TraceBuilder()
    few.tool("search", {"q": 0}, error="500")
    verdict = ToolErrorRate().classify(few.build())
    assert verdict.outcome is Outcome.PASS
    assert "fewer than 3 calls to judge" in verdict.reason
