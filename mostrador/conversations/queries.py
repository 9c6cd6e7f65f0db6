"""Reading conversations: what a user may see, and the keyset-paginated list."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.dateparse import parse_datetime

from mostrador.conversations import search
from mostrador.conversations.models import Conversation, ConversationTag, Inbox, Message
from mostrador.core.errors import NotFound, ValidationFailed

# Orders the list supports: name -> (field, descending). Every order ends in id for keyset.
ORDERS = {
    "-last_activity": ("last_activity_at", True),
    "last_activity": ("last_activity_at", False),
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "updated": ("updated_at", False),  # incremental sync: oldest change first
    "-updated": ("updated_at", True),
}


def visible_conversations(user) -> QuerySet[Conversation]:
    """Every conversation ``user`` may see. Staff see the whole desk; team-scoped visibility
    narrows this single place."""
    if user is None or not user.is_active:
        return Conversation.objects.none()
    return Conversation.objects.all()


def access_conversation(user, conversation_id: int, *, for_update: bool = False) -> Conversation:
    """The conversation, or NotFound whether it is missing or not visible (same answer)."""
    queryset = visible_conversations(user).select_related("inbox", "customer",
                                                          "assignee__agent", "team")
    if for_update:
        queryset = queryset.select_for_update()
    conversation = queryset.filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found", field="id")
    return conversation


def access_inbox(user, inbox_id: int) -> Inbox:
    inbox = (Inbox.objects.select_related("default_team").filter(pk=inbox_id).first()
             if user and user.is_active else None)
    if inbox is None:
        raise NotFound(f"inbox {inbox_id} not found", field="inbox")
    return inbox


@dataclasses.dataclass
class ConversationFilters:
    status: list[str] = dataclasses.field(default_factory=list)
    assignee: int | None = None
    unassigned: bool = False
    team: int | None = None
    inbox: int | None = None
    customer: int | None = None
    tag: str | None = None
    priority: int | None = None
    q: str = ""
    updated_since: dt.datetime | None = None
    order: str = "-last_activity"


@dataclasses.dataclass
class Page:
    items: list[Conversation]
    next_cursor: str | None


def encode_cursor(order: str, value: dt.datetime, pk: int) -> str:
    raw = json.dumps([order, value.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[dt.datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_order, value, pk = json.loads(base64.urlsafe_b64decode(padded))
        moment = parse_datetime(value)
        if cursor_order != order or moment is None or not isinstance(pk, int):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed("the cursor is not valid for this list; start again without it",
                               field="cursor") from None
    return moment, pk


def list_conversations(user, filters: ConversationFilters, *, cursor: str | None = None,
                       limit: int = 50) -> Page:
    """One keyset page: rows strictly after ``cursor`` in ``filters.order``.

    Every filter the inbox uses has an index ending in the order's column and id, so the first
    page and the thousandth cost the same.
    """
    if filters.order not in ORDERS:
        raise ValidationFailed(f"unknown order {filters.order!r}; use one of "
                               f"{', '.join(ORDERS)}", field="order")
    field, descending = ORDERS[filters.order]
    queryset = visible_conversations(user)
    statuses = [s for s in filters.status if s]
    unknown = set(statuses) - set(Conversation.Status.values)
    if unknown:
        raise ValidationFailed(f"unknown status {sorted(unknown)[0]!r}", field="status")
    if len(statuses) == 1:
        queryset = queryset.filter(status=statuses[0])
    elif statuses:
        queryset = queryset.filter(status__in=statuses)
    if filters.unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.team is not None:
        queryset = queryset.filter(team_id=filters.team)
    if filters.inbox is not None:
        queryset = queryset.filter(inbox_id=filters.inbox)
    if filters.customer is not None:
        queryset = queryset.filter(customer_id=filters.customer)
    if filters.priority is not None:
        queryset = queryset.filter(priority=filters.priority)
    if filters.tag:
        queryset = queryset.filter(Exists(ConversationTag.objects.filter(
            conversation=OuterRef("pk"), tag__name=filters.tag.strip().lower())))
    if filters.updated_since is not None:
        queryset = queryset.filter(updated_at__gte=filters.updated_since)
    if filters.q.strip():
        sql = search.conversation_ids_sql(filters.q)
        if sql is None:
            return Page([], None)
        queryset = queryset.extra(where=[f"conversations_conversation.id IN ({sql[0]})"],
                                  params=sql[1])
    if cursor:
        value, pk = decode_cursor(cursor, filters.order)
        # A row-value comparison walks the (column, id) index from the cursor on; the
        # equivalent OR of two conditions makes SQLite scan.
        operator = "<" if descending else ">"
        queryset = queryset.extra(
            where=[f"(conversations_conversation.{field}, conversations_conversation.id) "
                   f"{operator} (%s, %s)"],
            params=[connection.ops.adapt_datetimefield_value(value), pk])
    prefix = "-" if descending else ""
    rows = list(queryset.select_related("customer", "inbox", "assignee__agent", "team")
                .prefetch_related("tags").order_by(f"{prefix}{field}", f"{prefix}id")[:limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(filters.order, getattr(last, field), last.pk)
    return Page(rows, next_cursor)


def conversation_messages(conversation: Conversation, *, include_notes: bool = True,
                          after_id: int | None = None, limit: int = 200) -> list[Message]:
    queryset = conversation.messages.select_related("author_user", "author_customer")
    if not include_notes:
        queryset = queryset.exclude(direction=Message.Direction.NOTE)
    if after_id:
        queryset = queryset.filter(pk__gt=after_id)
    return list(queryset.prefetch_related("attachments").order_by("created_at", "id")[:limit])

