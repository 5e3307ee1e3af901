"""Make the example's production traces, promote them, and record the LLM interactions.

    python -m examples.support_agent.regenerate            # every step, in this repository
    python -m examples.support_agent.regenerate traces --root /tmp/copy

Steps (``all`` runs them in this order):

1. ``traces``: run ``production.run`` on every conversation in
   ``conversations.py`` against the scripted model, with the OpenTelemetry SDK
   configured, and write ``examples/support_agent/traces/production.otlp.jsonl``
   plus the on-call labels ``labels.jsonl``. Ids and timestamps are
   deterministic, so the files come out byte for byte the same.
2. ``promote``: the real ``backtest promote`` command (``PROMOTE_COMMAND``) into
   ``evalsets/support-agent/``, then the example's ``evalset.yaml``,
   ``backtest cases lock`` and ``backtest coverage`` (``evalsets/coverage.json``).
3. ``record``: ``pytest --agent-evals --agent-evals-llm=record`` against the
   scripted model, once for the candidate and once for the production agent,
   so both sets of LLM interactions sit side by side under ``llm/<case id>/``
   and the default run needs no key and no network.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from examples.support_agent.conversations import CONVERSATIONS, Conversation
from examples.support_agent.model_server import ScriptedModelServer

REPO = Path(__file__).resolve().parents[2]
TRACES = Path("examples/support_agent/traces")
TRACE_FILE = TRACES / "production.otlp.jsonl"
LABEL_FILE = TRACES / "labels.jsonl"
EVALSET = Path("evalsets/support-agent")
# Fixed so that anyone regenerating the example gets the same placeholders; a real
# team keeps its key in a secret store (see docs/promote.md, "The key").
REDACTION_KEY = "northwind-audio-example-key"
PROMOTE_COMMAND = [
    "backtest",
    "promote",
    str(TRACE_FILE),
    str(LABEL_FILE),
    "--evalset",
    str(EVALSET),
    "--annotation",
    "failure_mode",
    "--label-map",
    "failure_mode=looped:step_repetition",
]
# The production share of each failure mode, for the gate (evalsets/coverage.json).
COVERAGE_COMMAND = [
    "backtest",
    "coverage",
    "--traces",
    str(TRACE_FILE),
    str(LABEL_FILE),
    "--evalsets",
    "evalsets",
    "--label-map",
    "failure_mode=looped:step_repetition",
]
RECORD_COMMANDS = [
    ["python", "-m", "pytest", "--agent-evals", "--agent-evals-llm=record"],
    [
        "python",
        "-m",
        "pytest",
        "--agent-evals",
        "--agent-evals-llm=record",
        "--agent-evals-agent",
        "examples.support_agent.production:run",
    ],
]
RESOURCE = {
    "service.name": "support-agent",
    "service.version": "2025.11.1",
    "deployment.environment": "production",
}


# -- 1. traces ----------------------------------------------------------------------


def _serve(conversation: Conversation, tracer: Any) -> None:
    # Imported here, not at the top: the promote and record steps need neither.
    from examples.support_agent import production
    from examples.support_agent.agent_loop import SYSTEM_PROMPT
    from examples.support_agent.backend import Backend, using_backend

    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": conversation.user},
    ]
    attributes = {
        "openinference.span.kind": "AGENT",
        "agent.name": "support-agent",
        "session.id": conversation.session_id,
        "input.value": conversation.user,
        "input.mime_type": "text/plain",
    }
    backend = Backend(refund_service_down=conversation.refund_service_down)
    with (
        using_backend(backend),
        tracer.start_as_current_span("support_agent.run", attributes=attributes) as span,
    ):
        answer = production.run(messages)
        span.set_attribute("output.value", answer)
        span.set_attribute("output.mime_type", "text/plain")


def write_traces(root: Path) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from examples.support_agent.trace_export import (
        ExportOrder,
        SequentialIds,
        otlp_json_line,
        simulated_times,
        span_ids,
    )

    ids = SequentialIds()
    order = ExportOrder()
    # Resource(...) rather than Resource.create(...): the SDK's defaults include its own
    # version, which would change the file whenever opentelemetry-sdk is upgraded.
    provider = TracerProvider(resource=Resource(RESOURCE), id_generator=ids)
    provider.add_span_processor(order)
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("examples.support_agent")
    lines: list[str] = []
    labels: list[str] = []
    with ScriptedModelServer() as model:
        os.environ["OPENAI_BASE_URL"] = model.base_url
        os.environ["OPENAI_API_KEY"] = "scripted-model"
        for conversation in CONVERSATIONS:
            ids.start(conversation.id)
            _serve(conversation, tracer)
            events, spans = order.take()
            times = simulated_times(events, spans, conversation.start_ns)
            lines.append(otlp_json_line(spans, times, RESOURCE))
            trace_id = f"{span_ids(spans[0])[0]:032x}"
            labels.extend(
                json.dumps({"trace_id": trace_id, **label}) for label in conversation.labels
            )
    folder = root / TRACES
    folder.mkdir(parents=True, exist_ok=True)
    (root / TRACE_FILE).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (root / LABEL_FILE).write_text("".join(line + "\n" for line in labels), encoding="utf-8")
    print(f"wrote {len(lines)} traces to {root / TRACE_FILE} and {len(labels)} labels")


# -- 2. promote ---------------------------------------------------------------------


def _backtest(args: list[str], root: Path) -> None:
    """Run a ``backtest`` command (the console script's own click group) from ``root``.

    From ``root`` with relative paths, because each case records the trace file as
    given; in this process, because a fresh interpreter per command costs more than
    the command does.
    """
    from agent_backtest.cli.main import cli

    previous = os.environ.get("BACKTEST_REDACTION_KEY")
    os.environ["BACKTEST_REDACTION_KEY"] = REDACTION_KEY
    try:
        with contextlib.chdir(root):
            cli.main(args=args, prog_name="backtest", standalone_mode=False)
    finally:
        if previous is None:
            del os.environ["BACKTEST_REDACTION_KEY"]
        else:
            os.environ["BACKTEST_REDACTION_KEY"] = previous


def promote(root: Path) -> None:
    from agent_backtest.evalset.config import EvalSetConfig, ReplayPolicy, ToolReplayPolicy
    from agent_backtest.evalset.storage import write_evalset_config

    # No stale cases; evalset.yaml is rewritten below and the record step redoes llm/.
    shutil.rmtree(root / EVALSET / "cases", ignore_errors=True)
    _backtest(PROMOTE_COMMAND[1:], root)
    side_effects = ToolReplayPolicy(side_effects=True)
    config = EvalSetConfig(
        name="support-agent",
        description="Production failures of the example support agent (examples/support_agent), "
        "promoted from examples/support_agent/traces/ by examples/support_agent/regenerate.py.",
        replay=ReplayPolicy(
            tools={"issue_refund": side_effects, "escalate_to_human": side_effects}
        ),
    )
    write_evalset_config(config, root / EVALSET / "evalset.yaml")
    _backtest(["cases", "lock", "--evalset", str(EVALSET)], root)
    _backtest(COVERAGE_COMMAND[1:], root)


# -- 3. record ----------------------------------------------------------------------


def record(root: Path) -> None:
    shutil.rmtree(root / EVALSET / "llm", ignore_errors=True)  # no stale interactions
    with ScriptedModelServer() as model:
        env = {
            **os.environ,
            "OPENAI_BASE_URL": model.base_url,
            "OPENAI_API_KEY": "scripted-model",
            "BACKTEST_REPORT_DIR": str(root / ".backtest" / "record-report"),
        }
        # The candidate passes every case; the production agent fails them (the point).
        for command, expected in zip(RECORD_COMMANDS, (0, 1), strict=True):
            args = [
                sys.executable,
                *command[1:],
                "-p",
                "no:cacheprovider",
                "-q",
                "--agent-evals-evalsets",
                str((root / "evalsets").resolve()),
            ]
            # From the repository, so its pyproject names the candidate and examples imports.
            done = subprocess.run(args, cwd=REPO, env=env, check=False)
            if done.returncode != expected:
                raise SystemExit(
                    f"recording exited {done.returncode}, expected {expected}: {' '.join(args)}"
                )


STEPS = {"traces": write_traces, "promote": promote, "record": record}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("step", nargs="?", default="all", choices=[*STEPS, "all"])
    parser.add_argument("--root", type=Path, default=REPO, help="where to write (default: here)")
    options = parser.parse_args(argv)
    for name, step in STEPS.items():
        if options.step in (name, "all"):
            step(options.root)


if __name__ == "__main__":
    main()
