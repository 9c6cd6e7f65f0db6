"""Writers for conversations, messages and the raw inbound store.

Every state change goes through a ``do_*`` function (or :func:`receive_inbound`) here: it checks,
writes, appends the timeline event and publishes after commit, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.channels.base import InboundAttachment
from mostrador.channels.registry import all_adapters, get_adapter
from mostrador.conversations import events, search
from mostrador.conversations.inbound import (  # noqa: F401 - part of this module's interface
    ReceiveResult,
    process_raw,
    process_raw_many,
    receive_inbound,
    receive_inbound_many,
    store_attachments,
    store_raw,
)
from mostrador.conversations.language import detect_language
from mostrador.conversations.models import (
    Conversation,
    ConversationTag,
    Event,
    Inbox,
    Message,
    Tag,
)
from mostrador.core.errors import Conflict, ValidationFailed
from mostrador.core.publish import publish_on_commit
from mostrador.core.tasks import enqueue_on_commit
from mostrador.customers.actions import live_customer
from mostrador.customers.models import Customer

logger = logging.getLogger(__name__)

Status = Conversation.Status


# --- the timeline ---------------------------------------------------------------------------


def record_event(conversation: Conversation | int, kind: str, *, at: dt.datetime, user=None,
           customer: Customer | None = None, message: Message | None = None,
           before: Any = None, after: Any = None) -> Event:
    conversation_id = conversation if isinstance(conversation, int) else conversation.pk
    event = Event.objects.create(
        conversation_id=conversation_id, kind=kind, actor_user=user, actor_customer=customer,
        message=message, before=before, after=after, at=at,
    )
    publish_on_commit(kind, {"conversation_id": conversation_id, "event_id": event.pk,
                             "message_id": message.pk if message else None})
    return event


_event = record_event


# --- inboxes -------------------------------------------------------------------------------


@transaction.atomic
def do_create_inbox(*, name: str, channel_kind: str, config: dict[str, Any], default_team=None,
                    active: bool = True, acting_user) -> Inbox:
    """Connect a channel account. ``config`` is validated and normalised by the channel's
    adapter (ConfigError names what is wrong)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("An inbox needs a name."), field="name")
    try:
        adapter = get_adapter(channel_kind)
    except LookupError:
        kinds = ", ".join(sorted(a.kind for a in all_adapters()))
        raise ValidationFailed(_("Unknown channel %(kind)s; use one of %(kinds)s.")
                               % {"kind": channel_kind, "kinds": kinds},
                               field="channel_kind") from None
    validated = adapter.validate_config(config)
    inbox = Inbox.objects.create(name=name[:150], channel_kind=channel_kind,
                                 config=validated.model_dump(mode="json"),
                                 default_team=default_team, active=active)
    publish_on_commit("inbox.created", {"inbox_id": inbox.pk,
                                        "acting_user_id": getattr(acting_user, "pk", None)})
    return inbox


# --- conversations created by people (API, agents, forms) ---------------------------------


