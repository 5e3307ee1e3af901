"""Talking to an OpenAI-compatible endpoint for judges: one client, our retry policy.

A ``JudgeRuntime`` is what one run shares: one ``AsyncOpenAI`` client (one
connection pool, created once per event loop, never per call), a concurrency
limit, the retry policy, the per-run cost total and budget, the judge cache and
what we learned about the server (whether it accepts structured output).

Retries are ours, not the SDK's (``max_retries=0``), so there is one policy:
429, 408, 409, 5xx, timeouts, connection errors and unparseable response bodies
are retried with exponential backoff and full jitter, waiting at least what
``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` asks for. Any
other 4xx fails at once. Whatever still fails raises ``JudgeError``, which the
judge turns into an ``error`` verdict, never a pass.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import threading
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from agent_backtest.config import Settings
from agent_backtest.errors import ConfigError, JudgeError
from agent_backtest.scoring.judge_cache import JudgeCache

if TYPE_CHECKING:
    from openai import AsyncOpenAI

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 409, 429})
NO_KEY_PLACEHOLDER = "no-key"  # local OpenAI-compatible servers usually ignore the key


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5  # seconds; the first backoff is uniform in [0, base_delay]
    max_delay: float = 30.0  # cap for one backoff without Retry-After
    max_retry_after: float = 120.0  # longer Retry-After values are cut to this
    timeout: float = 60.0  # per request

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float


@dataclass(frozen=True)
class JudgeConfig:
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    model: str | None = None  # used when a judge names none
    concurrency: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    prices: Mapping[str, Price] = field(default_factory=dict)  # by model; "*" for any
    budget: float | None = None  # USD per run; later calls get error verdicts
    cache_dir: str | Path | None = ".backtest/cache"  # None disables the cache

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> JudgeConfig:
        values: dict[str, Any] = {
            "base_url": settings.judge_base_url,
            "api_key_env": settings.judge_api_key_env,
            "model": settings.judge_model,
            "concurrency": settings.concurrency,
            "cache_dir": settings.cache_dir,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    cost: float
    structured: bool


class BudgetExceededError(JudgeError):
    """The run's judge budget is spent; remaining calls are not made."""


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """What the server asked us to wait: ``retry-after-ms``, or ``Retry-After`` in
    seconds or as an HTTP date. ``None`` when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _RetryableError(Exception):
    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.retry_after = retry_after


class JudgeRuntime:
    """Shared by every judge call in a run. Safe to use from one event loop at a time;
    ``run_sync`` gives synchronous callers a private loop."""

    def __init__(
        self, config: JudgeConfig | None = None, *, cache: JudgeCache | None = None
    ) -> None:
        self.config = config or JudgeConfig()
        if cache is None and self.config.cache_dir is not None:
            cache = JudgeCache.in_cache_dir(self.config.cache_dir)
        self.cache = cache
        self.cost_total = 0.0
        self.attempts = 0  # HTTP requests sent, retries included
        self.structured_ok: dict[str, bool] = {}  # model -> server accepts json_schema
        self._rng = random.Random()
        self._client: AsyncOpenAI | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sync_loop: asyncio.AbstractEventLoop | None = None
        self._sync_lock = threading.Lock()

    # -- client -------------------------------------------------------------

    def _api_key(self) -> str:
        key = os.environ.get(self.config.api_key_env)
        if key:
            return key
        if self.config.base_url is None:
            raise ConfigError(
                f"no API key for the judge: ${self.config.api_key_env} is not set",
                fix=f"export {self.config.api_key_env}=... or set judge_base_url to a local server",
            )
        return NO_KEY_PLACEHOLDER

    def _bind(self) -> tuple[AsyncOpenAI, asyncio.Semaphore]:
        """The client and semaphore for the running loop, made once per loop (an
        async connection pool cannot cross event loops)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._semaphore is None or self._loop is not loop:
            from openai import AsyncOpenAI  # imported here: the CLI stays light without judges

            self._client = AsyncOpenAI(
                api_key=self._api_key(),
                base_url=self.config.base_url,
                max_retries=0,  # the retry policy is ours (see module docstring)
                timeout=self.config.retry.timeout,
            )
            self._semaphore = asyncio.Semaphore(max(1, self.config.concurrency))
            self._loop = loop
        return self._client, self._semaphore

    def run_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to completion on this runtime's private loop, from sync code."""
        with self._sync_lock:
            if self._sync_loop is None:
                self._sync_loop = asyncio.new_event_loop()
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return self._sync_loop.run_until_complete(coro)
        # Called from inside a running loop (e.g. a notebook): use a worker thread.
        result: list[T] = []

        def work() -> None:
            with self._sync_lock:
                assert self._sync_loop is not None
                result.append(self._sync_loop.run_until_complete(coro))

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        return result[0]

    async def aclose(self) -> None:
        """Close the client bound to the running loop; call before that loop ends."""
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.close()
            self._client = self._semaphore = self._loop = None

    def close(self) -> None:
        """Release the private loop used by ``run_sync`` (and its client)."""
        with self._sync_lock:
            if self._sync_loop is not None:
                if self._client is not None and self._loop is self._sync_loop:
                    self._sync_loop.run_until_complete(self._client.close())
                    self._client = None
                self._sync_loop.close()
                self._sync_loop = None

    # -- calls ----------------------------------------------------------------

    def price(self, model: str, input_tokens: int, output_tokens: int) -> float:
        price = self.config.prices.get(model) or self.config.prices.get("*")
        if price is None:
            return 0.0
        return (input_tokens * price.input + output_tokens * price.output) / 1_000_000

    def _check_budget(self) -> None:
        budget = self.config.budget
        if budget is not None and self.cost_total >= budget:
            raise BudgetExceededError(
                f"judge budget of ${budget:.4f} spent (${self.cost_total:.4f} so far)",
                fix="raise the budget or score fewer traces (--sample)",
            )

    async def complete(
        self,
        model: str,
        messages: list[dict[str, str]],
        params: Mapping[str, Any],
        schema: dict[str, Any] | None,
    ) -> Completion:
        """One chat completion with retries. Raises ``JudgeError`` when it cannot get one."""
        client, semaphore = self._bind()
        policy = self.config.retry
        last = "no attempt made"
        attempt = 0
        while attempt < policy.max_attempts:
            use_schema = schema is not None and self.structured_ok.get(model, True)
            try:
                async with semaphore:
                    # Checked inside the slot: calls queued behind the limit see
                    # the spending of the calls that went before them.
                    self._check_budget()
                    self.attempts += 1
                    sent = schema if use_schema else None
                    return await self._attempt(client, model, messages, params, sent)
            except _RetryableError as retry:
                last = retry.why
                attempt += 1
                if attempt < policy.max_attempts:
                    await asyncio.sleep(policy.delay(attempt - 1, retry.retry_after, self._rng))
            except _SchemaRejectedError:
                # Remember for the whole run and ask again at once without it (not
                # counted as an attempt): the prompt asks for JSON anyway.
                self.structured_ok[model] = False
        raise JudgeError(f"judge call failed after {policy.max_attempts} attempts: {last}")

    async def _attempt(
        self,
        client: AsyncOpenAI,
        model: str,
        messages: list[dict[str, str]],
        params: Mapping[str, Any],
        schema: dict[str, Any] | None,
    ) -> Completion:
        import openai

        # Plain JSON through the client's generic ``post`` (the SDK's documented way
        # to send a body as is): the typed ``chat.completions.create`` walks every
        # message and the schema through its TypedDict transformer, ~2 ms of CPU per
        # call, which is most of the client-side cost at 16-way concurrency.
        request: dict[str, Any] = {"model": model, "messages": messages, **params}
        if schema is not None:
            request["response_format"] = schema
        try:
            raw = await client.post("/chat/completions", cast_to=_response_class(), body=request)
            body = json.loads(raw.content)
            message = body["choices"][0]["message"]
            text = message.get("content") or ""
            usage = body.get("usage") or {}
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status == 400 and schema is not None:
                raise _SchemaRejectedError() from None
            if status in RETRY_STATUSES or status >= 500:
                raise _RetryableError(
                    f"HTTP {status}", retry_after_seconds(exc.response.headers)
                ) from None
            raise JudgeError(
                f"judge endpoint answered HTTP {status}: {exc.message}",
                fix="check the model name, API key and base URL",
            ) from None
        except openai.APITimeoutError:
            raise _RetryableError(f"timed out after {self.config.retry.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            raise _RetryableError(f"connection error: {exc.__cause__ or exc}") from None
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _RetryableError(
                f"malformed response body ({type(exc).__name__}: {exc})"
            ) from None
        input_tokens = int(usage.get("prompt_tokens") or 0)
        output_tokens = int(usage.get("completion_tokens") or 0)
        cost = self.price(model, input_tokens, output_tokens)
        self.cost_total += cost
        return Completion(text, input_tokens, output_tokens, cost, schema is not None)


def _response_class() -> Any:
    """The raw HTTP response type the SDK returns as is (httpx2 in openai>=3, httpx before)."""
    global _RESPONSE_CLASS
    if _RESPONSE_CLASS is None:
        try:
            _RESPONSE_CLASS = importlib.import_module("httpx2").Response
        except ImportError:
            _RESPONSE_CLASS = importlib.import_module("httpx").Response
    return _RESPONSE_CLASS


_RESPONSE_CLASS: Any = None


class _SchemaRejectedError(Exception):
    pass
