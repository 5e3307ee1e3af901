from __future__ import annotations

import pytest

from agent_backtest.scoring.judge_parse import parse_answer

LABELS = ["completed", "partial", "failed", "not_sure"]


@pytest.mark.parametrize(
    ("text", "label", "reason"),
    [
        ('{"label": "failed", "reason": "no refund"}', "failed", "no refund"),
        ('```json\n{"label": "Partial", "reason": "half"}\n```', "partial", "half"),
        (
            'Sure! Here it is: {"verdict": "completed", "explanation": "ok"} Thanks',
            "completed",
            "ok",
        ),
        ("Label: failed\nReason: the tool errored", "failed", "the tool errored"),
        ("**Verdict:** `completed`", "completed", "**Verdict:** `completed`"),
        ("completed.", "completed", ""),
        ("NOT SURE", "not_sure", ""),
        (
            "The agent clearly failed because the tool errored.",
            "failed",
            "The agent clearly failed because the tool errored.",
        ),
    ],
)
def test_parses(text: str, label: str, reason: str) -> None:
    answer = parse_answer(text, LABELS)
    assert answer is not None
    assert (answer.label, answer.reason) == (label, reason)


@pytest.mark.parametrize(
    "text",
    ["", "I think it is completed or partial", '{"label": "great"}', "no idea"],
)
def test_ambiguous_or_unknown_is_none(text: str) -> None:
    assert parse_answer(text, LABELS) is None
