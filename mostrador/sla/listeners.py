"""After-commit listener: once per committed transaction, the conversations it changed get their
SLA targets re-synced (in one batch), and a customer who wrote outside opening hours is told
when a person will answer."""

from __future__ import annotations

import logging
from typing import Any

from mostrador.core.publish import subscribe_batch

logger = logging.getLogger(__name__)
# Timeline kinds that cannot change a conversation's SLA (its own events among them).
IGNORED_PREFIXES = ("sla.", "note.", "message.sent", "message.failed", "message.bounced",
                    "subject.", "tags.", "fields.")
CUSTOMER_WROTE = ("conversation.created", "message.received")


def on_commit_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    changed: dict[int, None] = {}
    customer_wrote: dict[int, None] = {}
    for kind, payload in batch:
        conversation_id = payload.get("conversation_id")
        if not conversation_id or kind.startswith(IGNORED_PREFIXES):
            continue
        changed[conversation_id] = None
        if kind in CUSTOMER_WROTE:
            customer_wrote[conversation_id] = None
    if not changed:
        return
    from mostrador.sla.actions import sync_many

    sync_many(list(changed))
    if customer_wrote:
        from mostrador.sla.after_hours import reply_after_hours_many

        reply_after_hours_many(list(customer_wrote))


def connect() -> None:
    subscribe_batch(on_commit_batch)
