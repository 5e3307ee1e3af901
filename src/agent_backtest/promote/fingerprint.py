"""The dedupe key of a case: normalized input + tool sequence + failure modes.

Two traces are "the same failure" when the agent was given the same thing,
called the same tools in the same order and failed the same way. Everything
volatile stays out: trace and call ids, timestamps, latencies, tool results,
and the hash part of placeholders (``<redacted:email:3f9a2c1d>`` counts as
``<redacted:email>``), so the fingerprint does not depend on the redaction key
and two runs that differ only in a customer's email are one case.

It is computed from the (redacted) case, never the raw trace, so it can be
recomputed from any case file and carries no trace of a secret.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from agent_backtest.evalset.case import Case, CaseInput

FINGERPRINT_PREFIX = "fp1:"
_PLACEHOLDER_HASH = re.compile(r"<redacted:([a-z0-9_.-]+):[0-9a-f]{8}>")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    return _SPACE.sub(" ", _PLACEHOLDER_HASH.sub(r"<redacted:\1>", text)).strip()


def _normalize(value: Any) -> Any:
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, dict):
        return {str(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalize(v) for v in value]
    return value


def normalized_input(case_input: CaseInput) -> dict[str, Any]:
    # Tool-call ids in earlier turns are generated per run; the calls themselves are kept.
    messages = [
        {
            "role": m.role,
            "content": normalize_text(m.content or ""),
            "tool_calls": [[c.name, _normalize(c.arguments)] for c in m.tool_calls],
        }
        for m in case_input.messages
    ]
    return {"messages": messages, "state": _normalize(case_input.state or {})}


def fingerprint_parts(case: Case) -> dict[str, Any]:
    return {
        "input": normalized_input(case.input),
        "tools": [r.tool for r in case.recordings],
        "failure_modes": sorted(set(case.failure_modes)),
    }


def fingerprint(case: Case) -> str:
    digest = hashlib.sha256(orjson.dumps(fingerprint_parts(case), option=orjson.OPT_SORT_KEYS))
    return FINGERPRINT_PREFIX + digest.hexdigest()[:32]