@transaction.atomic
def do_create_conversation(*, inbox: Inbox, customer: Customer, subject: str, text: str,
                           html: str = "", priority: int | None = None,
                           tags: Iterable[str] = (), acting_user=None,
                           custom_fields: dict[str, Any] | None = None,
                           message_meta: dict[str, Any] | None = None) -> Conversation:
    """Open a conversation with the customer's first message (a request taken by phone, an
    API integration, a form). ``acting_user`` is the agent or integration that recorded it;
    ``message_meta`` goes into the first message's ``meta`` (``{"sender": address}`` makes
    replies go to that address)."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("The first message cannot be empty."), field="text")
    if priority is not None and priority not in Conversation.Priority.values:
        raise ValidationFailed(_("Unknown priority."), field="priority")
    now = timezone.now()
    customer = live_customer(customer)
    conversation = Conversation.objects.create(
        inbox=inbox, customer=customer, subject=subject[:500], status=Status.NEW, status_since=now,
        priority=priority or Conversation.Priority.NORMAL, channel_kind=inbox.channel_kind,
        team=inbox.default_team, custom_fields=custom_fields or {}, created_at=now,
        language=detect_language(f"{subject}\n{text}") or customer.language or "",
        updated_at=now, last_activity_at=now, waiting_since=now, message_count=1,
    )
    _event(conversation, events.CONVERSATION_CREATED, at=now, user=acting_user,
           customer=customer, after={"channel": inbox.channel_kind, "inbox": inbox.pk,
                                     "priority": conversation.priority})
    message = Message.objects.create(
        conversation=conversation, inbox=inbox, direction=Message.Direction.INBOUND,
        author_kind=Message.AuthorKind.CUSTOMER, author_customer=customer,
        channel_kind=inbox.channel_kind, subject=subject[:500], text=text, html=html,
        reply_text=text, created_at=now,
        meta={**({"recorded_by": acting_user.pk} if acting_user else {}),
              **(message_meta or {})},
    )
    search.index_messages([(message.pk, conversation.pk, f"{subject}\n{text}")])
    _event(conversation, events.MESSAGE_RECEIVED, at=now, customer=customer, message=message)
    if tags:
        _add_tags(conversation, tags, acting_user=acting_user, now=now)
    return conversation


# --- replies and notes ----------------------------------------------------------------------


def _reply_target(conversation: Conversation, channel_kind: str) -> str:
    last = (conversation.messages.filter(direction=Message.Direction.INBOUND,
                                         channel_kind=channel_kind, automatic=False)
            .order_by("-created_at", "-id").values_list("meta", flat=True).first())
    if last and last.get("sender"):
        return last["sender"]
    identity = conversation.customer.identities.filter(kind=channel_kind).order_by("id").first()
    if identity is None:
        raise ValidationFailed(
            _("This customer has no %(channel)s address to reply to.")
            % {"channel": channel_kind}, field="channel")
    return identity.external_id


def last_customer_channel(conversation: Conversation) -> str:
    """The channel the customer used last: replies go out on it unless the agent picks another."""
    kind = (conversation.messages.filter(direction=Message.Direction.INBOUND, automatic=False)
            .order_by("-created_at", "-id").values_list("channel_kind", flat=True).first())
    return kind or conversation.channel_kind


@transaction.atomic
def do_send_reply(conversation: Conversation, text: str, *, acting_user, html: str = "",
                  channel_kind: str | None = None, status: str | None = None,
                  files: Iterable[InboundAttachment] = ()) -> Message:
    """Queue a reply to the customer; it is delivered by a task after commit."""
    conversation = _lock(conversation)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("The reply cannot be empty."), field="text")
    _check_open_for_writing(conversation)
    channel_kind = channel_kind or last_customer_channel(conversation)
    try:
        get_adapter(channel_kind)
    except LookupError:
        raise ValidationFailed(_("Unknown channel %(channel)s.") % {"channel": channel_kind},
                               field="channel") from None
    recipient = _reply_target(conversation, channel_kind)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation, inbox=conversation.inbox,
        direction=Message.Direction.OUTBOUND, author_kind=Message.AuthorKind.AGENT,
        author_user=acting_user, channel_kind=channel_kind, subject=conversation.subject,
        text=text, html=html, reply_text=text, delivery_status=Message.Delivery.QUEUED,
        meta={"to": [recipient]}, created_at=now,
    )
    store_attachments(message, files)
    changes: dict[str, Any] = {"last_activity_at": now, "updated_at": now, "waiting_since": None,
                               "message_count": F("message_count") + 1}
    if conversation.first_response_at is None:
        changes["first_response_at"] = now
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    search.index_messages([(message.pk, conversation.pk, text)])
    _event(conversation, events.REPLY_QUEUED, at=now, user=acting_user, message=message,
           after={"channel": channel_kind, "to": recipient})
    new_status = status or (Status.OPEN if conversation.status == Status.NEW else None)
    if new_status and new_status != conversation.status:
        do_change_status(conversation, new_status, acting_user=acting_user)
    from mostrador.conversations.tasks import deliver_message

    enqueue_on_commit(deliver_message, message.pk)
    return message


@transaction.atomic
def do_add_note(conversation: Conversation, text: str, *, acting_user) -> Message:
    """An internal note: visible to the desk only, never sent anywhere.

    ``@name`` tokens mention agents (see :func:`mentioned_agents`): their user ids are kept in
    ``meta["mentions"]`` and each gets a ``note.mentioned`` event to be notified by."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("The note cannot be empty."), field="text")
    _check_open_for_writing(conversation)
    now = timezone.now()
    mentioned = mentioned_agents(text)
    message = Message.objects.create(
        conversation=conversation, inbox_id=conversation.inbox_id,
        direction=Message.Direction.NOTE,
        author_kind=Message.AuthorKind.AGENT if acting_user else Message.AuthorKind.SYSTEM,
        author_user=acting_user, channel_kind="note", text=text, reply_text=text,
        meta={"mentions": mentioned} if mentioned else {}, created_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    search.index_messages([(message.pk, conversation.pk, text)])
    _event(conversation, events.NOTE_ADDED, at=now, user=acting_user, message=message)
    for user_id in mentioned:
        _event(conversation, events.NOTE_MENTIONED, at=now, user=acting_user, message=message,
               after={"user": user_id})
    return message


# ``@ana`` or ``@ana.garcia``, not the middle of an address (ana@example.com); dots and
# hyphens may join parts but do not end a name (``@ana.`` at the end of a sentence).
_MENTION_RE = re.compile(r"(?<![\w@])@(\w+(?:[.\-]\w+)*)")


def mention_handle(user) -> str:
    """What to type after ``@`` to mention ``user``: the local part of the user name."""
    return user.get_username().split("@")[0].lower()


def mentioned_agents(text: str) -> list[int]:
    """User ids of the active agents that ``text`` names with ``@``, sorted.

    A name matches the local part of an agent's user name (``@ana.garcia``) or, when no user
    name matches, the first word of display names (``@ana``, ``@Lucia`` for Lucía), ignoring
    case and accents. A first name several agents share mentions them all.
    """
    tokens = {search.fold(token) for token in _MENTION_RE.findall(text or "")}
    if not tokens:
        return []
    from mostrador.accounts.models import Agent

    by_handle: dict[str, set[int]] = {}
    by_first_name: dict[str, set[int]] = {}
    for agent in Agent.objects.select_related("user").filter(user__is_active=True):
        by_handle.setdefault(search.fold(mention_handle(agent.user)), set()).add(agent.user_id)
        first = (agent.display_name or "").split()
        if first:
            by_first_name.setdefault(search.fold(first[0]), set()).add(agent.user_id)
    found: set[int] = set()
    for token in tokens:
        found |= by_handle.get(token) or by_first_name.get(token) or set()
    return sorted(found)


# --- delivery bookkeeping (called by the delivery task) ------------------------------------


def claim_for_delivery(message_id: int) -> bool:
    """queued → sending; False when another worker has it or it is no longer queued."""
    return bool(Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.QUEUED)
                .update(delivery_status=Message.Delivery.SENDING,
                        delivery_attempts=F("delivery_attempts") + 1))


