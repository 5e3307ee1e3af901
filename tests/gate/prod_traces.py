"""Real files for the coverage tests: production exports and evalsets on disk.

Production: OTLP JSON traces plus a sidecar label file.

Written per test into ``tmp_path`` so the CLI reads real files in real formats;
the numbers of traces per label are the test's to choose.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.evalset import CASES_DIR, CONFIG_FILE
from agent_backtest.evalset.storage import load_case, write_case, write_evalset_config

T0 = 1_746_000_000_000_000_000  # 2025-04-30T08:00:00Z
HOUR = 3_600_000_000_000


def _span(trace_id: str, span_id: str, parent: str, kind: str, start: int) -> dict[str, object]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "support_agent.run" if kind == "AGENT" else "ChatCompletion",
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 2_000_000_000),
        "attributes": [
            {"key": "openinference.span.kind", "value": {"stringValue": kind}},
            {"key": "input.value", "value": {"stringValue": "Where is my order?"}},
        ],
        "status": {"code": 1},
    }


def write_export(folder: Path, labels: Mapping[str | None, int]) -> tuple[Path, Path]:
    """``{"looped": 20, None: 5}``: 20 traces labelled ``failure_mode=looped``, 5 unlabelled.

    Trace ``n`` starts ``n`` hours after T0, in the order the labels are given.
    Returns the OTLP JSONL file and the label JSONL file.
    """
    traces, annotations = folder / "prod.otlp.jsonl", folder / "prod-labels.jsonl"
    n = 0
    with traces.open("w") as spans, annotations.open("w") as marks:
        for label, count in labels.items():
            for _ in range(count):
                trace_id = f"{n + 1:032x}"
                start = T0 + n * HOUR
                root, child = f"{2 * n + 1:016x}", f"{2 * n + 2:016x}"
                export = {
                    "resourceSpans": [
                        {
                            "resource": {
                                "attributes": [
                                    {"key": "service.name", "value": {"stringValue": "support"}}
                                ]
                            },
                            "scopeSpans": [
                                {
                                    "spans": [
                                        _span(trace_id, root, "", "AGENT", start),
                                        _span(trace_id, child, root, "LLM", start + 1000),
                                    ]
                                }
                            ],
                        }
                    ]
                }
                spans.write(json.dumps(export) + "\n")
                if label is not None:
                    mark = {"trace_id": trace_id, "name": "failure_mode", "label": label}
                    marks.write(json.dumps({**mark, "annotator_kind": "human"}) + "\n")
                n += 1
    return traces, annotations


TEMPLATE_CASE = (
    Path(__file__).parents[1]
    / "fixtures"
    / "evalsets"
    / "support-agent"
    / "cases"
    / "loops-on-lookup-order-3f9a2c.yaml"
)


def write_evalset(
    root: Path,
    cases: Mapping[str, Sequence[str]],
    *,
    gate: Mapping[str, object] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """An evalset folder with real case files: ``{"loop-1": ["step_repetition"], ...}``."""
    template = load_case(TEMPLATE_CASE)
    config = EvalSetConfig.model_validate(
        {"name": root.name, "gate": dict(gate or {}), "failure_mode_labels": dict(labels or {})}
    )
    write_evalset_config(config, root / CONFIG_FILE)
    for case_id, modes in cases.items():
        case = template.model_copy(update={"id": case_id, "failure_modes": list(modes)})
        write_case(case, root / CASES_DIR / f"{case_id}.yaml")
    return root
