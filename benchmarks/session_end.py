"""What the end of a ``pytest --agent-evals`` session costs: results to the controller, the
report, the gate, the output files.

    .venv/bin/python benchmarks/session_end.py [--cases 500] [--best-of 3]

Runs the replay benchmark's evalset (benchmarks/replay.py: 3 replayed tool calls
and 2 LLM calls per case, against a local server with no latency) through the
real runner once, then times each step the plugin takes after the last case:

- ``to_json``: a worker puts each full result (candidate trace included) on its report;
- ``from_json``: the xdist controller parses them back (skipped without xdist:
  the object is handed over in-process);
- ``load evalsets``: lock hash and cases per mode need every case file (parse cache warm);
- ``build + gate``: ``build_run_report`` (EvalsetInfo, classifier versions, ``decide``);
- ``write outputs``: result.json, junit.xml, report.html, summary.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.openai_server import OpenAIServer  # noqa: E402

import replay as replay_benchmark  # noqa: E402
from agent_backtest.config import Settings  # noqa: E402
from agent_backtest.evalset.evalset import load_evalset  # noqa: E402
from agent_backtest.replay.result import CaseResult  # noqa: E402
from agent_backtest.replay.runner import CaseJob, RunOptions, run_cases  # noqa: E402
from agent_backtest.report.assemble import GateInputs, build_run_report, load_evalsets  # noqa: E402
from agent_backtest.report.publish import publish  # noqa: E402


def best(repeat: int, step: Callable[[], Any]) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = step()
        times.append(time.perf_counter() - started)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--best-of", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="session-end-"))
    replay_benchmark.make_project(root, args.cases)
    sys.path.insert(0, str(root))
    os.chdir(root)
    folder = root / "evalsets" / "bench"
    evalset = load_evalset(folder)
    jobs = [CaseJob(case, evalset.config, evalset.root) for case in evalset.cases]
    with OpenAIServer(handler=replay_benchmark.script) as server:
        os.environ.setdefault("OPENAI_API_KEY", "benchmark")
        options = RunOptions(llm_mode="live", llm_base_url=server.base_url)
        os.environ["OPENAI_BASE_URL"] = server.base_url
        results = asyncio.run(
            run_cases(jobs, options, settings_agent="bench_agent:run", concurrency=32)
        )
    cache = root / "cache"
    load_evalsets([folder], cache)  # warm the parse cache, as collection leaves it
    n = args.best_of
    dump, bodies = best(n, lambda: [r.to_json() for r in results])
    parse, parsed = best(n, lambda: [CaseResult.from_json(b) for b in bodies])
    load, evalsets = best(n, lambda: load_evalsets([folder], cache))
    build, report = best(
        n,
        lambda: build_run_report(
            parsed, evalsets=evalsets, inputs=GateInputs(), settings=Settings(), project_root=root
        ),
    )
    write, written = best(n, lambda: publish(report, root / "report"))
    size = sum(map(len, bodies)) / 1e6
    print(f"{len(results)} cases, {size:.1f} MB of result JSON; {os.cpu_count()} cores")
    print(f"to_json (worker)      {dump * 1000:7.0f} ms")
    print(f"from_json (xdist)     {parse * 1000:7.0f} ms")
    print(f"load evalsets         {load * 1000:7.0f} ms")
    print(f"build + gate          {build * 1000:7.0f} ms")
    print(f"write outputs         {write * 1000:7.0f} ms")
    print(f"total without xdist   {(dump + load + build + write) * 1000:7.0f} ms")
    print(f"total with xdist      {(dump + parse + load + build + write) * 1000:7.0f} ms")
    for kind, path in written.items():
        print(f"  {kind:8} {path.stat().st_size / 1e6:6.2f} MB")


if __name__ == "__main__":
    main()
