"""Entry point of the ``backtest`` console script."""

from __future__ import annotations

import sys

import click

from agent_backtest.cli.calibrate import calibrate_command
from agent_backtest.cli.cases import cases
from agent_backtest.cli.coverage import coverage_command
from agent_backtest.cli.doctor import doctor_command
from agent_backtest.cli.merge import merge_command
from agent_backtest.cli.promote import promote_command
from agent_backtest.cli.scan import scan_command
from agent_backtest.cli.schema import schema
from agent_backtest.cli.score import score_command
from agent_backtest.cli.traces import traces
from agent_backtest.cli.transfer import export, import_
from agent_backtest.errors import BacktestError


class _Group(click.Group):
    """Turns a ``BacktestError`` into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BacktestError as error:
            click.echo(f"error: {error.one_line()}", err=True)
            sys.exit(error.exit_code)


@click.group(cls=_Group)
@click.version_option(package_name="agent-backtest")
def cli() -> None:
    """Backtest an AI agent on its own production failures before it ships."""


cli.add_command(traces)
cli.add_command(promote_command)
cli.add_command(scan_command)
cli.add_command(score_command)
cli.add_command(cases)
cli.add_command(schema)
cli.add_command(export)
cli.add_command(import_)
cli.add_command(calibrate_command)
cli.add_command(coverage_command)
cli.add_command(merge_command)
cli.add_command(doctor_command)


def main() -> None:
    cli(prog_name="backtest")
