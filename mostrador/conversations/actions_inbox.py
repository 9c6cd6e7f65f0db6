"""Writers for what an agent keeps of the inbox for themselves: saved views and read marks.

These change one person's view of the desk, not a conversation, so they write no timeline
event; they publish after commit so that the agent's other open tabs can follow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.conversations.models import Conversation
from mostrador.conversations.models_inbox import (
    MAX_SAVED_VIEWS,
    SAVED_VIEW_KEYS,
    ConversationRead,
    SavedView,
)
from mostrador.core.errors import Conflict, NotFound, ValidationFailed
from mostrador.core.publish import publish_on_commit

SAVED_VIEW_SAVED = "saved_view.saved"
SAVED_VIEW_DELETED = "saved_view.deleted"
CONVERSATIONS_READ = "conversations.read"
CONVERSATIONS_UNREAD = "conversations.unread"


def _clean_filters(filters: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(filters, dict):
        raise ValidationFailed(_("A view's filters must be a set of named values."),
                               field="filters")
    unknown = set(filters) - SAVED_VIEW_KEYS
    if unknown:
        raise ValidationFailed(_("Unknown filter %(name)s.") % {"name": sorted(unknown)[0]},
                               field="filters")
    cleaned = {key: value for key, value in filters.items() if value not in (None, "", [])}
    if len(json.dumps(cleaned)) > 4000:
        raise ValidationFailed(_("These filters are too long to save."), field="filters")
    return cleaned


@transaction.atomic
def do_save_view(user, name: str, filters: dict[str, Any]) -> SavedView:
    """Save ``filters`` as the view ``name`` of ``user``; saving under a name the user already
    has replaces that view's filters (and keeps its place)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("Give the view a name."), field="name")
    if len(name) > 80:
        raise ValidationFailed(_("View names are at most 80 characters."), field="name")
    cleaned = _clean_filters(filters)
    existing = SavedView.objects.select_for_update().filter(user=user, name=name).first()
    if existing is not None:
        existing.filters = cleaned
        existing.save(update_fields=["filters"])
        view = existing
    else:
        mine = SavedView.objects.filter(user=user)
        if mine.count() >= MAX_SAVED_VIEWS:
            raise Conflict(_("You already have %(count)d saved views; delete one first.")
                           % {"count": MAX_SAVED_VIEWS}, field="name")
        position = (mine.aggregate(last=Max("position"))["last"] or 0) + 1
        try:
            with transaction.atomic():
                view = SavedView.objects.create(user=user, name=name, filters=cleaned,
                                                position=position)
        except IntegrityError:
            # The same name saved at the same moment from another tab.
            raise Conflict(_("A view named %(name)s was just saved; try again.")
                           % {"name": name}, field="name") from None
    publish_on_commit(SAVED_VIEW_SAVED, {"user_id": user.pk, "saved_view_id": view.pk})
    return view


@transaction.atomic
def do_delete_view(user, view_id: int) -> None:
    """Delete one of ``user``'s views; someone else's view is as missing as a deleted one."""
    deleted, _counts = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound(_("That view no longer exists."), field="view")
    publish_on_commit(SAVED_VIEW_DELETED, {"user_id": user.pk, "saved_view_id": view_id})


def do_mark_read(conversation: Conversation | int, user) -> None:
    """``user`` has read the conversation as it is now."""
    do_mark_many_read([conversation], user)


@transaction.atomic
def do_mark_many_read(conversations: Iterable[Conversation | int], user) -> int:
    """Mark the conversations read for ``user`` (one statement whatever their number)."""
    ids = sorted({c if isinstance(c, int) else c.pk for c in conversations})
    if not ids:
        return 0
    now = timezone.now()
    ConversationRead.objects.bulk_create(
        [ConversationRead(user=user, conversation_id=cid, last_read_at=now) for cid in ids],
        update_conflicts=True, unique_fields=["user", "conversation"],
        update_fields=["last_read_at"])
    publish_on_commit(CONVERSATIONS_READ, {"user_id": user.pk, "conversation_ids": ids})
    return len(ids)


@transaction.atomic
def do_mark_unread(conversations: Iterable[Conversation | int], user) -> int:
    """Show the conversations as unread to ``user`` again, until they next read them."""
    ids = sorted({c if isinstance(c, int) else c.pk for c in conversations})
    if not ids:
        return 0
    ConversationRead.objects.filter(user=user, conversation_id__in=ids).delete()
    publish_on_commit(CONVERSATIONS_UNREAD, {"user_id": user.pk, "conversation_ids": ids})
    return len(ids)
