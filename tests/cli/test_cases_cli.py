"""``backtest cases|schema|export|import`` through click's CliRunner, as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent_backtest.cli.main import cli
from agent_backtest.evalset.schema import render

FIXTURES = Path(__file__).parents[1] / "fixtures" / "evalsets"
GOOD = FIXTURES / "support-agent"


@pytest.fixture
def evalset_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOOD, tmp_path / "evalsets" / "support-agent"))


def run(tmp_path: Path, *args: str) -> Result:
    # The cache goes to tmp, never into the repository the tests run from.
    runner = CliRunner(env={"BACKTEST_CACHE_DIR": str(tmp_path / "cache")})
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_list_table_json_and_filter(tmp_path: Path, evalset_dir: Path) -> None:
    result = run(tmp_path, "cases", "list", "--evalset", str(evalset_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("invents-refund-amount-9be41d  hallucinated_tool_input")
    assert "2 of 2 cases in support-agent" in result.stderr
    result = run(
        tmp_path, "cases", "list", "-e", str(evalset_dir), "-m", "step_repetition", "--json"
    )
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["loops-on-lookup-order-3f9a2c"]
    assert rows[0]["recordings"] == 3


def test_default_evalset_is_found_under_evalsets(
    tmp_path: Path, evalset_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(evalset_dir.parent.parent)
    assert run(tmp_path, "cases", "list").exit_code == 0
    shutil.copytree(evalset_dir, evalset_dir.parent / "other")
    result = run(tmp_path, "cases", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: several evalsets under evalsets/")
    assert "--evalset DIR" in result.stderr


def test_show_prints_the_case_yaml(tmp_path: Path, evalset_dir: Path) -> None:
    result = run(tmp_path, "cases", "show", "loops-on-lookup-order-3f9a2c", "-e", str(evalset_dir))
    assert result.exit_code == 0
    file_text = (evalset_dir / "cases" / "loops-on-lookup-order-3f9a2c.yaml").read_text()
    assert result.stdout.split("\n", 1)[1] == file_text
    missing = run(tmp_path, "cases", "show", "nope", "-e", str(evalset_dir))
    assert missing.exit_code == 2
    assert missing.stderr.count("\n") == 1
    assert "no case 'nope'" in missing.stderr


def test_validate_ok_problems_and_fix(tmp_path: Path, evalset_dir: Path) -> None:
    result = run(tmp_path, "cases", "validate", str(evalset_dir))
    assert result.exit_code == 0
    assert "2 cases, ok" in result.stdout
    loops = evalset_dir / "cases" / "loops-on-lookup-order-3f9a2c.yaml"
    loops.write_text(loops.read_text().replace("max_tool_calls: 3", "max_tool_calls: 4"))
    result = run(tmp_path, "cases", "validate", str(evalset_dir))
    assert result.exit_code == 1
    assert "content_hash does not match" in result.stderr
    result = run(tmp_path, "cases", "validate", str(evalset_dir), "--fix")
    assert result.exit_code == 0
    assert f"rewrote {loops}" in result.stderr


def test_broken_case_is_one_line_with_exit_2(tmp_path: Path, evalset_dir: Path) -> None:
    shutil.copy(FIXTURES / "broken" / "wrong-type-nested.yaml", evalset_dir / "cases" / "w.yaml")
    result = run(tmp_path, "cases", "list", "-e", str(evalset_dir))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "w.yaml:10:5 at expect.budgets.max_tool_calls:" in result.stderr


def test_lock_writes_the_lock_file(tmp_path: Path, evalset_dir: Path) -> None:
    result = run(tmp_path, "cases", "lock", "-e", str(evalset_dir))
    assert result.exit_code == 0
    assert "lock_hash sha256:" in result.stdout
    assert "lock_hash: sha256:" in (evalset_dir / "evalset.lock").read_text()


@pytest.mark.parametrize("name", ["case", "evalset"])
def test_schema_prints_and_writes(tmp_path: Path, name: str) -> None:
    result = run(tmp_path, "schema", name)
    assert result.exit_code == 0
    assert result.stdout == render(name)  # type: ignore[arg-type]
    out = tmp_path / f"{name}.json"
    assert run(tmp_path, "schema", name, "-o", str(out)).exit_code == 0
    assert out.read_text() == render(name)  # type: ignore[arg-type]


def test_hf_export_import_round_trip_is_byte_identical(tmp_path: Path, evalset_dir: Path) -> None:
    run(tmp_path, "cases", "lock", "-e", str(evalset_dir))
    out = tmp_path / "hf"
    result = run(tmp_path, "export", str(evalset_dir), str(out), "--to", "hf")
    assert result.exit_code == 0, result.output
    assert "exported 2 cases" in result.stdout
    assert (out / "cases.parquet").is_file()
    back = tmp_path / "back"
    result = run(tmp_path, "import", str(out), "--to", str(back))
    assert result.exit_code == 0, result.output
    before = {
        p.relative_to(evalset_dir): p.read_bytes() for p in evalset_dir.rglob("*") if p.is_file()
    }
    after = {p.relative_to(back): p.read_bytes() for p in back.rglob("*") if p.is_file()}
    assert after == before


def test_import_of_a_folder_without_dataset_fails_cleanly(tmp_path: Path) -> None:
    result = run(tmp_path, "import", str(tmp_path), "--to", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "missing cases.parquet" in result.stderr
