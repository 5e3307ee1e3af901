"""The built-in taxonomy, user extensions and overrides, and the shipped judge template."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from agent_backtest.errors import ConfigError
from agent_backtest.scoring.registry import classifier_names
from agent_backtest.taxonomy import (
    builtin_taxonomy,
    failure_mode_keys,
    judge_template_text,
    judge_templates,
    load_taxonomy,
)

MAST = {
    "specification_issues": [
        "disobey_task_specification",
        "disobey_role_specification",
        "step_repetition",
        "loss_of_conversation_history",
        "unaware_of_termination_conditions",
    ],
    "inter_agent_misalignment": [
        "conversation_reset",
        "fail_to_ask_for_clarification",
        "task_derailment",
        "information_withholding",
        "ignored_other_agent_input",
        "reasoning_action_mismatch",
    ],
    "task_verification": [
        "premature_termination",
        "no_or_incomplete_verification",
        "incorrect_verification",
    ],
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_builtin_has_the_14_mast_modes_in_their_categories() -> None:
    taxonomy = builtin_taxonomy()
    for category, keys in MAST.items():
        assert [m.key for m in taxonomy.in_category(category)] == keys
    sources = sorted(m.source for m in taxonomy.modes.values() if m.source)
    assert len(sources) == 14
    assert sources[0] == "MAST FM-1.1"
    assert sources[-1] == "MAST FM-3.3"


def test_every_detector_tests_its_own_mode_and_every_reference_resolves() -> None:
    taxonomy = builtin_taxonomy()
    detectors = {name for name in classifier_names() if name in failure_mode_keys()}
    assert len(detectors) == 9
    for name in detectors:
        assert name in taxonomy.mode(name).tested_by
    known = set(classifier_names()) | set(judge_templates())
    assert taxonomy.unknown_classifiers(known) == {}
    assert "wrong_final_answer" in [m.key for m in taxonomy.tested_by("task_outcome")]


def test_user_file_adds_and_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        schema: agent-backtest/taxonomy@1
        categories:
          billing: {title: Billing, description: Money moved wrongly.}
        modes:
          refund_without_approval:
            title: Refund without approval
            category: billing
            description: Refunded over the limit without a human.
            tested_by: [refund_judge]
          step_repetition:
            tested_by: [step_repetition, loop_judge]
        """,
    )
    taxonomy = load_taxonomy(path)
    added = taxonomy.mode("refund_without_approval")
    assert (added.category, added.tested_by) == ("billing", ("refund_judge",))
    changed = taxonomy.mode("step_repetition")
    assert changed.tested_by == ("step_repetition", "loop_judge")
    assert changed.title == "Step repetition"  # fields not given are kept
    assert changed.source == "MAST FM-1.3"
    assert builtin_taxonomy().mode("step_repetition").tested_by == ("step_repetition",)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("modes:\n  step_repetition:\n    tested_bye: [x]\n", "unknown field 'tested_bye'", 3),
        ("mode:\n  x: {}\n", "unknown key 'mode'", 1),
        ("modes:\n  new_mode:\n    title: New\n", "new failure mode 'new_mode' needs category", 2),
        (
            "modes:\n  new_mode:\n    title: N\n    category: nope\n    description: d\n",
            "unknown category 'nope'",
            4,
        ),
        ("modes:\n  Bad-Key:\n    title: x\n", "invalid key 'Bad-Key'", 2),
        ("modes:\n  truncation:\n    tested_by: truncation\n", "tested_by must be a list", 3),
        ("schema: agent-backtest/taxonomy@9\n", "unsupported schema", 1),
    ],
)
def test_user_file_errors_name_file_line_and_field(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    assert message in str(info.value)
    assert info.value.where.path == path
    assert info.value.where.line == line


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "modes:\n  truncation:\n    descripton: x\n")
    with pytest.raises(ConfigError, match="did you mean 'description'"):
        load_taxonomy(path)


def test_unknown_mode_lookup_suggests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'truncation'"):
        builtin_taxonomy().mode("truncaton")


def test_task_outcome_template_is_shipped_data() -> None:
    data = yaml.safe_load(judge_template_text("task_outcome"))
    assert data["id"] == "task_outcome"
    assert list(data["labels"]) == ["completed", "partial", "failed", "abandoned"]
    assert data["pass"] == ["completed"]
    assert "{{output}}" in data["prompt"]
    with pytest.raises(ConfigError, match="available: task_outcome"):
        judge_template_text("nope")


def test_task_outcome_template_loads_as_a_judge() -> None:
    definition = pytest.importorskip("agent_backtest.scoring.judge_definition")
    judge = definition.judge_from_mapping(yaml.safe_load(judge_template_text("task_outcome")))
    assert judge.id == "task_outcome"
    assert judge.failure_mode in failure_mode_keys()
