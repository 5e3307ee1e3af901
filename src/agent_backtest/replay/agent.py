"""The agent contract: load ``package.module:callable`` and call it with a case's input.

The candidate is called as ``agent(messages)`` or, when its signature has a
``state`` parameter (or ``**kwargs``), ``agent(messages, state=state)``:

- ``messages`` is a fresh ``list[dict]`` in the OpenAI chat format (tool calls
  as ``{"id", "type": "function", "function": {"name", "arguments": "<json>"}}``),
  so an OpenAI tool-calling loop can pass it straight to
  ``client.chat.completions.create`` and append to it;
- ``state`` is the case's initial state mapping (or ``None``).

Plain data rather than the pydantic ``CaseInput`` keeps agents free of any
dependency on this package beyond ``@tool``. Sync and async callables both
work; the return value (str or anything JSON-able) is the final output.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import importlib
import inspect
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from agent_backtest.errors import ConfigError
from agent_backtest.evalset.case import CaseInput, CaseMessage

AgentCallable = Callable[..., Any]


@dataclass(frozen=True)
class Agent:
    """A loaded candidate: its entry point, the callable, and how to call it."""

    entry_point: str
    func: AgentCallable
    is_async: bool
    takes_state: bool

    async def run(self, case_input: CaseInput, executor: Executor | None = None) -> Any:
        """Call the agent; a sync one runs on ``executor`` (default: the loop's).

        The runner passes an executor with one thread per concurrent case: the
        loop's default has ``cpu_count + 4`` threads, 6 on a 2-core CI runner,
        which would quietly cap ``--agent-evals-concurrency 8`` at 6.
        """
        messages = openai_messages(case_input.messages)
        # A deep copy so an agent mutating its state never leaks into a repeat run.
        kwargs = {"state": copy.deepcopy(case_input.state)} if self.takes_state else {}
        if self.is_async:
            return await self.func(messages, **kwargs)
        # The thread runs in a copy of this context, so it sees the active replay
        # session (a ContextVar) of this case and no other.
        context = contextvars.copy_context()
        call = functools.partial(context.run, self.func, messages, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    def run_sync(self, case_input: CaseInput) -> Any:
        """For callers outside an event loop (the ``replay`` fixture)."""
        if self.is_async:
            ctx = contextvars.copy_context()
            return ctx.run(asyncio.run, self.run(case_input))
        messages = openai_messages(case_input.messages)
        kwargs = {"state": copy.deepcopy(case_input.state)} if self.takes_state else {}
        return self.func(messages, **kwargs)


def openai_messages(messages: list[CaseMessage]) -> list[dict[str, Any]]:
    """Case messages in the OpenAI chat-completions request shape."""
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.name is not None:
            item["name"] = message.name
        if message.tool_call_id is not None:
            item["tool_call_id"] = message.tool_call_id
        if message.tool_calls:
            item["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": call.arguments
                        if isinstance(call.arguments, str)
                        else orjson.dumps(call.arguments).decode(),
                    },
                }
                for call in message.tool_calls
            ]
        out.append(item)
    return out


def _takes_state(func: AgentCallable) -> bool:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "state" or p.kind is p.VAR_KEYWORD for p in parameters)


def _is_async(func: AgentCallable) -> bool:
    target = func.func if isinstance(func, functools.partial) else func
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async __call__ on an instance
    )


def load_agent(entry_point: str | None, *, source: str = "settings") -> Agent:
    """Import ``package.module:callable`` (dotted attributes allowed after the colon).

    Every failure is a ``ConfigError`` that says which entry point, from where,
    and what to do, so the plugin shows one line instead of an import traceback.
    """
    if not entry_point:
        raise ConfigError(
            "no candidate agent configured",
            fix="set agent = 'package.module:run' in [tool.agent-backtest], "
            "agent: in evalset.yaml, or pass --agent-evals-agent",
        )
    module_name, sep, attr_path = entry_point.partition(":")
    if not sep or not module_name or not attr_path:
        raise ConfigError(
            f"agent {entry_point!r} (from {source}) is not an entry point",
            fix="write it as 'package.module:callable'",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"agent {entry_point!r} (from {source}): cannot import {module_name!r}: {exc}",
            fix=f"check the module is importable from {Path.cwd()} (sys.path[0]={sys.path[0]!r})",
        ) from None
    except Exception as exc:
        raise ConfigError(
            f"agent {entry_point!r} (from {source}): importing {module_name!r} raised "
            f"{describe_exception(exc)}",
            fix="fix the error in the agent module",
        ) from None
    target: Any = module
    for part in attr_path.split("."):
        if not hasattr(target, part):
            raise ConfigError(
                f"agent {entry_point!r} (from {source}): {module_name!r} has no attribute "
                f"{attr_path!r}",
                fix=f"public names there: {', '.join(_public(module)) or 'none'}",
            )
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(
            f"agent {entry_point!r} (from {source}) is a {type(target).__name__}, not callable",
            fix="point it at a function (sync or async) that takes the messages",
        )
    return Agent(entry_point, target, _is_async(target), _takes_state(target))


def _public(module: Any) -> list[str]:
    return sorted(n for n, v in vars(module).items() if not n.startswith("_") and callable(v))[:10]


def describe_exception(exc: BaseException) -> str:
    """``ValueError: boom (at agent.py:12 in run)``: one line instead of a traceback wall."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    # The innermost frame of the user's own code (not this package, not an
    # installed library, not the standard library) is where the candidate failed.
    skip = (str(Path(__file__).parent.parent), sys.prefix, sys.base_prefix, "<frozen")
    for frame in reversed(frames):
        if not frame.filename.startswith(skip) and "site-packages" not in frame.filename:
            return f"{text} (at {Path(frame.filename).name}:{frame.lineno} in {frame.name})"
    return text
