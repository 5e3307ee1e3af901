"""Benchmark: promote 10,000 annotated traces (~110k spans), then load+validate the evalset.

    .venv/bin/python benchmarks/promote.py [--traces 10000] [--out /tmp/bench_promote.txt]

Input is what production hands us: one OTLP JSON Lines file (1 AGENT + 6 LLM +
4 TOOL spans per trace, OpenInference attributes, one Collector export per
line) plus a sidecar label file with one failure-mode label per trace. Every
trace has a distinct input and a third carry an email and a phone number, so
every trace becomes its own case and redaction has real work to do.

Measured, each in this process, with the real code paths:
* ``promote``: read + assemble + select + build + redact + write, all cases, with
  reading and building+redacting also timed alone to show where the time goes;
* ``promote again``: the idempotent re-run (every trace a duplicate, nothing written);
* ``load`` / ``validate``: the evalset engineer's ``load_evalset`` and ``validate_evalset``;
* ``scan``: ``backtest scan`` over the written evalset (must find nothing).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from agent_backtest.evalset.evalset import load_evalset, validate_evalset
from agent_backtest.promote.build import build_case
from agent_backtest.promote.modes import LabelMap
from agent_backtest.promote.promote import Status, promote
from agent_backtest.promote.redact import Redactor
from agent_backtest.promote.scan import scan_paths
from agent_backtest.promote.select import Selection
from agent_backtest.trace.api import TraceStream

T = TypeVar("T")
MODES = ("looped", "hallucinated_tool_input", "context_overflow", "silent_tool_failure")
TOOLS = ("lookup_order", "lookup_customer", "refund_order", "send_email")


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(
    trace_id: str, span_id: str, parent: str | None, name: str, start: int, attrs: dict[str, object]
) -> dict[str, object]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent or "",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 250_000_000),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
        "status": {"code": 1},
    }


def trace_line(index: int) -> str:
    trace_id = f"{index + 1:032x}"
    base = 1_746_000_000_000_000_000 + index * 10_000_000_000
    root = f"{index * 16 + 1:016x}"
    order = f"A-{100000 + index}"
    contact = (
        f" I'm customer{index}@example.com, call +1 415 555 {index % 10000:04d}."
        if index % 3 == 0
        else ""
    )
    user = f"Where is my order {order}? It was due on Monday.{contact}"
    spans = [
        _span(
            trace_id,
            root,
            None,
            "support_agent.run",
            base,
            {
                "openinference.span.kind": "AGENT",
                "input.value": user,
                "session.id": f"session-{index // 3}",
                "agent.name": "support_agent",
            },
        )
    ]
    prompt = 600
    for step in range(6):
        prompt += 150
        spans.append(
            _span(
                trace_id,
                f"{index * 16 + 2 + step * 2:016x}",
                root,
                "ChatCompletion",
                base + step * 400_000_000,
                {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "gpt-4o-mini",
                    "llm.input_messages.0.message.role": "system",
                    "llm.input_messages.0.message.content": "You are ACME's support agent. Use the tools.",
                    "llm.input_messages.1.message.role": "user",
                    "llm.input_messages.1.message.content": user,
                    "llm.token_count.prompt": prompt,
                    "llm.token_count.completion": 30,
                },
            )
        )
        if step < 4:
            tool = TOOLS[(index + step) % len(TOOLS)] if index % 4 else "lookup_order"
            spans.append(
                _span(
                    trace_id,
                    f"{index * 16 + 3 + step * 2:016x}",
                    root,
                    tool,
                    base + step * 400_000_000 + 300_000_000,
                    {
                        "openinference.span.kind": "TOOL",
                        "tool.name": tool,
                        "tool_call.id": f"call_{index}_{step}",
                        "input.value": json.dumps({"order_id": order, "attempt": step}),
                        "input.mime_type": "application/json",
                        "output.value": json.dumps(
                            {
                                "status": "in_transit",
                                "carrier": "UPS",
                                "eta_days": step + 1,
                                "events": [{"at": "2025-04-29T10:00:00Z", "what": "departed hub"}],
                            }
                        ),
                        "output.mime_type": "application/json",
                    },
                )
            )
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", "support-agent")]},
                "scopeSpans": [{"scope": {"name": "openinference"}, "spans": spans}],
            }
        ]
    }
    return json.dumps(request, separators=(",", ":"))


def generate(folder: Path, traces: int) -> tuple[Path, Path, int]:
    source, labels = folder / "traces.otlp.jsonl", folder / "labels.jsonl"
    with source.open("w") as out, labels.open("w") as lab:
        for index in range(traces):
            out.write(trace_line(index) + "\n")
            label = {
                "trace_id": f"{index + 1:032x}",
                "name": "failure_mode",
                "label": MODES[index % len(MODES)],
                "annotator": "oncall",
            }
            lab.write(json.dumps(label) + "\n")
    return source, labels, traces * 11


def _timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def run(traces: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (source, labels, spans), gen_s = _timed(lambda: generate(folder, traces))
        evalset = folder / "evalsets" / "support-agent"
        selection = Selection(
            annotations=(),
            label_map=LabelMap.from_mapping({"failure_mode=looped": "step_repetition"}),
        )
        # Stage breakdown: reading alone, then building+redacting in memory; the
        # rest of the promote time is YAML dumping and atomic (fsync'd) writes.
        read, read_s = _timed(lambda: list(TraceStream([source, labels])))
        redactor = Redactor(b"benchmark-key")
        _, build_s = _timed(
            lambda: [build_case(t, label_map=selection.label_map, redactor=redactor) for t in read]
        )
        first, promote_s = _timed(lambda: promote([source, labels], evalset, selection))
        written = first.count(Status.WRITTEN)
        redacted = sum(sum(o.redacted.values()) for o in first.outcomes)
        again, again_s = _timed(lambda: promote([source, labels], evalset, selection))
        loaded, load_s = _timed(lambda: load_evalset(evalset))
        report, validate_s = _timed(lambda: validate_evalset(evalset))
        found, scan_s = _timed(lambda: scan_paths([evalset]))
        size = sum(p.stat().st_size for p in (evalset / "cases").iterdir())
        source_mb = source.stat().st_size / 1e6
    assert written == traces, f"expected {traces} cases, wrote {written}"
    assert again.count(Status.DUPLICATE) == traces
    assert again.count(Status.WRITTEN) == 0
    assert len(loaded.cases) == traces
    assert report.ok, report.problems[:3]
    assert not found.findings, found.findings[:3]
    ms_per = 1000 * promote_s / traces
    rows: list[tuple[str, Any]] = [
        (
            "machine",
            f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}",
        ),
        (
            "input",
            f"{traces} traces, {spans} spans (OTLP JSONL {source_mb:.1f} MB + sidecar labels)",
        ),
        ("generate input", f"{gen_s:.2f} s"),
        (
            "promote (read+build+redact+write)",
            f"{promote_s:.2f} s ({traces / promote_s:,.0f} traces/s, {ms_per:.2f} ms/trace)",
        ),
        ("  of which: read+assemble", f"{read_s:.2f} s"),
        ("  of which: build+redact", f"{build_s:.2f} s"),
        (
            "  of which: YAML dump + atomic write",
            f"~{promote_s - read_s - build_s:.2f} s (remainder)",
        ),
        ("  cases written", f"{written} ({size / 1e6:.1f} MB YAML), values redacted: {redacted}"),
        ("promote again (all duplicates)", f"{again_s:.2f} s, written 0"),
        ("load_evalset (10k cases)" if traces == 10_000 else "load_evalset", f"{load_s:.2f} s"),
        ("validate_evalset", f"{validate_s:.2f} s"),
        ("load + validate", f"{load_s + validate_s:.2f} s"),
        ("scan evalset", f"{scan_s:.2f} s, findings: {len(found.findings)}"),
    ]
    width = max(len(name) for name, _ in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_promote.txt"))
    args = parser.parse_args()
    lines = run(args.traces)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.out.write_text(text)


if __name__ == "__main__":
    main()
