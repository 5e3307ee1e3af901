"""Ingestion benchmark: parse+normalize rate vs bare ``json.loads``, and peak memory.

Generates an OTLP JSON Lines file of N traces (1 AGENT + 6 LLM + 4 TOOL spans
each, OpenInference attributes, one ExportTraceServiceRequest per line as the
Collector file exporter writes it), then measures in separate processes:

* ``json``: ``json.loads`` of every line, nothing else (the stdlib baseline);
* ``backtest``: agent-backtest's full read -> decode -> assemble into ``Trace``s;
* peak RSS of the ``backtest`` run for two file sizes, to show memory does not
  grow with the file.

Run: ``python benchmarks/ingest.py [--traces 20000]``; results are appended to
``benchmarks/RESULTS.md`` with ``--write``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPANS_PER_TRACE = 11
HERE = Path(__file__).resolve().parent


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(trace_id: str, span_id: str, parent: str | None, name: str, start: int, attrs: dict[str, object]) -> dict[str, object]:
    span: dict[str, object] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 250_000_000),
        "attributes": [_attr(k, v) for k, v in attrs.items()],
        "status": {"code": 1},
    }
    if parent:
        span["parentSpanId"] = parent
    return span


def make_trace_line(index: int) -> str:
    trace_id = f"{index:032x}"
    base = 1_760_000_000_000_000_000 + index * 10_000_000_000
    root = f"{index * 16 + 1:016x}"
    spans = [
        _span(trace_id, root, None, "support_agent", base, {
            "openinference.span.kind": "AGENT",
            "input.value": f"Where is my order {1000 + index}?",
            "output.value": "Your order shipped yesterday.",
            "session.id": f"session-{index // 3}",
        })
    ]
    prompt_tokens = 400
    for step in range(6):
        span_id = f"{index * 16 + 2 + step * 2:016x}"
        prompt_tokens += 120
        spans.append(_span(trace_id, span_id, root, "ChatCompletion", base + step * 300_000_000, {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.provider": "openai",
            "llm.invocation_parameters": '{"temperature": 0}',
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "You are a support agent.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": f"Where is my order {1000 + index}?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": f"call_{step}",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "lookup_order",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": f'{{"order_id": "{1000 + index}"}}',
            "llm.token_count.prompt": prompt_tokens,
            "llm.token_count.completion": 24,
            "llm.token_count.total": prompt_tokens + 24,
        }))
        if step < 4:
            spans.append(_span(trace_id, f"{index * 16 + 3 + step * 2:016x}", root, "lookup_order", base + step * 300_000_000 + 260_000_000, {
                "openinference.span.kind": "TOOL",
                "tool.name": "lookup_order",
                "tool_call.id": f"call_{step}",
                "input.value": f'{{"order_id": "{1000 + index}"}}',
                "output.value": '{"status": "shipped", "carrier": "UPS"}',
            }))
    request = {"resourceSpans": [{
        "resource": {"attributes": [_attr("service.name", "support-agent")]},
        "scopeSpans": [{"scope": {"name": "openinference.instrumentation.openai"}, "spans": spans}],
    }]}
    return json.dumps(request, separators=(",", ":"))


def generate(path: Path, traces: int) -> int:
    with path.open("w", encoding="utf-8") as out:
        for index in range(traces):
            out.write(make_trace_line(index))
            out.write("\n")
    return path.stat().st_size


def _child(mode: str, path: str) -> None:
    if mode != "json":
        # Imported before the clock starts, as ``json`` is for the baseline: the
        # rate is parse+normalize, not interpreter start-up (~0.13 s of imports).
        from agent_backtest.trace.api import TraceStream
    start = time.perf_counter()
    if mode == "json":
        spans = 0
        with open(path, "rb") as handle:
            for line in handle:
                request = json.loads(line)
                for resource_spans in request["resourceSpans"]:
                    for scope in resource_spans["scopeSpans"]:
                        spans += len(scope["spans"])
    else:
        spans = sum(len(trace.spans) for trace in TraceStream([path]))
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"spans": spans, "seconds": elapsed, "peak_rss_mib": peak_kib / 1024}))


def measure(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True, capture_output=True, text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for each rate")
    parser.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp, "small.jsonl"), Path(tmp, "large.jsonl")
        size = generate(small, args.traces)
        large_size = generate(large, args.traces * 4)
        expected = args.traces * SPANS_PER_TRACE
        json_runs = [measure("json", small) for _ in range(args.repeat)]
        ours_runs = [measure("backtest", small) for _ in range(args.repeat)]
        big = measure("backtest", large)
    for run in ours_runs:
        if run["spans"] != expected:
            raise SystemExit(f"backtest read {run['spans']} spans, expected {expected}")
    json_rate = expected / min(r["seconds"] for r in json_runs)
    ours_rate = expected / min(r["seconds"] for r in ours_runs)
    ratio = ours_rate / json_rate
    lines = [
        f"### ingest ({time.strftime('%Y-%m-%d')}, {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores)",
        "",
        f"- file: {args.traces} traces, {expected} spans, {size / 1e6:.1f} MB OTLP JSON Lines (OpenInference attributes)",
        f"- bare `json.loads`: {json_rate:,.0f} spans/s (best of {args.repeat})",
        f"- agent-backtest parse+normalize+assemble: {ours_rate:,.0f} spans/s (best of {args.repeat})",
        f"- ratio: {ratio:.2f} of the stdlib rate (target >= 0.60): {'met' if ratio >= 0.6 else 'NOT met'}",
        f"- peak RSS: {ours_runs[0]['peak_rss_mib']:.0f} MiB for {size / 1e6:.0f} MB, "
        f"{big['peak_rss_mib']:.0f} MiB for {large_size / 1e6:.0f} MB (4x the file)",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        results = HERE / "RESULTS.md"
        if not results.exists():
            results.write_text("# Benchmark results\n\nMeasured numbers, newest last. Regenerate with the commands in the README.\n\n")
        with results.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
