"""Judge throughput: 500 traces, one judge call each, 100 ms server latency, 16 in flight.

    .venv/bin/python benchmarks/judge.py [--traces 500] [--latency 0.1] [--concurrency 16]

ideal = traces x latency / concurrency (3.125 s for the defaults). The headline
number is wall / ideal for the whole ``backtest score`` process (interpreter
start, imports, reading traces, every request, writing annotations), timed from
a subprocess; the OpenAI-compatible server runs in this process, so it does not
compete with the scorer for the GIL. A second run over the same inputs must be
answered from the judge cache with zero requests. Results go to stdout and to
/tmp/bench_judge.txt.

Note: with a fixed latency, ``ceil(traces / concurrency) x latency`` (3.2 s
here) is the real floor, 1.024 x ideal.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.openai_server import OpenAIServer  # noqa: E402
from tests.support.traces import agent_trace  # noqa: E402

from agent_backtest.trace.writers import write_normalized_jsonl  # noqa: E402

JUDGE = """\
id: bench_outcome
kind: enum
labels:
  completed: the task was done
  failed: it was not
pass: [completed]
prompt: |
  The user asked: {{input}}
  Tool calls:
  {{tool_calls}}
  Final answer: {{output}}
"""
ANSWER = json.dumps({"label": "completed", "reason": "the refund tool succeeded"})


def backtest_binary() -> str:
    found = Path(sys.executable).with_name("backtest")
    return str(found) if found.exists() else "backtest"


def run_score(workdir: Path, server: OpenAIServer, concurrency: int) -> tuple[float, str, str]:
    command = [
        backtest_binary(),
        "score",
        "traces.jsonl",
        "-c",
        "bench_outcome",
        "--base-url",
        server.base_url,
        "--model",
        "bench-model",
        "--concurrency",
        str(concurrency),
        "-o",
        "annotations.jsonl",
    ]
    env = {**os.environ, "OPENAI_API_KEY": "bench"}
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"backtest score failed ({done.returncode}):\n{done.stderr}")
    return wall, done.stdout, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_judge.txt"))
    args = parser.parse_args()
    ideal = args.traces * args.latency / args.concurrency
    floor = -(-args.traces // args.concurrency) * args.latency

    with tempfile.TemporaryDirectory() as tmp, OpenAIServer(latency=args.latency) as server:
        workdir = Path(tmp)
        (workdir / "pyproject.toml").write_text("[tool.agent-backtest]\n")
        (workdir / "classifiers").mkdir()
        (workdir / "classifiers" / "bench_outcome.yaml").write_text(JUDGE)
        traces = [
            agent_trace(f"{i + 1:032x}", question=f"refund order {i}") for i in range(args.traces)
        ]
        write_normalized_jsonl(traces, workdir / "traces.jsonl")
        server.handler = lambda request: ANSWER

        cold, stdout, stderr = run_score(workdir, server, args.concurrency)
        cold_requests = len(server.completion_requests)
        cold_in_flight = server.max_in_flight
        server.reset()
        warm, _, warm_err = run_score(workdir, server, args.concurrency)
        warm_requests = len(server.completion_requests)
        startup = min(run_startup() for _ in range(3))

    lines = [
        f"judge benchmark: {args.traces} traces, 1 judge call each, latency {args.latency * 1000:.0f} ms, "
        f"concurrency {args.concurrency}",
        f"ideal = {args.traces} x {args.latency} / {args.concurrency} = {ideal:.3f} s "
        f"(fixed-latency floor ceil({args.traces}/{args.concurrency}) x {args.latency} = {floor:.3f} s)",
        f"cold run, whole process: {cold:.3f} s = {cold / ideal:.3f} x ideal "
        f"(target <= 1.15); {cold_requests} requests, max in flight {cold_in_flight}",
        f"  of which interpreter start + imports (CLI + scoring + openai): {startup:.3f} s",
        f"  without them: {cold - startup:.3f} s = {(cold - startup) / ideal:.3f} x ideal",
        f"warm run (judge cache), whole process: {warm:.3f} s, {warm_requests} requests",
        "cold run output:",
        *("  " + line for line in (stdout + stderr).strip().splitlines()),
        "warm run stderr:",
        *("  " + line for line in warm_err.strip().splitlines()),
    ]
    report = "\n".join(lines)
    print(report)
    args.out.write_text(report + "\n")
    if warm_requests:
        raise SystemExit("the cached re-run made requests")


def run_startup() -> float:
    started = time.perf_counter()
    imports = "import agent_backtest.cli.main, agent_backtest.scoring.score, openai"
    subprocess.run([sys.executable, "-c", imports], capture_output=True, check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
