"""The gate at scale: ``decide`` over 10,000 cases x 5 repeats, and the exact test's cost.

    .venv/bin/python benchmarks/gate.py [--cases 10000] [--repeats 5] [--modes 20]

The gate runs once per session (and once per ``backtest merge``), after every
case; it must stay a rounding error next to the run itself. Measured: building
the decision over the candidate's results with a baseline of the same size and
a coverage snapshot (best of 5), and ``p_value_worse`` at the sizes where it
switches from exact integers to log space. Results go to stdout.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gate.factory import sampled_run  # noqa: E402

from agent_backtest.evalset.config import GatePolicy  # noqa: E402
from agent_backtest.gate.decide import decide  # noqa: E402
from agent_backtest.gate.model import CoverageSnapshot, ModeFrequency  # noqa: E402
from agent_backtest.gate.stats import EXACT_MAX_RUNS, p_value_worse  # noqa: E402
from agent_backtest.taxonomy import failure_mode_keys  # noqa: E402


def best_of(repeat: int, call: object) -> float:
    assert callable(call)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--modes", type=int, default=20)
    args = parser.parse_args()

    modes = sorted(failure_mode_keys())[: args.modes]
    rng = random.Random(0)
    baseline = sampled_run(
        rng, cases=args.cases, repeats=args.repeats, pass_probability=0.9, modes=modes
    )
    candidate = sampled_run(
        rng, cases=args.cases, repeats=args.repeats, pass_probability=0.88, modes=modes
    )
    per_mode = {mode: args.cases // len(modes) for mode in modes}
    coverage = CoverageSnapshot(
        generated_at="2025-05-01T00:00:00Z",
        traces=100_000,
        modes=[ModeFrequency(mode=m, count=1000 + i, share=0.01) for i, m in enumerate(modes)],
    )

    def run() -> None:
        decide(
            candidate,
            GatePolicy(min_pass_rate=0.8),
            cases_per_mode=per_mode,
            coverage=coverage,
            baseline=baseline,
        )

    runs = args.cases * args.repeats
    seconds = best_of(5, run)
    print(
        f"decide: {args.cases} cases x {args.repeats} repeats ({runs} runs), "
        f"{len(modes)} modes, baseline + coverage: {seconds * 1000:.0f} ms"
    )
    side = EXACT_MAX_RUNS // 2
    for n in (side, side + 1, 10_000, 100_000):
        cost = best_of(5, lambda n=n: p_value_worse(int(n * 0.78), n, int(n * 0.8), n))
        path = "exact" if 2 * n <= EXACT_MAX_RUNS else "log space"
        print(f"p_value_worse, {n} runs a side ({path}): {cost * 1000:.2f} ms")


if __name__ == "__main__":
    main()
