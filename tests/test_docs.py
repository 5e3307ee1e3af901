"""Docs that list what the code has must list all of it."""

from __future__ import annotations

import re
from pathlib import Path

from agent_backtest.trace.registry import readers

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_trace_formats_doc_names_every_reader() -> None:
    text = (DOCS / "trace-formats.md").read_text(encoding="utf-8")
    missing = [name for name in readers() if f"`{name}`" not in text]
    assert missing == []


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # '# comments' in code are not headings
    return {_anchor(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def test_relative_links_in_docs_and_readme_resolve() -> None:
    pages = [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]
    broken: list[str] = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (page.parent / file_part).resolve() if file_part else page
            if not resolved.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_cli_reference_is_generated_from_the_current_commands() -> None:
    from agent_backtest.cli.main import cli
    from agent_backtest.cli.reference import render_reference

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert text == render_reference(cli), (
        "docs/cli.md is stale: python -m agent_backtest.cli.reference > docs/cli.md"
    )
