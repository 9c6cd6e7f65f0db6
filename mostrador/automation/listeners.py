"""After-commit listeners of automation: triggers, then outbound webhooks."""

from __future__ import annotations

from typing import Any

from mostrador.core.publish import subscribe_batch


def run_triggers(batch: list[tuple[str, dict[str, Any]]]) -> None:
    from mostrador.automation.engine import on_commit_batch

    on_commit_batch(batch)


def queue_webhooks(batch: list[tuple[str, dict[str, Any]]]) -> None:
    from mostrador.automation.webhooks import enqueue_for_batch

    enqueue_for_batch(batch)


def connect() -> None:
    subscribe_batch(run_triggers)
    subscribe_batch(queue_webhooks)
