"""What the inbox reads, beyond the conversation list itself: the choices its filters offer,
the agent's saved views, and for one page of rows the customer's last words and the agent's
read marks. Every function is a fixed number of queries, whatever the size of the desk."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.accounts.models import Agent, Team
from mostrador.conversations.models import (
    Conversation,
    ConversationRead,
    Inbox,
    Message,
    SavedView,
    Tag,
)
from mostrador.conversations.queries import (
    ORDERS,
    ConversationFilters,
    Page,
    encode_cursor,
    in_list_order,
    list_conversations,
    visible_conversations,
)
from mostrador.customers.models import Customer

PREVIEW_CHARS = 300
TAG_SUGGESTIONS = 300


@dataclasses.dataclass(frozen=True)
class Options:
    """The choices the filters and bulk actions offer."""

    inboxes: list[tuple[int, str, str]]  # id, name, channel kind
    agents: list[tuple[int, str]]  # user id, display name
    teams: list[Team]  # each with ``mine``: the agent belongs to it
    tags: list[str]

    @property
    def my_team_ids(self) -> list[int]:
        return [team.pk for team in self.teams if team.mine]


def options(user) -> Options:
    inboxes = list(Inbox.objects.order_by("name", "id")
                   .values_list("pk", "name", "channel_kind"))
    agents = list(Agent.objects.filter(user__is_active=True).order_by("display_name", "user_id")
                  .values_list("user_id", "display_name"))
    membership = Team.members.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk)
    teams = list(Team.objects.annotate(mine=Exists(membership)).order_by("name"))
    tags = list(Tag.objects.order_by("name").values_list("name", flat=True)[:TAG_SUGGESTIONS])
    return Options(inboxes, agents, teams, tags)


def saved_views(user) -> list[SavedView]:
    return list(SavedView.objects.filter(user=user).order_by("position", "id"))


def saved_view(user, view_id: int) -> SavedView | None:
    """One of the agent's own views; None for someone else's or a deleted one."""
    return SavedView.objects.filter(user=user, pk=view_id).first()


def customer_name(customer_id: int) -> str | None:
    customer = Customer.objects.filter(pk=customer_id).only("pk", "name").first()
    return str(customer) if customer else None


def agent_user(user_id: int):
    """An active user with an agent profile, or None."""
    return (get_user_model().objects.select_related("agent")
            .filter(pk=user_id, is_active=True, agent__isnull=False).first())


# --- the list -------------------------------------------------------------------------------


def list_page(user, filters: ConversationFilters, *, team_ids: list[int] | None,
              cursor: str | None, limit: int) -> Page:
    """One keyset page. ``team_ids`` (the agent's teams, for "my teams") lists the
    conversations of any of them: the query layer filters on one team, so each team's page is
    read and the pages are merged in the list's order, which keeps the cursor exact."""
    if team_ids is None:
        return list_conversations(user, filters, cursor=cursor, limit=limit)
    if not team_ids:
        return Page([], None)
    pages = [list_conversations(user, dataclasses.replace(filters, team=team_id),
                                cursor=cursor, limit=limit) for team_id in team_ids]
    if len(pages) == 1:
        return pages[0]
    columns = ORDERS[filters.order][0]
    rows = in_list_order([row for page in pages for row in page.items], filters.order)
    more = len(rows) > limit or any(page.next_cursor for page in pages)
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(filters.order, tuple(getattr(last, c) for c in columns),
                                    last.pk)
    return Page(rows, next_cursor)


@dataclasses.dataclass
class Row:
    conversation: Conversation
    preview: str
    unread: bool
    waiting: str
    waiting_seconds: int | None
    tags: list[str]
    assignee: str
    # Set by the view: what follows the language (channel mark, labels) and the link.
    icon: str = ""
    url: str = ""
    priority_label: str = ""
    status_label: str = ""
    # The SLA's health (a key of ``sla_labels()``, "" without an SLA), its label, and the time
    # until the nearest due moment ("in 2 h", "35 min overdue").
    sla: str = ""
    sla_label: str = ""
    sla_left: str = ""


def rows_for(user, conversations: list[Conversation], *,
             now: dt.datetime | None = None) -> list[Row]:
    """The page's rows with the first line of the customer's last message and the agent's
    read mark, in one query for the whole page."""
    if not conversations:
        return []
    now = now or timezone.now()
    last_words = (Message.objects
                  .filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND,
                          automatic=False)
                  .order_by("-created_at", "-id")
                  .annotate(head=Substr(Coalesce(NullIf("reply_text", Value("")), "text"), 1,
                                        PREVIEW_CHARS))
                  .values("head")[:1])
    read_at = (ConversationRead.objects.filter(user=user, conversation=OuterRef("pk"))
               .values("last_read_at")[:1])
    extra: dict[int, tuple[Any, Any]] = {
        pk: (head, read)
        for pk, head, read in Conversation.objects.filter(pk__in=[c.pk for c in conversations])
        .annotate(head=Subquery(last_words), read_at=Subquery(read_at))
        .values_list("pk", "head", "read_at")
    }
    rows = []
    labels = sla_labels()
    for conversation in conversations:
        head, read = extra.get(conversation.pk, ("", None))
        seconds = None
        if conversation.waiting_since is not None:
            seconds = max(0, int((now - conversation.waiting_since).total_seconds()))
        assignee = ""
        if conversation.assignee_id:
            agent = getattr(conversation.assignee, "agent", None)
            assignee = agent.display_name if agent else conversation.assignee.get_username()
        rows.append(Row(conversation, first_line(head or ""),
                        unread=read is None or conversation.last_activity_at > read,
                        waiting=waiting_label(seconds), waiting_seconds=seconds,
                        tags=sorted(tag.name for tag in conversation.tags.all()),
                        assignee=assignee))
        row = rows[-1]
        row.sla = sla_health(conversation.sla_status, conversation.sla_due_at, now)
        row.sla_label = labels.get(row.sla, "")
        row.sla_left = sla_left(conversation.sla_due_at, now) if row.sla else ""
    return rows


