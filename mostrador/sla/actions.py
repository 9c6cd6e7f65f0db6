"""Every write of the SLA app: calendars and policies, each conversation's clocks, warnings,
breaches and their escalation.

A conversation's targets are *reconciled*, not pushed around by each event: after any change
to a conversation, ``do_sync_sla`` reads its present state and lets ``planner`` decide what the
targets must be. That makes the listeners safe to run twice or late, and the same planner serves
the bulk re-computation when a policy or a calendar changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation, Event
from mostrador.core.errors import ValidationFailed
from mostrador.core.publish import publish_on_commit
from mostrador.core.tasks import enqueue_on_commit
from mostrador.sla import calendars, events
from mostrador.sla.models import WEEKDAYS, Calendar, CalendarDay, Policy, Target
from mostrador.sla.planner import Planner, PolicyRule, Snapshot, schedule, summary

logger = logging.getLogger(__name__)
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
SUMMARY_FIELDS = ("first_response_due", "next_response_due", "resolution_due", "sla_due_at",
                  "sla_status")
TARGET_FIELDS = ("policy", "calendar", "business_hours", "target_seconds", "warn_percent",
                 "started_at", "anchor_at", "budget_us", "due_at", "warn_at", "state",
                 "warned_at", "breached_at", "met_at", "updated_at")
SNAPSHOT_VALUES = ("id", "status", "created_at", "first_response_at", "waiting_since",
                   "solved_at", "inbox__channel_kind", "request_type", "priority",
                   "customer__segments", "customer__organisation_id", "team__calendar_id",
                   "inbox__calendar_id", "merged_into_id")


# --- reading the inputs ---------------------------------------------------------------------


def load_rules() -> list[PolicyRule]:
    policies = list(Policy.objects.filter(active=True).order_by("position", "id"))
    organisations: dict[int, list[int]] = defaultdict(list)
    through = Policy.organisations.through
    for policy_id, organisation_id in through.objects.filter(
            policy__in=policies).values_list("policy_id", "organisation_id"):
        organisations[policy_id].append(organisation_id)
    return [PolicyRule.of(policy, organisations[policy.pk]) for policy in policies]


def default_calendar_id() -> int | None:
    return Calendar.objects.filter(is_default=True).values_list("id", flat=True).first()


def snapshot_from_values(row: dict[str, Any]) -> Snapshot:
    return Snapshot(
        id=row["id"], status=row["status"], created_at=row["created_at"],
        first_response_at=row["first_response_at"], waiting_since=row["waiting_since"],
        solved_at=row["solved_at"], channel_kind=row["inbox__channel_kind"] or "",
        request_type=row["request_type"], priority=row["priority"],
        segments=tuple(row["customer__segments"] or ()),
        organisation_id=row["customer__organisation_id"],
        team_calendar_id=row["team__calendar_id"], inbox_calendar_id=row["inbox__calendar_id"],
        merged=row["merged_into_id"] is not None,
    )


def _planner(now: dt.datetime, rules: list[PolicyRule] | None = None) -> Planner:
    book = calendars.CalendarBook()
    return Planner(load_rules() if rules is None else rules,
                   lambda cid, business: book.get(cid, business_hours=business),
                   default_calendar_id(), now)


def _event_payloads(changes, policy_names: dict[int, str]) -> dict[str, dict[str, Any]]:
    """One event per step kind: which targets it touched, their due times, the policy."""
    grouped: dict[str, dict[str, Any]] = {}
    for change in changes:
        kind = events.FOR_CHANGE[change.kind]
        payload = grouped.setdefault(kind, {"targets": []})
        target = change.target
        entry = {"kind": target.kind,
                 "due": target.due_at.isoformat() if target.due_at else None}
        entry.update({key: value for key, value in change.detail.items() if key != "before"})
        if "before" in change.detail:
            entry["before_due"] = change.detail["before"]["due"]
        payload["targets"].append(entry)
        if target.policy_id in policy_names:
            payload["policy"] = policy_names[target.policy_id]
    return grouped


# --- one conversation, a batch of them, every open one ------------------------------------


@dataclasses.dataclass
class RecomputeResult:
    conversations: int = 0
    changed: int = 0
    created: int = 0
    seconds: float = 0.0


def do_sync_sla(conversation_id: int, *, now: dt.datetime | None = None) -> list[Target]:
    """Bring the conversation's SLA targets in line with its present state (safe to repeat)."""
    sync_many([conversation_id], now=now)
    return list(Target.objects.filter(conversation_id=conversation_id))


