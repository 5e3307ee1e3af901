"""Pytest fixtures over the shared test servers (import them into a conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.openai_server import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh OpenAI-compatible server on 127.0.0.1 for one test; stops afterwards."""
    with OpenAIServer() as server:
        yield server