@transaction.atomic
def do_mark_sent(message: Message, provider_id: str) -> None:
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(
        delivery_status=Message.Delivery.SENT, delivery_error="", sent_at=now,
        provider_id=provider_id or message.provider_id)
    _event(message.conversation_id, events.MESSAGE_SENT, at=now, message=message,
           after={"provider_id": provider_id})


@transaction.atomic
def do_mark_failed(message: Message, reason: str) -> None:
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(delivery_status=Message.Delivery.FAILED,
                                                 delivery_error=reason[:5000])
    _event(message.conversation_id, events.MESSAGE_FAILED, at=now, message=message,
           after={"reason": reason})


def requeue_after_failure(message: Message, reason: str) -> None:
    Message.objects.filter(pk=message.pk, delivery_status=Message.Delivery.SENDING).update(
        delivery_status=Message.Delivery.QUEUED, delivery_error=reason[:5000])


@transaction.atomic
def do_retry_delivery(message: Message, *, acting_user) -> Message:
    """Send a failed reply again (after the address or relay was fixed)."""
    updated = Message.objects.filter(pk=message.pk, delivery_status=Message.Delivery.FAILED,
                                     direction=Message.Direction.OUTBOUND).update(
        delivery_status=Message.Delivery.QUEUED, delivery_attempts=0, delivery_error="")
    if not updated:
        raise Conflict(_("Only a failed reply can be sent again."), field="message")
    _event(message.conversation_id, events.REPLY_QUEUED, at=timezone.now(), user=acting_user,
           message=message, after={"retry": True})
    from mostrador.conversations.tasks import deliver_message

    enqueue_on_commit(deliver_message, message.pk)
    message.refresh_from_db()
    return message


