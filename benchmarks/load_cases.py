"""Benchmark: load and validate a 10,000-case evalset (target: <= 3 s).

    .venv/bin/python benchmarks/load_cases.py [--cases 10000] [--out /tmp/bench_load_cases.txt]

``generate_evalset`` writes realistic cases (multi-turn input, 3-12 tool
recordings with nested JSON results, annotations, expectations, redaction info)
through the real writer; ``time_load`` times ``load_evalset`` and
``validate_evalset`` separately and breaks the load down into its stages so a
regression shows where the time went. ``benchmarks/promote.py`` can import both.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from agent_backtest.evalset.case import (
    Budgets,
    Case,
    CaseAnnotation,
    CaseInput,
    CaseMessage,
    CaseSource,
    Expectations,
    RedactionInfo,
    ToolRecording,
    make_case_id,
)
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.evalset import CASES_DIR, CONFIG_FILE, case_files, load_evalset
from agent_backtest.evalset.evalset import validate_evalset as _validate
from agent_backtest.evalset.storage import write_case, write_evalset_config
from agent_backtest.evalset.yamlio import StrictLoader

MODES = ["step_repetition", "context_overflow", "hallucinated_tool_input", "cascading_retries"]
TOOLS = ["lookup_order", "search_kb", "refund", "send_email", "get_customer"]


def realistic_case(i: int, rng: random.Random) -> Case:
    modes = rng.sample(MODES, rng.randint(1, 2))
    recordings = []
    for seq in range(rng.randint(3, 12)):
        tool = rng.choice(TOOLS)
        failed = rng.random() < 0.1
        recordings.append(
            ToolRecording(
                seq=seq,
                tool=tool,
                call_id=f"call_{i}_{seq}",
                arguments={"order_id": f"A{rng.randint(1000, 99999)}", "verbose": seq % 2 == 0},
                result=None
                if failed
                else {
                    "status": rng.choice(["shipped", "pending", "lost"]),
                    "items": [
                        {"sku": f"SKU-{rng.randint(1, 999)}", "qty": rng.randint(1, 4)}
                        for _ in range(rng.randint(1, 3))
                    ],
                    "note": "Customer called twice.\nEscalated to tier 2.",
                },
                error="TimeoutError: upstream did not answer in 10s" if failed else None,
                latency_ms=round(rng.uniform(20, 900), 1),
            )
        )
    title = f"{modes[0].replace('_', ' ')} on {recordings[0].tool} #{i}"
    return Case(
        id=make_case_id(title, f"fp-{i}"),
        title=title,
        source=CaseSource(
            trace_id=f"{rng.getrandbits(128):032x}",
            session_id=f"sess-{i // 3}",
            agent="support-agent",
            captured_at="2025-11-02T10:15:00Z",
            origin="traces/prod-2025-11-02.jsonl",
            format="otlp_json",
        ),
        failure_modes=modes,
        annotations=[
            CaseAnnotation(
                name="failure_mode",
                label=modes[0],
                explanation="Agent called lookup_order with the same id five times.",
                annotator="alice@example.com",
            )
        ],
        input=CaseInput(
            messages=[
                CaseMessage(role="system", content="You are a support agent.\nBe concise."),
                CaseMessage(role="user", content=f"Where is my order A{1000 + i}? It is late."),
            ],
            state={"customer_tier": rng.choice(["gold", "silver"]), "locale": "en-GB"},
        ),
        recordings=recordings,
        expect=Expectations(
            classifiers={"task_outcome": "completed"},
            not_detected=modes,
            budgets=Budgets(max_llm_calls=8, max_tool_calls=6, max_cost_usd=0.05),
        ),
        redaction=RedactionInfo(policy="builtin@1", replaced=rng.randint(0, 4)),
        fingerprint=f"sha256:{rng.getrandbits(256):064x}",
    )


def generate_evalset(root: Path, cases: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    write_evalset_config(
        EvalSetConfig(name="bench", agent="support_agent.app:run", classifiers=["task_outcome"]),
        root / CONFIG_FILE,
    )
    for i in range(cases):
        case = realistic_case(i, rng)
        write_case(case, root / CASES_DIR / f"{case.id}.yaml")
    return root


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def time_load(root: Path, cache_dir: Path) -> dict[str, float]:
    """Seconds for each stage of loading and validating the evalset at ``root``.

    ``cold``: no parse cache (a fresh CI checkout); ``warm``: the content-addressed
    parse cache in ``cache_dir`` is populated (every later local or cached-CI run).
    """
    files = case_files(root)
    texts, read_s = _timed(lambda: [p.read_text(encoding="utf-8") for p in files])
    datas, parse_s = _timed(lambda: [yaml.load(t, Loader=StrictLoader) for t in texts])
    _, pydantic_s = _timed(lambda: [Case.model_validate(d) for d in datas])
    evalset, cold_load_s = _timed(lambda: load_evalset(root))
    _, cold_validate_s = _timed(lambda: _validate(root))
    _, fill_s = _timed(lambda: load_evalset(root, cache_dir))
    evalset, warm_load_s = _timed(lambda: load_evalset(root, cache_dir))
    report, warm_validate_s = _timed(lambda: _validate(root, cache_dir))
    if not report.ok or len(evalset.cases) != len(files):
        raise SystemExit(f"benchmark evalset is invalid: {report.problems[:3]}")
    return {
        "cases": float(len(files)),
        "mib": sum(len(t.encode()) for t in texts) / 2**20,
        "stage_read_s": read_s,
        "stage_yaml_parse_s": parse_s,
        "stage_pydantic_validate_s": pydantic_s,
        "cold_load_evalset_s": cold_load_s,
        "cold_validate_evalset_s": cold_validate_s,
        "cache_fill_load_s": fill_s,
        "warm_load_evalset_s": warm_load_s,
        "warm_validate_evalset_s": warm_validate_s,
    }


def format_results(numbers: dict[str, Any]) -> str:
    lines = [
        f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}"
        for key, value in numbers.items()
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_load_cases.txt"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        started = time.perf_counter()
        generate_evalset(root, args.cases)
        generate_s = time.perf_counter() - started
        timings = time_load(root, Path(tmp) / "cache")
        numbers: dict[str, Any] = {"generate_s": generate_s, **timings}
        numbers["libyaml"] = str(getattr(yaml, "__with_libyaml__", False))
    text = format_results(numbers)
    args.out.write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
