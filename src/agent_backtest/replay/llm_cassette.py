"""Recorded LLM interactions, stored content-addressed so replay is deterministic.

The key of a request is the SHA-256 of the canonical sorted JSON of what
decides the answer: model, messages, tools, tool_choice, response_format, the
sampling parameters, and the sample index (the n-th identical request in one
run, so a looping agent gets the n-th recorded answer). Headers, the stream
flag and timeouts are excluded: they do not change what the model says.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from agent_backtest.errors import InputError, Location, ReplayError
from agent_backtest.trace.writers import atomic_writer

CASSETTE_SCHEMA = "agent-backtest/llm-interaction@1"
KEY_FIELDS = (
    "model",
    "messages",
    "input",
    "tools",
    "tool_choice",
    "response_format",
    "temperature",
    "top_p",
    "seed",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "parallel_tool_calls",
    "reasoning_effort",
)


def key_material(body: dict[str, Any], sample_index: int) -> dict[str, Any]:
    material = {name: body[name] for name in KEY_FIELDS if name in body}
    material["sample_index"] = sample_index
    return material


def request_key(body: dict[str, Any], sample_index: int) -> str:
    canonical = orjson.dumps(key_material(body, sample_index), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Interaction:
    key: str
    request: dict[str, Any]  # the key material
    status: int
    body: Any = None  # the JSON body of a non-streaming answer
    chunks: tuple[bytes, ...] | None = None  # SSE chunks exactly as received, for streams

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": CASSETTE_SCHEMA,
            "key": self.key,
            "request": self.request,
            "status": self.status,
        }
        if self.chunks is not None:
            data["chunks"] = [c.decode("utf-8") for c in self.chunks]
        else:
            data["body"] = self.body
        return data


class LLMReplayMissError(ReplayError):
    """Replay mode met a request that was never recorded."""

    exit_code = 1


class CassetteStore:
    """A folder of ``<key[:2]>/<key>.json`` files, one per recorded interaction.

    ``redact`` runs on every interaction before it is written (secrets never
    reach git); it is created lazily by the runner so replay never loads a key.
    """

    def __init__(
        self, root: Path, redact: Callable[[Interaction], Interaction] | None = None
    ) -> None:
        self.root = root
        self.redact = redact

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Interaction | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON in a recorded LLM interaction: {exc}",
                where=Location(path),
                fix="delete the file and record again with --agent-evals-llm=record",
            ) from None
        chunks = data.get("chunks")
        return Interaction(
            key=key,
            request=data.get("request", {}),
            status=int(data.get("status", 200)),
            body=data.get("body"),
            chunks=tuple(c.encode("utf-8") for c in chunks) if chunks is not None else None,
        )

    def put(self, interaction: Interaction) -> Path:
        if self.redact is not None:
            interaction = self.redact(interaction)
        path = self.path(interaction.key)
        with atomic_writer(path) as handle:
            handle.write(
                orjson.dumps(
                    interaction.to_data(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                )
            )
        return path

    def stored_keys(self) -> list[str]:
        """Every stored interaction's key, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(path.stem for path in self.root.glob("*/*.json"))

    def remove(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the two-letter folder, once it is empty
            path.parent.rmdir()

    def all_requests(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("*/*.json")):
            try:
                out.append(orjson.loads(path.read_bytes()).get("request", {}))
            except orjson.JSONDecodeError:
                continue
        return out

    def miss(self, body: dict[str, Any], sample_index: int) -> LLMReplayMissError:
        """The error for an unrecorded request: the nearest recording and what differs."""
        wanted = key_material(body, sample_index)
        recorded = self.all_requests()
        if not recorded:
            return LLMReplayMissError(
                f"no recorded LLM interactions in {self.root}",
                fix="record them once with --agent-evals-llm=record (needs the real endpoint)",
            )
        nearest = min(recorded, key=lambda r: len(differing_fields(r, wanted)))
        fields = differing_fields(nearest, wanted)
        detail = "; ".join(
            _describe(name, nearest.get(name), wanted.get(name)) for name in fields[:4]
        )
        return LLMReplayMissError(
            f"LLM request not recorded (model {wanted.get('model')!r}, sample {sample_index}); "
            f"nearest recording differs in {', '.join(fields)}: {detail}",
            fix="if the prompt change is intended, re-record with --agent-evals-llm=record",
        )


def differing_fields(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    return sorted(name for name in set(left) | set(right) if left.get(name) != right.get(name))


def _describe(name: str, recorded: Any, got: Any) -> str:
    if name == "messages" and isinstance(recorded, list) and isinstance(got, list):
        for index, (a, b) in enumerate(zip(recorded, got, strict=False)):
            if a != b:
                return f"messages[{index}] recorded {_short(a)}, got {_short(b)}"
        return f"messages: recorded {len(recorded)}, got {len(got)}"
    return f"{name}: recorded {_short(recorded)}, got {_short(got)}"


def _short(value: Any, limit: int = 80) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"
