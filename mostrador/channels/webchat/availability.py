"""Whether a person can answer a chat now, and what the widget tells the visitor.

``online``: the inbox's calendar is open and an agent who may take the inbox (a member of its
default team, or any agent when it has none) is online with room on the chat channel (their
``webchat`` capacity, see routing). ``busy``: such agents are online but all full.
``offline``: open hours, nobody online. ``closed``: outside the calendar's hours (the inbox's
calendar, else the desk's default); the answer says when it opens.

Computed at most every ``CACHE_SECONDS`` per inbox and language in each process: a thousand
visitors connecting at once cost one query, and a status change shows within seconds.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mostrador.accounts.models import Agent
from mostrador.conversations.models import Conversation, Inbox
from mostrador.routing.actions import LOAD_STATUSES, capacity_for
from mostrador.sla import calendars
from mostrador.sla.after_hours import opening_phrase
from mostrador.sla.models import Calendar

CACHE_SECONDS = 3.0
_cache: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}


def forget() -> None:
    _cache.clear()


def availability(inbox: Inbox, *, language: str = "es",
                 now: dt.datetime | None = None) -> dict[str, Any]:
    key = (inbox.pk, language)
    if now is None:
        cached = _cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    found = compute(inbox, language=language, now=now or timezone.now())
    if now is None:
        _cache[key] = (time.monotonic(), found)
    return found


def compute(inbox: Inbox, *, language: str, now: dt.datetime) -> dict[str, Any]:
    with translation.override(language or "es"):
        calendar = inbox.calendar if inbox.calendar_id else \
            Calendar.objects.filter(is_default=True).first()
        if calendar is not None:
            hours = calendars.for_row(calendar)
            if not hours.is_open(now):
                opens = hours.next_open(now)
                return {"state": "closed", "opens_at": opens.isoformat(), "queue": 0,
                        "message": _closed_text(opens, calendar.time_zone)}
        online, with_room = _agents(inbox)
        if with_room:
            return {"state": "online", "opens_at": None, "queue": 0,
                    "message": _("We usually answer within a few minutes.")}
        if online:
            waiting = Conversation.objects.filter(
                inbox=inbox, assignee__isnull=True, status__in=Conversation.ACTIVE_STATUSES
            ).count()
            return {"state": "busy", "opens_at": None, "queue": waiting,
                    "message": _("All our agents are busy right now. Write to us and you will "
                                 "be answered in turn; we will also answer by e-mail if you "
                                 "leave.")}
        return {"state": "offline", "opens_at": None, "queue": 0,
                "message": _("Nobody is connected right now. Leave your message and your "
                             "e-mail address: we will answer here and by e-mail.")}


def _closed_text(opens: dt.datetime, zone: str) -> str:
    when = opening_phrase(opens, zone)
    return _("We are closed now. A person will answer from %(when)s (%(zone)s time). Leave "
             "your message and your e-mail address: we will answer here and by e-mail."
             ) % {"when": when, "zone": zone}


def _agents(inbox: Inbox) -> tuple[int, int]:
    """How many agents who may take the inbox are online, and how many of them have room."""
    agents = Agent.objects.filter(user__is_active=True, status=Agent.Status.ONLINE)
    if inbox.default_team_id:
        agents = agents.filter(user__teams=inbox.default_team_id)
    rows = list(agents.values_list("user_id", "capacity"))
    if not rows:
        return 0, 0
    loads = dict(Conversation.objects.filter(
        channel_kind=inbox.channel_kind, status__in=LOAD_STATUSES,
        assignee_id__in=[user_id for user_id, _capacity in rows],
    ).values_list("assignee_id").annotate(n=Count("id")))
    with_room = 0
    for user_id, capacity in rows:
        room = capacity_for(capacity, inbox.channel_kind)
        if room is None or loads.get(user_id, 0) < room:
            with_room += 1
    return len(rows), with_room
