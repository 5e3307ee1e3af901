"""Running the candidate on cases: replay session, agent call, trace, budgets, verdicts.

The core the pytest plugin and the CLI share; no pytest imports. One case run:

1. build a ``ReplaySession`` from the case's recordings and evalset.yaml's tool
   policies, with an ``LLMReplay`` over the case's LLM cassette folder;
2. run the agent inside ``replaying()`` (a ContextVar, so concurrent cases on
   one loop and their ``to_thread`` workers never see each other's session);
   its exceptions become a one-line case error, not a traceback;
3. build the candidate ``Trace``; check budgets; run the classifiers the case
   expects (outside the session: a judge's own HTTP calls must not be replayed);
4. build the divergence report from the recording book.

After the runs, ``CaseResult.drift`` names every classifier whose version
differs from the one that labelled the case in production, and with
``RunOptions.update`` (``--agent-evals-update``) ``replay.update`` writes back
what the runs recorded and prunes what they did not use.

``run_cases`` runs many cases (and repeats) on one event loop under a
semaphore. Classifiers are found through ``resolve_classifier`` (default: the
scoring registry), which is the hand-off point for judges and plugins.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agent_backtest.config import Settings
from agent_backtest.errors import BacktestError, ConfigError
from agent_backtest.evalset.case import Case
from agent_backtest.evalset.config import EvalSetConfig, ToolReplayPolicy
from agent_backtest.replay.agent import Agent, describe_exception, load_agent
from agent_backtest.replay.checks import (
    ClassifierResolver,
    Expectation,
    check_budgets,
    classifier_drift,
    classify,
    expectations,
    problem_of,
)
from agent_backtest.replay.divergence import build_report
from agent_backtest.replay.http_intercept import LLMMode, LLMReplay, install
from agent_backtest.replay.llm_cassette import CassetteStore
from agent_backtest.replay.matching import MatchTier, ToolMatchPolicy
from agent_backtest.replay.redaction import EvalsetRedaction
from agent_backtest.replay.result import CaseOutcome, CaseResult, RecordingUpdate, RunResult
from agent_backtest.replay.session import ReplaySession, ToolPolicy, jsonable, replaying
from agent_backtest.replay.trace_build import ROOT_SPAN_ID, build_trace, candidate_trace_id
from agent_backtest.replay.update import DEFAULT_LLM_DIR, CaseRun, apply_updates, llm_folder
from agent_backtest.scoring.verdict import Classifier, Outcome

if TYPE_CHECKING:
    from agent_backtest.promote.redact import RedactionRules

LLM_MODES: tuple[LLMMode, ...] = ("live", "record", "replay")
API_KEY_ENV = "OPENAI_API_KEY"
REPLAY_API_KEY = "agent-backtest-replay-no-key-needed"
__all__ = ["DEFAULT_LLM_DIR", "CaseJob", "RunOptions", "run_case", "run_cases"]


def _registry_resolver(name: str) -> Classifier:
    from agent_backtest.scoring.registry import get_classifier  # detectors load on first use

    return get_classifier(name)


@dataclass(frozen=True)
class CaseJob:
    """One case to run, with the evalset it belongs to."""

    case: Case
    config: EvalSetConfig
    root: Path  # the evalset folder (llm_recordings are relative to it)
    agent_override: str | None = None  # flag or marker: beats evalset.yaml and settings
    path: Path | None = None  # the case file (update mode); default cases/<id>.yaml


@dataclass(frozen=True)
class RunOptions:
    llm_mode: LLMMode = "replay"
    repeat: int = 1
    pass_rate: float | None = None  # None: every run must pass
    traces_dir: Path | None = None
    llm_base_url: str | None = None  # the LLM endpoint allowed through in live/record
    # Leaving the recorded path (a tool call no recording answers) fails the case;
    # until classifiers judge every case, this is what catches a loop.
    fail_on_extra_calls: bool = True
    resolve_classifier: ClassifierResolver = field(default=_registry_resolver)
    # --agent-evals-update: record what is missing (read-only tools, LLM calls), prune
    # what is unused; see replay/update.py.
    update: bool = False
    # Extra redaction rules for what record/update write (the built-in ones always apply).
    redaction_rules: RedactionRules | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **changes: Any) -> RunOptions:
        mode = settings.llm_mode
        if mode not in LLM_MODES:
            raise ConfigError(
                f"llm mode {mode!r} is not one of {', '.join(LLM_MODES)}",
                fix="use --agent-evals-llm=live|record|replay",
            )
        values: dict[str, Any] = {
            "llm_mode": mode,
            "repeat": max(1, int(settings.repeat)),
            "pass_rate": settings.pass_rate,
            "traces_dir": Path(settings.traces_dir) if settings.traces_dir else None,
            "update": bool(settings.update),
        }
        values.update(changes)
        if values["update"] and values["repeat"] > 1:
            # K runs would each record the same missing calls and disagree on what is unused.
            raise ConfigError(
                f"--agent-evals-update records from one run per case, not {values['repeat']}",
                fix="update without --agent-evals-repeat, then repeat on the updated recordings",
            )
        return cls(**values)


# -- evalset.yaml -> session policies ------------------------------------------------


def tool_policy(policy: ToolReplayPolicy) -> ToolPolicy:
    unmatched = policy.unmatched
    if policy.side_effects and unmatched == "live":  # the model forbids it; belt and braces
        unmatched = "tool_error"
    return ToolPolicy(
        match=ToolMatchPolicy(
            matcher=policy.matcher,
            ignore_keys=frozenset(policy.ignore_keys),
            positional_fallback=policy.positional_fallback,
        ),
        unmatched=unmatched,
        side_effects=policy.side_effects,
    )


def session_policies(config: EvalSetConfig) -> tuple[ToolPolicy, dict[str, ToolPolicy]]:
    replay = config.replay
    return tool_policy(replay.default), {n: tool_policy(p) for n, p in replay.tools.items()}


def agent_entry_point(job: CaseJob, settings_agent: str | None) -> tuple[str | None, str]:
    """The agent for a case and where it came from: flag/marker > evalset.yaml > settings."""
    if job.agent_override:
        return job.agent_override, "--agent-evals-agent"
    if job.config.agent:
        return job.config.agent, f"{job.root / 'evalset.yaml'}"
    return settings_agent, "[tool.agent-backtest] agent"


def llm_allowed_hosts(
    mode: LLMMode, base_url: str | None, *, update: bool = False
) -> frozenset[str]:
    """In replay nothing may reach the network (unless updating: then only the LLM
    endpoint's host, for requests the cassette lacks); otherwise only that host."""
    if mode == "replay" and not update:
        return frozenset()
    url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    host = urlsplit(url).hostname
    return frozenset({host}) if host else frozenset()


def llm_store(job: CaseJob, redaction: EvalsetRedaction | None = None) -> CassetteStore:
    return CassetteStore(
        llm_folder(job.case, job.root), redaction.interaction if redaction is not None else None
    )


# -- one run -------------------------------------------------------------------------


def _error_line(exc: BaseException) -> str:
    """Our own error anywhere in the chain (openai wraps transport errors) wins."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BacktestError):
            return current.one_line()
        current = current.__cause__ or current.__context__
    return "agent raised " + describe_exception(exc)


async def run_once(
    job: CaseJob, agent: Agent, options: RunOptions, attempt: int, needs: list[Expectation]
) -> RunResult:
    return (await _run_in_session(job, agent, options, attempt, needs, None))[0]


async def _run_in_session(
    job: CaseJob,
    agent: Agent,
    options: RunOptions,
    attempt: int,
    needs: list[Expectation],
    redaction: EvalsetRedaction | None,
    executor: Executor | None = None,
) -> tuple[RunResult, ReplaySession]:
    case = job.case
    default, policies = session_policies(job.config)
    trace_id = candidate_trace_id(job.config.name, case.id, attempt)
    if redaction is None and (options.update or options.llm_mode == "record"):
        redaction = EvalsetRedaction(job.root, options.redaction_rules)
    session = ReplaySession(
        case.recordings,
        policies=policies,
        default=default,
        trace_id=trace_id,
        parent_span_id=ROOT_SPAN_ID,
        llm=LLMReplay(
            mode=options.llm_mode,
            store=llm_store(job, redaction),
            allowed_hosts=llm_allowed_hosts(
                options.llm_mode, options.llm_base_url, update=options.update
            ),
            record_missing=options.update,
        ),
        update=options.update,
        redact=redaction.value if options.update and redaction is not None else None,
    )
    install()
    output: Any = None
    error: str | None = None
    start_ns, started = time.time_ns(), time.perf_counter()
    with replaying(session):
        try:
            output = await agent.run(case.input, executor)
        except Exception as exc:  # the candidate's failure is a result, not a crash
            error = _error_line(exc)
    duration = time.perf_counter() - started
    if error is None and session.errors:
        error = session.errors[0]  # unmatched: error, even if the agent swallowed it
    output = jsonable(output)
    trace = build_trace(
        session,
        trace_id=trace_id,
        agent_name=agent.entry_point,
        case_input=case.input.model_dump(mode="json", exclude_defaults=True),
        output=output,
        error=error,
        start_ns=start_ns,
        end_ns=start_ns + int(duration * 1e9),
        session_id=case.id,
    )
    # A run that errored is incomplete: verdicts on half a run would mislead.
    run_needs = [] if error else needs
    verdicts = [await asyncio.to_thread(classify, e.classifier, trace) for e in run_needs]
    problems = [p for e, v in zip(run_needs, verdicts, strict=True) if (p := problem_of(e, v))]
    budgets = check_budgets(case, trace, duration)
    problems.extend(f"budget {b.name}: {b.reason}" for b in budgets if not b.passed)
    divergence = build_report(session.book)
    # In update mode a call the real tool answered is recorded now, so it is on the path.
    unrecorded = [
        c for c in divergence.extra_calls if not (options.update and c.tier is MatchTier.LIVE)
    ]
    if options.fail_on_extra_calls and unrecorded:
        calls = ", ".join(c.call for c in unrecorded[:3])
        more = len(unrecorded) - 3
        problems.append(
            f"left the recorded path: {len(unrecorded)} tool call(s) had no "
            f"recording ({calls}{f', +{more} more' if more > 0 else ''})"
        )
    if error is None and any(v.outcome is Outcome.ERROR for v in verdicts):
        error = "; ".join(
            f"{v.classifier}: {v.reason}" for v in verdicts if v.outcome is Outcome.ERROR
        )
    outcome = CaseOutcome.ERROR if error else CaseOutcome.FAILED if problems else CaseOutcome.PASSED
    if options.traces_dir is not None:
        from agent_backtest.replay.otlp_export import write_otlp_json

        suffix = f".{attempt}" if options.repeat > 1 else ""
        name = f"{case.id}{suffix}.otlp.json"
        await asyncio.to_thread(write_otlp_json, trace, options.traces_dir / job.config.name / name)
    run = RunResult(
        attempt=attempt,
        outcome=outcome,
        error=error,
        problems=problems,
        output=output,
        verdicts=verdicts,
        budgets=budgets,
        divergence=divergence,
        trace=trace,
        duration_s=duration,
    )
    return run, session


def _errored(attempt: int, message: str) -> RunResult:
    return RunResult(attempt=attempt, outcome=CaseOutcome.ERROR, error=message)


def aggregate(
    job: CaseJob,
    agent: str | None,
    options: RunOptions,
    runs: list[RunResult],
    needs: Sequence[Expectation] = (),
) -> CaseResult:
    passed = sum(r.passed for r in runs)
    rate = passed / len(runs) if runs else 0.0
    if not runs or any(r.outcome is CaseOutcome.ERROR for r in runs):
        # An errored run decides nothing either way; the gate treats it per policy.
        outcome = CaseOutcome.ERROR
    elif (options.pass_rate is None and passed == len(runs)) or (
        options.pass_rate is not None and rate >= options.pass_rate
    ):
        outcome = CaseOutcome.PASSED
    else:
        outcome = CaseOutcome.FAILED
    return CaseResult(
        case_id=job.case.id,
        evalset=job.config.name,
        agent=agent,
        llm_mode=options.llm_mode,
        failure_modes=list(job.case.failure_modes),
        outcome=outcome,
        runs=runs,
        pass_rate=rate,
        required_pass_rate=options.pass_rate,
        duration_s=sum(r.duration_s for r in runs),
        drift=classifier_drift(job.case, runs, needs),
    )


# -- many cases ----------------------------------------------------------------------


async def run_cases(
    jobs: Sequence[CaseJob],
    options: RunOptions,
    *,
    settings_agent: str | None = None,
    concurrency: int = 8,
) -> list[CaseResult]:
    """Run every job ``options.repeat`` times, at most ``concurrency`` runs at once.

    Results come back in job order. A broken agent entry point or an unknown
    classifier makes the affected cases ``error`` with the one-line reason.
    """
    limit = max(1, concurrency)
    # One thread per concurrent run for sync agents (see Agent.run), shut down with the batch.
    with (
        _placeholder_api_key(options.llm_mode),
        ThreadPoolExecutor(limit, thread_name_prefix="agent-backtest-case") as executor,
    ):
        return await _run_all(jobs, options, settings_agent, asyncio.Semaphore(limit), executor)


@contextmanager
def _placeholder_api_key(mode: LLMMode) -> Iterator[None]:
    """In replay, let ``OpenAI()`` start without a key; nothing it sends leaves the process.

    The client refuses to be constructed when OPENAI_API_KEY is unset, so an agent
    that builds one would error in a keyless CI even though every answer comes from
    a recording. Only set while the batch runs, and only when the user set nothing.
    """
    if mode != "replay" or os.environ.get(API_KEY_ENV):
        yield
        return
    os.environ[API_KEY_ENV] = REPLAY_API_KEY
    try:
        yield
    finally:
        if os.environ.get(API_KEY_ENV) == REPLAY_API_KEY:
            del os.environ[API_KEY_ENV]


async def _run_all(
    jobs: Sequence[CaseJob],
    options: RunOptions,
    settings_agent: str | None,
    semaphore: asyncio.Semaphore,
    executor: Executor,
) -> list[CaseResult]:
    agents: dict[str, Agent | ConfigError] = {}

    def agent_for(job: CaseJob) -> tuple[str | None, Agent | ConfigError]:
        entry, source = agent_entry_point(job, settings_agent)
        key = f"{entry}|{source}"
        if key not in agents:
            try:
                agents[key] = load_agent(entry, source=source)
            except ConfigError as exc:
                agents[key] = exc
        return entry, agents[key]

    redactions: dict[Path, EvalsetRedaction] = {}
    sessions: dict[int, ReplaySession] = {}  # job index -> its session (update mode)

    def redaction_for(job: CaseJob) -> EvalsetRedaction:
        return redactions.setdefault(job.root, EvalsetRedaction(job.root, options.redaction_rules))

    async def one(index: int, attempt: int, agent: Agent, needs: list[Expectation]) -> RunResult:
        job = jobs[index]
        async with semaphore:
            run, session = await _run_in_session(
                job, agent, options, attempt, needs, redaction_for(job), executor
            )
        sessions[index] = session
        return run

    # Before anything runs: a cassette folder's keys, so "added" means new to the folder.
    before = {
        i: frozenset(llm_store(job).stored_keys()) for i, job in enumerate(jobs) if options.update
    }
    plans: list[tuple[str | None, list[Expectation], list[asyncio.Task[RunResult]] | str]] = []
    for index, job in enumerate(jobs):
        entry, agent = agent_for(job)
        if isinstance(agent, ConfigError):
            plans.append((entry, [], agent.one_line()))
            continue
        try:
            needs = expectations(job.case, options.resolve_classifier)
        except ConfigError as exc:
            plans.append((entry, [], exc.one_line()))
            continue
        tasks = [
            asyncio.ensure_future(one(index, attempt, agent, needs))
            for attempt in range(options.repeat)
        ]
        plans.append((entry, needs, tasks))
    results: list[CaseResult] = []
    for job, (entry, needs, planned) in zip(jobs, plans, strict=True):
        if isinstance(planned, str):
            runs = [_errored(0, planned)]
        else:
            runs = list(await asyncio.gather(*planned))
        results.append(aggregate(job, entry, options, runs, needs))
    if options.update:
        await asyncio.to_thread(_write_updates, jobs, results, sessions, before)
    return results


def _write_updates(
    jobs: Sequence[CaseJob],
    results: list[CaseResult],
    sessions: dict[int, ReplaySession],
    before: dict[int, frozenset[str]],
) -> None:
    """Hand every case that ran to ``replay.update``; attach what changed to its result."""
    ran = [i for i in range(len(jobs)) if i in sessions]
    updates = apply_updates(
        [
            CaseRun(
                case=jobs[i].case,
                root=jobs[i].root,
                session=sessions[i],
                error=results[i].runs[0].error,
                store=llm_store(jobs[i]),
                llm_before=before[i],
                case_path=jobs[i].path,
            )
            for i in ran
        ]
    )
    for i, update in zip(ran, updates, strict=True):
        results[i].updated = update
    for i in set(range(len(jobs))) - set(ran):
        results[i].updated = RecordingUpdate(skipped=results[i].runs[0].error or "did not run")


def run_case(
    case: Case,
    evalset_config: EvalSetConfig,
    settings: Settings,
    *,
    root: Path,
    agent: str | None = None,
    options: RunOptions | None = None,
) -> CaseResult:
    """Run one case from synchronous code (not from inside a running event loop)."""
    job = CaseJob(case, evalset_config, root, agent_override=agent)
    opts = options or RunOptions.from_settings(settings)
    results = asyncio.run(run_cases([job], opts, settings_agent=settings.agent, concurrency=1))
    return results[0]
