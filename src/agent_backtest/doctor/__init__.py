"""``backtest doctor``: is this project ready to run ``pytest --agent-evals``?

Each check returns ``CheckResult``s (name, status, detail, fix); ``run_checks``
yields them in order. The CLI is a thin printer over it.
"""

from __future__ import annotations

from agent_backtest.doctor.result import CheckResult, Status, counts, failed
from agent_backtest.doctor.run import DoctorOptions, run_checks

__all__ = ["CheckResult", "DoctorOptions", "Status", "counts", "failed", "run_checks"]