def sync_many(conversation_ids: list[int], *, now: dt.datetime | None = None) -> RecomputeResult:
    """``do_sync_sla`` for many conversations in one transaction, with their rows locked
    (``select_for_update``) so that a sweep or a re-computation never interleaves."""
    now = now or timezone.now()
    result = RecomputeResult()
    rules = load_rules()
    with transaction.atomic():
        if not rules and not Target.objects.filter(
                conversation_id__in=conversation_ids,
                state__in=(Target.State.ACTIVE, Target.State.PAUSED)).exists():
            return result  # no policy, nothing running: the common case of a desk without SLAs
        rows = list(Conversation.objects.select_for_update(of=("self",))
                    .filter(id__in=conversation_ids).order_by("id")
                    .values(*SNAPSHOT_VALUES, *SUMMARY_FIELDS))
        planner = _planner(now, rules=rules)
        _plan_rows(planner, rows, now, result, reschedule=False)
    return result


def recompute_open(*, now: dt.datetime | None = None, batch_size: int = 2000,
                   reschedule: bool = True) -> RecomputeResult:
    """Re-plan every open conversation after a policy or calendar change, in short batches
    (each its own transaction with the batch's rows locked), so agents keep working meanwhile.

    ``reschedule`` also re-derives each running target's due time from its anchor and budget
    under the calendar's present hours, which a change of opening hours or holidays needs.
    """
    import time

    started = time.perf_counter()
    now = now or timezone.now()
    planner = _planner(now)
    result = RecomputeResult()
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(Conversation.objects.select_for_update(of=("self",))
                        # "not done" rather than "status in open": SQLite then walks the
                        # primary key instead of sorting every open row for each batch.
                        .filter(id__gt=last_id).exclude(status__in=("solved", "closed"))
                        .order_by("id").values(*SNAPSHOT_VALUES, *SUMMARY_FIELDS)[:batch_size])
            if not rows:
                break
            last_id = rows[-1]["id"]
            _plan_rows(planner, rows, now, result, reschedule=reschedule)
    result.seconds = time.perf_counter() - started
    return result


def _plan_rows(planner: Planner, rows: list[dict[str, Any]], now: dt.datetime,
               result: RecomputeResult, *, reschedule: bool) -> None:
    """Plan ``rows`` (conversation values) and write what changed in bulk: targets, timeline
    events and the conversations' SLA summary columns."""
    names = {rule.id: rule.name for rule in planner.rules}
    result.conversations += len(rows)
    by_conversation: dict[int, dict[str, Target]] = defaultdict(dict)
    for target in Target.objects.filter(conversation_id__in=[r["id"] for r in rows]):
        by_conversation[target.conversation_id][target.kind] = target
    created, changed, new_events, summaries = [], [], [], []
    for row in rows:
        existing = by_conversation.get(row["id"], {})
        plan = planner.plan(snapshot_from_values(row), existing)
        if reschedule:
            _reschedule(planner, plan, existing)
        created.extend(plan.created)
        changed.extend(plan.changed)
        for kind, payload in _event_payloads(plan.changes, names).items():
            new_events.append(Event(conversation_id=row["id"], kind=kind, after=payload, at=now))
        values = summary(plan.targets.values(), now)
        if any(row.get(field) != values[field] for field in SUMMARY_FIELDS):
            summaries.append(Conversation(pk=row["id"], **values))
    if created:
        Target.objects.bulk_create(created, batch_size=500)
    if changed:
        Target.objects.bulk_update(changed, TARGET_FIELDS, batch_size=500)
    if new_events:
        Event.objects.bulk_create(new_events, batch_size=500)
    if summaries:
        Conversation.objects.bulk_update(summaries, SUMMARY_FIELDS, batch_size=500)
    result.created += len(created)
    result.changed += len(summaries)


