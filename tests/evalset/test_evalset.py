"""Loading a whole evalset folder, validating it, locking it, and the parse cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_backtest.errors import ConfigError, InputError
from agent_backtest.evalset.evalset import load_evalset, rewrite_stale, validate_evalset
from agent_backtest.evalset.lock import lock_data, lock_hash, write_lock
from agent_backtest.evalset.storage import read_case
from agent_backtest.evalset.yamlio import parse_yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "evalsets"
GOOD = FIXTURES / "support-agent"


@pytest.fixture
def evalset_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOOD, tmp_path / "support-agent"))


def test_load_sorts_cases_by_id() -> None:
    evalset = load_evalset(GOOD)
    assert [c.id for c in evalset.cases] == [
        "invents-refund-amount-9be41d",
        "loops-on-lookup-order-3f9a2c",
    ]
    assert evalset.name == "support-agent"
    assert evalset.failure_modes() == [
        "cascading_retries",
        "hallucinated_tool_input",
        "step_repetition",
    ]
    assert evalset.case("invents-refund-amount-9be41d").title == "Invents a refund amount"
    with pytest.raises(InputError, match="no case 'nope'"):
        evalset.case("nope")


def test_missing_evalset_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no evalset\.yaml"):
        load_evalset(tmp_path)


def test_duplicate_ids_fail_load_and_are_reported_by_validate(evalset_dir: Path) -> None:
    src = evalset_dir / "cases" / "invents-refund-amount-9be41d.yaml"
    shutil.copy(src, evalset_dir / "cases" / "copy.yaml")
    with pytest.raises(InputError, match="duplicate case id 'invents-refund-amount-9be41d'"):
        load_evalset(evalset_dir)
    problems = [str(p) for p in validate_evalset(evalset_dir).problems]
    assert any("duplicate case id" in p for p in problems)
    assert any("file name does not match id" in p for p in problems)


def test_validate_fixture_is_clean() -> None:
    report = validate_evalset(GOOD)
    assert report.ok, report.problems
    assert report.cases == 2


def test_validate_reports_every_problem_and_fix_rewrites(evalset_dir: Path) -> None:
    cases = evalset_dir / "cases"
    loops = cases / "loops-on-lookup-order-3f9a2c.yaml"
    loops.write_text(loops.read_text().replace("max_tool_calls: 3", "max_tool_calls: 4"))
    shutil.rmtree(evalset_dir / "llm")
    shutil.copy(FIXTURES / "broken" / "unknown-key.yaml", cases / "unknown-key-000001.yaml")
    old = FIXTURES / "old-format" / "loops-on-lookup-order-0a0b0c.yaml"
    shutil.copy(old, cases / old.name)
    report = validate_evalset(evalset_dir)
    text = "\n".join(str(p) for p in report.problems)
    assert "content_hash does not match" in text
    assert "llm_recordings 'llm/loops-on-lookup-order-3f9a2c' does not exist" in text
    assert "unknown key 'reslut'" in text
    assert "old schema case@0" in text
    assert len(report.problems) == 4
    rewritten = rewrite_stale(report)
    assert sorted(p.name for p in rewritten) == sorted([loops.name, old.name])
    text = "\n".join(str(p) for p in validate_evalset(evalset_dir).problems)
    assert "content_hash" not in text
    assert "old schema" not in text
    assert read_case(cases / old.name).migrated_from is None


def test_lock_hash_tracks_content_and_config(evalset_dir: Path) -> None:
    first = lock_hash(load_evalset(evalset_dir))
    assert first == lock_hash(load_evalset(evalset_dir))
    path = write_lock(load_evalset(evalset_dir))
    written = parse_yaml(path.read_text(), path)
    assert written == lock_data(load_evalset(evalset_dir))
    assert written["lock_hash"] == first
    assert set(written["cases"]) == {"invents-refund-amount-9be41d", "loops-on-lookup-order-3f9a2c"}
    loops = evalset_dir / "cases" / "loops-on-lookup-order-3f9a2c.yaml"
    # A hand edit with a stale stored hash must still change the lock hash.
    loops.write_text(loops.read_text().replace("max_tool_calls: 3", "max_tool_calls: 4"))
    second = lock_hash(load_evalset(evalset_dir))
    assert second != first
    config = evalset_dir / "evalset.yaml"
    config.write_text(config.read_text().replace("min_pass_rate: 0.95", "min_pass_rate: 0.9"))
    assert lock_hash(load_evalset(evalset_dir)) != second


def test_parse_cache_gives_identical_results_and_never_serves_stale(
    evalset_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    plain = load_evalset(evalset_dir)
    filled = load_evalset(evalset_dir, cache)
    assert list((cache / "evalset-parse").iterdir())
    warm = load_evalset(evalset_dir, cache)
    assert plain.cases == filled.cases == warm.cases
    loops = evalset_dir / "cases" / "loops-on-lookup-order-3f9a2c.yaml"
    loops.write_text(loops.read_text().replace("title: Loops on", "title: Still loops on"))
    edited = load_evalset(evalset_dir, cache)
    assert edited.case("loops-on-lookup-order-3f9a2c").title.startswith("Still loops on")
    # Errors found through a cached parse still carry the line number.
    loops.write_text(loops.read_text().replace("- seq: 1\n", "- seq: one\n"))
    for _ in range(2):
        with pytest.raises(InputError, match=r":47:3 at recordings\[1\]\.seq"):
            load_evalset(evalset_dir, cache)


def test_corrupt_cache_is_ignored(evalset_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_evalset(evalset_dir, cache)
    for pack in (cache / "evalset-parse").iterdir():
        pack.write_text("{not json")
    assert len(load_evalset(evalset_dir, cache).cases) == 2
