"""The judge endpoint check: one real request to the OpenAI-compatible ``base_url`` judges use.

With a model known (a judge's ``model:`` or ``judge_model``) the request is a
1-token chat completion with that model, which proves the URL, the key and the
model together; with only ``judge_base_url`` configured it lists the models.
No retries: the point is to see what the endpoint answers right now.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_backtest.config import Settings
from agent_backtest.doctor.evalsets import EvalsetState
from agent_backtest.doctor.result import CheckResult, Status
from agent_backtest.errors import BacktestError
from agent_backtest.scoring.judge_client import NO_KEY_PLACEHOLDER
from agent_backtest.scoring.judge_definition import load_judges

if TYPE_CHECKING:
    import openai

NAME = "judge endpoint"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class JudgeUse:
    """One judge a run or ``backtest score`` would call, and the model it would ask."""

    who: str
    model: str | None


def judge_uses(
    settings: Settings, states: Sequence[EvalsetState], classifiers_dir: Path
) -> list[JudgeUse]:
    """YAML judges in ``classifiers/`` and inline judges in evalset.yaml files."""
    uses: list[JudgeUse] = []
    if classifiers_dir.is_dir():
        for judge_id, definition in load_judges(classifiers_dir).items():
            model = definition.model or settings.judge_model
            uses.append(JudgeUse(f"judge {judge_id} ({classifiers_dir})", model))
    for state in states:
        for entry in state.config.classifiers if state.config is not None else []:
            if isinstance(entry, dict):
                model = entry.get("model") or settings.judge_model
                where = state.root / "evalset.yaml"
                uses.append(JudgeUse(f"inline judge {entry.get('id', '?')} ({where})", model))
    return uses


@dataclass(frozen=True)
class _Target:
    base_url: str | None
    key_env: str
    key: str | None
    timeout: float


def check_judge(
    settings: Settings,
    states: Sequence[EvalsetState],
    *,
    environ: Mapping[str, str],
    classifiers_dir: Path = Path("classifiers"),
    timeout: float = DEFAULT_TIMEOUT,
    skip: bool = False,
) -> list[CheckResult]:
    if skip:
        return [CheckResult(NAME, Status.SKIP, "--skip-judge: no request made")]
    try:
        uses = judge_uses(settings, states, classifiers_dir)
    except BacktestError as error:
        return [CheckResult.from_error(NAME, error)]
    if not uses and settings.judge_base_url is None:
        return [
            CheckResult(
                NAME,
                Status.SKIP,
                f"no LLM judge configured (no judge_base_url, no judges in {classifiers_dir}/, "
                "no inline judge in evalset.yaml)",
            )
        ]
    results = [
        CheckResult(
            NAME,
            Status.FAIL,
            f"{use.who} names no model and judge_model is not set",
            "add model: to the judge, or set judge_model = '...' in [tool.agent-backtest]",
        )
        for use in uses
        if use.model is None
    ]
    models: Sequence[str | None] = sorted({use.model for use in uses if use.model is not None})
    if not uses:  # only judge_base_url: probe with the default model, else list the models
        models = [settings.judge_model]
    key_env = settings.judge_api_key_env
    target = _Target(settings.judge_base_url, key_env, environ.get(key_env) or None, timeout)
    if target.key is None and target.base_url is None:
        results.append(
            CheckResult(
                NAME,
                Status.FAIL,
                f"no API key for the judge: ${key_env} is not set",
                f"export {key_env}=<your key>, or set judge_base_url to a server that needs none",
            )
        )
        return results
    results.extend(probe(target, model) for model in models)
    return results


def probe(target: _Target, model: str | None) -> CheckResult:
    """One request, timed; every way it can go wrong becomes a FAIL that says the fix."""
    import openai  # here, not at import: the rest of doctor runs without loading the SDK

    client = openai.OpenAI(
        api_key=target.key or NO_KEY_PLACEHOLDER,
        base_url=target.base_url,
        max_retries=0,
        timeout=target.timeout,
    )
    url = str(client.base_url).rstrip("/")
    asked = f"POST {url}/chat/completions (model {model})" if model else f"GET {url}/models"
    started = time.perf_counter()
    try:
        if model is not None:
            client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=1
            )
        else:
            client.models.list()
    except openai.APIStatusError as exc:
        return _status_failure(target, asked, model, exc.status_code, _said(exc), exc.response)
    except openai.APITimeoutError:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"{asked}: no answer within {target.timeout:g}s",
            "check that the server is up and judge_base_url points at it",
        )
    except openai.APIConnectionError as exc:
        return CheckResult(
            NAME,
            Status.FAIL,
            f"{asked}: cannot reach {url} ({exc.__cause__ or exc})",
            "start the server, or fix judge_base_url in [tool.agent-backtest]",
        )
    finally:
        client.close()
    took = (time.perf_counter() - started) * 1000
    key = f"key from ${target.key_env}" if target.key else f"no key (${target.key_env} unset)"
    return CheckResult(NAME, Status.OK, f"{asked} answered 200 in {took:.0f} ms, {key}")


def _said(exc: openai.APIStatusError) -> str:
    """The server's own error message (the SDK's ``message`` prefixes "Error code: N - ")."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()[:200]
    return "no error message"


def _status_failure(
    target: _Target, asked: str, model: str | None, status: int, message: str, response: Any
) -> CheckResult:
    detail = f"{asked} answered HTTP {status}: {message}"
    if status in (401, 403):
        unset = f"${target.key_env} is not set; " if target.key is None else ""
        fix = f"{unset}export {target.key_env}=<a key this endpoint accepts>"
    elif status == 404:
        fix = (
            f"check that model {model!r} exists there and that judge_base_url is the API root "
            "(often ending in /v1)"
        )
    elif status == 429:
        wait = response.headers.get("retry-after")
        fix = "the endpoint is rate limiting or out of quota: check the key's quota and limits" + (
            f", or retry after {wait}s" if wait else ", or retry later"
        )
    elif status >= 500:
        fix = "the endpoint is up but failing: check the server (or the provider's status page)"
    else:
        fix = "check judge_model and judge_base_url against what the endpoint expects"
    return CheckResult(NAME, Status.FAIL, detail, fix)
