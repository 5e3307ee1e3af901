"""Hugging Face ``datasets`` export/import of an evalset, exact in both directions.

Layout of the output folder (push it with ``huggingface-cli upload ORG/NAME OUT
--repo-type dataset``, see docs/cases.md):

- ``cases.parquet``: one row per case, sorted by id: ``id``, ``schema``, ``title``,
  ``failure_modes`` (for filtering in the dataset viewer), ``content_hash`` and
  ``case``, the case as JSON *in file key order* (sorted keys would reorder tool
  arguments, and the YAML written back would differ).
- ``files.parquet``: every other file of the evalset (``evalset.yaml``, the lock,
  LLM recordings) as ``path`` + raw ``data`` bytes.
- ``README.md``: a dataset card whose ``configs`` point the Hub at ``cases.parquet``.

Import re-renders each case with the canonical writer, so a case file written by
agent-backtest comes back byte for byte; a hand-formatted one comes back in
canonical formatting with the same content.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from agent_backtest.errors import InputError, Location
from agent_backtest.evalset.case import Case
from agent_backtest.evalset.evalset import CASES_DIR, load_evalset
from agent_backtest.evalset.storage import case_to_yaml
from agent_backtest.trace.writers import atomic_writer

CASES_FILE = "cases.parquet"
FILES_FILE = "files.parquet"
_CARD = """---
configs:
- config_name: default
  data_files: cases.parquet
tags:
- agent-backtest
---
# {name}

Evalset exported by agent-backtest: {count} cases. Each row's `case` column is one
`agent-backtest/case@1` document as JSON; `backtest import` turns it back into an
evalset folder.
"""


def _datasets() -> Any:
    # Never touch the network: exporting and importing are local file operations.
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    return datasets


def export_hf(root: Path, out: Path) -> int:
    """Write the evalset at ``root`` to ``out`` (a folder); returns the number of cases."""
    datasets = _datasets()
    evalset = load_evalset(root)
    rows: dict[str, list[Any]] = {
        k: [] for k in ("id", "schema", "title", "failure_modes", "content_hash", "case")
    }
    for case in evalset.cases:
        data = case.to_data()
        rows["id"].append(case.id)
        rows["schema"].append(data["schema"])
        rows["title"].append(case.title)
        rows["failure_modes"].append(list(case.failure_modes))
        rows["content_hash"].append(case.content_hash)
        rows["case"].append(orjson.dumps(data).decode("utf-8"))
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "schema": datasets.Value("string"),
            "title": datasets.Value("string"),
            "failure_modes": datasets.Sequence(datasets.Value("string")),
            "content_hash": datasets.Value("string"),
            "case": datasets.Value("string"),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    _write_parquet(datasets.Dataset.from_dict(rows, features=features), out / CASES_FILE)
    case_paths = set(evalset.paths.values())
    others = sorted(p for p in evalset.root.rglob("*") if p.is_file() and p not in case_paths)
    files = {
        "path": [p.relative_to(evalset.root).as_posix() for p in others],
        "data": [p.read_bytes() for p in others],
    }
    file_features = datasets.Features(
        {"path": datasets.Value("string"), "data": datasets.Value("binary")}
    )
    _write_parquet(datasets.Dataset.from_dict(files, features=file_features), out / FILES_FILE)
    card = _CARD.format(name=evalset.name, count=len(evalset.cases))
    with atomic_writer(out / "README.md") as handle:
        handle.write(card.encode("utf-8"))
    return len(evalset.cases)


def _write_parquet(dataset: Any, path: Path) -> None:
    with atomic_writer(path) as handle:
        dataset.to_parquet(handle)


def _read(path: Path) -> Any:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputError(
            f"missing {path.name}",
            where=Location(path),
            fix="point at a folder written by 'backtest export DIR --to hf OUT'",
        )
    # An in-memory Dataset over the Arrow table: no cache files under ~/.cache.
    return _datasets().Dataset(pq.read_table(path))


def import_hf(src: Path, dest: Path) -> int:
    """Recreate the evalset exported to ``src`` in ``dest``; returns the number of cases."""
    cases = _read(src / CASES_FILE)
    files = _read(src / FILES_FILE)
    for row in files:
        target = _inside(dest, row["path"], src / FILES_FILE)
        with atomic_writer(target) as handle:
            handle.write(row["data"])
    for index, row in enumerate(cases):
        where = Location(src / CASES_FILE, field=f"rows[{index}].case")
        try:
            case = Case.model_validate(orjson.loads(row["case"]))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise InputError(f"row {row['id']!r} is not a valid case: {exc}", where=where) from None
        if case.content_hash != row["content_hash"]:
            raise InputError(f"row {row['id']!r}: content_hash column disagrees", where=where)
        # Written as stored (no re-hash): an exact copy, stale hash and all.
        with atomic_writer(dest / CASES_DIR / f"{case.id}.yaml") as handle:
            handle.write(case_to_yaml(case).encode("utf-8"))
    return len(cases)


def _inside(root: Path, relative: str, source: Path) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise InputError(f"file path {relative!r} escapes the evalset", where=Location(source))
    return target
