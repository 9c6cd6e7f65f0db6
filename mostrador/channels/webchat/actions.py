"""Writers of the live-chat channel: visitors, their messages, identity, read marks, and the
transcript and magic-link mails.

A visitor's messages enter the desk through the intake every channel uses
(``receive_inbound_many``), so threading, de-duplication by provider id, reopening and the
listeners on ``message.received`` (SLA, triggers, the bot, routing, the real-time relay) work
as for mail. Messages arriving together are written in one transaction: under load, a
web process turns a burst of chat messages into a few statements instead of one commit each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.channels.base import InboundAttachment, ParseError
from mostrador.channels.webchat import adapter as chat_adapter
from mostrador.channels.webchat.models import ChatState, MagicLink, Visitor
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation, Inbox, Message
from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.core.publish import publish_on_commit
from mostrador.core.tasks import enqueue_on_commit
from mostrador.customers.actions import live_customer, resolve_identity
from mostrador.customers.models import Customer, Identity

logger = logging.getLogger(__name__)

VISITOR_SEEN = "webchat.visitor_seen"
MARKS_CHANGED = "webchat.marks_changed"
IDENTIFIED = "webchat.identified"
HUMAN_REQUESTED = "webchat.human_requested"
MAGIC_LINK_HOURS = 24
NAME_MAX_CHARS = 200


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def chat_inbox(public_key: str) -> Inbox:
    """The active chat inbox with this public key, or NotFound."""
    for inbox in Inbox.objects.filter(channel_kind="webchat", active=True,
                                      config__public_key=public_key):
        return inbox
    raise NotFound(_("This chat does not exist or is switched off."), field="inbox")


def do_start_visitor(inbox: Inbox, *, language: str = "", address: str | None = None,
                     user_agent: str = "", page: str = "", sender_id: str = "",
                     customer: Customer | None = None,
                     conversation_id: int | None = None) -> tuple[Visitor, str]:
    """A new visitor and its secret token (returned once; only its digest is stored)."""
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    public_id = "v_" + secrets.token_urlsafe(12)
    visitor = Visitor.objects.create(
        inbox=inbox, public_id=public_id, sender_id=sender_id or public_id,
        token_digest=digest(token), customer=customer, conversation_id=conversation_id,
        language=_language(language), address=address or None, user_agent=user_agent[:300],
        page=page[:1000], created_at=now, last_seen_at=now)
    return visitor, token


def visitor_for_token(inbox: Inbox, token: str | None) -> Visitor | None:
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    return (Visitor.objects.select_related("conversation")
            .filter(inbox=inbox, token_digest=digest(token)).first())


def do_touch_visitor(visitor: Visitor, *, language: str = "", page: str = "") -> None:
    """Note that the visitor is back (a websocket hello)."""
    visitor.last_seen_at = timezone.now()
    fields = ["last_seen_at"]
    if language and _language(language) != visitor.language:
        visitor.language = _language(language)
        fields.append("language")
    if page and page[:1000] != visitor.page:
        visitor.page = page[:1000]
        fields.append("page")
    visitor.save(update_fields=fields)


def _language(value: str) -> str:
    code = (value or "").split("-")[0].lower()
    return code if code in ("es", "en") else ""


# --- messages ---------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Submission:
    """One visitor message on its way in."""

    visitor: Visitor
    client_id: str
    text: str
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    attachments: list[InboundAttachment] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class Outcome:
    """What became of a submission: the stored message (the first copy, for a resend)."""

    client_id: str
    message: Message | None = None
    duplicate: bool = False
    conversation: Conversation | None = None
    new_conversation: bool = False
    error: str = ""
    error_code: str = ""


def check_text(text: Any, config: chat_adapter.WebchatConfig) -> str:
    if not isinstance(text, str):
        raise ValidationFailed(_("A message must be text."), field="text")
    if len(text) > config.max_message_chars:
        raise ValidationFailed(
            _("A message has at most %(max)d characters; this one has %(count)d. Split it in "
              "two.") % {"max": config.max_message_chars, "count": len(text)}, field="text")
    return text


def clean_prechat(fields: Any, config: chat_adapter.WebchatConfig) -> dict[str, str]:
    """The pre-chat answers, checked: name, e-mail address and topic."""
    if not isinstance(fields, dict):
        return {}
    cleaned: dict[str, str] = {}
    name = " ".join(str(fields.get("name") or "").split())
    if name:
        cleaned["name"] = name[:NAME_MAX_CHARS]
    email = str(fields.get("email") or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationFailed(_("Enter an e-mail address like name@example.com."),
                                   field="email") from None
        cleaned["email"] = email
    topic = str(fields.get("topic") or "").strip()
    if topic:
        if config.topics and topic not in config.topics:
            raise ValidationFailed(_("Choose one of the topics offered."), field="topic")
        cleaned["topic"] = topic[:100]
    return cleaned


def check_required_prechat(visitor: Visitor, fields: dict[str, str],
                           config: chat_adapter.WebchatConfig) -> None:
    have = {"name": fields.get("name") or visitor.name, "email": fields.get("email") or
            visitor.email, "topic": fields.get("topic") or visitor.topic}
    for field in config.prechat_fields:
        if field.required and not have[field.name]:
            raise ValidationFailed(_("Please fill in the required fields before you write."),
                                   field=field.name)


def receive_visitor_messages(submissions: Sequence[Submission]) -> list[Outcome]:
    """Store visitors' messages (any inboxes, in order); one transaction per inbox.

    When another process stored one of them a moment ago (the same message resent to the
    other server after a network drop), the unique provider id stops the batch; it is then
    written one message at a time, the copy answered with the first message."""
    by_inbox: dict[int, list[int]] = defaultdict(list)
    for index, submission in enumerate(submissions):
        by_inbox[submission.visitor.inbox_id].append(index)
    outcomes: list[Outcome | None] = [None] * len(submissions)
    for indexes in by_inbox.values():
        group = [submissions[i] for i in indexes]
        try:
            results = _receive_group(group)
        except IntegrityError:
            results = []
            for submission in group:
                try:
                    results.extend(_receive_group([submission]))
                except IntegrityError:
                    results.append(_duplicate_outcome(submission))
        for index, outcome in zip(indexes, results, strict=True):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


@transaction.atomic
def _receive_group(group: list[Submission]) -> list[Outcome]:
    inbox = group[0].visitor.inbox
    config = chat_adapter.config_of(inbox)
    outcomes: list[Outcome | None] = [None] * len(group)
    waiting = list(range(len(group)))
    moved: dict[str, int] = {}
    while waiting:
        # A person's second message must join the conversation their first one opens: when
        # they have none yet, their later messages wait for the next round.
        this_round, later, opening = [], [], set()
        for position in waiting:
            visitor = group[position].visitor
            if visitor.conversation_id is None and visitor.sender_id in opening:
                later.append(position)
            else:
                this_round.append(position)
                if visitor.conversation_id is None:
                    opening.add(visitor.sender_id)
        _receive_round(inbox, config, group, this_round, outcomes, moved)
        waiting = later
    for sender_id, conversation_id in moved.items():
        # Every device of this person follows the chat to its (new or follow-up) conversation.
        Visitor.objects.filter(inbox=inbox, sender_id=sender_id).update(
            conversation_id=conversation_id)
        ChatState.objects.get_or_create(conversation_id=conversation_id)
    return [outcome for outcome in outcomes if outcome is not None]


def _receive_round(inbox: Inbox, config: chat_adapter.WebchatConfig, group: list[Submission],
                   round_positions: list[int], outcomes: list[Outcome | None],
                   moved: dict[str, int]) -> None:
    items = []
    positions = []
    for position in round_positions:
        submission = group[position]
        visitor = submission.visitor
        try:
            fields = clean_prechat(submission.fields, config)
            if visitor.conversation_id is None:
                check_required_prechat(visitor, fields, config)
            if fields:
                _apply_fields(visitor, fields)
            if visitor.customer_id is None:
                _attach_customer(visitor)
            inbound = chat_adapter.parse_frame(
                {"sender_id": visitor.sender_id, "client_id": submission.client_id,
                 "text": submission.text, "name": visitor.name,
                 "topic": fields.get("topic", "") if visitor.conversation_id is None else "",
                 "conversation": visitor.conversation_id, "language": visitor.language},
                attachments=submission.attachments)
        except ValidationFailed as exc:
            outcomes[position] = Outcome(submission.client_id, error=str(exc.message),
                                         error_code="invalid")
            continue
        except ParseError as exc:
            outcomes[position] = Outcome(submission.client_id, error=str(exc),
                                         error_code="bad_frame")
            continue
        items.append((inbound, None))
        positions.append(position)
    results = conversation_actions.receive_inbound_many(inbox, items) if items else []
    for position, result in zip(positions, results, strict=True):
        submission = group[position]
        if result.outcome == "duplicate":
            outcomes[position] = _duplicate_outcome(submission)
            continue
        conversation = result.conversation
        changed = conversation is not None and \
            conversation.pk != submission.visitor.conversation_id
        outcomes[position] = Outcome(submission.client_id, message=result.message,
                                     conversation=conversation, new_conversation=changed)
        if changed:
            moved[submission.visitor.sender_id] = conversation.pk
            # The same person's other submissions in this batch share this visitor row or
            # another row of theirs: all of them move.
            for other in group:
                if other.visitor.sender_id == submission.visitor.sender_id:
                    other.visitor.conversation = conversation


def _duplicate_outcome(submission: Submission) -> Outcome:
    provider_id = chat_adapter.provider_id(submission.visitor.sender_id, submission.client_id)
    message = (Message.objects.select_related("conversation")
               .filter(inbox_id=submission.visitor.inbox_id, provider_id=provider_id).first())
    if message is None:
        return Outcome(submission.client_id, error="not stored; send it again",
                       error_code="retry")
    return Outcome(submission.client_id, message=message, duplicate=True,
                   conversation=message.conversation)


def _apply_fields(visitor: Visitor, fields: dict[str, str]) -> None:
    changed = []
    for name in ("name", "topic"):
        if fields.get(name) and getattr(visitor, name) != fields[name]:
            setattr(visitor, name, fields[name])
            changed.append(name)
    if changed:
        visitor.save(update_fields=changed)
    if fields.get("email") and fields["email"] != visitor.email:
        _link_email(visitor, fields["email"])


def _attach_customer(visitor: Visitor) -> None:
    """The visitor's customer: the one its chat identity names, made on the first message."""
    customer, created = resolve_identity(Identity.Kind.WEBCHAT, visitor.sender_id,
                                         name=visitor.name)
    if created and visitor.language and not customer.language:
        customer.language = visitor.language
        customer.save(update_fields=["language", "updated_at"])
    visitor.customer = customer
    visitor.save(update_fields=["customer"])