def sla_labels() -> dict[str, str]:
    """What agents read for each SLA health, in the active language."""
    return {"on_track": _("On track"), "at_risk": _("At risk"), "breached": _("Breached"),
            "paused": _("Paused"), "met": _("Met")}


def sla_health(status: str, due: dt.datetime | None, now: dt.datetime) -> str:
    """The conversation's SLA health as of ``now``: its stored status, except that a running
    target whose due moment has passed counts as breached before the minute sweep records
    it."""
    if status in ("on_track", "at_risk") and due is not None and due <= now:
        return "breached"
    return status


def sla_left(due: dt.datetime | None, now: dt.datetime) -> str:
    """Time until the nearest due moment (wall-clock time, as the list sorts), or how long ago
    it passed."""
    if due is None:
        return ""
    seconds = int((due - now).total_seconds())
    if seconds >= 0:
        return _("in %(duration)s") % {"duration": waiting_label(seconds)}
    return _("%(duration)s overdue") % {"duration": waiting_label(-seconds)}


def first_line(text: str) -> str:
    """The start of the message on one line. Lines are joined rather than cut at the first
    break: mail often opens with a line that says nothing but "Hola,"."""
    return " ".join(text.split())[:200]


def waiting_label(seconds: int | None) -> str:
    """A short, glanceable duration: "4 min", "2 h", "3 d"."""
    if seconds is None:
        return ""
    minutes = seconds // 60
    if minutes < 1:
        return _("<1 min")
    if minutes < 60:
        return _("%(count)d min") % {"count": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("%(count)d h") % {"count": hours}
    return _("%(count)d d") % {"count": hours // 24}


def visible_ids(user, ids: list[int]) -> list[int]:
    """Those of ``ids`` the user may see (for actions that need no row lock)."""
    return list(visible_conversations(user).filter(pk__in=ids).values_list("pk", flat=True))

