from __future__ import annotations

from pathlib import Path

import pytest

from agent_backtest.errors import ConfigError
from agent_backtest.scoring.judge_definition import load_judge_file, load_judges
from tests.scoring.judge_helpers import HELPFUL, definition

GOOD = """\
id: task_outcome
kind: enum
labels:
  completed: all done
  partial: some done
  failed: not done
pass: [completed]
prompt: "Task: {{input}} -> {{output}}"
"""


def test_load_file_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "task_outcome.yaml"
    path.write_text(GOOD)
    judge = load_judge_file(path)
    assert list(judge.labels) == ["completed", "partial", "failed"]
    assert judge.parameters.temperature == 0
    assert judge.parameters.seed == 0
    assert len(judge.version) == 12


def test_unknown_key_names_file_line_field_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + "modle: gpt-4o\n")
    with pytest.raises(ConfigError) as error:
        load_judge_file(path)
    message = error.value.one_line()
    assert f"{path}:9 at modle: unknown key 'modle'" in message
    assert "did you mean 'model'?" in message


def test_nested_unknown_parameter_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + "parameters:\n  temperature: 0\n  temprature: 1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:11 at parameters.temprature.*'temperature'"):
        load_judge_file(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": ["a", "b", "c"], "pass": ["a"]}, "binary judge needs exactly 2 labels"),
        ({"kind": "enum", "labels": ["x"], "pass": ["x"]}, "2 to 10 labels"),
        ({"kind": "enum", "labels": [str(i) for i in range(11)], "pass": ["1"]}, "2 to 10"),
        ({"pass": ["maybe"]}, "not labels"),
        ({"prompt": "{{input}} {{reply}}"}, "unknown placeholders \\['reply'\\]"),
        ({"kind": "ternary"}, "kind"),
        ({"truncation": {"outputs": 500}}, "unknown field 'outputs'"),
    ],
)
def test_invalid_definitions(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        definition(**change)


def test_version_covers_verdict_inputs_only() -> None:
    base = definition().version
    assert definition(description="reworded").version == base
    assert definition(prompt=HELPFUL["prompt"] + "!").version != base
    assert definition(labels={"yes": "solved", "no": "it did not"}).version != base
    assert definition(parameters={"temperature": 0.5}).version != base


def test_list_and_mapping_labels_are_the_same_definition() -> None:
    assert definition(labels=["yes", "no"]).labels == {"yes": "", "no": ""}


def test_load_folder_rejects_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD)
    with pytest.raises(ConfigError, match="defined twice"):
        load_judges(tmp_path)
    (tmp_path / "b.yml").unlink()
    assert list(load_judges(tmp_path)) == ["task_outcome"]


def test_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--classifiers-dir"):
        load_judges(tmp_path / "nope")
