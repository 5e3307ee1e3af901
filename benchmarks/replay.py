"""Replay throughput: 500 cases, 2 LLM calls each at 100 ms, 3 tool calls answered from recordings.

    .venv/bin/python benchmarks/replay.py [--cases 500] [--latency 0.1]
        [--concurrency 8 16 32] [--agent sync|async] [--how pytest|python]

ideal = cases x 2 LLM calls x latency / concurrency (12.5 s at the default 8).
The headline is wall / ideal for the whole process, timed from a subprocess:

- ``pytest``: ``python -m pytest --agent-evals --agent-evals-llm=live`` in a
  generated project (interpreter start, plugin, collection of 500 case files,
  every run, the gate and the reports), exactly as a user runs it;
- ``python``: ``python -c`` that loads the evalset and calls ``run_cases`` (no
  pytest), to show what pytest itself costs.

The candidate is a plain OpenAI tool-calling loop with one shared client: its
first LLM call asks for 3 tools at once, each answered from the case's
recordings; its second gets the final answer. The OpenAI-compatible server
(tests/support/openai_server.py) runs in this process, so it does not compete
with the runner for the GIL. LLM calls are ``live``: a cassette would answer
without the 100 ms.

Then the interception overhead per tool call, in process: a tight loop of
cases (a session of 3 recordings, 3 replayed calls, as in the workload) versus
the same 3 calls to the bare function. Results go to stdout (with the CPU the
runner process used, which says what the load of other jobs cannot); copy them
into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.openai_server import OpenAIServer, RecordedRequest, Reply  # noqa: E402

from agent_backtest.evalset.case import (  # noqa: E402
    Case,
    CaseInput,
    CaseMessage,
    CaseSource,
    Expectations,
    ToolRecording,
)
from agent_backtest.evalset.storage import write_case  # noqa: E402

LLM_CALLS_PER_CASE = 2
TOOLS = ("lookup_order", "lookup_customer", "search_kb")

AGENT = '''\
"""The benchmark candidate: an OpenAI tool-calling loop with one client for every case."""

import asyncio
import json

from openai import AsyncOpenAI, OpenAI

from agent_backtest.replay.tools import tool


@tool(read_only=True)
def lookup_order(order_id: str) -> dict:
    raise RuntimeError("replayed: never runs")


@tool(read_only=True)
def lookup_customer(order_id: str) -> dict:
    raise RuntimeError("replayed: never runs")


@tool(read_only=True)
def search_kb(query: str) -> str:
    raise RuntimeError("replayed: never runs")


TOOLS = {"lookup_order": lookup_order, "lookup_customer": lookup_customer, "search_kb": search_kb}
SCHEMAS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in TOOLS]
_sync = None
_async = None


def _answers(message):
    return [
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": json.dumps(TOOLS[call.function.name](**json.loads(call.function.arguments))),
        }
        for call in message.tool_calls
    ]


def run(messages):
    global _sync
    _sync = _sync or OpenAI(max_retries=0)
    while True:
        reply = _sync.chat.completions.create(model="bench", messages=messages, tools=SCHEMAS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        messages.extend(_answers(message))


async def run_async(messages):
    global _async
    _async = _async or AsyncOpenAI(max_retries=0)
    while True:
        reply = await _async.chat.completions.create(model="bench", messages=messages, tools=SCHEMAS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        messages.extend(_answers(message))
'''

RUN_CASES = """\
import asyncio, sys
from pathlib import Path
from agent_backtest.evalset.evalset import load_evalset
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases

