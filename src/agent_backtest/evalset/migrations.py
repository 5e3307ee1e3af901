"""Schema migrations: old case / evalset files load through ``@n -> @n+1`` steps.

Each step is a pure function on plain data (what YAML parsed), registered for the
version it upgrades *from*. Loading applies steps until the current version, so
a file written years ago still loads, and ``backtest cases validate --fix``
rewrites it in the current shape. Never edit a released step; add a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Data = dict[str, Any]
Step = Callable[[Data], Data]


@dataclass
class MigrationRegistry:
    prefix: str  # "agent-backtest/case@"
    current: int
    steps: dict[int, Step] = field(default_factory=dict)

    def register(self, from_version: int) -> Callable[[Step], Step]:
        def decorate(step: Step) -> Step:
            self.steps[from_version] = step
            return step

        return decorate

    def upgrade(self, data: Data, version: int) -> Data:
        """Apply every step from ``version`` to ``current``; the caller checked the range."""
        while version < self.current:
            data = self.steps[version](data)
            version += 1
            data["schema"] = f"{self.prefix}{version}"
        return data

    def oldest(self) -> int:
        return min(self.steps, default=self.current)


case_migrations = MigrationRegistry("agent-backtest/case@", 1)
evalset_migrations = MigrationRegistry("agent-backtest/evalset@", 1)


def _drop_none(data: Data) -> Data:
    return {k: v for k, v in data.items() if v is not None}


@case_migrations.register(0)
def _case_0_to_1(old: Data) -> Data:
    """case@0 (the prototype format) used shorter, flatter names.

    @0: name, trace{id,session,agent,captured_at,origin,format}, modes, labels[{name,
    value, score, note, by, kind, classifier}], messages, state, tool_calls[{index,
    name, id, args, output, error, ms}], expected{classifiers, absent, max_*},
    redaction{policy, replaced}, fingerprint. It had no content hash.
    """
    trace = old.get("trace") or {}
    expected = dict(old.get("expected") or {})
    budgets = {
        key: expected.pop(key)
        for key in ("max_llm_calls", "max_tool_calls", "max_cost_usd", "max_duration_s")
        if key in expected
    }
    new: Data = {
        "schema": None,  # set by the registry
        "id": old.get("id"),
        "title": old.get("name"),
        "source": _drop_none(
            {
                "trace_id": trace.get("id"),
                "session_id": trace.get("session"),
                "agent": trace.get("agent"),
                "captured_at": trace.get("captured_at"),
                "origin": trace.get("origin"),
                "format": trace.get("format"),
            }
        ),
        "failure_modes": old.get("modes", []),
        "annotations": [
            _drop_none(
                {
                    "name": label.get("name"),
                    "label": label.get("value"),
                    "score": label.get("score"),
                    "explanation": label.get("note"),
                    "annotator": label.get("by"),
                    "annotator_kind": label.get("kind"),
                    "classifier": label.get("classifier"),
                }
            )
            for label in old.get("labels", [])
        ],
        "input": _drop_none({"messages": old.get("messages", []), "state": old.get("state")}),
        "recordings": [
            _drop_none(
                {
                    "seq": call.get("index"),
                    "tool": call.get("name"),
                    "call_id": call.get("id"),
                    "arguments": call.get("args"),
                    "result": call.get("output"),
                    "error": call.get("error"),
                    "latency_ms": call.get("ms"),
                }
            )
            for call in old.get("tool_calls", [])
        ],
        "expect": _drop_none(
            {
                "classifiers": expected.pop("classifiers", None),
                "not_detected": expected.pop("absent", None),
                "budgets": budgets or None,
                **expected,  # anything unknown is kept so strict validation names it
            }
        ),
        "redaction": old.get("redaction"),
        "fingerprint": old.get("fingerprint"),
    }
    known = {"schema", "id", "name", "trace", "modes", "labels", "messages", "state"}
    known |= {"tool_calls", "expected", "redaction", "fingerprint"}
    new.update({k: v for k, v in old.items() if k not in known})
    return {k: v for k, v in new.items() if v is not None or k == "schema"}
