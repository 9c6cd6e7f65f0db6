"""Messages as the widget and the agent workspace receive them (JSON frames)."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from mostrador.channels.webchat import adapter as chat_adapter
from mostrador.conversations.models import Attachment, Message

_FILE_SALT = "webchat.attachment"


def author_of(message: Message) -> str:
    if message.direction == Message.Direction.NOTE:
        return "note"
    if message.direction == Message.Direction.INBOUND:
        return "visitor"
    if message.author_kind == Message.AuthorKind.AGENT:
        return "agent"
    return "bot" if message.author_kind == Message.AuthorKind.BOT else "system"


def author_name(message: Message) -> str:
    author = author_of(message)
    if author in ("agent", "note") and message.author_user_id:
        agent = getattr(message.author_user, "agent", None)
        name = agent.display_name if agent else message.author_user.get_username()
        # The visitor sees the agent's first name only, as people introduce themselves in chat.
        return name if author == "note" else name.split()[0] if name.split() else name
    if author == "bot":
        return _("Virtual assistant")
    if author == "visitor":
        return message.author_customer.name if message.author_customer_id and \
            message.author_customer else ""
    return ""


def attachment_url(attachment: Attachment) -> str:
    signed = signing.dumps([attachment.pk, attachment.message_id], salt=_FILE_SALT,
                           compress=True)
    return reverse("webchat:attachment", args=[signed, attachment.filename or "file"])


def attachment_from(signed: str) -> Attachment | None:
    try:
        attachment_id, message_id = signing.loads(signed, salt=_FILE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Attachment.objects.filter(pk=attachment_id, message_id=message_id).first()


def message_frame(message: Message) -> dict[str, Any]:
    """A message as the widget shows it. Notes never reach a visitor: callers filter them."""
    client_id = (chat_adapter.client_id_of(message.provider_id)
                 if message.direction == Message.Direction.INBOUND
                 and message.channel_kind == "webchat" else "")
    return {
        "id": message.pk,
        "client_id": client_id,
        "author": author_of(message),
        "author_name": author_name(message),
        "text": message.reply_text or message.text,
        "attachments": [{"name": a.filename, "size": a.size, "content_type": a.content_type,
                         "url": attachment_url(a)} for a in message.attachments.all()],
        "created_at": message.created_at.isoformat(),
    }