def _link_email(visitor: Visitor, email: str) -> None:
    """Tie the visitor to the customer who owns ``email`` (unverified until a magic link or
    transcript mail is opened), or give the visitor's customer that address."""
    visitor.email = email
    visitor.email_verified = False
    visitor.save(update_fields=["email", "email_verified"])
    owner = (Identity.objects.select_related("customer")
             .filter(kind=Identity.Kind.EMAIL, external_id=email).first())
    chat_identity = (Identity.objects.select_related("customer")
                     .filter(kind=Identity.Kind.WEBCHAT, external_id=visitor.sender_id).first())
    if owner is not None:
        customer = live_customer(owner.customer)
        if chat_identity is None:
            Identity.objects.create(customer=customer, kind=Identity.Kind.WEBCHAT,
                                    external_id=visitor.sender_id)
        elif chat_identity.customer_id != customer.pk:
            _move_chat_to(visitor, chat_identity, customer)
        Visitor.objects.filter(sender_id=visitor.sender_id).update(customer=customer)
        visitor.customer = customer
    else:
        if chat_identity is None:
            _attach_customer(visitor)
            chat_identity = Identity.objects.get(kind=Identity.Kind.WEBCHAT,
                                                 external_id=visitor.sender_id)
        Identity.objects.create(customer=live_customer(chat_identity.customer),
                                kind=Identity.Kind.EMAIL, external_id=email)
    if visitor.conversation_id:
        conversation_actions.record_event(visitor.conversation_id, IDENTIFIED,
                                          at=timezone.now(), after={"email": email,
                                                                    "verified": False})


