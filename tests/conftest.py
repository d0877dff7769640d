"""Shared fixtures: a real DuckDB file per test, and small event builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from workmeter.app import Workmeter

# CI runs property tests derandomized (same examples every run, so a red CI is reproducible);
# locally they explore new examples each run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def wm(tmp_path: Path) -> Iterator[Workmeter]:
    app = Workmeter.open(tmp_path / "test.duckdb")
    try:
        yield app
    finally:
        app.close()


def usage_event(id_: str, *, subject: str = "cus_1", time: str = "2026-10-01T12:00:00Z",
                provider: str = "anthropic", model: str = "claude-sonnet-4-5-20250929",
                usage: dict[str, Any] | None = None, source: str = "test", **data: Any) -> dict[str, Any]:
    """A valid llm.usage CloudEvent (Anthropic format unless told otherwise)."""
    body: dict[str, Any] = {"provider": provider, "model": model,
                            "usage": usage if usage is not None else {"input_tokens": 100, "output_tokens": 20}}
    body.update(data)
    return {"specversion": "1.0", "id": id_, "source": source, "type": "llm.usage", "subject": subject,
            "time": time, "data": body}