# --- properties of a conversation ---------------------------------------------------------


def _lock(conversation: Conversation) -> Conversation:
    """Re-read the row FOR UPDATE so racing edits apply one after the other."""
    return (Conversation.objects.select_for_update().select_related("inbox", "customer")
            .get(pk=conversation.pk))


def _check_open_for_writing(conversation: Conversation) -> None:
    if conversation.merged_into_id:
        raise Conflict(_("This conversation was merged into #%(number)s; write there.")
                       % {"number": conversation.merged_into_id}, field="conversation")


@transaction.atomic
def do_change_status(conversation: Conversation, status: str, *, acting_user) -> Conversation:
    if status not in Status.values:
        raise ValidationFailed(_("Unknown status %(status)s.") % {"status": status},
                               field="status")
    locked = _lock(conversation)
    _check_open_for_writing(locked)
    before = locked.status
    if before == status:
        return locked
    if before == Status.CLOSED:
        raise Conflict(_("A closed conversation cannot change; a new message opens a "
                         "follow-up."), field="status")
    now = timezone.now()
    locked.status, locked.status_since = status, now
    locked.updated_at = now
    fields = ["status", "status_since", "updated_at"]
    if status == Status.SOLVED:
        locked.solved_at, locked.waiting_since = now, None
        fields += ["solved_at", "waiting_since"]
    elif status == Status.CLOSED:
        locked.closed_at, locked.waiting_since = now, None
        locked.solved_at = locked.solved_at or now
        fields += ["closed_at", "waiting_since", "solved_at"]
    elif status == Status.PENDING:
        locked.waiting_since = None
        fields.append("waiting_since")
    elif before in (Status.SOLVED, Status.PENDING) and locked.waiting_since is None:
        locked.solved_at, locked.waiting_since = None, now
        fields += ["solved_at", "waiting_since"]
    locked.save(update_fields=fields)
    _event(locked, events.STATUS_CHANGED, at=now, user=acting_user, before=before, after=status)
    conversation.status = status
    return locked


@transaction.atomic
def do_change_priority(conversation: Conversation, priority: int, *, acting_user) -> Conversation:
    if priority not in Conversation.Priority.values:
        raise ValidationFailed(_("Priority must be 1 (low) to 4 (urgent)."), field="priority")
    locked = _lock(conversation)
    if locked.priority == priority:
        return locked
    before, now = locked.priority, timezone.now()
    locked.priority, locked.updated_at = priority, now
    locked.save(update_fields=["priority", "updated_at"])
    _event(locked, events.PRIORITY_CHANGED, at=now, user=acting_user, before=before,
           after=priority)
    return locked


@transaction.atomic
def do_assign(conversation: Conversation, assignee, *, acting_user) -> Conversation:
    """Give the conversation to ``assignee`` (a user with an agent profile) or to nobody."""
    if assignee is not None and (not assignee.is_active or not hasattr(assignee, "agent")):
        raise ValidationFailed(_("Only active agents can be assigned."), field="assignee")
    locked = _lock(conversation)
    if locked.assignee_id == (assignee.pk if assignee else None):
        return locked
    before, now = locked.assignee_id, timezone.now()
    locked.assignee, locked.updated_at = assignee, now
    fields = ["assignee", "updated_at"]
    if assignee is not None and locked.status == Status.NEW:
        locked.status, locked.status_since = Status.OPEN, now
        fields += ["status", "status_since"]
    locked.save(update_fields=fields)
    _event(locked, events.ASSIGNEE_CHANGED, at=now, user=acting_user, before=before,
           after=assignee.pk if assignee else None)
    if "status" in fields:
        _event(locked, events.STATUS_CHANGED, at=now, user=acting_user, before=Status.NEW,
               after=Status.OPEN)
    return locked


@transaction.atomic
def do_set_team(conversation: Conversation, team, *, acting_user) -> Conversation:
    locked = _lock(conversation)
    if locked.team_id == (team.pk if team else None):
        return locked
    before, now = locked.team_id, timezone.now()
    locked.team, locked.updated_at = team, now
    locked.save(update_fields=["team", "updated_at"])
    _event(locked, events.TEAM_CHANGED, at=now, user=acting_user, before=before,
           after=team.pk if team else None)
    return locked


