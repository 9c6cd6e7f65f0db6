"""Reading conversations: what a user may see, and the keyset-paginated list."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, prefetch_related_objects
from django.utils.dateparse import parse_datetime

from mostrador.conversations import search
from mostrador.conversations.models import Conversation, ConversationTag, Inbox, Message
from mostrador.core.errors import NotFound, ValidationFailed

# Orders the list supports: name -> (columns, descending). Every order ends in id, in the same
# direction, so that keyset pages never overlap; the cursor carries the columns and the id.
ORDERS = {
    "-last_activity": (("last_activity_at",), True),
    "last_activity": (("last_activity_at",), False),
    "-created": (("created_at",), True),
    "created": (("created_at",), False),
    "updated": (("updated_at",), False),  # incremental sync: oldest change first
    "-updated": (("updated_at",), True),
    # Oldest waiting first; conversations nobody waits on (no waiting_since) come after them.
    "waiting": (("waiting_since",), False),
    # Most urgent first, then the latest activity.
    "-priority": (("priority", "last_activity_at"), True),
    # Least SLA time left first (breached ones, most overdue first, lead); conversations with
    # no running SLA target (no sla_due_at) come after them.
    "sla": (("sla_due_at",), False),
}
# Columns that may be null; a one-column order on them lists the rows without a value last.
NULLABLE_ORDER_COLUMNS = frozenset({"waiting_since", "sla_due_at"})


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


CursorValue = dt.datetime | int | None


def encode_cursor(order: str, values: tuple[CursorValue, ...], pk: int) -> str:
    """The position after a row: the order's column values (times as ISO text) and its id."""
    encoded = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps([order, encoded, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[tuple[CursorValue, ...], int]:
    columns = ORDERS[order][0]
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_order, encoded, pk = json.loads(base64.urlsafe_b64decode(padded))
        if isinstance(encoded, str):  # cursors handed out before orders had several columns
            encoded = [encoded]
        if (cursor_order != order or not isinstance(pk, int) or not isinstance(encoded, list)
                or len(encoded) != len(columns)):
            raise ValueError
        values: list[CursorValue] = []
        for column, value in zip(columns, encoded, strict=True):
            if value is None and column in NULLABLE_ORDER_COLUMNS:
                values.append(None)
            elif column == "priority":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError
                values.append(value)
            else:
                moment = parse_datetime(value) if isinstance(value, str) else None
                if moment is None:
                    raise ValueError
                values.append(moment)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed("the cursor is not valid for this list; start again without it",
                               field="cursor") from None
    return tuple(values), pk


def _after_position(queryset: QuerySet[Conversation], columns: tuple[str, ...],
                    values: tuple[CursorValue, ...], pk: int,
                    descending: bool) -> QuerySet[Conversation]:
    # A row-value comparison walks the (columns…, id) index from the cursor on; the equivalent
    # OR of conditions makes SQLite scan.
    table = "conversations_conversation"
    names = ", ".join(f"{table}.{column}" for column in (*columns, "id"))
    marks = ", ".join(["%s"] * (len(columns) + 1))
    params = [connection.ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v
              for v in values]
    return queryset.extra(where=[f"({names}) {'<' if descending else '>'} ({marks})"],
                          params=[*params, pk])


def _keyset_rows(queryset: QuerySet[Conversation], columns: tuple[str, ...], descending: bool,
                 after: tuple[tuple[CursorValue, ...], int] | None,
                 count: int) -> list[Conversation]:
    """The first ``count`` rows of ``queryset`` after ``after`` in the order of ``columns``."""
    prefix = "-" if descending else ""
    if columns[0] not in NULLABLE_ORDER_COLUMNS:
        if after is not None:
            queryset = _after_position(queryset, columns, *after, descending)
        return list(queryset.order_by(*(f"{prefix}{c}" for c in columns), f"{prefix}id")
                    [:count])
    # Two index walks instead of one ORDER BY … NULLS LAST, which no index serves: the rows
    # with a value, then (when the page is not full yet) the rows without one, by id.
    column, rows = columns[0], []
    if after is None or after[0][0] is not None:
        with_value = queryset.filter(**{f"{column}__isnull": False})
        if after is not None:
            with_value = _after_position(with_value, columns, *after, descending)
        rows = list(with_value.order_by(f"{prefix}{column}", f"{prefix}id")[:count])
    if len(rows) < count:
        without = queryset.filter(**{f"{column}__isnull": True})
        if after is not None and after[0][0] is None:
            without = without.filter(**{"pk__lt" if descending else "pk__gt": after[1]})
        rows += list(without.order_by(f"{prefix}id")[:count - len(rows)])
    return rows


def in_list_order(rows: list[Conversation], order: str) -> list[Conversation]:
    """``rows`` sorted as the list sorts them in ``order`` (rows without a value last), for
    merging pages read separately."""
    columns, descending = ORDERS[order]
    with_value = [r for r in rows if getattr(r, columns[0]) is not None]
    without = [r for r in rows if getattr(r, columns[0]) is None]
    with_value.sort(key=lambda r: (*(getattr(r, c) for c in columns), r.pk), reverse=descending)
    without.sort(key=lambda r: r.pk, reverse=descending)
    return with_value + without


def list_conversations(user, filters: ConversationFilters, *, cursor: str | None = None,
                       limit: int = 50) -> Page:
    """One keyset page: rows strictly after ``cursor`` in ``filters.order``.

    Every filter the inbox uses has an index ending in the order's column and id, so the first
    page and the thousandth cost the same. Several statuses are read one status at a time and
    merged here: SQLite cannot merge the ordered index ranges of ``status IN (…)``, so it sorts
    every matching row (or picks a worse index); one query per status keeps each an index walk.
    A text search is the exception: its matches drive the query, so they are read once.
    """
    if filters.order not in ORDERS:
        raise ValidationFailed(f"unknown order {filters.order!r}; use one of "
                               f"{', '.join(ORDERS)}", field="order")
    columns, descending = ORDERS[filters.order]
    queryset = visible_conversations(user)
    statuses = sorted({s for s in filters.status if s})
    unknown = set(statuses) - set(Conversation.Status.values)
    if unknown:
        raise ValidationFailed(f"unknown status {sorted(unknown)[0]!r}", field="status")
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
    after = decode_cursor(cursor, filters.order) if cursor else None
    related = ("customer", "inbox", "assignee__agent", "team")
    # With a text search the matches drive the query and one pass over them is cheapest.
    if len(statuses) <= 1 or filters.q.strip():
        if len(statuses) == 1:
            queryset = queryset.filter(status=statuses[0])
        elif statuses:
            queryset = queryset.filter(status__in=statuses)
        rows = _keyset_rows(queryset.select_related(*related), columns, descending, after,
                            limit + 1)
    else:
        # Each status's page of keys (read from the index alone), merged; then the rows.
        keys = in_list_order([key for status in statuses for key in _keyset_rows(
            queryset.filter(status=status).only(*columns), columns, descending, after,
            limit + 1)], filters.order)[:limit + 1]
        found = queryset.select_related(*related).in_bulk([key.pk for key in keys])
        rows = [found[key.pk] for key in keys if key.pk in found]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(filters.order, tuple(getattr(last, c) for c in columns),
                                    last.pk)
    prefetch_related_objects(rows, "tags")
    return Page(rows, next_cursor)


def conversation_messages(conversation: Conversation, *, include_notes: bool = True,
                          after_id: int | None = None, limit: int = 200) -> list[Message]:
    queryset = conversation.messages.select_related("author_user", "author_customer")
    if not include_notes:
        queryset = queryset.exclude(direction=Message.Direction.NOTE)
    if after_id:
        queryset = queryset.filter(pk__gt=after_id)
    return list(queryset.prefetch_related("attachments").order_by("created_at", "id")[:limit])

