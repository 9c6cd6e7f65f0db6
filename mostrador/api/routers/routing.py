"""Routing: assignment rules of teams and inboxes, the queue they serve, agents' routing
profiles (status, tier, skills, capacity), the escalation ladder, and a conversation moved up,
down or across the desk. Any agent reads, sets their own status and escalates or transfers the
conversations they can see; supervisors and administrators change rules, profiles and the
ladder."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Query, Router, Schema, Status

from mostrador.accounts.actions import do_update_agent, do_update_team
from mostrador.accounts.models import Agent, Team
from mostrador.api import parse, reads
from mostrador.api.render import ref
from mostrador.api.schemas_routing import (
    AgentOut,
    AgentPage,
    AgentRoutingPatchIn,
    AssignmentRuleIn,
    AssignmentRuleOut,
    AssignmentRulePage,
    DecisionOut,
    LadderIn,
    LadderOut,
    NoteIn,
    QueueOut,
    RoutingOut,
    TransferIn,
)
from mostrador.conversations.models import Conversation, Inbox
from mostrador.conversations.queries import (
    access_conversation,
    access_inbox,
    visible_conversations,
)
from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.routing import actions
from mostrador.routing.models import AssignmentRule
from mostrador.routing.queries import routing_figures

router = Router(tags=["routing"])

QUEUE_LIMIT = 200


# --- reading --------------------------------------------------------------------------------


def access_team(team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("Team %(id)s not found.") % {"id": team_id}, field="team")
    return team


def access_agent(user_id: int) -> Agent:
    agent = (Agent.objects.select_related("user").prefetch_related("user__teams")
             .filter(user_id=user_id).first())
    if agent is None:
        raise NotFound(_("Agent %(id)s not found.") % {"id": user_id}, field="user")
    return agent


def _loads(user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Conversations counting against each agent's capacity, per channel kind (one query)."""
    loads: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (Conversation.objects.filter(assignee_id__in=user_ids,
                                        status__in=actions.LOAD_STATUSES)
            .values_list("assignee_id", "channel_kind").annotate(n=Count("id"))
            .values_list("assignee_id", "channel_kind", "n"))
    for user_id, channel_kind, n in rows:
        loads[user_id][channel_kind] = n
    return loads


# --- rendering ------------------------------------------------------------------------------


def _rule(r: AssignmentRule) -> dict[str, Any]:
    return {"id": r.pk, "team": ref(r.team) if r.team_id else None,
            "inbox": ref(r.inbox) if r.inbox_id else None, "strategy": r.strategy,
            "premium_segments": list(r.premium_segments or []),
            "include_away": r.include_away, "updated_at": r.updated_at}


def _agent(a: Agent, load: dict[str, int]) -> dict[str, Any]:
    capacity = a.capacity or {}
    return {"id": a.user_id, "name": a.display_name, "email": a.user.email, "role": a.role,
            "status": a.status, "tier": a.tier,
            "capacity": {kind: actions.capacity_for(capacity, kind) for kind in sorted(capacity)},
            "skills": list(a.skills or []),
            "teams": [ref(t) for t in sorted(a.user.teams.all(), key=lambda t: t.name)],
            "load": dict(sorted(load.items())), "load_total": sum(load.values()),
            "last_assigned_at": a.last_assigned_at}


def _agent_out(user_id: int) -> dict[str, Any]:
    agent = access_agent(user_id)
    return _agent(agent, _loads([user_id]).get(user_id, {}))


def _ladder(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "tier": team.tier,
            "escalates_to": ref(team.escalates_to) if team.escalates_to_id else None,
            "escalated_from": [ref(t) for t in team.escalated_from.order_by("name", "id")]}


def _routing(conversation: Conversation) -> dict[str, Any]:
    figures = routing_figures(conversation)
    assignee = conversation.assignee if conversation.assignee_id else None
    names = reads.display_names([assignee] if assignee else [])
    return {"conversation": conversation.pk, "tier": figures.tier,
            "team": ref(conversation.team) if conversation.team_id else None,
            "assignee": ref(assignee, names.get(assignee.pk)) if assignee else None,
            "waiting_since": figures.waiting_since,
            "seconds_in_tier": {tier: round(seconds)
                                for tier, seconds in sorted(figures.seconds_in_tier.items())},
            "transfers": figures.transfers, "escalations": figures.escalations}


