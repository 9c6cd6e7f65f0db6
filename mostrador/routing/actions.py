"""Routing: who gets a conversation, and moving it up, down and across the desk.

Assignment follows the rule of the conversation's team (else of its inbox): manual, round robin,
least loaded or skills match, among the team's active agents of the conversation's tier or above
whose status the rule accepts and who have room on the conversation's channel. Premium customers
are served first when agents free up (:func:`drain_queue`).

Assignment is race-free. The conversation row is locked first (``select_for_update``), so two
workers never give it to two agents: the second one finds it assigned. Each candidate agent's row
is then locked with ``SKIP LOCKED`` and their load counted again under that lock, so two workers
never push one agent past capacity: the one that finds the agent locked moves on to the next.

Escalation, de-escalation and transfers keep the conversation, its thread and its waiting time
(``waiting_since`` stays what the customer's first unanswered message set); they write a
``routing.*`` event and let routing find the next agent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.accounts.models import Agent, Team
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation
from mostrador.core.errors import ValidationFailed
from mostrador.core.publish import publish_on_commit
from mostrador.routing import events
from mostrador.routing.models import AssignmentRule

Status = Conversation.Status
Strategy = AssignmentRule.Strategy
# What counts against an agent's capacity: conversations waiting on them.
LOAD_STATUSES = (Status.NEW, Status.OPEN, Status.ON_HOLD)
ROUTABLE_STATUSES = (Status.NEW, Status.OPEN)
_LOAD_STATUSES_SQL = ", ".join(f"'{status}'" for status in LOAD_STATUSES)
MAX_TIER = 3


# --- rules ---------------------------------------------------------------------------------


def rule_for(conversation: Conversation) -> AssignmentRule | None:
    """The team's rule, else the inbox's."""
    owners = Q(inbox_id=conversation.inbox_id)
    if conversation.team_id:
        owners |= Q(team_id=conversation.team_id)
    rules = list(AssignmentRule.objects.filter(owners))
    for rule in rules:
        if rule.team_id and rule.team_id == conversation.team_id:
            return rule
    return rules[0] if rules else None


@transaction.atomic
def do_set_assignment_rule(*, team: Team | None = None, inbox=None, strategy: str,
                           premium_segments: list[str] | None = None,
                           include_away: bool | None = None, acting_user) -> AssignmentRule:
    """Create or change the rule of a team or an inbox."""
    if (team is None) == (inbox is None):
        raise ValidationFailed(_("A rule belongs to a team or to an inbox."), field="team")
    if strategy not in Strategy.values:
        raise ValidationFailed(_("Unknown strategy %(strategy)s; use one of %(choices)s.")
                               % {"strategy": strategy, "choices": ", ".join(Strategy.values)},
                               field="strategy")
    rule, _created = AssignmentRule.objects.select_for_update().get_or_create(
        team=team, inbox=inbox)
    before = {"strategy": rule.strategy, "premium_segments": rule.premium_segments,
              "include_away": rule.include_away}
    rule.strategy = strategy
    if premium_segments is not None:
        rule.premium_segments = sorted({s.strip() for s in premium_segments if s.strip()})
    if include_away is not None:
        rule.include_away = include_away
    rule.save()
    publish_on_commit("routing.rule_changed", {
        "rule_id": rule.pk, "team_id": rule.team_id, "inbox_id": rule.inbox_id,
        "before": before, "acting_user_id": getattr(acting_user, "pk", None)})
    return rule


@transaction.atomic
def do_delete_assignment_rule(*, team: Team | None = None, inbox=None, acting_user) -> bool:
    """Remove the rule of a team or an inbox: its conversations are assigned by hand again (a
    team's fall back to their inbox's rule). False when it had none."""
    if (team is None) == (inbox is None):
        raise ValidationFailed(_("A rule belongs to a team or to an inbox."), field="team")
    rule = AssignmentRule.objects.select_for_update().filter(team=team, inbox=inbox).first()
    if rule is None:
        return False
    before = {"strategy": rule.strategy, "premium_segments": rule.premium_segments,
              "include_away": rule.include_away}
    publish_on_commit("routing.rule_changed", {
        "rule_id": rule.pk, "team_id": rule.team_id, "inbox_id": rule.inbox_id,
        "before": before, "deleted": True, "acting_user_id": getattr(acting_user, "pk", None)})
    rule.delete()
    return True


# --- choosing an agent ---------------------------------------------------------------------


@dataclasses.dataclass
class Candidate:
    user_id: int
    tier: int
    capacity: int | None
    skills: frozenset[str]
    last_assigned_at: dt.datetime | None
    load: int = 0
    score: int = 0

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.load < self.capacity


@dataclasses.dataclass(frozen=True)
class Decision:
    agent_id: int | None
    reason: str
    strategy: str = ""
    load: int | None = None
    capacity: int | None = None


def capacity_for(capacity: dict[str, Any] | None, channel_kind: str) -> int | None:
    """An agent's room on a channel: their figure for it, else their "*" figure, else no
    limit."""
    capacity = capacity or {}
    value = capacity.get(channel_kind, capacity.get("*"))
    if value is None or value == "":
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def required_skills(conversation: Conversation) -> frozenset[str]:
    wanted = {f"channel:{conversation.channel_kind}"}
    if conversation.language:
        wanted.add(f"language:{conversation.language}")
    if conversation.request_type:
        wanted.add(f"product:{conversation.request_type}")
    return frozenset(wanted)


def candidates(conversation: Conversation, rule: AssignmentRule, *,
               with_loads: bool = True) -> list[Candidate]:
    """Active agents who may take the conversation, with their current load on its channel
    (left at 0 with ``with_loads=False``: see :func:`decide`).

    Two statements, in SQL of our own: this runs for every routed conversation, and the ORM's
    per-row conversions (JSON fields, an IN list of every team member for the loads) cost more
    than the queries themselves. The load count reads the partial index conv_load_idx."""
    statuses = [Agent.Status.ONLINE] + ([Agent.Status.AWAY] if rule.include_away else [])
    agent_table = Agent._meta.db_table
    user_table = get_user_model()._meta.db_table
    members_table = Team.members.through._meta.db_table
    # JSON columns come back as text (parsed once per distinct value, see _json): decoding
    # every row's JSON would cost more than the rest of the decision.
    sql = (f"SELECT a.user_id, a.tier, CAST(a.capacity AS TEXT), CAST(a.skills AS TEXT), "
           f"a.last_assigned_at "
           f"FROM {agent_table} a JOIN {user_table} u ON u.id = a.user_id ")
    params: list[Any] = []
    if conversation.team_id:
        sql += f"JOIN {members_table} m ON m.user_id = a.user_id AND m.team_id = %s "
        params.append(conversation.team_id)
    sql += (f"WHERE u.is_active = %s AND a.tier >= %s "
            f"AND a.status IN ({', '.join(['%s'] * len(statuses))})")
    params += [True, conversation.tier, *statuses]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [Candidate(user_id, tier,
                           capacity_for(_json(capacity), conversation.channel_kind),
                           _skills(skills), last)
                 for user_id, tier, capacity, skills, last in cursor.fetchall()]
    if found and with_loads:
        _fill_loads(found, conversation.channel_kind, every_agent=True)
    return found


def _fill_loads(pool: list[Candidate], channel_kind: str, *, every_agent: bool = False) -> None:
    """Set each candidate's load on the channel: by counting every agent's (one pass over the
    open conversations) or only the pool's."""
    sql = (f"SELECT assignee_id, COUNT(*) FROM {Conversation._meta.db_table} "
           # The statuses are written out, not bound: SQLite uses a partial index only when
           # the query's terms visibly imply the index's condition.
           f"WHERE channel_kind = %s AND assignee_id IS NOT NULL "
           f"AND status IN ({_LOAD_STATUSES_SQL}) ")
    params: list[Any] = [channel_kind]
    if not every_agent:
        sql += f"AND assignee_id IN ({', '.join(['%s'] * len(pool))}) "
        params += [c.user_id for c in pool]
    with connection.cursor() as cursor:
        cursor.execute(sql + "GROUP BY assignee_id", params)
        loads = dict(cursor.fetchall())
    for candidate in pool:
        candidate.load = loads.get(candidate.user_id, 0)


