"""LLM judges: a ``JudgeDefinition`` plus a ``JudgeRuntime`` make a ``Classifier``.

``LLMJudge.classify(trace)`` is the one-trace synchronous protocol method;
``await judge.classify_many(traces)`` runs a batch concurrently on the shared
client (the concurrency limit lives in the runtime, so several judges in one run
share it). Every verdict is one of: a label from the judge (``pass``/``fail`` by
the definition's ``pass`` list), or ``error`` with the reason. Never a silent pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from agent_backtest.errors import ConfigError, JudgeError
from agent_backtest.scoring.judge_cache import cache_key
from agent_backtest.scoring.judge_client import JudgeRuntime
from agent_backtest.scoring.judge_definition import JudgeDefinition
from agent_backtest.scoring.judge_parse import parse_answer
from agent_backtest.scoring.prompt import placeholders, render, trace_fields
from agent_backtest.scoring.verdict import Outcome, Verdict
from agent_backtest.trace.model import AnnotatorKind, Trace

# Part of every request, so part of every cache key: changing it re-asks.
SYSTEM_PROMPT = (
    "You are a careful evaluator of AI agent runs. Read the run and classify it with "
    "exactly one of the allowed labels.\n"
    "Allowed labels:\n{labels}\n"
    'Answer with only a JSON object: {{"label": "<one allowed label>", "reason": "<one or two '
    'sentences citing what in the run decided it>"}}'
)


class LLMJudge:
    """A judge from YAML, bound to a runtime (one shared client, cache and budget)."""

    annotator_kind = AnnotatorKind.LLM

    def __init__(self, definition: JudgeDefinition, runtime: JudgeRuntime | None = None) -> None:
        self.definition = definition
        self.runtime = runtime or JudgeRuntime()
        self.id = definition.id
        self.version = definition.version
        self._labels = list(definition.labels)
        self._needed = sorted(set(placeholders(definition.prompt)))
        self._labels_text = definition.labels_text()
        self._system = SYSTEM_PROMPT.format(labels=self._labels_text)
        self._schema = _response_schema(self._labels)

    @property
    def failure_mode(self) -> str | None:
        return self.definition.failure_mode

    def model(self) -> str:
        model = self.definition.model or self.runtime.config.model
        if not model:
            raise ConfigError(
                f"judge {self.id!r} names no model and no default is configured",
                fix="add `model:` to the judge, set judge_model in [tool.agent-backtest], or pass --model",
            )
        return model

    def params(self) -> dict[str, Any]:
        return self.definition.parameters.model_dump(exclude_none=True)

    def messages(self, trace: Trace) -> list[dict[str, str]]:
        """The exact request messages for ``trace`` (what the cache key covers)."""
        values = trace_fields(trace, self._labels_text, self.definition.truncation, self._needed)
        return [
            {"role": "system", "content": self._system},
            {"role": "user", "content": render(self.definition.prompt, values)},
        ]

    # -- the Classifier protocol -------------------------------------------

    def classify(self, trace: Trace) -> Verdict:
        return self.runtime.run_sync(self.aclassify(trace))

    async def classify_many(self, traces: Iterable[Trace]) -> list[Verdict]:
        """Verdicts in input order; requests run concurrently up to the runtime's limit."""
        return list(await asyncio.gather(*(self.aclassify(t) for t in traces)))

    async def aclassify(self, trace: Trace) -> Verdict:
        try:
            model = self.model()
            messages = self.messages(trace)
        except ConfigError as exc:
            return self._error(f"judge not configured: {exc.one_line()}")
        params = self.params()
        key = cache_key({"judge": self.ref, "model": model, "params": params, "messages": messages})
        cache = self.runtime.cache
        if cache is not None:
            hit = cache.get(key)
            if hit is not None and hit.get("label") in self.definition.labels:
                return self._verdict(str(hit["label"]), str(hit.get("reason", "")), 0.0)
        try:
            completion = await self.runtime.complete(model, messages, params, self._schema)
        except JudgeError as exc:
            return self._error(exc.one_line())
        except ConfigError as exc:
            return self._error(exc.one_line())
        answer = parse_answer(completion.text, self._labels)
        if answer is None:
            snippet = completion.text.strip().replace("\n", " ")[:200]
            return self._error(
                f"could not read a label ({', '.join(self._labels)}) from the answer: {snippet!r}",
                cost=completion.cost,
            )
        if cache is not None:
            cache.put(
                key,
                {
                    "judge": self.ref,
                    "model": model,
                    "label": answer.label,
                    "reason": answer.reason,
                    "usage": {"input": completion.input_tokens, "output": completion.output_tokens},
                },
            )
        return self._verdict(answer.label, answer.reason, completion.cost)

    # -- verdicts -----------------------------------------------------------

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def _verdict(self, label: str, reason: str, cost: float) -> Verdict:
        passed = label in self.definition.pass_labels
        return Verdict(
            classifier=self.id,
            version=self.version,
            outcome=Outcome.PASS if passed else Outcome.FAIL,
            label=label,
            reason=reason or f"judge answered {label!r}",
            failure_mode=self.definition.failure_mode,
            cost=cost,
        )

    def _error(self, reason: str, cost: float = 0.0) -> Verdict:
        return Verdict(
            classifier=self.id,
            version=self.version,
            outcome=Outcome.ERROR,
            reason=reason,
            failure_mode=self.definition.failure_mode,
            cost=cost,
        )


def _response_schema(labels: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "verdict",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "enum": list(labels)},
                    "reason": {"type": "string"},
                },
                "required": ["label", "reason"],
                "additionalProperties": False,
            },
        },
    }
