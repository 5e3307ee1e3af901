"""The action's evals step runs pytest on the plugin tests' recorded project: same fixture."""

from __future__ import annotations

from tests.pytest_plugin.conftest import recorded_project

__all__ = ["recorded_project"]
