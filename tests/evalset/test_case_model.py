"""The case model: strictness, key order, content hashes, ids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent_backtest.evalset.case import (
    Case,
    CaseMessage,
    CaseSource,
    ToolRecording,
    make_case_id,
    slugify,
)
from agent_backtest.trace.model import Message, ToolCallRequest


def _case(**overrides: object) -> Case:
    data: dict[str, object] = {
        "id": "loops-on-lookup-order-3f9a2c",
        "title": "Loops",
        "source": {"trace_id": "t1"},
        "recordings": [{"seq": 0, "tool": "lookup_order", "result": {"status": "ok"}}],
    }
    data.update(overrides)
    return Case.model_validate(data)


def test_to_data_starts_with_schema_and_keeps_field_order() -> None:
    data = _case(failure_modes=["step_repetition"]).with_content_hash().to_data()
    assert list(data) == [
        "schema",
        "id",
        "title",
        "source",
        "failure_modes",
        "recordings",
        "content_hash",
    ]
    assert data["schema"] == "agent-backtest/case@1"


def test_content_hash_changes_with_content_and_ignores_itself() -> None:
    case = _case().with_content_hash()
    assert case.content_hash_ok()
    assert case.content_hash is not None
    assert case.content_hash.startswith("sha256:")
    edited = case.model_copy(update={"title": "Loops twice"})
    assert not edited.content_hash_ok()
    assert edited.compute_content_hash() != case.content_hash
    assert case.with_content_hash().content_hash == case.content_hash


def test_unknown_key_is_rejected_at_every_level() -> None:
    with pytest.raises(ValidationError, match="extra"):
        _case(recordings=[{"seq": 0, "tool": "x", "reslut": 1}])
    with pytest.raises(ValidationError, match="extra"):
        _case(colour="red")


def test_recording_with_result_and_error_is_rejected() -> None:
    with pytest.raises(ValidationError, match="either a result or an error"):
        ToolRecording(seq=0, tool="x", result=1, error="boom")


def test_recordings_must_be_in_seq_order() -> None:
    with pytest.raises(ValidationError, match="increasing order"):
        _case(recordings=[{"seq": 1, "tool": "a"}, {"seq": 0, "tool": "b"}])


@pytest.mark.parametrize("ref", ["/abs/llm", "../outside", "llm/../../x", "C:/llm"])
def test_llm_recordings_must_stay_inside_the_evalset(ref: str) -> None:
    with pytest.raises(ValidationError, match="relative path inside"):
        _case(llm_recordings=ref)


def test_id_must_be_a_slug() -> None:
    with pytest.raises(ValidationError, match="pattern"):
        _case(id="Has Spaces")


def test_make_case_id_is_readable_and_stable() -> None:
    first = make_case_id("Loops on lookup_order!", "fp-1")
    assert first == make_case_id("Loops on lookup_order!", "fp-1")
    assert first.startswith("loops-on-lookup-order-")
    assert len(first.rsplit("-", 1)[1]) == 6
    assert make_case_id("Loops on lookup_order!", "fp-2") != first
    assert slugify("   ") == "case"
    assert len(slugify("word " * 40)) <= 48


def test_case_message_from_trace_message() -> None:
    message = Message(
        role="assistant",
        tool_calls=[ToolCallRequest(id="c1", name="lookup_order", arguments_raw='{"id": 1}')],
    )
    converted = CaseMessage.from_trace(message)
    assert converted.tool_calls[0].name == "lookup_order"
    assert converted.tool_calls[0].arguments == '{"id": 1}'


def test_source_requires_trace_id() -> None:
    with pytest.raises(ValidationError):
        CaseSource.model_validate({"session_id": "s"})
