"""Reading customers: who a user may see, the keyset list, and a customer's history across
every conversation and channel.

They follow the ``access_*`` rule: a missing customer and one the user may not see get the same
NotFound. Nothing here writes. Every helper costs a fixed number of queries, however long the
customer's history is.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mostrador.conversations.models import Conversation, ConversationTag, Message
from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.customers.models import Customer, Identity

# How much of a message the timeline and the resolution column show.
EXCERPT_CHARS = 300

OPEN_STATUSES = (
    Conversation.Status.NEW,
    Conversation.Status.OPEN,
    Conversation.Status.PENDING,
    Conversation.Status.ON_HOLD,
)
RESOLVED_STATUSES = (Conversation.Status.SOLVED, Conversation.Status.CLOSED)


# --- who may see whom -----------------------------------------------------------------------


def visible_customers(user) -> QuerySet[Customer]:
    """Every customer ``user`` may see: staff see them all (as with conversations)."""
    if user is None or not user.is_active:
        return Customer.objects.none()
    return Customer.objects.all()


def access_customer(user, customer_id: int, *, field: str = "id",
                    detailed: bool = True) -> Customer:
    """The customer (with organisation and identities when ``detailed``), or NotFound."""
    queryset = visible_customers(user)
    if detailed:
        queryset = queryset.select_related("organisation").prefetch_related(
            _identities_prefetch())
    customer = queryset.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer %(id)s not found.") % {"id": customer_id}, field=field)
    return customer


def _identities_prefetch() -> Prefetch:
    return Prefetch("identities", queryset=Identity.objects.order_by("kind", "id"))


# --- the list -------------------------------------------------------------------------------


def encode_id_cursor(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def decode_id_cursor(cursor: str, kind: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_kind, _sep, value = raw.partition(":")
        if cursor_kind != kind:
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(_("The cursor is not valid for this list; start again without "
                                 "it."), field="cursor") from None


def encode_time_cursor(kind: str, moment: dt.datetime, pk: int) -> str:
    """The position after a row in a (time, id) order, newest first."""
    raw = json.dumps([kind, moment.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_time_cursor(cursor: str, kind: str) -> tuple[dt.datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_kind, value, pk = json.loads(base64.urlsafe_b64decode(padded))
        moment = parse_datetime(value)
        if cursor_kind != kind or moment is None or not isinstance(pk, int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(_("The cursor is not valid for this list; start again without "
                                 "it."), field="cursor") from None
    return moment, pk


def list_customers(user, *, q: str = "", cursor: str | None = None,
                   limit: int = 50) -> tuple[list[Customer], str | None]:
    """Customers, newest first, matching ``q`` in the name or in any identity (an e-mail
    address, a phone number…); merged duplicates are left out (they live on in the customer
    they became). Keyset by id: the cursor is the last id of the previous page."""
    queryset = visible_customers(user).filter(merged_into__isnull=True)
    q = q.strip()
    if q:
        queryset = queryset.filter(
            Q(name__icontains=q) | Exists(Identity.objects.filter(
                customer=OuterRef("pk"), external_id__icontains=q.lower())))
    if cursor:
        queryset = queryset.filter(pk__lt=decode_id_cursor(cursor, "customer"))
    rows = list(queryset.select_related("organisation")
                .prefetch_related(_identities_prefetch()).order_by("-pk")[:limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_id_cursor("customer", rows[-1].pk)
    return rows, None


def open_conversation_counts(customer_ids: Iterable[int]) -> dict[int, int]:
    """Open conversations (not solved, closed or merged) per customer, in one query."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = (Conversation.objects
            .filter(customer_id__in=ids, status__in=OPEN_STATUSES, merged_into__isnull=True)
            .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n"))
    return dict(rows)


# --- one customer's history -----------------------------------------------------------------


@dataclasses.dataclass
class ConversationStats:
    total: int
    open: int


def conversation_stats(customer: Customer) -> ConversationStats:
    """How many conversations the customer has had, and how many are open, in one query."""
    counts = (Conversation.objects.filter(customer=customer, merged_into__isnull=True)
              .aggregate(total=Count("id"), open=Count("id", filter=Q(status__in=OPEN_STATUSES))))
    return ConversationStats(total=counts["total"] or 0, open=counts["open"] or 0)


@dataclasses.dataclass(slots=True)
class PastConversation:
    """A row of the customer's history: what it was about and how it ended. Plain values, not
    a model: a history page reads many rows and needs only these."""

    id: int
    subject: str
    status: str
    channel_kind: str
    created_at: dt.datetime
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    # The request type, else the first tag put on it, else "".
    reason: str
    # The first line of the last reply that says something (a salutation is skipped).
    last_reply: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def status_label(self) -> str:
        return str(Conversation.Status(self.status).label)

    @property
    def resolved(self) -> bool:
        return self.status in RESOLVED_STATUSES

    @property
    def resolved_at(self) -> dt.datetime | None:
        return self.closed_at or self.solved_at