def _move_chat_to(visitor: Visitor, chat_identity: Identity, customer: Customer) -> None:
    """An anonymous chat customer (only this chat identity, nothing else) joins the customer
    who owns the address the visitor gave; a known customer is never folded into another."""
    from mostrador.customers.actions import do_merge_customers

    anonymous = chat_identity.customer
    others = anonymous.identities.exclude(pk=chat_identity.pk).exists()
    if not others and not anonymous.merged_into_id:
        do_merge_customers(anonymous, customer)


def do_identify(visitor: Visitor, *, name: str = "", email: str = "") -> Visitor:
    config = chat_adapter.config_of(visitor.inbox)
    fields = clean_prechat({"name": name, "email": email}, config)
    with transaction.atomic():
        if fields:
            _apply_fields(visitor, fields)
    return visitor


def messages_for_visitor(visitor: Visitor, *, after: int | None = None,
                         limit: int = 200) -> list[Message]:
    """What the visitor's widget shows: the conversation's messages to and from the customer
    (never notes), oldest first; those after ``after`` when given."""
    if visitor.conversation_id is None:
        return []
    query = (Message.objects.filter(conversation_id=visitor.conversation_id)
             .filter(Q(direction=Message.Direction.INBOUND)
                     | Q(direction=Message.Direction.OUTBOUND))
             .select_related("author_user__agent").prefetch_related("attachments"))
    if after:
        query = query.filter(pk__gt=after)
    rows = list(query.order_by("-created_at", "-id")[:limit])
    rows.reverse()
    return rows


