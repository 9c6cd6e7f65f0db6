"""Reads about routing: the per-conversation figures (time in each tier, transfers) computed
from the timeline, so they agree with it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone

from mostrador.conversations import events as conversation_events
from mostrador.conversations.models import Conversation, Event


@dataclasses.dataclass(frozen=True)
class RoutingFigures:
    tier: int
    # Seconds spent in each tier, from creation until now (or until closed/solved).
    seconds_in_tier: dict[int, float]
    # Moves from one team to another, and hand-overs from one agent to another (an agent who
    # lets go and the next who takes it count once, however long it waited between).
    transfers: int
    escalations: int
    # Since when the customer has been waiting (unchanged by escalations and transfers).
    waiting_since: dt.datetime | None


def routing_figures(conversation: Conversation, *, now: dt.datetime | None = None
                    ) -> RoutingFigures:
    now = now or timezone.now()
    end = conversation.closed_at or (conversation.solved_at if conversation.status in (
        Conversation.Status.SOLVED, Conversation.Status.CLOSED) else None) or now
    rows = (Event.objects.filter(conversation=conversation, kind__in=(
        conversation_events.TIER_CHANGED, conversation_events.TEAM_CHANGED,
        conversation_events.ASSIGNEE_CHANGED)).order_by("at", "id")
        .values_list("kind", "before", "after", "at"))
    tier_changes = [(at, before, after) for kind, before, after, at in rows
                    if kind == conversation_events.TIER_CHANGED]
    first_tier = tier_changes[0][1] if tier_changes else conversation.tier
    seconds: dict[int, float] = {}
    current, since = int(first_tier or 1), conversation.created_at
    escalations = 0
    for at, before, after in tier_changes:
        seconds[current] = seconds.get(current, 0.0) + max(0.0, (at - since).total_seconds())
        if int(after) > int(before or 0):
            escalations += 1
        current, since = int(after), at
    seconds[current] = seconds.get(current, 0.0) + max(0.0, (end - since).total_seconds())
    transfers, holder = 0, None
    for kind, before, after, _at in rows:
        if kind == conversation_events.TEAM_CHANGED and before is not None \
                and after is not None:
            transfers += 1
        elif kind == conversation_events.ASSIGNEE_CHANGED and after is not None:
            # A hand-over: someone else held it before (even if it waited unassigned between).
            if holder is not None and holder != after:
                transfers += 1
            holder = after
    return RoutingFigures(conversation.tier, seconds, transfers, escalations,
                          conversation.waiting_since)