def _reschedule(planner: Planner, plan, existing: dict[str, Target]) -> None:

    for kind, target in existing.items():
        if kind == Target.Kind.LEGAL or target.state not in (Target.State.ACTIVE,
                                                             Target.State.PAUSED):
            continue
        due, warn = target.due_at, target.warn_at
        schedule(target, planner.calendars(target.calendar_id, target.business_hours))
        if (target.due_at, target.warn_at) != (due, warn) and target not in plan.changed:
            target.updated_at = planner.now
            plan.changed.append(target)


# --- warnings, breaches and escalation ------------------------------------------------------


@dataclasses.dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0


def due_for_warning(now: dt.datetime, limit: int = 500) -> list[int]:
    return list(Target.objects.filter(state=Target.State.ACTIVE, warned_at__isnull=True,
                                      warn_at__isnull=False, warn_at__lte=now)
                .order_by("warn_at").values_list("id", flat=True)[:limit])


def due_for_breach(now: dt.datetime, limit: int = 500) -> list[int]:
    return list(Target.objects.filter(state=Target.State.ACTIVE, breached_at__isnull=True,
                                      due_at__isnull=False, due_at__lte=now)
                .order_by("due_at").values_list("id", flat=True)[:limit])


def sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Raise every warning and breach that has fallen due (each exactly once)."""
    now = now or timezone.now()
    result = SweepResult()
    for target_id in due_for_breach(now):
        result.breached += do_breach_target(target_id, now=now)
    for target_id in due_for_warning(now):
        result.warned += do_warn_target(target_id, now=now)
    return result


def _claim(target_id: int, field: str, value: dt.datetime, now: dt.datetime) -> Target | None:
    """Mark the warning or breach as raised with a conditional UPDATE; only the caller that
    changes the row (row count 1) goes on, so racing sweeps raise it once."""
    moment_field = "warn_at" if field == "warned_at" else "due_at"
    claimed = Target.objects.filter(
        pk=target_id, state=Target.State.ACTIVE, **{f"{field}__isnull": True,
                                                    f"{moment_field}__lte": now},
    ).update(**{field: value, "updated_at": now,
                **({"warn_at": None} if field == "warned_at" else {})})
    if claimed != 1:
        return None
    return Target.objects.select_related("policy", "conversation").get(pk=target_id)


def _notify_targets(conversation: Conversation, *, supervisors: bool) -> list[int]:
    from mostrador.accounts.models import Agent

    users: list[int] = []
    if conversation.assignee_id:
        users.append(conversation.assignee_id)
    elif conversation.team_id:
        users.extend(conversation.team.members.filter(is_active=True)
                     .values_list("id", flat=True))
    if supervisors:
        lead = conversation.team.lead_id if conversation.team_id else None
        if lead:
            users.append(lead)
        else:
            users.extend(Agent.objects.filter(
                Q(role=Agent.Role.SUPERVISOR) | Q(role=Agent.Role.ADMIN), user__is_active=True,
            ).values_list("user_id", flat=True))
    return sorted(set(users))


@transaction.atomic
def do_warn_target(target_id: int, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    target = _claim(target_id, "warned_at", now, now)
    if target is None:
        return False
    conversation = target.conversation
    notified = _notify_targets(conversation, supervisors=False)
    conversation_actions.record_event(conversation, events.WARNING, at=now, after={
        "kind": target.kind, "due": target.due_at.isoformat(), "notified": notified})
    _refresh_summary(conversation.pk, now)
    _notify(notified, conversation.pk, target.pk, "warning")
    return True


@transaction.atomic
def do_breach_target(target_id: int, *, now: dt.datetime | None = None) -> bool:
    """Record the breach (at the due time) and escalate as the policy says: one priority step
    up, the next tier, another team, the supervisors told."""
    now = now or timezone.now()
    target = Target.objects.filter(pk=target_id).values_list("due_at", flat=True).first()
    if target is None:
        return False
    target = _claim(target_id, "breached_at", target, now)
    if target is None:
        return False
    conversation = target.conversation
    policy = target.policy
    notified = _notify_targets(conversation, supervisors=bool(policy and
                                                              policy.notify_supervisors))
    conversation_actions.record_event(conversation, events.BREACHED, at=now, after={
        "kind": target.kind, "due": target.due_at.isoformat(), "notified": notified})
    if policy is not None:
        _escalate(conversation, policy, now)
    _refresh_summary(conversation.pk, now)
    _notify(notified, conversation.pk, target.pk, "breach")
    return True


def _escalate(conversation: Conversation, policy: Policy, now: dt.datetime) -> None:
    done: dict[str, Any] = {}
    if policy.escalate_priority and conversation.priority < Conversation.Priority.URGENT:
        conversation_actions.do_change_priority(conversation, conversation.priority + 1,
                                                acting_user=None)
        done["priority"] = conversation.priority + 1
    if policy.escalate_tier and conversation.tier < 3:
        conversation_actions.do_set_tier(conversation, conversation.tier + 1, acting_user=None)
        done["tier"] = conversation.tier + 1
        assignee = conversation.assignee
        if assignee is not None and getattr(getattr(assignee, "agent", None), "tier", 1) \
                < conversation.tier + 1:
            conversation_actions.do_assign(conversation, None, acting_user=None)
            done["unassigned"] = assignee.pk
    if policy.escalate_team_id and conversation.team_id != policy.escalate_team_id:
        conversation_actions.do_set_team(conversation, policy.escalate_team, acting_user=None)
        done["team"] = policy.escalate_team_id
    if done:
        conversation_actions.record_event(conversation, events.ESCALATED, at=now,
                                          after={"policy": policy.name, **done})


def _refresh_summary(conversation_id: int, now: dt.datetime) -> None:
    row = Conversation.objects.filter(pk=conversation_id).values(*SUMMARY_FIELDS).first()
    if row is None:
        return
    values = summary(Target.objects.filter(conversation_id=conversation_id), now)
    if any(row[field] != values[field] for field in SUMMARY_FIELDS):
        Conversation.objects.filter(pk=conversation_id).update(**values)


def _notify(user_ids: list[int], conversation_id: int, target_id: int, what: str) -> None:
    if user_ids:
        from mostrador.sla.tasks import notify_agents

        enqueue_on_commit(notify_agents, user_ids, conversation_id, target_id, what)


# --- calendars ------------------------------------------------------------------------------


def _clean_periods(periods: Any, field: str) -> list[list[str]]:
    if not isinstance(periods, list | tuple):
        raise ValidationFailed(_("Opening periods must be a list of [start, end] pairs."),
                               field=field)
    cleaned = []
    for period in periods:
        if not isinstance(period, list | tuple) or len(period) != 2:
            raise ValidationFailed(_("Each period is a pair of times like [\"09:00\", "
                                     "\"17:00\"]."), field=field)
        start, end = (str(value).strip() for value in period)
        for value in (start, end):
            hours, _sep, minutes = value.partition(":")
            if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2
                    and ((int(hours) < 24 and int(minutes) < 60) or value == "24:00")):
                raise ValidationFailed(_("%(value)s is not a time of day (HH:MM).")
                                       % {"value": value}, field=field)
        if start == end:
            raise ValidationFailed(_("A period cannot start and end at the same time."),
                                   field=field)
        cleaned.append([start.zfill(5), end.zfill(5)])
    return cleaned


def clean_weekly(weekly: Any) -> dict[str, list[list[str]]]:
    if not isinstance(weekly, dict):
        raise ValidationFailed(_("Weekly hours map mon…sun to lists of periods."),
                               field="weekly")
    unknown = set(weekly) - set(WEEKDAYS)
    if unknown:
        raise ValidationFailed(_("Unknown day %(day)s; use mon, tue, wed, thu, fri, sat, sun.")
                               % {"day": sorted(unknown)[0]}, field="weekly")
    return {day: _clean_periods(weekly[day], "weekly") for day in WEEKDAYS if weekly.get(day)}


def _check_calendar(calendar: Calendar) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(calendar.time_zone or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(_("Unknown time zone %(zone)s.") % {"zone": calendar.time_zone},
                               field="time_zone") from None
    if calendar.country:
        import holidays as holiday_tables

        supported = holiday_tables.list_supported_countries()
        if calendar.country not in supported:
            raise ValidationFailed(_("No public holidays are known for country %(country)s.")
                                   % {"country": calendar.country}, field="country")
        regions = {code.upper(): code for code in supported[calendar.country]}
        calendar.subdivision = regions.get(calendar.subdivision.upper(), calendar.subdivision)
        if calendar.subdivision and calendar.subdivision not in supported[calendar.country]:
            raise ValidationFailed(_("Unknown region %(region)s of %(country)s.")
                                   % {"region": calendar.subdivision,
                                      "country": calendar.country}, field="subdivision")
    try:
        calendars.build(calendar, days=[])
    except ValueError as exc:
        raise ValidationFailed(_("These hours never open: %(error)s") % {"error": exc},
                               field="weekly") from None


@transaction.atomic
def do_create_calendar(*, name: str, time_zone: str, weekly: Any, country: str = "",
                       subdivision: str = "", is_default: bool = False,
                       after_hours_reply: bool = True, acting_user=None) -> Calendar:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("The calendar needs a name."), field="name")
    if Calendar.objects.filter(name=name).exists():
        raise ValidationFailed(_("A calendar with this name already exists."), field="name")
    calendar = Calendar(name=name, time_zone=time_zone, weekly=clean_weekly(weekly),
                        country=(country or "").upper(), subdivision=(subdivision or "").strip(),
                        is_default=is_default, after_hours_reply=after_hours_reply)
    _check_calendar(calendar)
    if is_default:
        Calendar.objects.filter(is_default=True).update(is_default=False)
    calendar.save()
    _calendar_changed(calendar)
    return calendar


@transaction.atomic
def do_update_calendar(calendar: Calendar, *, acting_user=None, **changes: Any) -> Calendar:
    calendar = Calendar.objects.select_for_update().get(pk=calendar.pk)
    if "weekly" in changes:
        changes["weekly"] = clean_weekly(changes["weekly"])
    if "country" in changes:
        changes["country"] = (changes["country"] or "").upper()
    if "subdivision" in changes:
        changes["subdivision"] = (changes["subdivision"] or "").strip()
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise ValidationFailed(_("The calendar needs a name."), field="name")
        if Calendar.objects.filter(name=changes["name"]).exclude(pk=calendar.pk).exists():
            raise ValidationFailed(_("A calendar with this name already exists."),
                                   field="name")
    allowed = {"name", "time_zone", "weekly", "country", "subdivision", "is_default",
               "after_hours_reply"}
    for field, value in changes.items():
        if field not in allowed:
            raise ValidationFailed(_("Unknown field %(field)s.") % {"field": field}, field=field)
        setattr(calendar, field, value)
    _check_calendar(calendar)
    if changes.get("is_default"):
        Calendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(is_default=False)
    calendar.save()
    _calendar_changed(calendar)
    return calendar


@transaction.atomic
def do_set_calendar_day(calendar: Calendar, *, date: dt.date, kind: str = "closed",
                        periods: Any = (), name: str = "", acting_user=None) -> CalendarDay:
    """Close the calendar on ``date`` or give it special opening hours that day."""
    if kind not in CalendarDay.Kind.values:
        raise ValidationFailed(_("A day is either closed or has special hours."), field="kind")
    cleaned = _clean_periods(list(periods or ()), "periods")
    if kind == CalendarDay.Kind.SPECIAL and not cleaned:
        raise ValidationFailed(_("Special hours need at least one period."), field="periods")
    day, _created = CalendarDay.objects.update_or_create(
        calendar=calendar, date=date,
        defaults={"kind": kind, "periods": cleaned if kind == "special" else [],
                  "name": (name or "")[:100]})
    calendar.save(update_fields=["updated_at"])
    _calendar_changed(calendar)
    return day


@transaction.atomic
def do_remove_calendar_day(calendar: Calendar, date: dt.date, *, acting_user=None) -> bool:
    deleted, _rows = CalendarDay.objects.filter(calendar=calendar, date=date).delete()
    if deleted:
        calendar.save(update_fields=["updated_at"])
        _calendar_changed(calendar)
    return bool(deleted)


def _calendar_changed(calendar: Calendar) -> None:
    publish_on_commit("sla.calendar_changed", {"calendar_id": calendar.pk})
    _schedule_recompute()


# --- policies -------------------------------------------------------------------------------

MAX_TARGET_MINUTES = 366 * 24 * 60
POLICY_FIELDS = {"name", "position", "active", "channels", "request_types", "priorities",
                 "segments", "first_response_minutes", "next_response_minutes",
                 "resolution_minutes", "business_hours", "legal_days", "legal_calendar",
                 "calendar", "pause_when_pending", "warn_percent", "escalate_priority",
                 "escalate_tier", "escalate_team", "notify_supervisors"}


def _check_policy(policy: Policy) -> None:
    policy.name = (policy.name or "").strip()
    if not policy.name:
        raise ValidationFailed(_("The policy needs a name."), field="name")
    if Policy.objects.filter(name=policy.name).exclude(pk=policy.pk).exists():
        raise ValidationFailed(_("A policy with this name already exists."), field="name")
    for field in ("channels", "request_types", "segments"):
        value = getattr(policy, field) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationFailed(_("This condition is a list of names."), field=field)
        setattr(policy, field, sorted({v.strip() for v in value if v.strip()}))
    priorities = policy.priorities or []
    if not isinstance(priorities, list) or not all(
            type(p) is int and 1 <= p <= 4 for p in priorities):
        raise ValidationFailed(_("Priorities are numbers from 1 (low) to 4 (urgent)."),
                               field="priorities")
    policy.priorities = sorted(set(priorities))
    if not (policy.target_minutes() or policy.legal_days):
        raise ValidationFailed(_("Set at least one target or a legal deadline."),
                               field="first_response_minutes")
    for field in ("first_response_minutes", "next_response_minutes", "resolution_minutes"):
        minutes = getattr(policy, field)
        if minutes is not None and not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise ValidationFailed(_("A target is between 1 minute and one year."), field=field)
    if policy.legal_days is not None and not 1 <= policy.legal_days <= 366:
        raise ValidationFailed(_("A legal deadline is between 1 and 366 business days."),
                               field="legal_days")
    if len(policy.name) > 100:
        raise ValidationFailed(_("The name is at most 100 characters."), field="name")
    if not 1 <= policy.warn_percent <= 100:
        raise ValidationFailed(_("Warn between 1 % and 100 % of the target."),
                               field="warn_percent")


@transaction.atomic
def do_create_policy(*, acting_user=None, organisations: Iterable[int] = (),
                     **fields: Any) -> Policy:
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field %(field)s.") % {"field": sorted(unknown)[0]},
                               field=sorted(unknown)[0])
    if "position" not in fields:
        last = Policy.objects.order_by("-position").values_list("position", flat=True).first()
        fields["position"] = (last or 0) + 10
    policy = Policy(**fields)
    _check_policy(policy)
    policy.save()
    policy.organisations.set(list(organisations))
    _policy_changed(policy)
    return policy


@transaction.atomic
def do_update_policy(policy: Policy, *, acting_user=None,
                     organisations: Iterable[int] | None = None, **fields: Any) -> Policy:
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field %(field)s.") % {"field": sorted(unknown)[0]},
                               field=sorted(unknown)[0])
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    for field, value in fields.items():
        setattr(policy, field, value)
    _check_policy(policy)
    policy.save()
    if organisations is not None:
        policy.organisations.set(list(organisations))
    _policy_changed(policy)
    return policy


@transaction.atomic
def do_delete_policy(policy: Policy, *, acting_user=None) -> None:
    policy_id = policy.pk
    policy.delete()
    publish_on_commit("sla.policy_changed", {"policy_id": policy_id, "deleted": True})
    _schedule_recompute()


def _policy_changed(policy: Policy) -> None:
    publish_on_commit("sla.policy_changed", {"policy_id": policy.pk})
    _schedule_recompute()


def _schedule_recompute() -> None:
    from mostrador.sla.tasks import recompute_sla

    enqueue_on_commit(recompute_sla)


@transaction.atomic
def do_use_calendar(owner: Any, calendar: Calendar | None, *, acting_user=None) -> bool:
    """Point an inbox (a channel's hours) or a team at ``calendar`` (None: the next calendar in
    line); whether it changed. Open conversations' due times follow in the background."""
    calendar_id = calendar.pk if calendar is not None else None
    changed = type(owner).objects.filter(pk=owner.pk).exclude(
        calendar_id=calendar_id).update(calendar=calendar)
    owner.calendar = calendar
    if changed:
        publish_on_commit("sla.calendar_assigned", {
            "owner": type(owner)._meta.label_lower, "owner_id": owner.pk,
            "calendar_id": calendar_id, "user_id": getattr(acting_user, "pk", None)})
        _schedule_recompute()
    return bool(changed)
