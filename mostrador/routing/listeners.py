"""After-commit listener: conversations that arrive, reopen, lose their agent or move to another
team or tier are routed; changes that free an agent (a conversation solved or handed on, an agent
coming online, a rule changed) give the waiting queue a chance. The work runs as a task."""

from __future__ import annotations

from typing import Any

from mostrador.core.publish import subscribe_batch

ROUTE_KINDS = frozenset({
    "conversation.created", "message.received", "team.changed", "tier.changed",
    "status.changed", "assignee.changed",
})
# These may free room for someone in the conversation's queue.
FREEING_KINDS = frozenset({"status.changed", "assignee.changed", "team.changed"})
AGENT_KINDS = frozenset({"agent.status_changed", "agent.routing_changed",
                         "team.members_changed", "routing.rule_changed"})


def on_commit_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    route: dict[int, None] = {}
    freeing: dict[int, None] = {}
    freeing_events: list[int] = []
    agents: dict[int, None] = {}
    teams: dict[int, None] = {}
    inboxes: dict[int, None] = {}
    for kind, payload in batch:
        conversation_id = payload.get("conversation_id")
        if conversation_id and kind in ROUTE_KINDS:
            route[conversation_id] = None
            if kind in FREEING_KINDS:
                freeing[conversation_id] = None
                if payload.get("event_id"):
                    freeing_events.append(payload["event_id"])
        elif kind in AGENT_KINDS:
            if payload.get("user_id"):
                agents[payload["user_id"]] = None
            if payload.get("team_id"):
                teams[payload["team_id"]] = None
            if payload.get("inbox_id"):
                inboxes[payload["inbox_id"]] = None
    if not (route or agents or teams or inboxes):
        return
    from mostrador.routing.models import AssignmentRule

    # A desk that assigns by hand pays one small query per commit, no task.
    if not AssignmentRule.objects.exclude(strategy=AssignmentRule.Strategy.MANUAL).exists():
        return
    from mostrador.core.tasks import enqueue_on_commit
    from mostrador.routing.tasks import route_after_changes

    enqueue_on_commit(route_after_changes, list(route), list(freeing), list(agents),
                      list(teams), list(inboxes), freeing_events)


def connect() -> None:
    subscribe_batch(on_commit_batch)