# Round robin looks at the loads of this many agents at a time, in turn order.
ROUND_ROBIN_WINDOW = 20


def decide(conversation: Conversation, rule: AssignmentRule) -> Iterator[Candidate]:
    """The candidates in the order the rule tries them, agents without room left out.

    Least loaded and skills need every candidate's load. Round robin needs only to know that
    the next agents in turn have room, so it counts loads for a window of them at a time: the
    decision does not grow with the desk's open conversations."""
    if rule.strategy != Strategy.ROUND_ROBIN:
        yield from rank(conversation, rule.strategy, candidates(conversation, rule))
        return
    turn = rank(conversation, rule.strategy, candidates(conversation, rule, with_loads=False))
    for start in range(0, len(turn), ROUND_ROBIN_WINDOW):
        window = turn[start:start + ROUND_ROBIN_WINDOW]
        _fill_loads(window, conversation.channel_kind)
        yield from (c for c in window if c.has_room)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Any:
    return json.loads(text)


def _json(value: Any) -> Any:
    """A JSON column read as text, parsed once per distinct value."""
    return _parse(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=4096)
def _skill_set(text: str) -> frozenset[str]:
    return frozenset(json.loads(text) or ())


def _skills(value: Any) -> frozenset[str]:
    return _skill_set(value) if isinstance(value, str) else frozenset(value or ())


