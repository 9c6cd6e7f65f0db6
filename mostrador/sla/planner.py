"""What a conversation's SLA targets should be now, worked out without touching the database.

``plan()`` compares a conversation's present state (``Snapshot``) and the policy that matches it
with the targets it already has, and changes those ``Target`` objects in memory: start, pause,
resume, meet, re-anchor on another calendar, re-budget after a policy change. The callers
(``sla.actions``) load the inputs, save what changed and write the timeline events, one
conversation at a time after each change or thousands at a time when a policy changes. Running
it twice on the same state changes nothing the second time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable

from mostrador.sla.clock import BusinessCalendar
from mostrador.sla.models import Policy, Target

Kind = Target.Kind
State = Target.State
MICRO = dt.timedelta(microseconds=1)
DONE_STATUSES = frozenset({"solved", "closed"})
# "Pending customer" pauses the clocks; "on hold" (waiting on a third party) does not: that
# wait is the desk's.
PAUSING_STATUSES = frozenset({"pending"})


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """The parts of a conversation the SLA depends on."""

    id: int
    status: str
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    waiting_since: dt.datetime | None
    solved_at: dt.datetime | None
    channel_kind: str
    request_type: str
    priority: int
    segments: tuple[str, ...]
    organisation_id: int | None
    team_calendar_id: int | None
    inbox_calendar_id: int | None
    merged: bool = False


@dataclasses.dataclass(slots=True)
class PolicyRule:
    """A policy reduced to what matching and planning read (no queries while planning)."""

    id: int
    name: str
    channels: frozenset[str]
    request_types: frozenset[str]
    priorities: frozenset[int]
    segments: frozenset[str]
    organisations: frozenset[int]
    minutes: dict[str, int]
    business_hours: bool
    legal_days: int | None
    legal_calendar_id: int | None
    calendar_id: int | None
    pause_when_pending: bool
    warn_percent: int

    @classmethod
    def of(cls, policy: Policy, organisation_ids: Iterable[int]) -> PolicyRule:
        return cls(
            id=policy.pk, name=policy.name, channels=frozenset(policy.channels or ()),
            request_types=frozenset(policy.request_types or ()),
            priorities=frozenset(int(p) for p in policy.priorities or ()),
            segments=frozenset(policy.segments or ()), organisations=frozenset(organisation_ids),
            minutes=policy.target_minutes(), business_hours=policy.business_hours,
            legal_days=policy.legal_days, legal_calendar_id=policy.legal_calendar_id,
            calendar_id=policy.calendar_id, pause_when_pending=policy.pause_when_pending,
            warn_percent=policy.warn_percent,
        )

    def matches(self, snap: Snapshot) -> bool:
        return ((not self.channels or snap.channel_kind in self.channels)
                and (not self.request_types or snap.request_type in self.request_types)
                and (not self.priorities or snap.priority in self.priorities)
                and (not self.segments or not self.segments.isdisjoint(snap.segments))
                and (not self.organisations or snap.organisation_id in self.organisations))


def match(rules: Iterable[PolicyRule], snap: Snapshot) -> PolicyRule | None:
    """The first rule (in position order) that matches."""
    for rule in rules:
        if rule.matches(snap):
            return rule
    return None


@dataclasses.dataclass(slots=True)
class Change:
    """One step worth a timeline event."""

    kind: str  # started, paused, resumed, met, recomputed, cancelled
    target: Target
    detail: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(slots=True)
class Plan:
    targets: dict[str, Target]
    created: list[Target]
    changed: list[Target]
    changes: list[Change]


Calendars = Callable[[int | None, bool], BusinessCalendar]


def calendar_id_for(rule: PolicyRule, snap: Snapshot, default_id: int | None) -> int | None:
    return rule.calendar_id or snap.team_calendar_id or snap.inbox_calendar_id or default_id


def legal_due(calendar: BusinessCalendar, received: dt.datetime, days: int) -> dt.datetime:
    """The close of business on the ``days``-th business day counted from the day after
    ``received``."""
    day_moment = calendar.add_days(received, days)
    local_day = day_moment.astimezone(calendar.zone).date()
    if local_day <= received.astimezone(calendar.zone).date():
        # add_days(…, n) stays on the receipt day only when it is not a business day itself
        # and n is 0; legal counting always starts the day after.
        day_moment = calendar.add_days(received, days + 1)
        local_day = day_moment.astimezone(calendar.zone).date()
    periods = calendar.periods_on(local_day)
    return periods[-1][1]


def _spend(target: Target, calendar: BusinessCalendar, now: dt.datetime) -> None:
    """Take the business time since the anchor out of the budget; the clock stops."""
    if target.anchor_at is not None:
        if now > target.anchor_at:
            target.budget_us -= calendar.working_time(target.anchor_at, now) // MICRO
        target.anchor_at = None


def schedule(target: Target, calendar: BusinessCalendar) -> None:
    """Due and warning moments from the anchor and the budget left."""
    if target.anchor_at is None:
        target.due_at = target.warn_at = None
        return
    target.due_at = _shift(calendar, target.anchor_at, target.budget_us)
    if target.warned_at is None and target.warn_percent < 100:
        # Warn when (100 - warn_percent) % of the whole target is left.
        margin = target.target_seconds * 1_000_000 * (100 - target.warn_percent) // 100
        target.warn_at = _shift(calendar, target.anchor_at, target.budget_us - margin)
    else:
        target.warn_at = None


def _shift(calendar: BusinessCalendar, anchor: dt.datetime, micros: int) -> dt.datetime:
    if micros >= 0:
        return calendar.add(anchor, dt.timedelta(microseconds=micros))
    return calendar.subtract(anchor, dt.timedelta(microseconds=-micros))


class Planner:
    """Plans one conversation at a time against fixed policies, calendars and ``now``."""

    def __init__(self, rules: list[PolicyRule], calendars: Calendars,
                 default_calendar_id: int | None, now: dt.datetime) -> None:
        self.rules = rules
        self.calendars = calendars
        self.default_calendar_id = default_calendar_id
        self.now = now

    def plan(self, snap: Snapshot, existing: dict[str, Target]) -> Plan:
        plan = Plan(targets=dict(existing), created=[], changed=[], changes=[])
        rule = None if snap.merged else match(self.rules, snap)
        wanted = self._wanted(rule, snap)
        for kind, target in existing.items():
            if kind not in wanted and target.state in (State.ACTIVE, State.PAUSED):
                if (kind == Kind.NEXT_RESPONSE and rule is not None
                        and Kind.NEXT_RESPONSE in rule.minutes):
                    # The customer no longer waits: the desk answered (or handed the ball
                    # back to them).
                    self._meet(plan, target, self.now)
                else:
                    self._cancel(plan, target)
        if rule is None:
            return plan
        calendar_id = calendar_id_for(rule, snap, self.default_calendar_id)
        for kind, (seconds, started_at) in wanted.items():
            target = existing.get(kind)
            if target is None and self._met_at(kind, snap) is not None:
                continue  # already kept before this policy applied: nothing to promise
            if kind == Kind.LEGAL:
                self._legal(plan, rule, snap, target, started_at)
                continue
            fresh = (target is None or target.state == State.CANCELLED
                     or (kind == Kind.NEXT_RESPONSE and target.started_at != started_at))
            if fresh:
                target = self._start(plan, rule, snap, kind, seconds, started_at, calendar_id,
                                     existing.get(kind))
            else:
                self._adjust(plan, rule, target, seconds, calendar_id)
            self._follow_status(plan, rule, snap, target)
        return plan

    # --- which targets the conversation should have -----------------------------------------

    def _wanted(self, rule: PolicyRule | None,
                snap: Snapshot) -> dict[str, tuple[int, dt.datetime]]:
        if rule is None:
            return {}
        wanted: dict[str, tuple[int, dt.datetime]] = {}
        minutes = rule.minutes
        if Kind.FIRST_RESPONSE in minutes:
            wanted[Kind.FIRST_RESPONSE] = (minutes[Kind.FIRST_RESPONSE] * 60, snap.created_at)
        if (Kind.NEXT_RESPONSE in minutes and snap.first_response_at is not None
                and snap.waiting_since is not None and snap.waiting_since > snap.first_response_at):
            wanted[Kind.NEXT_RESPONSE] = (minutes[Kind.NEXT_RESPONSE] * 60, snap.waiting_since)
        if Kind.RESOLUTION in minutes:
            wanted[Kind.RESOLUTION] = (minutes[Kind.RESOLUTION] * 60, snap.created_at)
        if rule.legal_days:
            wanted[Kind.LEGAL] = (0, snap.created_at)
        return wanted

    # --- steps ------------------------------------------------------------------------------

    def _touch(self, plan: Plan, target: Target) -> None:
        target.updated_at = self.now
        if target.pk is not None and target not in plan.changed:
            plan.changed.append(target)

    def _start(self, plan: Plan, rule: PolicyRule, snap: Snapshot, kind: str, seconds: int,
               started_at: dt.datetime, calendar_id: int | None,
               previous: Target | None) -> Target:
        calendar = self.calendars(calendar_id, rule.business_hours)
        target = previous or Target(conversation_id=snap.id, kind=kind)
        target.policy_id = rule.id
        target.calendar_id = calendar_id
        target.business_hours = rule.business_hours
        target.target_seconds = seconds
        target.warn_percent = rule.warn_percent
        target.started_at = started_at
        target.anchor_at = started_at
        target.budget_us = seconds * 1_000_000
        target.state = State.ACTIVE
        target.warned_at = target.breached_at = target.met_at = None
        schedule(target, calendar)
        target.updated_at = self.now
        plan.targets[kind] = target
        if previous is None:
            plan.created.append(target)
        elif target not in plan.changed:
            plan.changed.append(target)
        plan.changes.append(Change("started", target))
        return target

    def _adjust(self, plan: Plan, rule: PolicyRule, target: Target, seconds: int,
                calendar_id: int | None) -> None:
        """A new policy, new targets or another calendar for a target already counting."""
        policy_changed = (target.policy_id != rule.id or target.target_seconds != seconds
                          or target.warn_percent != rule.warn_percent)
        calendar_changed = (target.calendar_id != calendar_id
                            or target.business_hours != rule.business_hours)
        if not policy_changed and not calendar_changed:
            return
        if target.state in (State.MET, State.CANCELLED):
            return  # a promise already kept (or broken) stays as it was made
        old_calendar = self.calendars(target.calendar_id, target.business_hours)
        running = target.anchor_at is not None
        if calendar_changed and running:
            # Time already spent stays spent (counted in the old hours); the rest runs in the
            # new hours from now.
            _spend(target, old_calendar, max(self.now, target.anchor_at))
            target.anchor_at = max(self.now, target.started_at)
        target.budget_us += (seconds - target.target_seconds) * 1_000_000
        before = {"policy": target.policy_id, "seconds": target.target_seconds,
                  "due": target.due_at.isoformat() if target.due_at else None}
        target.policy_id = rule.id
        target.target_seconds = seconds
        target.warn_percent = rule.warn_percent
        target.calendar_id = calendar_id
        target.business_hours = rule.business_hours
        if target.state in (State.ACTIVE, State.PAUSED):
            new_calendar = self.calendars(calendar_id, rule.business_hours)
            schedule(target, new_calendar)
            if target.due_at and target.due_at > self.now and target.breached_at:
                # A longer target puts a breached promise back on track.
                target.breached_at = None
        self._touch(plan, target)
        plan.changes.append(Change("recomputed", target, {"before": before}))

    def _follow_status(self, plan: Plan, rule: PolicyRule, snap: Snapshot,
                       target: Target) -> None:
        """Meet, pause or resume as the conversation's state says."""
        calendar = self.calendars(target.calendar_id, target.business_hours)
        met_at = self._met_at(target.kind, snap)
        if met_at is not None:
            if target.state in (State.ACTIVE, State.PAUSED):
                self._meet(plan, target, met_at)
            return
        if target.state == State.MET:
            # Reopened: the clock goes on from what was left when it was met.
            target.state, target.met_at = State.ACTIVE, None
            target.anchor_at = self.now
            schedule(target, calendar)
            self._touch(plan, target)
            plan.changes.append(Change("resumed", target))
        should_pause = rule.pause_when_pending and snap.status in PAUSING_STATUSES
        if should_pause and target.state == State.ACTIVE:
            _spend(target, calendar, max(self.now, target.anchor_at or self.now))
            target.state = State.PAUSED
            schedule(target, calendar)
            self._touch(plan, target)
            plan.changes.append(Change("paused", target))
        elif not should_pause and target.state == State.PAUSED:
            target.state = State.ACTIVE
            target.anchor_at = self.now
            schedule(target, calendar)
            self._touch(plan, target)
            plan.changes.append(Change("resumed", target))

    def _meet(self, plan: Plan, target: Target, met_at: dt.datetime) -> None:
        calendar = self.calendars(target.calendar_id, target.business_hours)
        _spend(target, calendar, max(met_at, target.anchor_at or met_at))
        if target.due_at and met_at > target.due_at and target.breached_at is None:
            target.breached_at = target.due_at
        target.state, target.met_at = State.MET, met_at
        target.due_at = target.warn_at = None
        self._touch(plan, target)
        plan.changes.append(Change("met", target, {"late": bool(target.breached_at)}))

    def _met_at(self, kind: str, snap: Snapshot) -> dt.datetime | None:
        if kind == Kind.FIRST_RESPONSE:
            return snap.first_response_at
        if kind == Kind.NEXT_RESPONSE:
            # Wanted only while the customer waits; called only then.
            return None
        if snap.status in DONE_STATUSES:
            return snap.solved_at or self.now
        return None

    def _legal(self, plan: Plan, rule: PolicyRule, snap: Snapshot, target: Target | None,
               received: dt.datetime) -> None:
        """A legal deadline: a fixed date under a national calendar; it never pauses."""
        calendar_id = rule.legal_calendar_id or calendar_id_for(rule, snap,
                                                                self.default_calendar_id)
        calendar = self.calendars(calendar_id, True)
        due = legal_due(calendar, received, rule.legal_days or 0)
        if target is None:
            target = Target(conversation_id=snap.id, kind=Kind.LEGAL, started_at=received,
                            anchor_at=received, state=State.ACTIVE)
            plan.created.append(target)
            plan.targets[Kind.LEGAL] = target
            plan.changes.append(Change("started", target, {"days": rule.legal_days}))
        elif target.state == State.ACTIVE and (target.due_at != due
                                               or target.policy_id != rule.id
                                               or target.calendar_id != calendar_id):
            self._touch(plan, target)
            plan.changes.append(Change("recomputed", target, {"days": rule.legal_days}))
        target.policy_id, target.calendar_id = rule.id, calendar_id
        target.business_hours, target.warn_percent = True, rule.warn_percent
        target.target_seconds = int((due - received).total_seconds())
        target.updated_at = self.now
        met_at = self._met_at(Kind.LEGAL, snap)
        if met_at is not None:
            if target.state == State.ACTIVE:
                if met_at > due and target.breached_at is None:
                    target.breached_at = due
                target.state, target.met_at = State.MET, met_at
                target.due_at = target.warn_at = None
                self._touch(plan, target)
                plan.changes.append(Change("met", target, {"late": bool(target.breached_at)}))
            return
        if target.state != State.ACTIVE:
            target.state, target.met_at = State.ACTIVE, None
            self._touch(plan, target)
            plan.changes.append(Change("resumed", target))
        target.due_at = due
        if target.warned_at is None and target.warn_percent < 100:
            span = due - received
            target.warn_at = received + span * target.warn_percent / 100
        # Business time from receipt to the deadline (the budget counts from the anchor).
        target.anchor_at = received
        target.budget_us = calendar.working_time(received, due) // MICRO

    def _cancel(self, plan: Plan, target: Target) -> None:
        target.state = State.CANCELLED
        target.anchor_at = target.due_at = target.warn_at = None
        self._touch(plan, target)
        plan.changes.append(Change("cancelled", target))


def summary(targets: Iterable[Target], now: dt.datetime) -> dict[str, object]:
    """The conversation's mirror columns: due times per kind, the nearest due time, and its
    worst SLA health."""
    due: dict[str, dt.datetime | None] = {Kind.FIRST_RESPONSE: None, Kind.NEXT_RESPONSE: None,
                                          Kind.RESOLUTION: None}
    nearest: dt.datetime | None = None
    healths: set[str] = set()
    for target in targets:
        if target.state == State.CANCELLED:
            continue
        healths.add(target.health(now))
        if target.state == State.ACTIVE and target.due_at is not None:
            if target.kind in due:
                due[target.kind] = target.due_at
            if nearest is None or target.due_at < nearest:
                nearest = target.due_at
    for health in ("breached", "at_risk", "on_track", "paused", "met_late", "met"):
        if health in healths:
            status = "met" if health == "met_late" else health
            break
    else:
        status = ""
    return {"first_response_due": due[Kind.FIRST_RESPONSE],
            "next_response_due": due[Kind.NEXT_RESPONSE],
            "resolution_due": due[Kind.RESOLUTION], "sla_due_at": nearest,
            "sla_status": status}