# --- read marks -------------------------------------------------------------------------------


def do_mark_visitor_progress(visitor: Visitor, *, received: int | None = None,
                             read: int | None = None) -> ChatState | None:
    """The visitor's widget has received (and shown) or read the desk's messages up to an id.
    Marks only move forward; an id beyond the conversation's messages is capped."""
    return _advance(visitor.conversation_id, received=received, read=read, desk_read=None)


def do_mark_desk_read(conversation_id: int, up_to: int) -> ChatState | None:
    """An agent has read the visitor's messages up to ``up_to``."""
    return _advance(conversation_id, received=None, read=None, desk_read=up_to)


def _advance(conversation_id: int | None, *, received: int | None, read: int | None,
             desk_read: int | None) -> ChatState | None:
    if conversation_id is None:
        return None
    last = (Message.objects.filter(conversation_id=conversation_id)
            .order_by("-id").values_list("id", flat=True).first()) or 0
    with transaction.atomic():
        state, _created = ChatState.objects.select_for_update().get_or_create(
            conversation_id=conversation_id)
        changed = []
        for field, value in (("visitor_received_up_to", received),
                             ("visitor_read_up_to", read), ("desk_read_up_to", desk_read)):
            if isinstance(value, int) and value > 0:
                value = min(value, last)
                if value > getattr(state, field):
                    setattr(state, field, value)
                    changed.append(field)
        if "visitor_read_up_to" in changed and state.visitor_read_up_to > \
                state.visitor_received_up_to:
            state.visitor_received_up_to = state.visitor_read_up_to
            changed.append("visitor_received_up_to")
        if changed:
            state.save(update_fields=sorted(set(changed)))
            publish_on_commit(MARKS_CHANGED, marks_payload(state))
    return state


def marks_payload(state: ChatState) -> dict[str, int]:
    return {"conversation_id": state.conversation_id,
            "visitor_received_up_to": state.visitor_received_up_to,
            "visitor_read_up_to": state.visitor_read_up_to,
            "desk_read_up_to": state.desk_read_up_to}


def marks_for(conversation_id: int | None) -> dict[str, int]:
    state = (ChatState.objects.filter(conversation_id=conversation_id).first()
             if conversation_id else None)
    if state is None:
        return {"conversation_id": conversation_id or 0, "visitor_received_up_to": 0,
                "visitor_read_up_to": 0, "desk_read_up_to": 0}
    return marks_payload(state)


