"""Shared pytest set-up: every test gets its own verdict cache, never the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_verdict_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point MCREF_CACHE_DIR at a fresh folder so no test reads or writes ~/.cache/mcref."""
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path_factory.mktemp("verdict-cache")))