def rank(conversation: Conversation, strategy: str, pool: list[Candidate]) -> list[Candidate]:
    """The pool in the order the strategy tries it (agents without room left out)."""
    open_ = [c for c in pool if c.has_room]

    def idle(c: Candidate) -> tuple:
        # Never assigned first; the moments compare among themselves (datetimes, or ISO text
        # as SQLite hands them back).
        return (c.last_assigned_at is not None, c.last_assigned_at or "", c.user_id)

    if strategy == Strategy.ROUND_ROBIN:
        return sorted(open_, key=idle)
    if strategy == Strategy.LEAST_LOADED:
        return sorted(open_, key=lambda c: (c.load, *idle(c)))
    if strategy == Strategy.SKILLS:
        wanted = required_skills(conversation)
        language = f"language:{conversation.language}" if conversation.language else None
        # Speaking the customer's language is a must when anyone in the team speaks it; the
        # other skills (product, channel) only rank.
        if language and any(language in c.skills for c in pool):
            open_ = [c for c in open_ if language in c.skills]
        for c in open_:
            c.score = len(wanted & c.skills)
        return sorted(open_, key=lambda c: (-c.score, c.load, *idle(c)))
    return []


def _lock_agent(user_id: int) -> bool:
    """Lock the agent's row for this transaction; False when another worker holds it (it is
    assigning to them right now: try someone else)."""
    query = Agent.objects.filter(user_id=user_id)
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True)
    return query.values_list("pk", flat=True).first() is not None


def _load(user_id: int, channel_kind: str) -> int:
    return Conversation.objects.filter(assignee_id=user_id, status__in=LOAD_STATUSES,
                                       channel_kind=channel_kind).count()


def route(conversation: Conversation | int, *, now: dt.datetime | None = None) -> Decision:
    """Find the agent for an unassigned conversation and assign it, race-free (see the module
    docstring). Returns what was decided and why; a conversation nobody can take stays in its
    team's queue."""
    conversation_id = conversation if isinstance(conversation, int) else conversation.pk
    with transaction.atomic():
        locked = (Conversation.objects.select_for_update().filter(pk=conversation_id)
                  .first())
        if locked is None:
            return Decision(None, "missing")
        if locked.assignee_id is not None:
            return Decision(None, "assigned")
        if locked.status not in ROUTABLE_STATUSES or locked.merged_into_id:
            return Decision(None, "not_routable")
        rule = rule_for(locked)
        if rule is None or not rule.automatic:
            return Decision(None, "manual")
        for candidate in decide(locked, rule):
            if not _lock_agent(candidate.user_id):
                continue
            load = _load(candidate.user_id, locked.channel_kind)
            if candidate.capacity is not None and load >= candidate.capacity:
                continue
            _assign(locked, candidate, rule, load, now or timezone.now())
            return Decision(candidate.user_id, "assigned_now", rule.strategy, load + 1,
                            candidate.capacity)
        return Decision(None, "no_agent_available", rule.strategy)


