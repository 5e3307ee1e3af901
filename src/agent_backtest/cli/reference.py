"""``docs/cli.md`` generated from the click commands themselves, so it cannot drift.

``python -m agent_backtest.cli.reference > docs/cli.md`` rewrites it; a test
fails when the committed page differs from what the commands say today.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

HEADER = """# CLI reference

Generated from the commands' own help by `python -m agent_backtest.cli.reference > docs/cli.md`;
a test fails when this page and the code disagree. `python -m agent_backtest` is the same
program as `backtest`.
"""


def _commands(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            sub = command.commands[name]
            if not sub.hidden:
                yield from _commands(sub, [*path, name])


def _help_text(command: click.Command, path: list[str]) -> str:
    # A fixed width keeps the page identical on every terminal.
    context = click.Context(
        command, info_name=" ".join(path), terminal_width=100, max_content_width=100
    )
    return command.get_help(context)


def render_reference(root: click.Command, prog: str = "backtest") -> str:
    sections = [HEADER]
    for path, command in _commands(root, [prog]):
        title = " ".join(path)
        summary = command.get_short_help_str(limit=200)
        sections.append(f"## `{title}`\n\n{summary}\n\n```text\n{_help_text(command, path)}\n```\n")
    return "\n".join(sections)


def main() -> None:
    from agent_backtest.cli.main import cli

    click.echo(render_reference(cli), nl=False)


if __name__ == "__main__":
    main()
