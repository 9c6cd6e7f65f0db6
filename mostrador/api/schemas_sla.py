"""What the SLA endpoints read and write: calendars with their exception days, policies, and
a conversation's targets. Bodies forbid unknown fields, as in :mod:`mostrador.api.schemas`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

from mostrador.api.schemas import Ref, StrictIn

WEEKLY_HELP = ("opening periods per weekday, e.g. {\"mon\": [[\"09:00\", \"14:00\"], "
               "[\"15:00\", \"18:00\"]]}; a day left out is closed; \"24:00\" ends a day")
# Generous bounds that keep targets inside the database columns (seconds fit 32 bits).
MAX_TARGET_MINUTES = 1_000_000
MAX_LEGAL_DAYS = 3_650

# --- calendars ------------------------------------------------------------------------------


class CalendarCreateIn(StrictIn):
    name: str = Field(max_length=100)
    time_zone: str = Field(default="Europe/Madrid", max_length=64,
                           description="an IANA time zone, e.g. Europe/Madrid")
    weekly: dict[str, list[list[str]]] = Field(default={}, description=WEEKLY_HELP)
    country: str = Field(default="", max_length=8,
                         description="ISO code whose public holidays close the calendar, e.g. ES")
    subdivision: str = Field(default="", max_length=16,
                             description="the region's holidays too, e.g. MD (Madrid)")
    is_default: bool = Field(default=False, description="the desk-wide fallback calendar; "
                                                        "setting it unsets the previous one")


class CalendarPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=100)
    time_zone: str | None = Field(default=None, max_length=64)
    weekly: dict[str, list[list[str]]] | None = Field(default=None, description=WEEKLY_HELP)
    country: str | None = Field(default=None, max_length=8)
    subdivision: str | None = Field(default=None, max_length=16)
    is_default: bool | None = None


class CalendarDayIn(StrictIn):
    kind: Literal["closed", "special"] = "closed"
    periods: list[list[str]] = Field(default=[], description="the special hours, e.g. "
                                                            "[[\"09:00\", \"14:00\"]]")
    name: str = Field(default="", max_length=100)


class CalendarDayOut(Schema):
    date: dt.date
    kind: str = Field(description="closed or special")
    periods: list[list[str]]
    name: str


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    weekly: dict[str, list[list[str]]]
    country: str
    subdivision: str
    is_default: bool
    after_hours_reply: bool
    days: list[CalendarDayOut] = Field(description="the desk's own closed days and special "
                                                   "hours, by date")
    created_at: dt.datetime
    updated_at: dt.datetime


class CalendarPage(Schema):
    items: list[CalendarOut]
    next_cursor: str | None


class PeriodOut(Schema):
    start: dt.datetime
    end: dt.datetime


class HoursDayOut(Schema):
    date: dt.date
    kind: str = Field(description="weekly (the weekly hours), holiday (a public holiday), "
                                  "closed (closed by the desk) or special (special hours)")
    name: str = Field(description="the holiday's or the day's name")
    periods: list[PeriodOut] = Field(description="open periods in UTC; empty when closed")


class HoursOut(Schema):
    calendar: Ref
    time_zone: str
    days: list[HoursDayOut]


# --- policies -------------------------------------------------------------------------------


class PolicyFieldsIn(StrictIn):
    """Conditions (an empty list matches anything), targets and what happens at breach."""

    active: bool = True
    channels: list[str] = Field(default=[], description="channel kinds, e.g. email")
    request_types: list[str] = []
    priorities: list[int] = Field(default=[], description="1 (low) to 4 (urgent)")
    segments: list[str] = Field(default=[], description="matches a customer in any of them")
    organisations: list[int] = Field(default=[], description="organisation ids")
    first_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    next_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    resolution_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    business_hours: bool = Field(default=True, description="count targets in opening hours "
                                                           "(true) or around the clock")
    legal_days: int | None = Field(default=None, ge=1, le=MAX_LEGAL_DAYS,
                                   description="a legal deadline: the close of the Nth business "
                                               "day after receipt")
    legal_calendar: int | None = Field(default=None, description="the calendar legal days are "
                                                                 "counted in (a calendar id)")
    calendar: int | None = Field(default=None, description="a calendar id that overrides the "
                                                           "team's and the inbox's")
    pause_when_pending: bool = True
    warn_percent: int = Field(default=75, description="warn when this share of a target is "
                                                      "spent (1–100)")
    escalate_priority: bool = Field(default=True, description="at breach, one priority up")
    escalate_tier: bool = Field(default=False, description="at breach, the next tier")
    escalate_team: int | None = Field(default=None, description="at breach, move to this team")
    notify_supervisors: bool = True


class PolicyCreateIn(PolicyFieldsIn):
    name: str = Field(max_length=100)
    position: int | None = Field(default=None, ge=0, description="policies are tried in "
                                                                 "position order; by default "
                                                                 "after the last one")


class PolicyPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=100)
    position: int | None = Field(default=None, ge=0)
    active: bool | None = None
    channels: list[str] | None = None
    request_types: list[str] | None = None
    priorities: list[int] | None = None
    segments: list[str] | None = None
    organisations: list[int] | None = None
    first_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    next_response_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    resolution_minutes: int | None = Field(default=None, ge=1, le=MAX_TARGET_MINUTES)
    business_hours: bool | None = None
    legal_days: int | None = Field(default=None, ge=1, le=MAX_LEGAL_DAYS)
    legal_calendar: int | None = None
    calendar: int | None = None
    pause_when_pending: bool | None = None
    warn_percent: int | None = None
    escalate_priority: bool | None = None
    escalate_tier: bool | None = None
    escalate_team: int | None = None
    notify_supervisors: bool | None = None


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    channels: list[str]
    request_types: list[str]
    priorities: list[int]
    segments: list[str]
    organisations: list[int]
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    legal_days: int | None
    legal_calendar: int | None
    calendar: int | None
    pause_when_pending: bool
    warn_percent: int
    escalate_priority: bool
    escalate_tier: bool
    escalate_team: int | None
    notify_supervisors: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class PolicyPage(Schema):
    items: list[PolicyOut]
    next_cursor: str | None


# --- a conversation's targets ---------------------------------------------------------------


class TargetOut(Schema):
    kind: str = Field(description="first_response, next_response, resolution or legal")
    state: str = Field(description="active, paused, met or cancelled")
    health: str = Field(description="on_track, at_risk, breached, paused, met or met_late")
    policy: Ref | None
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    started_at: dt.datetime
    met_at: dt.datetime | None
    breached_at: dt.datetime | None
    business_hours: bool
    target_seconds: int
    seconds_left: int | None = Field(description="business seconds left: negative once "
                                                 "breached, what is left while paused, null "
                                                 "once met or cancelled")


class ConversationSlaOut(Schema):
    status: str = Field(description="the worst health of the running targets: breached, "
                                    "at_risk, on_track, paused, met, or \"\" without an SLA")
    due_at: dt.datetime | None = Field(description="the nearest due time of a running target")
    targets: list[TargetOut]
