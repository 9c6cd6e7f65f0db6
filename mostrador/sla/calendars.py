"""From the stored ``Calendar`` rows to the database-free ``BusinessCalendar`` arithmetic.

Built calendars are cached per process, keyed by the row's ``updated_at`` (every change to a
calendar or one of its days goes through ``sla.actions`` and touches it), so a process never
uses hours another process has changed. Public holidays come from the ``holidays`` package for
the years around the moment asked about.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading

import holidays as holiday_tables
from django.utils import timezone

from mostrador.sla.clock import BusinessCalendar
from mostrador.sla.models import Calendar, CalendarDay

ALWAYS_OPEN = BusinessCalendar.always_open()
# Public holidays are loaded for this many years either side of today.
HOLIDAY_YEARS_BACK, HOLIDAY_YEARS_AHEAD = 2, 6

_lock = threading.Lock()
_built: dict[int, tuple[dt.datetime, BusinessCalendar]] = {}


@functools.lru_cache(maxsize=64)
def public_holidays(country: str, subdivision: str, first_year: int,
                    last_year: int) -> dict[dt.date, str]:
    """The country's (and region's) public holidays, date -> name."""
    if not country:
        return {}
    table = holiday_tables.country_holidays(country, subdiv=subdivision or None,
                                            years=range(first_year, last_year + 1))
    return dict(table.items())


def holiday_years(today: dt.date | None = None) -> tuple[int, int]:
    year = (today or timezone.now().date()).year
    return year - HOLIDAY_YEARS_BACK, year + HOLIDAY_YEARS_AHEAD


def build(calendar: Calendar, days: list[CalendarDay] | None = None) -> BusinessCalendar:
    """The arithmetic for ``calendar`` (uncached)."""
    if days is None:
        days = list(calendar.days.all())
    closed = set(public_holidays(calendar.country, calendar.subdivision, *holiday_years()))
    special: dict[dt.date, list[tuple[str, str]]] = {}
    for day in days:
        if day.kind == CalendarDay.Kind.CLOSED:
            closed.add(day.date)
        else:
            special[day.date] = [tuple(period) for period in day.periods]
    weekly = {name: [tuple(period) for period in periods]
              for name, periods in (calendar.weekly or {}).items()}
    return BusinessCalendar(calendar.time_zone, weekly, holidays=sorted(closed),
                            special_hours=special)


def business_calendar(calendar_id: int | None, *, business_hours: bool = True) -> BusinessCalendar:
    """The cached arithmetic of calendar ``calendar_id``; around the clock when no calendar
    applies or the target counts calendar time."""
    if calendar_id is None or not business_hours:
        return ALWAYS_OPEN
    stamp = Calendar.objects.filter(pk=calendar_id).values_list("updated_at", flat=True).first()
    if stamp is None:
        return ALWAYS_OPEN
    return _cached(calendar_id, stamp)


def for_row(calendar: Calendar) -> BusinessCalendar:
    """The cached arithmetic of a calendar row already read (no query when cached)."""
    return _cached(calendar.pk, calendar.updated_at, calendar)


def _cached(calendar_id: int, stamp: dt.datetime,
            row: Calendar | None = None) -> BusinessCalendar:
    with _lock:
        cached = _built.get(calendar_id)
    if cached and cached[0] == stamp:
        return cached[1]
    calendar = row or Calendar.objects.get(pk=calendar_id)
    built = build(calendar)
    with _lock:
        _built[calendar_id] = (calendar.updated_at, built)
    return built


class CalendarBook:
    """Calendars for one pass over many conversations: each row read and built at most once."""

    def __init__(self) -> None:
        self._calendars: dict[int, BusinessCalendar] = {}

    def get(self, calendar_id: int | None, *, business_hours: bool = True) -> BusinessCalendar:
        if calendar_id is None or not business_hours:
            return ALWAYS_OPEN
        if calendar_id not in self._calendars:
            self._calendars[calendar_id] = business_calendar(calendar_id)
        return self._calendars[calendar_id]


def forget_cached() -> None:
    with _lock:
        _built.clear()
