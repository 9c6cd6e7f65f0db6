"""SLAs: calendars (weekly hours, public holidays, the desk's own closed days and special
hours), policies, and the targets a conversation runs against. Any agent reads; supervisors
and administrators change calendars and policies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from mostrador.api import reads
from mostrador.api.render import ref
from mostrador.api.schemas_sla import (
    CalendarCreateIn,
    CalendarDayIn,
    CalendarDayOut,
    CalendarOut,
    CalendarPage,
    CalendarPatchIn,
    ConversationSlaOut,
    HoursOut,
    PolicyCreateIn,
    PolicyOut,
    PolicyPage,
    PolicyPatchIn,
)
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.customers.models import Organisation
from mostrador.sla import actions, calendars
from mostrador.sla.models import Calendar, CalendarDay, Policy, Target

router = Router(tags=["sla"])

MAX_HOURS_DAYS = 62
KIND_ORDER = {kind: index for index, kind in enumerate(Target.Kind.values)}
# Policy fields that hold another object's id in the API and the object in the action.
POLICY_REFERENCES = ("calendar", "legal_calendar", "escalate_team")
POLICY_NULLABLE = {"first_response_minutes", "next_response_minutes", "resolution_minutes",
                   "legal_days", *POLICY_REFERENCES}


class HoursQuery(Schema):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")


# --- reading --------------------------------------------------------------------------------


def access_calendar(calendar_id: int) -> Calendar:
    calendar = Calendar.objects.prefetch_related("days").filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(_("Calendar %(id)s not found.") % {"id": calendar_id}, field="calendar")
    return calendar


def access_policy(policy_id: int) -> Policy:
    policy = Policy.objects.prefetch_related("organisations").filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("Policy %(id)s not found.") % {"id": policy_id}, field="policy")
    return policy


def _calendar_ref(calendar_id: int, *, field: str) -> Calendar:
    found = Calendar.objects.filter(pk=calendar_id).first()
    if found is None:
        raise ValidationFailed(_("There is no calendar with id %(id)s.") % {"id": calendar_id},
                               field=field)
    return found


def _organisation_ids(ids: list[int]) -> list[int]:
    wanted = sorted(set(ids))
    found = set(Organisation.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for organisation_id in wanted:
        if organisation_id not in found:
            raise ValidationFailed(_("There is no organisation with id %(id)s.")
                                   % {"id": organisation_id}, field="organisations")
    return wanted


def _policy_references(values: dict[str, Any]) -> dict[str, Any]:
    """The ids a body names, as the objects the action takes (a 400 naming the field when one
    does not exist)."""
    for field in POLICY_REFERENCES:
        object_id = values.get(field)
        if object_id is None:
            continue
        if field == "escalate_team":
            values[field] = reads.team(object_id, field=field)
        else:
            values[field] = _calendar_ref(object_id, field=field)
    return values


# --- rendering ------------------------------------------------------------------------------


def _day(d: CalendarDay) -> dict[str, Any]:
    return {"date": d.date, "kind": d.kind, "periods": list(d.periods or []), "name": d.name}


def _calendar(c: Calendar) -> dict[str, Any]:
    return {"id": c.pk, "name": c.name, "time_zone": c.time_zone, "weekly": c.weekly or {},
            "country": c.country, "subdivision": c.subdivision, "is_default": c.is_default,
            "after_hours_reply": c.after_hours_reply,
            "days": [_day(d) for d in c.days.all()],
            "created_at": c.created_at, "updated_at": c.updated_at}


def _policy(p: Policy) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "position": p.position, "active": p.active,
            "channels": list(p.channels or []), "request_types": list(p.request_types or []),
            "priorities": list(p.priorities or []), "segments": list(p.segments or []),
            "organisations": sorted(o.pk for o in p.organisations.all()),
            "first_response_minutes": p.first_response_minutes,
            "next_response_minutes": p.next_response_minutes,
            "resolution_minutes": p.resolution_minutes, "business_hours": p.business_hours,
            "legal_days": p.legal_days, "legal_calendar": p.legal_calendar_id,
            "calendar": p.calendar_id, "pause_when_pending": p.pause_when_pending,
            "warn_percent": p.warn_percent, "escalate_priority": p.escalate_priority,
            "escalate_tier": p.escalate_tier, "escalate_team": p.escalate_team_id,
            "notify_supervisors": p.notify_supervisors,
            "created_at": p.created_at, "updated_at": p.updated_at}


def _seconds_left(t: Target, book: calendars.CalendarBook, now: dt.datetime) -> int | None:
    """Business seconds left: until the due time while running (negative past it), the budget
    kept while paused."""
    if t.state == Target.State.PAUSED:
        return t.budget_us // 1_000_000
    if t.state != Target.State.ACTIVE or t.due_at is None:
        return None
    calendar = book.get(t.calendar_id, business_hours=t.business_hours)
    if now < t.due_at:
        return int(calendar.working_time(now, t.due_at).total_seconds())
    return -int(calendar.working_time(t.due_at, now).total_seconds())


def _target(t: Target, book: calendars.CalendarBook, now: dt.datetime) -> dict[str, Any]:
    return {"kind": t.kind, "state": t.state, "health": t.health(now),
            "policy": ref(t.policy) if t.policy_id else None, "due_at": t.due_at,
            "warn_at": t.warn_at, "started_at": t.started_at, "met_at": t.met_at,
            "breached_at": t.breached_at, "business_hours": t.business_hours,
            "target_seconds": t.target_seconds, "seconds_left": _seconds_left(t, book, now)}


# --- calendars ------------------------------------------------------------------------------


@router.get("/sla/calendars", response=CalendarPage)
def list_calendars(request: HttpRequest):
    """Every calendar (a desk has a handful), by name, with its exception days."""
    rows = Calendar.objects.prefetch_related("days").order_by("name")
    return {"items": [_calendar(c) for c in rows], "next_cursor": None}


@router.post("/sla/calendars", response={201: CalendarOut})
def create_calendar(request: HttpRequest, payload: CalendarCreateIn):
    """Supervisors and administrators. The time zone, the hours and the country's holidays are
    checked; a mistake answers 400 naming the field."""
    reads.require_supervisor(request.user)
    calendar = actions.do_create_calendar(
        name=payload.name, time_zone=payload.time_zone, weekly=payload.weekly,
        country=payload.country, subdivision=payload.subdivision,
        is_default=payload.is_default, acting_user=request.user)
    return _calendar(access_calendar(calendar.pk))


@router.get("/sla/calendars/{int:calendar_id}", response=CalendarOut)
def get_calendar(request: HttpRequest, calendar_id: int):
    return _calendar(access_calendar(calendar_id))


@router.patch("/sla/calendars/{int:calendar_id}", response=CalendarOut)
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarPatchIn):
    """Change what is given (supervisors and administrators). Open conversations' due times
    are re-computed under the new hours in the background."""
    reads.require_supervisor(request.user)
    calendar = access_calendar(calendar_id)
    changes = payload.model_dump(include=payload.model_fields_set)
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    if changes:
        actions.do_update_calendar(calendar, acting_user=request.user, **changes)
    return _calendar(access_calendar(calendar_id))


@router.put("/sla/calendars/{int:calendar_id}/days/{date}", response=CalendarDayOut)
def set_calendar_day(request: HttpRequest, calendar_id: int, date: dt.date,
                     payload: CalendarDayIn):
    """Close the calendar on ``date`` (``kind`` closed) or open it at special hours
    (``kind`` special, with ``periods``), replacing what that date had."""
    reads.require_supervisor(request.user)
    calendar = access_calendar(calendar_id)
    day = actions.do_set_calendar_day(calendar, date=date, kind=payload.kind,
                                      periods=payload.periods, name=payload.name,
                                      acting_user=request.user)
    return _day(day)


@router.delete("/sla/calendars/{int:calendar_id}/days/{date}", response={204: None})
def remove_calendar_day(request: HttpRequest, calendar_id: int, date: dt.date):
    """The date follows the weekly hours (and public holidays) again."""
    reads.require_supervisor(request.user)
    calendar = access_calendar(calendar_id)
    if not actions.do_remove_calendar_day(calendar, date, acting_user=request.user):
        raise NotFound(_("The calendar has no closed day or special hours on %(date)s.")
                       % {"date": date.isoformat()}, field="date")
    return Status(204, None)


@router.get("/sla/calendars/{int:calendar_id}/hours", response=HoursOut)
def calendar_hours(request: HttpRequest, calendar_id: int, query: Query[HoursQuery]):
    """The hours the calendar is open on each date from ``from`` to ``to`` (both included, at
    most 62 days), in UTC, after public holidays, closed days and special hours."""
    calendar = access_calendar(calendar_id)
    start, end = query.start, query.end
    if end < start:
        raise ValidationFailed(_("to must not be before from."), field="to")
    if (end - start).days + 1 > MAX_HOURS_DAYS:
        raise ValidationFailed(_("Ask for at most %(days)s days at a time.")
                               % {"days": MAX_HOURS_DAYS}, field="to")
    business = calendars.business_calendar(calendar.pk)
    # The same years of holidays the calendar itself closes on.
    holidays = calendars.public_holidays(calendar.country, calendar.subdivision,
                                         *calendars.holiday_years())
    exceptions = {d.date: d for d in calendar.days.all()}
    days = []
    for offset in range((end - start).days + 1):
        date = start + dt.timedelta(days=offset)
        if date in exceptions:
            kind, name = exceptions[date].kind, exceptions[date].name
        elif date in holidays:
            kind, name = "holiday", holidays[date]
        else:
            kind, name = "weekly", ""
        days.append({"date": date, "kind": kind, "name": name,
                     "periods": [{"start": s.astimezone(dt.UTC), "end": e.astimezone(dt.UTC)}
                                 for s, e in business.periods_on(date)]})
    return {"calendar": ref(calendar), "time_zone": calendar.time_zone, "days": days}


# --- policies -------------------------------------------------------------------------------


@router.get("/sla/policies", response=PolicyPage)
def list_policies(request: HttpRequest):
    """Every policy in the order they are tried: the first active one whose every condition
    matches a conversation applies to it."""
    rows = Policy.objects.prefetch_related("organisations").order_by("position", "id")
    return {"items": [_policy(p) for p in rows], "next_cursor": None}


@router.post("/sla/policies", response={201: PolicyOut})
def create_policy(request: HttpRequest, payload: PolicyCreateIn):
    """Supervisors and administrators. Conversations already open are re-planned against the
    new policy in the background; new ones get it as they arrive."""
    reads.require_supervisor(request.user)
    values = payload.model_dump(exclude_unset=True)
    if values.get("position") is None:
        values.pop("position", None)
    organisations = _organisation_ids(values.pop("organisations", []))
    policy = actions.do_create_policy(acting_user=request.user, organisations=organisations,
                                      **_policy_references(values))
    return _policy(access_policy(policy.pk))


@router.get("/sla/policies/{int:policy_id}", response=PolicyOut)
def get_policy(request: HttpRequest, policy_id: int):
    return _policy(access_policy(policy_id))


@router.patch("/sla/policies/{int:policy_id}", response=PolicyOut)
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyPatchIn):
    """Change what is given (supervisors and administrators); ``null`` removes a target, a
    legal deadline or a calendar. Open conversations' due times follow in the background."""
    reads.require_supervisor(request.user)
    policy = access_policy(policy_id)
    values = payload.model_dump(include=payload.model_fields_set)
    for field, value in values.items():
        if value is None and field not in POLICY_NULLABLE:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    organisations = values.pop("organisations", None)
    if organisations is not None:
        organisations = _organisation_ids(organisations)
    if not values and organisations is None:
        return _policy(policy)  # nothing to change: no re-computation either
    actions.do_update_policy(policy, acting_user=request.user, organisations=organisations,
                             **_policy_references(values))
    return _policy(access_policy(policy_id))


@router.delete("/sla/policies/{int:policy_id}", response={204: None})
def delete_policy(request: HttpRequest, policy_id: int):
    """Open conversations it applied to fall to the next matching policy, or lose their
    targets, in the background."""
    reads.require_supervisor(request.user)
    actions.do_delete_policy(access_policy(policy_id), acting_user=request.user)
    return Status(204, None)


# --- a conversation's targets ---------------------------------------------------------------


@router.get("/conversations/{int:conversation_id}/sla", response=ConversationSlaOut)
def conversation_sla(request: HttpRequest, conversation_id: int):
    """The conversation's SLA: its health, the nearest due time and every target with its
    clock (``seconds_left`` counts opening hours only for business-hours targets)."""
    conversation = access_conversation(request.user, conversation_id)
    now = timezone.now()
    book = calendars.CalendarBook()
    rows = sorted(Target.objects.filter(conversation=conversation).select_related("policy"),
                  key=lambda t: KIND_ORDER.get(t.kind, len(KIND_ORDER)))
    return {"status": conversation.sla_status, "due_at": conversation.sla_due_at,
            "targets": [_target(t, book, now) for t in rows]}