@transaction.atomic
def do_set_tier(conversation: Conversation, tier: int, *, acting_user) -> Conversation:
    """Move the conversation to support tier ``tier`` (1 = first contact, 2, 3 = experts)."""
    if tier not in (1, 2, 3):
        raise ValidationFailed(_("The tier must be 1, 2 or 3."), field="tier")
    locked = _lock(conversation)
    if locked.tier == tier:
        return locked
    before, now = locked.tier, timezone.now()
    locked.tier, locked.updated_at = tier, now
    locked.save(update_fields=["tier", "updated_at"])
    _event(locked, events.TIER_CHANGED, at=now, user=acting_user, before=before, after=tier)
    return locked


@transaction.atomic
def do_send_automatic_reply(conversation: Conversation, text: str, *, reason: str,
                            author_kind: str = Message.AuthorKind.SYSTEM) -> Message | None:
    """Queue a machine-written answer (an after-hours notice, a bot's answer) to the customer.

    It does not count as the desk's response: the first-response time and the customer's
    waiting time stay as they were. Returns None, sending nothing, when the customer's last
    message was itself automatic or asked not to be auto-answered (RFC 3834), or when the
    conversation has no channel to answer on.
    """
    conversation = _lock(conversation)
    last_inbound = (conversation.messages.filter(direction=Message.Direction.INBOUND)
                    .order_by("-created_at", "-id").first())
    if last_inbound is None or last_inbound.automatic or last_inbound.meta.get("noise") or \
            last_inbound.meta.get("suppress_autoreply"):
        return None
    channel_kind = last_inbound.channel_kind
    try:
        recipient = _reply_target(conversation, channel_kind)
    except ValidationFailed:
        return None
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation, inbox=conversation.inbox,
        direction=Message.Direction.OUTBOUND, author_kind=author_kind,
        channel_kind=channel_kind, subject=conversation.subject, text=text, reply_text=text,
        delivery_status=Message.Delivery.QUEUED, automatic=True,
        meta={"to": [recipient], "automatic": reason}, created_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, updated_at=now)
    _event(conversation, events.REPLY_QUEUED, at=now, message=message,
           after={"channel": channel_kind, "to": recipient, "automatic": reason})
    from mostrador.conversations.tasks import deliver_message

    enqueue_on_commit(deliver_message, message.pk)
    return message


@transaction.atomic
def do_change_subject(conversation: Conversation, subject: str, *, acting_user) -> Conversation:
    locked = _lock(conversation)
    subject = subject.strip()[:500]
    if locked.subject == subject:
        return locked
    before, now = locked.subject, timezone.now()
    locked.subject, locked.updated_at = subject, now
    locked.save(update_fields=["subject", "updated_at"])
    _event(locked, events.SUBJECT_CHANGED, at=now, user=acting_user, before=before, after=subject)
    return locked


@transaction.atomic
def do_set_custom_fields(conversation: Conversation, values: dict[str, Any], *,
                         acting_user) -> Conversation:
    """Set (or, with a None value, remove) custom fields; other fields stay as they are."""
    locked = _lock(conversation)
    current = dict(locked.custom_fields or {})
    before, after = {}, {}
    for key, value in values.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            raise ValidationFailed(_("Custom field names are 1 to 64 characters."),
                                   field=f"custom_fields.{key}")
        if current.get(key) != value:
            before[key], after[key] = current.get(key), value
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
    if not after:
        return locked
    now = timezone.now()
    locked.custom_fields, locked.updated_at = current, now
    locked.save(update_fields=["custom_fields", "updated_at"])
    _event(locked, events.FIELDS_CHANGED, at=now, user=acting_user, before=before, after=after)
    return locked


def normalise_tag(name: str) -> str:
    tag = " ".join((name or "").strip().lower().split())
    if not tag or len(tag) > 64:
        raise ValidationFailed(_("Tags are 1 to 64 characters."), field="tags")
    return tag


def _add_tags(conversation: Conversation, names: Iterable[str], *, acting_user,
              now: dt.datetime) -> list[str]:
    wanted = sorted({normalise_tag(n) for n in names})
    existing = set(conversation.tags.values_list("name", flat=True))
    new = [n for n in wanted if n not in existing]
    if not new:
        return []
    Tag.objects.bulk_create([Tag(name=n) for n in new], ignore_conflicts=True)
    tags = Tag.objects.filter(name__in=new)
    ConversationTag.objects.bulk_create(
        [ConversationTag(conversation=conversation, tag=t) for t in tags], ignore_conflicts=True)
    _event(conversation, events.TAGS_CHANGED, at=now, user=acting_user,
           before=sorted(existing), after=sorted(existing | set(new)))
    return new


