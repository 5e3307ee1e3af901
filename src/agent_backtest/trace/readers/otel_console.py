"""Placeholder: the otel_console reader is being written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from agent_backtest.trace.raw import ReadItem
from agent_backtest.trace.source import FileSource

if TYPE_CHECKING:
    from agent_backtest.trace.registry import Head

NAME = "otel_console"
DESCRIPTION = "otel_console (not yet implemented)"


def sniff(head: Head) -> bool:
    return False


def read(source: FileSource) -> Iterator[ReadItem]:
    raise source.fail("the otel_console reader is not implemented yet")