# --- a person, please ---------------------------------------------------------------------------


def do_request_human(visitor: Visitor) -> Conversation | None:
    """The visitor asks for a person: a conversation the bot answered (pending) opens again
    and goes to routing; the request is on the timeline either way."""
    if visitor.conversation_id is None:
        return None
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=visitor.conversation_id)
        now = timezone.now()
        conversation_actions.record_event(conversation, HUMAN_REQUESTED, at=now,
                                          customer=visitor.customer)
        if conversation.status == Conversation.Status.PENDING and conversation.assignee_id \
                is None:
            conversation_actions.do_change_status(conversation, Conversation.Status.OPEN,
                                                  acting_user=None)
            if conversation.waiting_since is None:
                Conversation.objects.filter(pk=conversation.pk).update(waiting_since=now)
    return conversation


# --- mail: transcript and magic link ------------------------------------------------------------


def do_send_transcript(visitor: Visitor, *, email: str = "") -> str:
    """Queue the conversation so far to ``email`` (or the address the visitor gave)."""
    from mostrador.channels.webchat.tasks import send_transcript

    address = _address_for_mail(visitor, email)
    if visitor.conversation_id is None:
        raise ValidationFailed(_("There is nothing to send yet: write your first message."),
                               field="conversation")
    enqueue_on_commit(send_transcript, visitor.pk, address)
    return address


def do_send_magic_link(visitor: Visitor, *, email: str = "") -> str:
    """Mail a one-time link (valid ``MAGIC_LINK_HOURS``) that continues this chat elsewhere."""
    from mostrador.channels.webchat.tasks import send_magic_link

    address = _address_for_mail(visitor, email)
    token = new_magic_link(visitor, address)
    enqueue_on_commit(send_magic_link, visitor.pk, address, token)
    return address


def new_magic_link(visitor: Visitor, address: str) -> str:
    """A one-time link token for ``visitor``, mailed to ``address`` by the caller."""
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    MagicLink.objects.create(visitor=visitor, digest=digest(token), email=address,
                             created_at=now,
                             expires_at=now + dt.timedelta(hours=MAGIC_LINK_HOURS))
    return token


def _address_for_mail(visitor: Visitor, email: str) -> str:
    config = chat_adapter.config_of(visitor.inbox)
    address = clean_prechat({"email": email}, config).get("email") or visitor.email
    if not address:
        raise ValidationFailed(_("Enter your e-mail address."), field="email")
    if address != visitor.email:
        with transaction.atomic():
            _link_email(visitor, address)
    return address


@transaction.atomic
def do_continue_with_link(inbox: Inbox, token: str, *, language: str = "",
                          address: str | None = None, user_agent: str = ""
                          ) -> tuple[Visitor, str]:
    """Open the magic link: a new device joins the visitor's conversation, and the address the
    link was sent to is proven."""
    link = (MagicLink.objects.select_for_update().select_related("visitor")
            .filter(digest=digest(token or ""), visitor__inbox=inbox).first())
    now = timezone.now()
    if link is None or link.used_at is not None or link.expires_at < now:
        raise ValidationFailed(_("This link has expired or was already used. Ask for a new "
                                 "one from the chat."), field="link")
    link.used_at = now
    link.save(update_fields=["used_at"])
    origin = link.visitor
    Visitor.objects.filter(sender_id=origin.sender_id, email=link.email).update(
        email_verified=True)
    Identity.objects.filter(kind=Identity.Kind.EMAIL, external_id=link.email).update(
        verified=True)
    visitor, secret = do_start_visitor(
        inbox, language=language or origin.language, address=address, user_agent=user_agent,
        sender_id=origin.sender_id, customer=origin.customer,
        conversation_id=origin.conversation_id)
    Visitor.objects.filter(pk=visitor.pk).update(name=origin.name, email=link.email,
                                                 email_verified=True, topic=origin.topic)
    visitor.refresh_from_db()
    return visitor, secret
