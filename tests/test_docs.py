"""Docs that list what the code has must list all of it."""

from __future__ import annotations

from pathlib import Path

from agent_backtest.trace.registry import readers

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_trace_formats_doc_names_every_reader() -> None:
    text = (DOCS / "trace-formats.md").read_text(encoding="utf-8")
    missing = [name for name in readers() if f"`{name}`" not in text]
    assert missing == []