@transaction.atomic
def do_add_tags(conversation: Conversation, names: Iterable[str], *, acting_user) -> list[str]:
    locked = _lock(conversation)
    now = timezone.now()
    added = _add_tags(locked, names, acting_user=acting_user, now=now)
    if added:
        Conversation.objects.filter(pk=locked.pk).update(updated_at=now)
    return added


@transaction.atomic
def do_remove_tags(conversation: Conversation, names: Iterable[str], *, acting_user) -> list[str]:
    locked = _lock(conversation)
    unwanted = {normalise_tag(n) for n in names}
    existing = set(locked.tags.values_list("name", flat=True))
    gone = sorted(existing & unwanted)
    if not gone:
        return []
    now = timezone.now()
    ConversationTag.objects.filter(conversation=locked, tag__name__in=gone).delete()
    Conversation.objects.filter(pk=locked.pk).update(updated_at=now)
    _event(locked, events.TAGS_CHANGED, at=now, user=acting_user, before=sorted(existing),
           after=sorted(existing - set(gone)))
    return gone


@transaction.atomic
def do_merge_conversations(source: Conversation, target: Conversation, *,
                           acting_user) -> Conversation:
    """Move every message of ``source`` into ``target`` and close ``source`` pointing at it."""
    if source.pk == target.pk:
        raise ValidationFailed(_("A conversation cannot be merged into itself."), field="target")
    source, target = _lock(source), _lock(target)
    if source.merged_into_id or target.merged_into_id:
        raise Conflict(_("One of these conversations was already merged."), field="target")
    if source.customer_id != target.customer_id:
        raise ValidationFailed(_("Only conversations of the same customer can be merged; merge "
                                 "the customers first."), field="target")
    now = timezone.now()
    moved = source.messages.update(conversation=target)
    search.move_conversation(source.pk, target.pk)
    for tag in source.tags.all():
        ConversationTag.objects.get_or_create(conversation=target, tag=tag)
    last = max(source.last_activity_at, target.last_activity_at)
    Conversation.objects.filter(pk=target.pk).update(
        message_count=F("message_count") + moved, last_activity_at=last, updated_at=now)
    before_status = source.status
    Conversation.objects.filter(pk=source.pk).update(
        merged_into=target, status=Status.CLOSED, status_since=now, closed_at=now,
        waiting_since=None,
        message_count=0, updated_at=now)
    _event(target, events.MERGED, at=now, user=acting_user,
           after={"from": source.pk, "messages": moved})
    _event(source, events.MERGED_INTO, at=now, user=acting_user, before=before_status,
           after={"into": target.pk})
    target.refresh_from_db()
    return target


@transaction.atomic
def do_split_message(message: Message, *, acting_user) -> Conversation:
    """Move one customer message (and nothing else) into a new conversation of the same
    customer and inbox, e.g. when a customer raised a second, unrelated matter on a thread.

    Its attachments and search document follow it; both conversations get their message
    count and last activity recomputed, and an event each (``conversation.split`` on the old
    one, ``conversation.created`` with ``split_from`` on the new one). The source conversation
    is locked (select_for_update) so a racing split or merge applies after this one.
    """
    if message.direction != Message.Direction.INBOUND:
        raise ValidationFailed(_("Only a customer's message can be split off; replies and "
                                 "notes stay in their conversation."), field="message")
    source = _lock(Conversation(pk=message.conversation_id))
    _check_open_for_writing(source)
    # Re-read under the lock: the message may have moved since the caller loaded it.
    message = (Message.objects.filter(pk=message.pk, conversation=source)
               .select_related("author_customer").first())
    if message is None:
        raise Conflict(_("That message is no longer in this conversation; reload the page."),
                       field="message")
    public = source.messages.exclude(direction=Message.Direction.NOTE)
    if not public.exclude(pk=message.pk).exists():
        raise ValidationFailed(_("This is the only message of the conversation; there is "
                                 "nothing to split it from."), field="message")
    now = timezone.now()
    subject = (message.subject or "").strip() or _first_line(message.reply_text or message.text)
    new = Conversation.objects.create(
        inbox_id=source.inbox_id, customer_id=source.customer_id, subject=subject[:500],
        status=Status.NEW, status_since=now, priority=source.priority, team_id=source.team_id,
        language=source.language, channel_kind=message.channel_kind or source.channel_kind,
        created_at=now, updated_at=now, last_activity_at=message.created_at,
        waiting_since=message.created_at, message_count=1,
    )
    Message.objects.filter(pk=message.pk).update(conversation=new)
    search.move_message(message.pk, new.pk)
    _recount(source, now)
    _event(source, events.SPLIT, at=now, user=acting_user, message=message,
           after={"conversation": new.pk})
    _event(new, events.CONVERSATION_CREATED, at=now, user=acting_user,
           customer=message.author_customer,
           after={"channel": new.channel_kind, "inbox": new.inbox_id, "split_from": source.pk})
    return new


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return " ".join(line.split())[:120]
    return ""