evalset = load_evalset(Path("evalsets/bench"))
jobs = [CaseJob(c, evalset.config, evalset.root) for c in evalset.cases]
results = asyncio.run(
    run_cases(jobs, RunOptions(llm_mode="live"), settings_agent=sys.argv[1],
              concurrency=int(sys.argv[2]))
)
bad = [r.case_id for r in results if not r.passed]
sys.exit(f"{len(bad)} cases did not pass: {bad[:3]}" if bad else 0)
"""


def _arguments(tool: str, n: int) -> dict[str, Any]:
    return {"query": f"refunds for order {n}"} if tool == "search_kb" else {"order_id": f"A{n}"}


def script(request: RecordedRequest) -> Reply:
    """First call: ask for the three tools at once; second: the final answer."""
    if any(m.get("role") == "tool" for m in request.messages):
        return Reply(content="Your order has shipped.", usage=(120, 8))
    n = int(str(request.messages[0]["content"]).rsplit(" ", 1)[1])
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": tool, "arguments": _json(_arguments(tool, n))},
        }
        for i, tool in enumerate(TOOLS)
    ]
    return Reply(content=None, tool_calls=calls, finish_reason="tool_calls", usage=(80, 30))


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def make_project(root: Path, cases: int) -> None:
    (root / "bench_agent.py").write_text(AGENT)
    (root / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    evalset = root / "evalsets" / "bench"
    (evalset / "cases").mkdir(parents=True)
    (evalset / "evalset.yaml").write_text("schema: agent-backtest/evalset@1\nname: bench\n")
    for n in range(cases):
        case = Case(
            id=f"case-{n:04d}",
            title=f"Where is order A{n}?",
            source=CaseSource(trace_id=f"{n:032x}"),
            failure_modes=["step_repetition"],
            input=CaseInput(messages=[CaseMessage(role="user", content=f"Where is order {n}")]),
            recordings=[
                ToolRecording(
                    seq=i, tool=tool, arguments=_arguments(tool, n), result={"ok": True, "n": n}
                )
                for i, tool in enumerate(TOOLS)
            ],
            expect=Expectations(not_detected=["step_repetition"]),
        )
        write_case(case, evalset / "cases" / f"{case.id}.yaml")


def timed_run(
    root: Path, server: OpenAIServer, how: str, agent: str, concurrency: int
) -> tuple[float, float, int]:
    entry = f"bench_agent:{'run_async' if agent == 'async' else 'run'}"
    if how == "pytest":
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--agent-evals",
            "--agent-evals-llm=live",
            f"--agent-evals-agent={entry}",
            f"--agent-evals-concurrency={concurrency}",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
    else:
        command = [sys.executable, "-c", RUN_CASES, entry, str(concurrency)]
    env = {
        **os.environ,
        "OPENAI_API_KEY": "bench",
        "OPENAI_BASE_URL": server.base_url,
        "PYTHONPATH": str(root),
    }
    server.reset()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{how} run failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return wall, _children_cpu() - cpu_before, len(server.completion_requests)


def _children_cpu() -> float:
    """CPU seconds used by finished child processes: the runner's own cost, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- interception overhead -----------------------------------------------------------


def interception_overhead(rounds: int) -> dict[str, float]:
    from agent_backtest.replay.session import ReplaySession, replaying
    from agent_backtest.replay.tools import tool

    def bare(order_id: str) -> dict[str, Any]:
        return {"ok": True, "order_id": order_id}

    wrapped = tool(read_only=True, name="bench_lookup")(bare)
    arguments = [f"A{i}" for i in range(3)]
    recordings = [
        ToolRecording(seq=i, tool="bench_lookup", arguments={"order_id": a}, result=bare(a))
        for i, a in enumerate(arguments)
    ]

    def bare_case() -> None:
        for a in arguments:
            bare(a)

    def replayed_case() -> None:
        with replaying(ReplaySession(recordings)):
            for a in arguments:
                wrapped(a)

    def per_call(body: Any) -> float:
        samples = []
        for _ in range(5):
            started = time.perf_counter_ns()
            for _ in range(rounds):
                body()
            samples.append((time.perf_counter_ns() - started) / (rounds * len(arguments)))
        return min(samples) / 1000  # microseconds; min: the least disturbed sample

    bare_us = per_call(bare_case)
    replay_us = per_call(replayed_case)
    return {"bare_us": bare_us, "replayed_us": replay_us, "overhead_us": replay_us - bare_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--agent", choices=["sync", "async"], nargs="+", default=["sync", "async"])
    parser.add_argument("--how", choices=["pytest", "python"], nargs="+", default=["pytest"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration")
    parser.add_argument("--rounds", type=int, default=2000, help="interception loop size")
    args = parser.parse_args()

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp,
        OpenAIServer(latency=args.latency, handler=script) as server,
    ):
        root = Path(tmp)
        make_project(root, args.cases)
        print(
            f"{args.cases} cases x {LLM_CALLS_PER_CASE} LLM calls at {args.latency * 1000:.0f} ms, "
            f"3 replayed tool calls each; {os.cpu_count()} cores, Python {sys.version.split()[0]}"
        )
        for how in args.how:
            for agent in args.agent:
                for concurrency in args.concurrency:
                    ideal = args.cases * LLM_CALLS_PER_CASE * args.latency / concurrency
                    walls, cpus = [], []
                    for _ in range(args.repeat):
                        wall, cpu, requests = timed_run(root, server, how, agent, concurrency)
                        expected = args.cases * LLM_CALLS_PER_CASE
                        if requests != expected:
                            raise SystemExit(f"{requests} LLM requests, expected {expected}")
                        walls.append(wall)
                        cpus.append(cpu)
                    ratios = ", ".join(f"{w / ideal:.3f}" if ideal else "-" for w in walls)
                    row = (
                        f"{how:6} {agent:5} concurrency {concurrency:>2}: wall "
                        f"{statistics.median(walls):6.2f} s, ideal {ideal:6.3f} s, "
                        f"x ideal {ratios}; runner CPU {statistics.median(cpus):5.2f} s "
                        f"({statistics.median(cpus) / args.cases * 1000:.1f} ms a case)"
                    )
                    print(row, flush=True)
                    rows.append(row)
    overhead = interception_overhead(args.rounds)
    print(
        f"interception: bare call {overhead['bare_us']:.2f} us, replayed call "
        f"{overhead['replayed_us']:.2f} us (session set-up amortized over 3 calls), "
        f"overhead {overhead['overhead_us']:.2f} us per tool call"
    )


if __name__ == "__main__":
    main()