def customer_conversations(customer: Customer, *, cursor: str | None = None, limit: int = 20,
                           exclude: int | None = None) -> tuple[list[PastConversation],
                                                                str | None]:
    """The customer's conversations, newest first, with contact reason and resolution: two
    queries for any page (conversations with their last reply, then their first tags).

    Conversations merged into another are left out: their messages live in the one they
    joined."""
    queryset = Conversation.objects.filter(customer=customer, merged_into__isnull=True)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    if cursor:
        value, pk = decode_time_cursor(cursor, "customer-conversations")
        queryset = queryset.extra(
            where=["(conversations_conversation.created_at, conversations_conversation.id) "
                   "< (%s, %s)"],
            params=[connection.ops.adapt_datetimefield_value(value), pk])
    last_reply = (Message.objects
                  .filter(conversation=OuterRef("pk"), direction=Message.Direction.OUTBOUND)
                  .order_by("-created_at", "-id")
                  .values(excerpt=Substr("text", 1, EXCERPT_CHARS))[:1])
    rows = list(queryset.annotate(last_reply_excerpt=Subquery(last_reply))
                .order_by("-created_at", "-id")
                .values("id", "subject", "status", "channel_kind", "created_at", "solved_at",
                        "closed_at", "request_type", "last_reply_excerpt")[:limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_time_cursor("customer-conversations", rows[-1]["created_at"],
                                         rows[-1]["id"])
    tags = first_tags([row["id"] for row in rows if not row["request_type"]])
    return [PastConversation(
        id=row["id"], subject=row["subject"], status=row["status"],
        channel_kind=row["channel_kind"], created_at=row["created_at"],
        solved_at=row["solved_at"], closed_at=row["closed_at"],
        reason=row["request_type"] or tags.get(row["id"], ""),
        last_reply=first_line(row["last_reply_excerpt"] or "")) for row in rows], next_cursor


def first_tags(conversation_ids: list[int]) -> dict[int, str]:
    """The first tag put on each conversation, in one query (none when no ids)."""
    if not conversation_ids:
        return {}
    found: dict[int, str] = {}
    rows = (ConversationTag.objects.filter(conversation_id__in=conversation_ids)
            .order_by("conversation_id", "id").values_list("conversation_id", "tag__name"))
    for conversation_id, name in rows:
        found.setdefault(conversation_id, name)
    return found


def first_line(text: str) -> str:
    """The first line of a reply that says something: a salutation such as "Hola Elena:" or
    "Hi Frank," is skipped, since it tells nobody how the conversation ended."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        salutation = len(line) <= 40 and line.endswith((",", ":")) and index + 1 < len(lines)
        if not salutation:
            return line
    return ""


@dataclasses.dataclass(slots=True)
class TimelineEntry:
    """A message on the customer's timeline, as plain values."""

    id: int
    direction: str
    author_kind: str
    # The agent's display name for agents' messages, else "".
    author_name: str
    channel_kind: str
    automatic: bool
    delivery_status: str
    created_at: dt.datetime
    conversation_id: int
    conversation_subject: str
    excerpt: str

    @property
    def author_kind_label(self) -> str:
        return str(Message.AuthorKind(self.author_kind).label)


def customer_timeline(customer: Customer, *, cursor: str | None = None,
                      limit: int = 25) -> tuple[list[TimelineEntry], str | None]:
    """The customer's messages across every conversation and channel, newest first, notes
    included; one query per page. The cursor is the (created, id) of the last entry shown."""
    queryset = Message.objects.filter(conversation__customer=customer)
    if cursor:
        value, pk = decode_time_cursor(cursor, "customer-timeline")
        queryset = queryset.extra(
            where=["(conversations_message.created_at, conversations_message.id) < (%s, %s)"],
            params=[connection.ops.adapt_datetimefield_value(value), pk])
    rows = list(queryset
                .annotate(reply_excerpt=Substr("reply_text", 1, EXCERPT_CHARS),
                          text_excerpt=Substr("text", 1, EXCERPT_CHARS))
                .order_by("-created_at", "-id")
                .values("id", "direction", "author_kind", "channel_kind", "automatic",
                        "delivery_status", "created_at", "conversation_id",
                        "conversation__subject", "author_user__username",
                        "author_user__agent__display_name", "reply_excerpt",
                        "text_excerpt")[:limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_time_cursor("customer-timeline", rows[-1]["created_at"],
                                         rows[-1]["id"])
    return [TimelineEntry(
        id=row["id"], direction=row["direction"], author_kind=row["author_kind"],
        author_name=(row["author_user__agent__display_name"]
                     or row["author_user__username"] or ""),
        channel_kind=row["channel_kind"], automatic=row["automatic"],
        delivery_status=row["delivery_status"], created_at=row["created_at"],
        conversation_id=row["conversation_id"],
        conversation_subject=row["conversation__subject"],
        excerpt=(row["reply_excerpt"] or row["text_excerpt"] or "").strip(),
    ) for row in rows], next_cursor


def identity_owner(kind: str, external_id: str) -> Customer | None:
    """The customer an identity already belongs to (external id as normalised), or None."""
    identity = (Identity.objects.select_related("customer")
                .filter(kind=kind, external_id=external_id).first())
    return identity.customer if identity else None
