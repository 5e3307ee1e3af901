from __future__ import annotations

from pathlib import Path

from agent_backtest.scoring.judge_cache import JudgeCache, cache_key


def test_key_is_canonical() -> None:
    assert cache_key({"a": 1, "b": [1, 2]}) == cache_key({"b": [1, 2], "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})


def test_put_get_layout(tmp_path: Path) -> None:
    cache = JudgeCache.in_cache_dir(tmp_path)
    key = cache_key({"x": 1})
    assert cache.get(key) is None
    cache.put(key, {"label": "yes", "reason": "r"})
    path = tmp_path / "judge" / key[:2] / f"{key}.json"
    assert path.is_file()
    assert cache.get(key) == {
        "schema": "agent-backtest/judge-cache@1",
        "label": "yes",
        "reason": "r",
    }
    assert (cache.hits, cache.misses) == (1, 1)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_corrupt_or_foreign_entries_are_misses(tmp_path: Path) -> None:
    cache = JudgeCache(tmp_path)
    key = cache_key({"x": 2})
    cache.path_for(key).parent.mkdir(parents=True)
    cache.path_for(key).write_text("{not json")
    assert cache.get(key) is None
    cache.path_for(key).write_text('{"label": "yes"}')
    assert cache.get(key) is None