def _routing_out(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    return _routing(access_conversation(request.user, conversation_id))


# --- assignment rules -----------------------------------------------------------------------


@router.get("/routing/rules", response=AssignmentRulePage)
def list_rules(request: HttpRequest):
    """Every assignment rule: teams' first (by name), then inboxes'. A conversation follows its
    team's rule, else its inbox's; without either it is assigned by hand."""
    rows = AssignmentRule.objects.select_related("team", "inbox")
    rows = sorted(rows, key=lambda r: (r.team_id is None, str(r.team or r.inbox), r.pk))
    return {"items": [_rule(r) for r in rows], "next_cursor": None}


def _set_rule(request: HttpRequest, payload: AssignmentRuleIn, *, team: Team | None = None,
              inbox: Inbox | None = None) -> dict[str, Any]:
    rule = actions.do_set_assignment_rule(
        team=team, inbox=inbox, strategy=payload.strategy,
        premium_segments=payload.premium_segments, include_away=payload.include_away,
        acting_user=request.user)
    return _rule(AssignmentRule.objects.select_related("team", "inbox").get(pk=rule.pk))


@router.put("/teams/{int:team_id}/assignment-rule", response=AssignmentRuleOut)
def set_team_rule(request: HttpRequest, team_id: int, payload: AssignmentRuleIn):
    """Create or replace the team's rule (supervisors and administrators). Waiting
    conversations are offered to the team's agents right after."""
    reads.require_supervisor(request.user)
    return _set_rule(request, payload, team=access_team(team_id))


@router.put("/inboxes/{int:inbox_id}/assignment-rule", response=AssignmentRuleOut)
def set_inbox_rule(request: HttpRequest, inbox_id: int, payload: AssignmentRuleIn):
    """The inbox's rule serves its conversations whose team has no rule of its own."""
    reads.require_supervisor(request.user)
    return _set_rule(request, payload, inbox=access_inbox(request.user, inbox_id))


@router.delete("/teams/{int:team_id}/assignment-rule", response={204: None})
def delete_team_rule(request: HttpRequest, team_id: int):
    """The team's conversations follow their inbox's rule again, or are assigned by hand."""
    reads.require_supervisor(request.user)
    team = access_team(team_id)
    if not actions.do_delete_assignment_rule(team=team, acting_user=request.user):
        raise NotFound(_("The team %(team)s has no assignment rule.") % {"team": team.name},
                       field="rule")
    return Status(204, None)


@router.delete("/inboxes/{int:inbox_id}/assignment-rule", response={204: None})
def delete_inbox_rule(request: HttpRequest, inbox_id: int):
    reads.require_supervisor(request.user)
    inbox = access_inbox(request.user, inbox_id)
    if not actions.do_delete_assignment_rule(inbox=inbox, acting_user=request.user):
        raise NotFound(_("The inbox %(inbox)s has no assignment rule.") % {"inbox": inbox.name},
                       field="rule")
    return Status(204, None)


# --- the queue ------------------------------------------------------------------------------


class QueueQuery(Schema):
    team: int | None = None
    inbox: int | None = None
    limit: int = QUEUE_LIMIT


@router.get("/routing/queue", response=QueueOut)
def routing_queue(request: HttpRequest, query: Query[QueueQuery]):
    """The unassigned conversations waiting in a team's queue (``team``) or in a team-less
    inbox's (``inbox``: its conversations whose team has no rule), in the order routing gives
    them out."""
    if (query.team is None) == (query.inbox is None):
        raise ValidationFailed(_("Give either team or inbox."), field="team")
    limit = parse.page_limit(query.limit)
    team = inbox = None
    if query.team is not None:
        team = access_team(query.team)
        rule = AssignmentRule.objects.filter(team=team).first()
    else:
        inbox = access_inbox(request.user, query.inbox)
        rule = AssignmentRule.objects.filter(inbox=inbox).first()
    ids = actions.queue(team_id=query.team, inbox_id=query.inbox, limit=limit)
    found = visible_conversations(request.user).select_related("customer").in_bulk(ids)
    items = []
    for conversation_id in ids:
        c = found.get(conversation_id)
        if c is not None:
            items.append({"id": c.pk, "number": c.number, "subject": c.subject,
                          "priority": c.priority, "waiting_since": c.waiting_since,
                          "premium": actions.is_premium(c, rule)})
    return {"team": ref(team), "inbox": ref(inbox),
            "strategy": rule.strategy if rule else AssignmentRule.Strategy.MANUAL,
            "items": items}


# --- agents ---------------------------------------------------------------------------------


class AgentQuery(Schema):
    team: int | None = None
    status: str | None = None


@router.get("/agents", response=AgentPage)
def list_agents(request: HttpRequest, query: Query[AgentQuery]):
    """Active agents by name, with their routing profile and current load; ``team`` and
    ``status`` (online, away, offline) narrow the list."""
    agents = (Agent.objects.select_related("user").prefetch_related("user__teams")
              .filter(user__is_active=True))
    if query.team is not None:
        agents = agents.filter(user__teams=access_team(query.team))
    if query.status:
        if query.status not in Agent.Status.values:
            raise ValidationFailed(_("Unknown status %(status)s; use one of %(choices)s.")
                                   % {"status": query.status,
                                      "choices": ", ".join(Agent.Status.values)},
                                   field="status")
        agents = agents.filter(status=query.status)
    rows = list(agents.order_by("display_name", "user_id"))
    loads = _loads([a.user_id for a in rows])
    return {"items": [_agent(a, loads.get(a.user_id, {})) for a in rows], "next_cursor": None}


@router.get("/agents/{int:user_id}/routing", response=AgentOut)
def get_agent_routing(request: HttpRequest, user_id: int):
    return _agent_out(user_id)


@router.patch("/agents/{int:user_id}/routing", response=AgentOut)
def update_agent_routing(request: HttpRequest, user_id: int, payload: AgentRoutingPatchIn):
    """Change what is given. Agents set their own ``status``; the rest, and other agents,
    need a supervisor or an administrator. Coming online (or more capacity) gives the agent
    waiting conversations right after."""
    agent = access_agent(user_id)
    changes = payload.model_dump(include=payload.model_fields_set)
    if set(changes) - {"status"} or agent.user_id != request.user.pk:
        reads.require_supervisor(request.user)
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    if changes:
        do_update_agent(agent, **changes)
    return _agent_out(user_id)


# --- the ladder -----------------------------------------------------------------------------


@router.put("/teams/{int:team_id}/ladder", response=LadderOut)
def set_ladder(request: HttpRequest, team_id: int, payload: LadderIn):
    """Where escalations from the team go (supervisors and administrators); ``null`` sends them
    to the desk's first team of the next tier. A ladder that would climb back to the team is
    refused."""
    reads.require_supervisor(request.user)
    team = access_team(team_id)
    target = (reads.team(payload.escalates_to, field="escalates_to")
              if payload.escalates_to is not None else None)
    do_update_team(team, acting_user=request.user, escalates_to=target)
    return _ladder(Team.objects.select_related("escalates_to").get(pk=team.pk))


# --- a conversation's routing ---------------------------------------------------------------


@router.get("/conversations/{int:conversation_id}/routing", response=RoutingOut)
def conversation_routing(request: HttpRequest, conversation_id: int):
    """Its tier, team and agent, how long it spent at each tier, and how often it moved."""
    return _routing_out(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/escalate", response=RoutingOut)
def escalate(request: HttpRequest, conversation_id: int,
             payload: NoteIn = Body(None)):  # noqa: B008
    """One tier up, to the next team of the ladder, with an optional internal ``note``. The
    thread and the customer's waiting time go with it; an agent of a lower tier lets go of it
    and routing finds the next one right after."""
    conversation = access_conversation(request.user, conversation_id)
    actions.do_escalate(conversation, acting_user=request.user,
                        note=payload.note if payload else "")
    return _routing_out(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/deescalate", response=RoutingOut)
def deescalate(request: HttpRequest, conversation_id: int,
               payload: NoteIn = Body(None)):  # noqa: B008
    """One tier down, to the team below on the ladder (an expert hands it back, usually with
    a ``note`` for first contact)."""
    conversation = access_conversation(request.user, conversation_id)
    actions.do_deescalate(conversation, acting_user=request.user,
                          note=payload.note if payload else "")
    return _routing_out(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/transfer", response=RoutingOut)
def transfer(request: HttpRequest, conversation_id: int, payload: TransferIn):
    """Hand it to another ``team`` (it takes the team's tier) and/or ``agent``. An agent who
    is not in the new team lets go of it unless named."""
    conversation = access_conversation(request.user, conversation_id)
    team = reads.team(payload.team, field="team") if payload.team is not None else None
    agent = (reads.agent_user(payload.agent, field="agent")
             if payload.agent is not None else None)
    actions.do_transfer(conversation, acting_user=request.user, team=team, agent=agent,
                        note=payload.note)
    return _routing_out(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/route", response=DecisionOut)
def route_now(request: HttpRequest, conversation_id: int):
    """Ask routing to assign the conversation now, following its team's (else its inbox's)
    rule; the answer says to whom, or why nobody."""
    conversation = access_conversation(request.user, conversation_id)
    decision = actions.route(conversation.pk)
    assignee = None
    if decision.agent_id is not None:
        user = get_user_model().objects.select_related("agent").get(pk=decision.agent_id)
        assignee = ref(user, reads.display_names([user])[user.pk])
    return {"conversation": conversation.pk, "assignee": assignee, "reason": decision.reason,
            "strategy": decision.strategy, "load": decision.load,
            "capacity": decision.capacity}
