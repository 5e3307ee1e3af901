"""Examples that ship with agent-backtest; ``support_agent`` is the one the README runs."""
