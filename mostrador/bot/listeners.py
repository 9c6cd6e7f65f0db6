"""After-commit listener: a new conversation on an inbox whose bot is on gets the bot's answer
before routing sees it (this app's listener runs before routing's)."""

from __future__ import annotations

import logging
from typing import Any

from mostrador.core.publish import subscribe_batch

logger = logging.getLogger(__name__)


def on_commit_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    created = [payload["conversation_id"] for kind, payload in batch
               if kind == "conversation.created" and payload.get("conversation_id")]
    if not created:
        return
    from mostrador.bot.models import BotSettings

    # A desk without a bot pays one small query per new conversation.
    if not BotSettings.objects.filter(enabled=True).exists():
        return
    from mostrador.bot.actions import respond_to_new_conversation

    for conversation_id in created:
        try:
            respond_to_new_conversation(conversation_id)
        except Exception:
            # The conversation is stored and routing still sees it: a person answers.
            logger.exception("the bot failed on conversation %s", conversation_id)


def connect() -> None:
    subscribe_batch(on_commit_batch)
