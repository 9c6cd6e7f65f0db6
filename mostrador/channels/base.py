"""The adapter contract every channel implements.

A channel is a folder under ``mostrador/channels/<kind>/``. Its ``AppConfig.ready()`` registers
one :class:`ChannelAdapter` subclass with :mod:`mostrador.channels.registry`. The core only ever
talks to channels through this contract:

* ``parse_inbound(payload)`` is pure: bytes (or a decoded provider payload) in, an
  :class:`InboundMessage` out, or :class:`ParseError` when the payload cannot be understood. It
  never touches the database or the network, so a quarantined payload can be re-parsed at any
  time after a fix.
* ``send(message)`` is the only I/O a channel does for outbound messages. It raises
  :class:`DeliveryError` with ``permanent`` telling the caller whether to retry.
* ``Config`` is a pydantic model that validates an inbox's ``config`` JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic

if TYPE_CHECKING:
    from mostrador.conversations.models import Inbox, Message


class ChannelError(Exception):
    """Base class of every error a channel adapter raises."""


class ParseError(ChannelError):
    """An inbound payload could not be understood; it stays quarantined with this message."""


class DeliveryError(ChannelError):
    """Sending failed. ``permanent`` is False when trying again later may succeed."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class ConfigError(ChannelError):
    """An inbox's configuration does not validate against the adapter's ``Config``."""


@dataclasses.dataclass(slots=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes
    # Content-ID without angle brackets for inline images referenced as cid: in the HTML.
    content_id: str = ""
    inline: bool = False


@dataclasses.dataclass(slots=True)
class SkippedAttachment:
    """A part kept out of the message (too large); the raw payload still holds it."""

    filename: str
    content_type: str
    size: int
    reason: str


@dataclasses.dataclass(slots=True)
class InboundMessage:
    """A channel-neutral inbound message, as ``parse_inbound`` returns it.

    ``noise`` is set for machine-generated messages (auto-replies, bulk mail, bounces, our own
    mail coming back): they are recorded but never open conversations nor trigger replies.
    ``bounce_of`` names the provider id of our outbound message that a delivery-status
    notification reports on.
    """

    # Who sent it: identity kind (``email``, ``phone``, ``webchat``, …) and external id.
    sender_kind: str
    sender_id: str
    sender_name: str = ""
    # Provider's id for this message; unique per inbox, used for dedupe and threading.
    provider_id: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""  # already sanitised by the adapter
    # What the customer wrote this time: quotes and signature folded away.
    reply_text: str = ""
    # Thread hints: provider ids this message answers (most recent last) and a conversation
    # number found in a reference token such as ``[#1234]``.
    references: list[str] = dataclasses.field(default_factory=list)
    conversation_number: int | None = None
    sent_at: dt.datetime | None = None
    attachments: list[InboundAttachment] = dataclasses.field(default_factory=list)
    skipped_attachments: list[SkippedAttachment] = dataclasses.field(default_factory=list)
    noise: str = ""  # why the message is machine noise, empty for a person's message
    bounce_of: str = ""
    bounce_reason: str = ""
    # Other addresses involved (To/Cc), kept for display and for a reply-all.
    recipients: list[str] = dataclasses.field(default_factory=list)
    cc: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


class ChannelAdapter:
    """Base class of channel adapters. Subclasses set ``kind`` and override the hooks."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # Media type of the raw payloads this channel stores (shown when an admin downloads one).
    raw_content_type: ClassVar[str] = "application/octet-stream"
    # Config keys an inbox keeps when an update leaves them out (values the channel generated).
    kept_config_keys: ClassVar[tuple[str, ...]] = ()

    class Config(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")

    def validate_config(self, data: dict[str, Any]) -> pydantic.BaseModel:
        try:
            return self.Config.model_validate(data or {})
        except pydantic.ValidationError as exc:
            raise ConfigError(str(exc)) from exc

    def parse_inbound(self, payload: bytes, *, inbox: Inbox | None = None) -> InboundMessage:
        raise NotImplementedError

    def route_inbound(self, inbound: InboundMessage) -> Inbox | None:
        """The inbox a payload that arrived without one belongs to (by its recipients)."""
        return None

    def new_provider_id(self, message: Message) -> str:
        """The provider id an outbound message will carry, when the channel chooses it."""
        return ""

    def send(self, message: Message) -> str:
        """Deliver an outbound message; return the provider id it was sent under."""
        raise NotImplementedError

    def start_embedded(self) -> Callable[[], None] | None:
        """Start this channel's listeners inside the server process (embedded mode), e.g. the
        SMTP receiver; return a function that stops them, or None when there is nothing."""
        return None

    def check_outbound(self, message: Message) -> str | None:
        """The shared loop guard: why ``message`` must never go out, or None when it may."""
        if message.direction != message.Direction.OUTBOUND:
            return "only outbound messages are delivered (notes never leave the desk)"
        if message.conversation.inbox.channel_kind != self.kind:
            return f"conversation belongs to a {message.conversation.inbox.channel_kind} inbox"
        return None
