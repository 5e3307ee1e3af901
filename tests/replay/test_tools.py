from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
from typing import Any

import pytest

from agent_backtest.evalset.case import ToolRecording
from agent_backtest.replay.matching import ToolMatchPolicy
from agent_backtest.replay.session import ReplayCaseError, ReplaySession, ToolPolicy, replaying
from agent_backtest.replay.tools import ToolError, _bind, _binder, registered_tools, tool

executed: list[str] = []


@tool(side_effects=True)
def issue_refund(order_id: str, amount: float) -> dict[str, Any]:
    executed.append(f"issue_refund {order_id} {amount}")
    return {"refund_id": "real"}


@tool(read_only=True)
def search_kb(query: str) -> str:
    executed.append(f"search_kb {query}")
    return f"live article for {query}"


@tool
def lookup_order(order_id: str) -> dict[str, Any]:
    executed.append(f"lookup_order {order_id}")
    return {"status": "live"}


@tool(name="get_refund_status")
async def refund_status(order_id: str) -> str:
    executed.append(f"refund_status {order_id}")
    return "live"


RECORDINGS = [
    ToolRecording(
        seq=0, tool="lookup_order", arguments={"order_id": "1843"}, result={"status": "shipped"}
    ),
    ToolRecording(
        seq=1,
        tool="issue_refund",
        arguments={"order_id": "1843", "amount": 20.0},
        result={"refund_id": "r-1"},
    ),
    ToolRecording(
        seq=2, tool="get_refund_status", arguments={"order_id": "1843"}, error="upstream timeout"
    ),
]


@pytest.fixture(autouse=True)
def _clear() -> None:
    executed.clear()


def test_production_is_a_transparent_pass_through() -> None:
    assert lookup_order("7") == {"status": "live"}
    assert executed == ["lookup_order 7"]
    assert registered_tools()["issue_refund"].side_effects


def test_replay_answers_from_recordings_without_running_anything() -> None:
    with replaying(ReplaySession(RECORDINGS)) as session:
        assert lookup_order(order_id="1843") == {"status": "shipped"}
        assert issue_refund("1843", 20.0) == {"refund_id": "r-1"}
        with pytest.raises(ToolError, match="upstream timeout"):
            asyncio.run(refund_status("1843"))
    assert executed == []
    assert [s.tool.name for s in session.spans if s.tool] == [
        "lookup_order",
        "issue_refund",
        "get_refund_status",
    ]
    assert session.spans[2].is_error


@pytest.mark.parametrize(
    ("unmatched", "read_only_policy"),
    list(itertools.product(["tool_error", "error", "live"], [False, True])),
)
def test_a_side_effecting_tool_never_executes_under_any_policy(
    unmatched: Any, read_only_policy: bool
) -> None:
    policy = ToolPolicy(
        match=ToolMatchPolicy(positional_fallback=True, read_only=read_only_policy),
        unmatched=unmatched,
    )
    session = ReplaySession(RECORDINGS, policies={"issue_refund": policy}, default=policy)
    with replaying(session):
        for amount in (20.0, 999.0, 5.0):
            with contextlib.suppress(ToolError, ReplayCaseError):
                issue_refund("1843", amount)
    assert not any(e.startswith("issue_refund") for e in executed)
    assert session.live_calls == []


def test_unmatched_tool_error_lets_the_candidate_keep_running() -> None:
    with replaying(ReplaySession(RECORDINGS)) as session, pytest.raises(ToolError) as info:
        lookup_order("9999")
    assert str(info.value).startswith('no recorded response for lookup_order(order_id="9999")')
    assert session.errors == []


def test_unmatched_error_policy_fails_the_case() -> None:
    session = ReplaySession(RECORDINGS, default=ToolPolicy(unmatched="error"))
    with replaying(session), pytest.raises(ReplayCaseError):
        lookup_order("9999")
    assert len(session.errors) == 1


def test_live_only_runs_read_only_tools() -> None:
    session = ReplaySession(RECORDINGS, default=ToolPolicy(unmatched="live"))
    with replaying(session):
        assert search_kb("refund policy") == "live article for refund policy"
        with pytest.raises(ToolError, match="not run live"):
            lookup_order("9999")
    assert executed == ["search_kb refund policy"]
    assert session.live_calls == ['search_kb(query="refund policy")']


def test_concurrent_cases_see_only_their_own_recordings() -> None:
    async def run(order: str, result: str) -> Any:
        recs = [
            ToolRecording(seq=0, tool="lookup_order", arguments={"order_id": order}, result=result)
        ]
        with replaying(ReplaySession(recs)):
            await asyncio.sleep(0.01)
            return lookup_order(order)

    async def both() -> tuple[Any, Any]:
        return await asyncio.gather(run("1", "one"), run("2", "two"))

    assert list(asyncio.run(both())) == ["one", "two"]


def test_production_emits_an_openinference_tool_span_when_otel_is_configured() -> None:
    from opentelemetry import trace as otel_trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    original = otel_trace.get_tracer
    otel_trace.get_tracer = lambda *a, **k: tracer
    try:
        lookup_order("42")
    finally:
        otel_trace.get_tracer = original
    (span,) = exporter.get_finished_spans()
    assert span.name == "lookup_order"
    assert span.attributes is not None
    assert span.attributes["openinference.span.kind"] == "TOOL"
    assert span.attributes["input.value"] == '{"order_id":"42"}'
    assert span.attributes["output.value"] == '{"status":"live"}'


def _signature_cases() -> list[tuple[Any, tuple[Any, ...], dict[str, Any]]]:
    def plain(order_id: str, limit: int = 5, *, verbose: bool = False) -> None: ...

    def variadic(*args: Any, **kwargs: Any) -> None: ...

    class Api:
        def get(self, order_id: str) -> None: ...

    return [
        (plain, ("A1",), {}),
        (plain, ("A1", 9), {"verbose": True}),
        (plain, (), {"verbose": True, "order_id": "A1"}),
        (plain, ("A1",), {"order_id": "A2"}),  # bound twice: the call would fail
        (plain, ("A1", 1, 2), {}),  # too many
        (plain, (), {}),  # missing
        (plain, ("A1",), {"unknown": 1}),
        (variadic, (1, 2), {"k": 3}),
        (Api.get, (Api(), "A1"), {}),
    ]


@pytest.mark.parametrize(("func", "args", "kwargs"), _signature_cases())
def test_the_fast_binder_gives_what_signature_bind_gives(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    signature = inspect.signature(func)
    fast = _binder(signature)(args, kwargs)
    general = _bind(signature, args, kwargs)
    assert list(fast.items()) == list(general.items())  # same values, same key order
