"""``python -m agent_backtest``: the ``backtest`` command, even where console scripts are not on PATH."""

from agent_backtest.cli.main import main

main()