def _assign(conversation: Conversation, candidate: Candidate, rule: AssignmentRule, load: int,
            now: dt.datetime) -> None:
    user = get_user_model().objects.select_related("agent").get(pk=candidate.user_id)
    Agent.objects.filter(user_id=candidate.user_id).update(last_assigned_at=now)
    conversation_actions.do_assign(conversation, user, acting_user=None)
    after: dict[str, Any] = {"agent": candidate.user_id, "strategy": rule.strategy,
                             "load": load + 1, "capacity": candidate.capacity}
    if rule.strategy == Strategy.SKILLS:
        after["skills"] = sorted(required_skills(conversation) & candidate.skills)
    conversation_actions.record_event(conversation, events.ASSIGNED, at=now, after=after)


# --- the queue -----------------------------------------------------------------------------


def queue(*, team_id: int | None = None, inbox_id: int | None = None,
          limit: int = 200) -> list[int]:
    """Unassigned conversations waiting in a team's (or a team-less inbox's) queue, in the
    order they get agents: premium customers first, then higher priority, then the longest
    waiting."""
    rows = Conversation.objects.filter(assignee__isnull=True, status__in=ROUTABLE_STATUSES,
                                       merged_into__isnull=True)
    if team_id is not None:
        rows = rows.filter(team_id=team_id)
        rule = AssignmentRule.objects.filter(team_id=team_id).first()
    else:
        # The inbox's rule serves its conversations whose team has no rule of its own.
        rows = rows.filter(inbox_id=inbox_id).exclude(team__assignment_rule__isnull=False)
        rule = AssignmentRule.objects.filter(inbox_id=inbox_id).first()
    premium = set(rule.premium_segments) if rule else set()
    found = list(rows.order_by(F("waiting_since").asc(nulls_last=True), "id")[: limit * 5]
                 .values_list(
        "id", "priority", "waiting_since", "created_at", "customer__segments"))

    def order(row: tuple) -> tuple:
        pk, priority, waiting_since, created_at, segments = row
        is_premium = bool(premium & set(segments or ()))
        return (not is_premium, -priority, waiting_since or created_at, pk)

    return [row[0] for row in sorted(found, key=order)[:limit]]


def is_premium(conversation: Conversation, rule: AssignmentRule | None) -> bool:
    if rule is None or not rule.premium_segments:
        return False
    return bool(set(rule.premium_segments) & set(conversation.customer.segments or ()))


@dataclasses.dataclass
class DrainResult:
    assigned: int = 0
    waiting: int = 0


def drain_queue(*, team_id: int | None = None, inbox_id: int | None = None,
                limit: int = 200) -> DrainResult:
    """Give queued conversations to agents with room, in queue order, until nobody can take
    more (three misses in a row)."""
    result, misses = DrainResult(), 0
    for conversation_id in queue(team_id=team_id, inbox_id=inbox_id, limit=limit):
        decision = route(conversation_id)
        if decision.agent_id is not None:
            result.assigned += 1
            misses = 0
            continue
        result.waiting += 1
        if decision.reason == "no_agent_available":
            misses += 1
            if misses >= 3:
                break
    return result


def automatic_queues() -> list[tuple[int | None, int | None]]:
    """(team id, inbox id) of every queue with an automatic rule."""
    return list(AssignmentRule.objects.exclude(strategy=Strategy.MANUAL)
                .values_list("team_id", "inbox_id"))


# --- escalation and transfers --------------------------------------------------------------


