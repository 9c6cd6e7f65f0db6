from __future__ import annotations

import pytest

from mostrador.core import publish


@pytest.fixture
def kb_events():
    """Every ``knowledge.*`` event published after commit, as (kind, payload)."""
    seen: list[tuple[str, dict]] = []

    def listener(kind: str, payload: dict) -> None:
        if kind.startswith("knowledge."):
            seen.append((kind, payload))

    publish.subscribe("*", listener)
    yield seen
    publish.unsubscribe("*", listener)
