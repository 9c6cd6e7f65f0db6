"""After-commit listeners: every change to a conversation re-syncs its SLA targets, and a
customer who writes outside opening hours is told when a person will answer."""

from __future__ import annotations

import logging
from typing import Any

from mostrador.core.publish import subscribe

logger = logging.getLogger(__name__)
# Timeline kinds that cannot change a conversation's SLA (its own events among them).
IGNORED_PREFIXES = ("sla.", "note.", "message.sent", "message.failed", "message.bounced",
                    "subject.", "tags.", "fields.")


def on_conversation_event(kind: str, payload: dict[str, Any]) -> None:
    conversation_id = payload.get("conversation_id")
    if not conversation_id or kind.startswith(IGNORED_PREFIXES):
        return
    from mostrador.sla.actions import do_sync_sla

    do_sync_sla(conversation_id)
    if kind in ("conversation.created", "message.received"):
        from mostrador.sla.after_hours import maybe_reply_after_hours

        maybe_reply_after_hours(conversation_id)


def connect() -> None:
    subscribe("*", on_conversation_event)
