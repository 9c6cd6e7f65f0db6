"""Next and previous conversation of the list an agent came from.

The inbox passes its query string along (``?from=status=open&team=2…``); the same filters
are read here with the names the API's list uses (``status``, ``assignee`` — an id, ``me``
or ``none`` —, ``team``, ``inbox``, ``customer``, ``tag``, ``priority``, ``q``, ``order``).
The neighbour is one keyset step from the current conversation, in the list's order for
"next" and in the reverse order for "previous": one indexed query either way, however deep
in the list the conversation is. Anything unreadable in the query string is ignored.
"""

from __future__ import annotations

import dataclasses

from django.http import QueryDict

from mostrador.conversations.models import Conversation
from mostrador.conversations.queries import (
    ORDERS,
    ConversationFilters,
    encode_cursor,
    list_conversations,
)
from mostrador.core.errors import MostradorError


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def filters_from_query(user, query: str) -> ConversationFilters:
    params = QueryDict(query.lstrip("?"))
    statuses = [s.strip() for value in params.getlist("status") for s in value.split(",")]
    filters = ConversationFilters(
        status=[s for s in statuses if s in Conversation.Status.values],
        team=_int(params.get("team")), inbox=_int(params.get("inbox")),
        customer=_int(params.get("customer")), priority=_int(params.get("priority")),
        tag=(params.get("tag") or "").strip() or None, q=(params.get("q") or "")[:200],
    )
    assignee = (params.get("assignee") or "").strip()
    if assignee in {"none", "null"}:
        filters.unassigned = True
    elif assignee == "me":
        filters.assignee = user.pk
    else:
        filters.assignee = _int(assignee)
    order = params.get("order") or filters.order
    if order in ORDERS:
        filters.order = order
    return filters


def reverse_order(order: str) -> str | None:
    """The same list walked the other way, when the list offers that order."""
    reverse = order[1:] if order.startswith("-") else f"-{order}"
    return reverse if reverse in ORDERS else None


def find(user, conversation: Conversation, query: str, *, forward: bool) -> int | None:
    """The id of the conversation after (or before) ``conversation`` in the list, or None."""
    filters = filters_from_query(user, query)
    if not forward:
        order = reverse_order(filters.order)
        if order is None:
            return None
        filters = dataclasses.replace(filters, order=order)
    columns, _descending = ORDERS[filters.order]
    values = tuple(getattr(conversation, column) for column in columns)
    cursor = encode_cursor(filters.order, values, conversation.pk)
    try:
        page = list_conversations(user, filters, cursor=cursor, limit=1)
    except MostradorError:
        return None
    return page.items[0].pk if page.items else None
