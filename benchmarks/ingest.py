"""Ingestion benchmark: parse+normalize rate vs bare ``json.loads``, and peak memory.

Generates an OTLP JSON Lines file of N traces (1 AGENT + 6 LLM + 4 TOOL spans
each, OpenInference attributes, one ExportTraceServiceRequest per line as the
Collector file exporter writes it), then measures in separate processes:

* ``json``: ``json.loads`` of every line, nothing else (the stdlib baseline);
* ``backtest``: agent-backtest's full read -> decode -> assemble into ``Trace``s;
* peak RSS of the ``backtest`` run for two file sizes, to show memory does not
  grow with the file.

Run: ``python benchmarks/ingest.py [--traces 4000]``; results are appended to
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


def _span(
    trace_id: str, span_id: str, parent: str | None, name: str, start: int, attrs: dict[str, object]
) -> dict[str, object]:
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


SYSTEM_PROMPT = (
    "You are the support agent for Acme Outdoor Gear. Help customers with orders, shipping, "
    "returns and refunds. Always look the order up before answering; never guess an order id. "
    "Refunds above 200 EUR need a human: call escalate_to_human. Be brief, friendly and precise; "
    "answer in the customer's language. Policies: returns within 30 days of delivery with the "
    "receipt; refunds go to the original payment method within 5 business days; shipping is free "
    "above 50 EUR; express orders ship the same day when placed before 14:00 CET. "
) * 2
ORDER_RESULT = (
    '{"order_id": "%d", "status": "shipped", "carrier": "UPS", "tracking": "1Z999AA1012345678%d", '
    '"items": [{"sku": "TENT-2P", "name": "Ridge 2P tent", "qty": 1, "price": 249.0}, '
    '{"sku": "PAD-R4", "name": "Sleeping pad R4", "qty": 2, "price": 89.5}], '
    '"shipped_at": "2025-11-01T09:14:00Z", "eta": "2025-11-04", "address": {"city": "Lyon", "country": "FR"}}'
)


def _messages(prefix: str, messages: list[dict[str, object]]) -> dict[str, object]:
    """OpenInference flattened message keys, as its OpenAI instrumentation writes them."""
    flat: dict[str, object] = {}
    for i, message in enumerate(messages):
        key = f"{prefix}.{i}.message"
        flat[f"{key}.role"] = message["role"]
        if message.get("content") is not None:
            flat[f"{key}.content"] = message["content"]
        if message.get("tool_call_id"):
            flat[f"{key}.tool_call_id"] = message["tool_call_id"]
        for j, call in enumerate(message.get("tool_calls", [])):  # type: ignore[arg-type]
            flat[f"{key}.tool_calls.{j}.tool_call.id"] = call["id"]
            flat[f"{key}.tool_calls.{j}.tool_call.function.name"] = call["name"]
            flat[f"{key}.tool_calls.{j}.tool_call.function.arguments"] = call["arguments"]
    return flat


def make_trace_line(index: int, profile: str = "realistic") -> str:
    """One trace as one Collector JSONL line.

    ``realistic``: every LLM span records the whole request so far (system
    prompt, the question, each earlier tool call and result), as OpenInference
    instrumentation does; this matches the issue's reference scale (stdlib json
    at roughly 70k spans/s). ``minimal``: two short input messages per LLM span.
    """
    trace_id = f"{index:032x}"
    base = 1_760_000_000_000_000_000 + index * 10_000_000_000
    root = f"{index * 16 + 1:016x}"
    question = f"Bonjour, where is my order {1000 + index}? It has been two weeks and I need it for a trip."
    spans = [
        _span(
            trace_id,
            root,
            None,
            "support_agent",
            base,
            {
                "openinference.span.kind": "AGENT",
                "input.value": question,
                "output.value": "Your order shipped on November 1st with UPS and should arrive by the 4th.",
                "session.id": f"session-{index // 3}",
            },
        )
    ]
    history: list[dict[str, object]] = [
        {
            "role": "system",
            "content": SYSTEM_PROMPT if profile == "realistic" else "You are a support agent.",
        },
        {"role": "user", "content": question},
    ]
    prompt_tokens = 400
    for step in range(6):
        span_id = f"{index * 16 + 2 + step * 2:016x}"
        prompt_tokens += 120
        arguments = f'{{"order_id": "{1000 + index}"}}'
        call = {"id": f"call_{index}_{step}", "name": "lookup_order", "arguments": arguments}
        attrs: dict[str, object] = {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.provider": "openai",
            "llm.invocation_parameters": '{"temperature": 0}',
            **_messages("llm.input_messages", history if profile == "realistic" else history[:2]),
            **_messages(
                "llm.output_messages",
                [{"role": "assistant", "content": None, "tool_calls": [call]}],
            ),
            "llm.token_count.prompt": prompt_tokens,
            "llm.token_count.completion": 24,
            "llm.token_count.total": prompt_tokens + 24,
        }
        spans.append(
            _span(trace_id, span_id, root, "ChatCompletion", base + step * 300_000_000, attrs)
        )
        if step < 4:
            result = (
                ORDER_RESULT % (1000 + index, index)
                if profile == "realistic"
                else '{"status": "shipped"}'
            )
            spans.append(
                _span(
                    trace_id,
                    f"{index * 16 + 3 + step * 2:016x}",
                    root,
                    "lookup_order",
                    base + step * 300_000_000 + 260_000_000,
                    {
                        "openinference.span.kind": "TOOL",
                        "tool.name": "lookup_order",
                        "tool_call.id": call["id"],
                        "input.value": arguments,
                        "output.value": result,
                    },
                )
            )
            history.append({"role": "assistant", "content": None, "tool_calls": [call]})
            history.append({"role": "tool", "content": result, "tool_call_id": call["id"]})
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", "support-agent")]},
                "scopeSpans": [
                    {"scope": {"name": "openinference.instrumentation.openai"}, "spans": spans}
                ],
            }
        ]
    }
    return json.dumps(request, separators=(",", ":"))


def generate(path: Path, traces: int, profile: str = "realistic") -> int:
    with path.open("w", encoding="utf-8") as out:
        for index in range(traces):
            out.write(make_trace_line(index, profile))
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
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traces", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for each rate")
    parser.add_argument(
        "--write", action="store_true", help="append the results to benchmarks/RESULTS.md"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    lines = [
        f"### ingest ({time.strftime('%Y-%m-%d')}, {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores)",
        "",
    ]
    expected = args.traces * SPANS_PER_TRACE
    with tempfile.TemporaryDirectory() as tmp:
        for profile in ("realistic", "minimal"):
            small = Path(tmp, f"{profile}.jsonl")
            size = generate(small, args.traces, profile)
            json_runs = [measure("json", small) for _ in range(args.repeat)]
            ours_runs = [measure("backtest", small) for _ in range(args.repeat)]
            for run in ours_runs:
                if run["spans"] != expected:
                    raise SystemExit(f"backtest read {run['spans']} spans, expected {expected}")
            json_rate = expected / min(r["seconds"] for r in json_runs)
            ours_rate = expected / min(r["seconds"] for r in ours_runs)
            ratio = ours_rate / json_rate
            lines += [
                f"- **{profile}** file: {args.traces} traces, {expected} spans, {size / 1e6:.1f} MB OTLP JSON Lines",
                f"  - bare `json.loads`: {json_rate:,.0f} spans/s; agent-backtest parse+normalize+assemble: "
                f"{ours_rate:,.0f} spans/s (best of {args.repeat} each)",
                f"  - ratio: **{ratio:.2f}** of the stdlib rate (target >= 0.60: {'met' if ratio >= 0.6 else 'NOT met'})",
                f"  - peak RSS: {ours_runs[0]['peak_rss_mib']:.0f} MiB",
            ]
            if profile == "realistic":
                large = Path(tmp, "large.jsonl")
                large_size = generate(large, args.traces * 4, profile)
                big = measure("backtest", large)
                large.unlink()
                lines.append(
                    f"  - peak RSS for a 4x file ({large_size / 1e6:.0f} MB): {big['peak_rss_mib']:.0f} MiB "
                    "(memory does not grow with the file)"
                )
            small.unlink()
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.write:
        results = HERE / "RESULTS.md"
        if not results.exists():
            results.write_text(
                "# Benchmark results\n\nMeasured numbers, newest last. Regenerate with the commands in the README.\n\n"
            )
        with results.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