def _recount(conversation: Conversation, now: dt.datetime) -> None:
    """Message count and last activity from the messages that remain (after a split)."""
    public = conversation.messages.exclude(direction=Message.Direction.NOTE)
    stats = public.aggregate(
        count=Count("id"),
        last=Max("created_at", filter=Q(automatic=False)),
    )
    last_direction = (public.filter(automatic=False).order_by("-created_at", "-id")
                      .values_list("direction", flat=True).first())
    changes: dict[str, Any] = {"message_count": stats["count"], "updated_at": now,
                               "last_activity_at": stats["last"] or conversation.created_at}
    if last_direction == Message.Direction.OUTBOUND:
        # The customer's open question left with the message: nobody is waiting any more.
        changes["waiting_since"] = None
    Conversation.objects.filter(pk=conversation.pk).update(**changes)


def move_customer_conversations(source: Customer, target: Customer, *, acting_user) -> int:
    """Part of merging customers: conversations and messages follow the surviving customer."""
    now = timezone.now()
    ids = list(Conversation.objects.filter(customer=source).values_list("pk", flat=True))
    Conversation.objects.filter(pk__in=ids).update(customer=target, updated_at=now)
    Message.objects.filter(author_customer=source).update(author_customer=target)
    Event.objects.bulk_create([
        Event(conversation_id=cid, kind=events.CUSTOMER_CHANGED, actor_user=acting_user,
              before=source.pk, after=target.pk, at=now) for cid in ids
    ])
    return len(ids)


# --- editing an inbox -----------------------------------------------------------------------

_KEEP = object()


@transaction.atomic
def do_update_inbox(inbox: Inbox, *, name: str | None = None,
                    config: dict[str, Any] | None = None, default_team: Any = _KEEP,
                    active: bool | None = None, acting_user) -> Inbox:
    """Change an inbox's name, settings, default team (None: no team) or whether it takes
    mail; what is not given stays. ``config`` replaces the settings as a whole and is
    validated by the channel's adapter (ConfigError names what is wrong). The row is locked
    (select_for_update) so two editors save one after the other."""
    inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
    fields: list[str] = []
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed(_("An inbox needs a name."), field="name")
        if name != inbox.name:
            inbox.name = name[:150]
            fields.append("name")
    if config is not None:
        adapter = get_adapter(inbox.channel_kind)
        # Settings the channel generated itself (a chat's public key) survive an update that
        # leaves them out; sites embedding the chat depend on them.
        config = {**{key: inbox.config[key] for key in adapter.kept_config_keys
                     if key in (inbox.config or {})}, **config}
        validated = adapter.validate_config(config)
        config = validated.model_dump(mode="json")
        if config != inbox.config:
            inbox.config = config
            fields.append("config")
    if default_team is not _KEEP and (getattr(default_team, "pk", None)
                                      != inbox.default_team_id):
        inbox.default_team = default_team
        fields.append("default_team")
    if active is not None and active != inbox.active:
        inbox.active = active
        fields.append("active")
    if fields:
        inbox.save(update_fields=fields)
        publish_on_commit("inbox.updated", {"inbox_id": inbox.pk, "fields": fields,
                                            "acting_user_id": getattr(acting_user, "pk", None)})
    return inbox
