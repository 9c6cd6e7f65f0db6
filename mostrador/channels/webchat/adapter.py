"""The live-chat channel adapter: chat frames in, and replies that the relay pushes out.

A visitor's message arrives over a websocket (or the upload endpoint) as a small JSON object
and becomes an :class:`InboundMessage` here, like a mail does in the e-mail adapter. Sending is
not I/O for this channel: the desk's reply reaches the visitor's open widgets through
``mostrador.realtime`` as soon as it is committed, and waits in the conversation for a widget
that is closed (it gets it with the next ``welcome``). ``send`` gives the reply its provider id
and schedules the e-mail copy for a visitor who left before seeing it.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any, Literal

import pydantic

from mostrador.channels.base import ChannelAdapter, InboundAttachment, InboundMessage, ParseError

if TYPE_CHECKING:
    from mostrador.conversations.models import Inbox, Message

_ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SUBJECT_CHARS = 80


def new_public_key() -> str:
    return "wc_" + secrets.token_urlsafe(9)


class PrechatField(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    name: Literal["name", "email", "topic"]
    required: bool = False


def _default_fields() -> list[PrechatField]:
    return [PrechatField(name="name"), PrechatField(name="email")]


class WebchatConfig(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    public_key: str = pydantic.Field(default_factory=new_public_key,
                                     pattern=r"^[A-Za-z0-9_-]{6,40}$")
    # Sites allowed to embed the chat; empty: any site.
    allowed_origins: list[str] = []
    prechat_fields: list[PrechatField] = pydantic.Field(default_factory=_default_fields)
    topics: list[str] = []
    greeting: dict[str, str] = {}
    color: str = pydantic.Field(default="#1f6feb", pattern=r"^#[0-9a-fA-F]{6}$")
    max_message_chars: int = pydantic.Field(default=4000, ge=1, le=100_000)
    max_attachment_bytes: int = pydantic.Field(default=10 * 1024 * 1024, ge=1,
                                               le=100 * 1024 * 1024)
    visitor_messages_per_minute: int = pydantic.Field(default=30, ge=1)
    ip_messages_per_minute: int = pydantic.Field(default=300, ge=1)
    ip_connections: int = pydantic.Field(default=50, ge=1)

    @pydantic.field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        cleaned = []
        for origin in value:
            origin = origin.strip().rstrip("/").lower()
            if not _ORIGIN_RE.match(origin):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example.com")
            cleaned.append(origin)
        return cleaned

    @pydantic.field_validator("topics")
    @classmethod
    def _check_topics(cls, value: list[str]) -> list[str]:
        return [topic.strip()[:100] for topic in value if topic.strip()]

    def allows_origin(self, origin: str | None) -> bool:
        if not self.allowed_origins:
            return True
        return bool(origin) and origin.rstrip("/").lower() in self.allowed_origins


def config_of(inbox: Inbox) -> WebchatConfig:
    return WebchatConfig.model_validate(inbox.config or {})


def provider_id(sender_id: str, client_id: str) -> str:
    return f"{sender_id}:{client_id}"


def client_id_of(message_provider_id: str) -> str:
    return message_provider_id.partition(":")[2]


def chat_subject(text: str, topic: str = "") -> str:
    if topic:
        return topic[:SUBJECT_CHARS]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= SUBJECT_CHARS else first[:SUBJECT_CHARS - 1] + "…"


def parse_frame(frame: dict[str, Any], *, attachments: list[InboundAttachment] | None = None
                ) -> InboundMessage:
    """A visitor's message (already checked for size and rate by the caller) as the desk's
    channel-neutral inbound message."""
    sender_id = frame.get("sender_id")
    client_id = frame.get("client_id")
    text = frame.get("text")
    if not isinstance(sender_id, str) or not sender_id:
        raise ParseError("a chat message needs its visitor")
    if not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id):
        raise ParseError("a chat message needs a client_id of 1 to 64 letters, digits, - or _")
    if not isinstance(text, str):
        raise ParseError("a chat message's text must be a string")
    text = text.replace("\r\n", "\n").strip()
    if not text and not attachments:
        raise ParseError("a chat message cannot be empty")
    conversation = frame.get("conversation")
    return InboundMessage(
        sender_kind="webchat", sender_id=sender_id, sender_name=str(frame.get("name") or ""),
        provider_id=provider_id(sender_id, client_id),
        subject=chat_subject(text, str(frame.get("topic") or "")), text=text, reply_text=text,
        conversation_number=conversation if isinstance(conversation, int) else None,
        attachments=list(attachments or ()),
        extra={"language": str(frame.get("language") or "")},
    )


class WebchatAdapter(ChannelAdapter):
    kind = "webchat"
    label = "Live chat"
    raw_content_type = "application/json"
    kept_config_keys = ("public_key",)
    Config = WebchatConfig

    def parse_inbound(self, payload: bytes, *, inbox: Inbox | None = None) -> InboundMessage:
        try:
            frame = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ParseError(f"not a JSON chat message: {exc}") from exc
        if not isinstance(frame, dict):
            raise ParseError("a chat message is a JSON object")
        return parse_frame(frame)

    def send(self, message: Message) -> str:
        from mostrador.channels.webchat.tasks import MISSED_REPLY_SECONDS, mail_missed_reply
        from mostrador.core.tasks import enqueue_on_commit

        # The open widgets already have it (the relay pushed it at commit); a visitor who left
        # gets it by e-mail if no widget has shown it in a while.
        enqueue_on_commit(mail_missed_reply, message.pk, delay=MISSED_REPLY_SECONDS)
        return f"webchat-out:{message.pk}"