def next_team_up(team: Team | None, tier: int) -> Team | None:
    """The rung above: the team's own ``escalates_to``, else the desk's first team of that
    tier, else the same team."""
    if team is not None and team.escalates_to_id:
        return team.escalates_to
    desk = Team.objects.filter(tier=tier).order_by("id").first()
    return desk or team


def next_team_down(team: Team | None, tier: int) -> Team | None:
    if team is not None:
        below = team.escalated_from.order_by("id").first()
        if below is not None:
            return below
    desk = Team.objects.filter(tier=tier).order_by("id").first()
    return desk or team


def _move(conversation: Conversation, *, tier: int, team: Team | None, kind: str,
          acting_user, note: str, agent=None) -> Conversation:
    locked = conversation_actions._lock(conversation)
    conversation_actions._check_open_for_writing(locked)
    now = timezone.now()
    before = {"tier": locked.tier, "team": locked.team_id, "agent": locked.assignee_id}
    if team is not None and team.pk != locked.team_id:
        conversation_actions.do_set_team(locked, team, acting_user=acting_user)
    if tier != locked.tier:
        conversation_actions.do_set_tier(locked, tier, acting_user=acting_user)
    locked.refresh_from_db(fields=["tier", "team", "assignee"])
    if agent is not None:
        conversation_actions.do_assign(locked, agent, acting_user=acting_user)
    elif locked.assignee is not None and not _fits(locked.assignee, locked):
        conversation_actions.do_assign(locked, None, acting_user=acting_user)
    if note.strip():
        conversation_actions.do_add_note(locked, note.strip(), acting_user=acting_user)
    locked.refresh_from_db()
    conversation_actions.record_event(
        locked, kind, at=now, user=acting_user,
        before=before, after={"tier": locked.tier, "team": locked.team_id,
                              "agent": locked.assignee_id, "note": bool(note.strip())})
    return locked


def _fits(user, conversation: Conversation) -> bool:
    """May this agent keep the conversation at its tier and team?"""
    agent = getattr(user, "agent", None)
    if agent is None or agent.tier < conversation.tier:
        return False
    return conversation.team_id is None or user.teams.filter(pk=conversation.team_id).exists()


@transaction.atomic
def do_escalate(conversation: Conversation, *, acting_user, note: str = "") -> Conversation:
    """One tier up, to the next team of the ladder. The thread, the notes and the waiting time
    go with it; an agent of a lower tier lets go of it, and routing finds the next one."""
    if conversation.tier >= MAX_TIER:
        raise ValidationFailed(_("This conversation is already at the top tier."), field="tier")
    tier = conversation.tier + 1
    team = next_team_up(conversation.team, tier)
    return _move(conversation, tier=tier, team=team, kind=events.ESCALATED,
                 acting_user=acting_user, note=note)


@transaction.atomic
def do_deescalate(conversation: Conversation, *, acting_user, note: str = "") -> Conversation:
    """One tier down (an expert sends it back with instructions for first contact)."""
    if conversation.tier <= 1:
        raise ValidationFailed(_("This conversation is already at the first tier."),
                               field="tier")
    tier = conversation.tier - 1
    team = next_team_down(conversation.team, tier)
    return _move(conversation, tier=tier, team=team, kind=events.DEESCALATED,
                 acting_user=acting_user, note=note)


@transaction.atomic
def do_transfer(conversation: Conversation, *, acting_user, team: Team | None = None,
                agent=None, note: str = "") -> Conversation:
    """Hand the conversation to another team (it takes that team's tier) and/or agent. An
    agent who does not belong to the new team lets go of it unless named."""
    if team is None and agent is None:
        raise ValidationFailed(_("Choose the team or the agent to transfer to."), field="team")
    if agent is not None and (not agent.is_active or not hasattr(agent, "agent")):
        raise ValidationFailed(_("Only active agents can be assigned."), field="agent")
    tier = team.tier if team is not None else conversation.tier
    return _move(conversation, tier=tier, team=team, kind=events.TRANSFERRED,
                 acting_user=acting_user, note=note, agent=agent)
