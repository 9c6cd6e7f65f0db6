"""The e-mail channel adapter: parse inbound RFC 5322 mail, send replies over SMTP."""

from __future__ import annotations

import email.utils
import re
import time
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING

import pydantic
from django.conf import settings
from django.db.models import Q

from mostrador.channels.base import ChannelAdapter, DeliveryError, InboundMessage
from mostrador.channels.email import ids
from mostrador.core.mail import MailTransportError, send_mail_bytes

if TYPE_CHECKING:
    from collections.abc import Callable

    from mostrador.conversations.models import Inbox, Message

_ADDRESS_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _address(value: str) -> str:
    value = value.strip().lower()
    if not _ADDRESS_RE.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class ImapSettings(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    host: str
    port: int = 993
    # "ssl" (implicit TLS, port 993), "starttls" or "plain" (only for local test servers).
    security: str = pydantic.Field(default="ssl", pattern="^(ssl|starttls|plain)$")
    username: str
    password: str
    folder: str = "INBOX"


class EmailConfig(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    # The support address customers write to; replies go out from it.
    address: str
    aliases: list[str] = []
    from_name: str = ""
    # Mail to an address no inbox claims lands here (one inbox per desk at most).
    catch_all: bool = False
    # Outbound relay for this mailbox (smtp://user:pass@host:587?starttls=1); empty: the desk's
    # default relay, or the local outbox when none is set.
    smtp_url: str = ""
    imap: ImapSettings | None = None

    @pydantic.field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        return _address(value)

    @pydantic.field_validator("aliases")
    @classmethod
    def _check_aliases(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset([self.address, *self.aliases])


class EmailAdapter(ChannelAdapter):
    kind = "email"
    label = "E-mail"
    raw_content_type = "message/rfc822"
    Config = EmailConfig

    def config_of(self, inbox: Inbox) -> EmailConfig:
        return EmailConfig.model_validate(inbox.config or {})

    def parse_inbound(self, payload: bytes, *, inbox: Inbox | None = None) -> InboundMessage:
        from mostrador.channels.email.parser import parse_email

        return parse_email(payload, own_addresses=desk_addresses(),
                           max_attachment_bytes=settings.MOSTRADOR["MAX_ATTACHMENT_BYTES"])

    def route_inbound(self, inbound: InboundMessage) -> Inbox | None:
        return inbox_for_addresses([*inbound.recipients, *inbound.cc])

    def new_provider_id(self, message: Message) -> str:
        domain = settings.MOSTRADOR["MAIL_DOMAIN"]
        return ids.make_message_id(message.conversation.number, message.pk, domain)

    def build(self, message: Message) -> EmailMessage:
        """The MIME message for an outbound reply, threaded so Gmail and Outlook keep it with
        the customer's mail: our Message-ID, In-Reply-To their last message, References the
        thread, and the conversation's token in the subject."""
        conversation = message.conversation
        config = self.config_of(conversation.inbox)
        mime = EmailMessage(policy=SMTP)
        mime["From"] = email.utils.formataddr((config.from_name or conversation.inbox.name,
                                               config.address))
        mime["To"] = ", ".join(message.meta.get("to") or [])
        if message.meta.get("cc"):
            mime["Cc"] = ", ".join(message.meta["cc"])
        mime["Subject"] = reply_subject(conversation.subject, conversation.number)
        mime["Message-ID"] = message.provider_id or self.new_provider_id(message)
        mime["Date"] = email.utils.format_datetime(message.created_at)
        thread = _thread_ids(message)
        if thread:
            mime["In-Reply-To"] = thread[-1]
            mime["References"] = " ".join(thread[-20:])
        mime["X-Mostrador-Conversation"] = str(conversation.number)
        if message.author_kind in ("bot", "system"):
            # RFC 3834: machines answering machines must be able to tell, and stay quiet.
            mime["Auto-Submitted"] = "auto-replied"
            mime["X-Auto-Response-Suppress"] = "All"
        mime.set_content(message.text)
        if message.html:
            mime.add_alternative(message.html, subtype="html")
        for attachment in message.attachments.all():
            with attachment.file.open("rb") as handle:
                data = handle.read()
            maintype, _, subtype = attachment.content_type.partition("/")
            mime.add_attachment(data, maintype=maintype or "application",
                                subtype=subtype or "octet-stream", filename=attachment.filename)
        return mime

    def send(self, message: Message) -> str:
        config = self.config_of(message.conversation.inbox)
        mime = self.build(message)
        recipients = [*(message.meta.get("to") or []), *(message.meta.get("cc") or [])]
        try:
            send_mail_bytes(
                mime.as_bytes(), envelope_from=config.address, recipients=recipients,
                relay_url=config.smtp_url or settings.MOSTRADOR["SMTP_URL"],
                outbox_dir=settings.MOSTRADOR["OUTBOX_DIR"],
            )
        except MailTransportError as exc:
            raise DeliveryError(exc.reason, permanent=exc.permanent) from exc
        return str(mime["Message-ID"])

    def start_embedded(self) -> Callable[[], None]:
        """Start the SMTP receiver on SMTPD_HOST:SMTPD_PORT inside this process; return its
        stop function. Raises ``OSError`` when the port cannot be bound (already in use)."""
        from mostrador.channels.email.smtpd import start_receiver

        return start_receiver(settings.MOSTRADOR["SMTPD_HOST"], settings.MOSTRADOR["SMTPD_PORT"])


def reply_subject(subject: str, number: int) -> str:
    subject = (subject or "").strip() or f"#{number}"
    if not re.match(r"^(re|aw|sv|rv|r)\s*:", subject, re.IGNORECASE):
        subject = f"Re: {subject}"
    if ids.conversation_number_from_subject(subject) != number:
        subject = f"{subject} {ids.subject_token(number)}"
    return subject


def _thread_ids(message: Message) -> list[str]:
    from mostrador.conversations.models import Message as MessageModel

    rows = (MessageModel.objects.filter(conversation_id=message.conversation_id,
                                        created_at__lte=message.created_at)
            .exclude(pk=message.pk).exclude(provider_id="")
            .filter(Q(direction=MessageModel.Direction.INBOUND, automatic=False)
                    | Q(direction=MessageModel.Direction.OUTBOUND))
            .order_by("created_at", "id").values_list("provider_id", flat=True))
    return list(rows)[-20:]


def inbox_for_addresses(addresses: list[str]) -> Inbox | None:
    """The e-mail inbox that owns one of ``addresses`` (envelope recipients or To/Cc), else the
    catch-all inbox, else None."""
    wanted = {a.strip().lower() for a in addresses if a}
    catch_all = None
    for inbox, config in _email_inboxes():
        if config.addresses & wanted:
            return inbox
        if config.catch_all and catch_all is None:
            catch_all = inbox
    return catch_all


_inbox_cache: tuple[float, list[tuple[Inbox, EmailConfig]]] = (0.0, [])
INBOX_CACHE_SECONDS = 5.0


def desk_addresses() -> frozenset[str]:
    """Every address of every e-mail inbox: mail from any of them is our own coming back."""
    return frozenset().union(*(config.addresses for _, config in _email_inboxes()))


def _email_inboxes() -> list[tuple[Inbox, EmailConfig]]:
    """Active e-mail inboxes with their parsed config, re-read at most every few seconds: every
    inbound message asks, and an inbox added a moment ago can wait that long."""
    global _inbox_cache
    loaded_at, inboxes = _inbox_cache
    if time.monotonic() - loaded_at < INBOX_CACHE_SECONDS:
        return inboxes
    from mostrador.conversations.models import Inbox

    inboxes = []
    for inbox in Inbox.objects.filter(channel_kind="email", active=True).order_by("id"):
        try:
            inboxes.append((inbox, EmailConfig.model_validate(inbox.config or {})))
        except pydantic.ValidationError:
            continue
    _inbox_cache = (time.monotonic(), inboxes)
    return inboxes


def forget_inboxes() -> None:
    """Drop the cached inbox list (after inboxes change)."""
    global _inbox_cache
    _inbox_cache = (0.0, [])
