"""The ``backtest`` command: a thin click adapter over the core."""
