"""The production side: run classifiers over many traces, write annotations JSONL.

``score_traces`` is what ``backtest score`` calls, and what a service can call
for online scoring. Judges run concurrently on one shared client (the limit is
the runtime's ``concurrency``); rule detectors run inline. Traces stream through
a bounded window, so memory stays flat on large inputs and output order equals
input order (a re-run produces the same file).

Sampling is deterministic: a trace is kept when the sha256 of ``"<seed>:<trace
id>"`` read as a fraction of 2**64 is below the rate, so the same seed picks the
same traces on every machine, and a larger rate picks a superset.

The output is the sidecar annotation format the trace readers understand::

    {"trace_id": "...", "name": "task_outcome", "label": "failed", "explanation": "...",
     "annotator": "task_outcome@3f2a1b9c0d1e", "annotator_kind": "llm", "created_at": "..."}

Error verdicts are counted and reported but not written: an error is the absence
of a label, and writing it as one would let it be promoted as a failure mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from agent_backtest.errors import ConfigError
from agent_backtest.scoring.judge import LLMJudge
from agent_backtest.scoring.judge_client import JudgeRuntime
from agent_backtest.scoring.judge_definition import JudgeDefinition, load_judges
from agent_backtest.scoring.verdict import Classifier, Outcome, Verdict
from agent_backtest.trace.model import Trace
from agent_backtest.trace.writers import atomic_writer

Progress = Callable[[int], None]


def sampled(trace_id: str, rate: float, seed: int) -> bool:
    """Whether ``trace_id`` is in a ``rate`` sample under ``seed`` (deterministic)."""
    if rate >= 1.0:
        return True
    digest = hashlib.sha256(f"{seed}:{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


@dataclass
class ClassifierSummary:
    ref: str  # id@version
    kind: str  # "llm" | "code"
    labels: Counter[str] = field(default_factory=Counter)  # "error" counts error verdicts

    @property
    def total(self) -> int:
        return sum(self.labels.values())


@dataclass
class ScoreResult:
    traces_read: int = 0
    traces_scored: int = 0
    annotations_written: int = 0
    summaries: dict[str, ClassifierSummary] = field(default_factory=dict)
    cost: float = 0.0
    requests: int = 0
    cache_hits: int = 0

    @property
    def errors(self) -> int:
        return sum(s.labels["error"] for s in self.summaries.values())


def resolve_classifiers(
    names: Sequence[str | Classifier],
    runtime: JudgeRuntime,
    *,
    judges: dict[str, JudgeDefinition] | None = None,
) -> list[Classifier]:
    """Classifier objects: YAML judges by id first, then the registry (detectors,
    registered judges, plugins). Judges are registered so other code finds them."""
    from agent_backtest.scoring import registry  # the registry imports every detector

    out: list[Classifier] = []
    for name in names:
        if not isinstance(name, str):
            out.append(name)
            continue
        base, _, version = name.partition("@")
        definition = (judges or {}).get(base)
        if definition is None:
            out.append(registry.get_classifier(name))
            continue
        judge = LLMJudge(definition, runtime)
        if version and version != judge.version:
            raise ConfigError(
                f"judge {base!r} is version {judge.version}, not {version}",
                fix=f"use {base}@{judge.version}, or restore the definition that made {name}",
            )
        registry.register(judge, replace=True)
        out.append(judge)
    return out


def score_traces(
    traces: Iterable[Trace],
    classifiers: Sequence[str | Classifier],
    *,
    classifiers_dir: str | Path | None = None,
    runtime: JudgeRuntime | None = None,
    sample: float = 1.0,
    seed: int = 0,
    output: str | Path | None = None,
    progress: Progress | None = None,
    created_at: str | None = None,
) -> ScoreResult:
    """Score ``traces`` with ``classifiers`` (names or objects); see the module docstring."""
    if not 0.0 < sample <= 1.0:
        raise ConfigError(f"sample rate {sample} is not in (0, 1]", fix="use e.g. --sample 0.1")
    runtime = runtime or JudgeRuntime()
    judges = load_judges(classifiers_dir) if classifiers_dir is not None else {}
    resolved = resolve_classifiers(classifiers, runtime, judges=judges)
    stamp = created_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    scorer = _Scorer(resolved, runtime, sample, seed, stamp, progress)
    if output is None:
        return asyncio.run(scorer.run(traces, None))
    with atomic_writer(Path(output)) as handle:
        return asyncio.run(scorer.run(traces, handle))


class _Scorer:
    def __init__(
        self,
        classifiers: list[Classifier],
        runtime: JudgeRuntime,
        sample: float,
        seed: int,
        created_at: str,
        progress: Progress | None,
    ) -> None:
        self.judges = [c for c in classifiers if isinstance(c, LLMJudge)]
        self.rules = [c for c in classifiers if not isinstance(c, LLMJudge)]
        self.runtime = runtime
        self.sample, self.seed = sample, seed
        self.created_at = created_at
        self.progress = progress
        self.result = ScoreResult()
        for c in classifiers:
            kind = "llm" if isinstance(c, LLMJudge) else _kind(c)
            self.result.summaries[c.id] = ClassifierSummary(f"{c.id}@{c.version}", kind)
        # Enough queued traces to keep every judge slot busy across the window's
        # head-of-line waits, few enough that memory stays flat.
        self.window = max(64, 8 * runtime.config.concurrency)

    async def run(self, traces: Iterable[Trace], out: IO[bytes] | None) -> ScoreResult:
        cache = self.runtime.cache
        hits_before = cache.hits if cache else 0
        cost_before, attempts_before = self.runtime.cost_total, self.runtime.attempts
        pending: deque[tuple[Trace, asyncio.Task[list[Verdict]]]] = deque()
        for trace in traces:
            self.result.traces_read += 1
            if not sampled(trace.trace_id, self.sample, self.seed):
                continue
            pending.append((trace, asyncio.ensure_future(self._judge(trace))))
            await asyncio.sleep(0)  # let the new task send its request while we read on
            if len(pending) >= self.window:
                await self._finish(*pending.popleft(), out)
        while pending:
            await self._finish(*pending.popleft(), out)
        await self.runtime.aclose()  # asyncio.run closes this loop next; the pool must go first
        self.result.cost = self.runtime.cost_total - cost_before
        self.result.requests = self.runtime.attempts - attempts_before
        self.result.cache_hits = (cache.hits if cache else 0) - hits_before
        return self.result

    async def _judge(self, trace: Trace) -> list[Verdict]:
        return list(await asyncio.gather(*(j.aclassify(trace) for j in self.judges)))

    async def _finish(
        self, trace: Trace, task: asyncio.Task[list[Verdict]], out: IO[bytes] | None
    ) -> None:
        from agent_backtest.scoring.classify import classify_trace

        verdicts = await task
        if self.rules:
            verdicts += classify_trace(trace, self.rules)
        self.result.traces_scored += 1
        for verdict in verdicts:
            summary = self.result.summaries[verdict.classifier]
            summary.labels[_label(verdict)] += 1
            if out is not None and verdict.outcome is not Outcome.ERROR:
                for line in self._lines(trace, verdict, summary.kind):
                    out.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                    self.result.annotations_written += 1
        if self.progress is not None:
            self.progress(self.result.traces_scored)

    def _lines(self, trace: Trace, verdict: Verdict, kind: str) -> list[dict[str, Any]]:
        base: dict[str, Any] = {"trace_id": trace.trace_id}
        if trace.session_id:
            base["session_id"] = trace.session_id
        base["name"] = verdict.classifier
        base["label"] = _label(verdict)
        if verdict.value is not None:
            base["score"] = verdict.value
        base["explanation"] = verdict.reason
        base["annotator"] = verdict.ref
        base["annotator_kind"] = kind
        base["created_at"] = self.created_at
        # The sidecar format has no evidence field: one span-level line per evidence
        # span keeps it, so reading the file back restores where the failure was.
        spans = [{**base, "span_id": span_id} for span_id in verdict.evidence]
        return [base, *spans]


def _label(verdict: Verdict) -> str:
    if verdict.outcome is Outcome.ERROR:
        return "error"
    return verdict.label if verdict.label is not None else verdict.outcome.value


def _kind(classifier: Classifier) -> str:
    declared = getattr(classifier, "annotator_kind", None)
    return str(getattr(declared, "value", declared or "code"))


def format_distribution(result: ScoreResult) -> str:
    """The label distribution per classifier, as printed by ``backtest score``."""
    lines = []
    for summary in result.summaries.values():
        total = summary.total
        lines.append(f"{summary.ref} ({summary.kind}, {total} traces)")
        width = max((len(label) for label in summary.labels), default=5)
        for label, count in sorted(summary.labels.items(), key=lambda kv: (-kv[1], kv[0])):
            share = 100.0 * count / total if total else 0.0
            lines.append(f"  {label:<{width}}  {count:>6}  {share:5.1f}%")
    return "\n".join(lines)
