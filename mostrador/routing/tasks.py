"""Background work of routing: route what changed, drain queues, and a minute sweep as the
safety net (a worker restart, an agent whose conversations were solved elsewhere)."""

from __future__ import annotations

import logging

from huey import crontab

from mostrador.accounts.models import Team
from mostrador.conversations import events as conversation_events
from mostrador.conversations.models import Conversation, Event
from mostrador.core.tasks import periodic_task, task
from mostrador.routing import actions

logger = logging.getLogger(__name__)


@task()
def route_after_changes(conversation_ids: list[int], freeing_ids: list[int],
                        agent_ids: list[int], team_ids: list[int],
                        inbox_ids: list[int], freeing_event_ids: list[int] | None = None
                        ) -> dict[str, int]:
    """Route what changed, then drain the queues where room may have freed up: the changed
    conversations' teams and inboxes, the team a conversation left and every team of an agent
    who let go of one (an escalation frees its L1 agent for the L1 queue), and the teams of
    agents whose status or profile changed."""
    assigned = 0
    for conversation_id in conversation_ids:
        if actions.route(conversation_id).agent_id is not None:
            assigned += 1
    queues: dict[tuple[int | None, int | None], None] = {}
    for team_id, inbox_id in Conversation.objects.filter(pk__in=freeing_ids).values_list(
            "team_id", "inbox_id"):
        queues[(team_id, None)] = None
        queues[(None, inbox_id)] = None
    left_agents = set(agent_ids)
    for kind, before in Event.objects.filter(pk__in=freeing_event_ids or ()).values_list(
            "kind", "before"):
        if kind == conversation_events.ASSIGNEE_CHANGED and isinstance(before, int):
            left_agents.add(before)
        elif kind == conversation_events.TEAM_CHANGED and isinstance(before, int):
            queues[(before, None)] = None
    for team_id in Team.objects.filter(members__in=left_agents).values_list("pk", flat=True):
        queues[(team_id, None)] = None
    for team_id in team_ids:
        queues[(team_id, None)] = None
    for inbox_id in inbox_ids:
        queues[(None, inbox_id)] = None
    automatic = set(actions.automatic_queues())
    for team_id, inbox_id in queues:
        if (team_id, inbox_id) in automatic:
            assigned += actions.drain_queue(team_id=team_id, inbox_id=inbox_id).assigned
    return {"assigned": assigned}


@periodic_task(crontab(minute="*"))
def drain_queues() -> dict[str, int]:
    """Every minute, each automatic queue gets a chance (bounded: a queue nobody can take from
    stops after three misses)."""
    assigned = waiting = 0
    for team_id, inbox_id in actions.automatic_queues():
        result = actions.drain_queue(team_id=team_id, inbox_id=inbox_id)
        assigned += result.assigned
        waiting += result.waiting
    return {"assigned": assigned, "waiting": waiting}
