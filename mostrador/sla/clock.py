"""Business-time arithmetic: when is a desk open, and when does "8 business hours from now" fall.

Pure standard library (``datetime``, ``zoneinfo``, ``bisect``); no database, no Django. The
integrator's guide with examples is ``docs/sla-clock.md``; this is the contract.

A :class:`BusinessCalendar` describes when a desk is open, in local wall-clock time of one zone:

* ``weekly`` maps ``"mon"`` … ``"sun"`` to lists of ``(start, end)`` periods, each bound an
  ``"HH:MM"`` (or ``"HH:MM:SS"``) string or a ``datetime.time``. ``"24:00"`` is accepted as an
  end. An end at or before its start makes the period cross midnight: ``("22:00", "06:00")`` is
  open from 22:00 that day until 06:00 the next. A start equal to its end is refused (write
  ``("00:00", "24:00")`` for a whole day). Overlapping periods are merged. Missing days are
  closed.
* Every period belongs to the local date it starts on. What decides a date's periods:
  ``special_hours[date]`` when the date is there (it replaces the weekly periods and the holiday
  rule: a holiday with special hours is open those hours; an empty list closes the date);
  otherwise nothing when the date is in ``holidays``; otherwise the weekly periods of its
  weekday. So a holiday closes the periods that start on it, while Thursday's
  ``("22:00", "06:00")`` still runs into a Friday holiday until 06:00.
* ``breaks[date]`` lists periods (same syntax, same crossing-midnight rule, starting on that
  date) during which the desk is closed whatever period would have it open, special hours
  included. A break only removes opening; it never opens anything.

Time:

* Periods are local wall times. A bound that does not exist (the hour skipped when clocks go
  forward) maps to the instant clocks jump, so ``("02:00", "03:00")`` on Madrid's spring-forward
  day is empty and ``("02:30", "05:00")`` starts at 03:00 CEST. A bound that happens twice (the
  hour repeated when clocks go back) maps to its first occurrence (``fold=0``), so
  ``("00:00", "06:00")`` on a fall-back day lasts seven real hours.
* Business time is real elapsed time (UTC) inside open periods. Open periods are half-open,
  ``[start, end)``.
* Every method takes aware datetimes (any zone) and returns aware datetimes in UTC
  (``datetime.UTC``); a naive datetime raises ``ValueError``. Arithmetic is exact to the
  microsecond (integers inside, no floats).

Methods (``d`` a ``timedelta``):

* ``add(start, d)``: the earliest ``t`` with ``working_time(start, t) == d``; ``d == 0`` gives
  ``next_open(start)``. A landing exactly on a period's end stays there (due at 17:00, not at the
  next opening). A negative ``d`` is ``subtract(start, -d)``.
* ``subtract(end, d)``: the latest ``t`` with ``working_time(t, end) == d``; ``d == 0`` gives
  ``end`` when it is open, else the end of the last open period before it (``end`` itself when a
  period ends exactly there). A negative ``d`` is ``add(end, -d)``. For ``d > 0``:
  ``working_time(subtract(e, d), e) == d`` and ``add(subtract(e, d), d) <= e``.
* ``working_time(a, b)``: the open time in ``[a, b)``, a ``timedelta``;
  ``working_time(b, a) == -working_time(a, b)``.
* ``is_open(at)``; ``next_open(at)``: the first open instant ``>= at``.
* ``add_days(start, n)``: a business day is a local date with any open time of its own (after
  breaks). The target is the ``n``-th business day after start's local date (before it when
  ``n < 0``; for ``n == 0`` start's own date when it is a business day, else the next one), at
  start's local time of day clamped into that date's own periods: inside a period, kept; before
  the first, the first's start; between two, the next one's start; after the last, the last's
  end. The time of day is read from start's wall clock (its ``fold`` dropped) and placed on the
  target date with the rules above.
* ``periods_on(date)``: that date's own open periods, ``[(start_utc, end_utc), ...]``.
* ``BusinessCalendar.always_open()``: open 24/7 in UTC, so business time is calendar time.

Errors: ``ValueError`` for malformed input, for a calendar with no period at all ("calendar is
never open") and for a search that finds no open time (or, for ``add_days``, no business day)
within ten years. ``TypeError`` for a duration that is not a ``timedelta`` or an ``n`` that is
not an ``int``.

Speed: the open intervals are built lazily, three months or more at a time, into sorted arrays of
integer microseconds with running totals of open time, so ``add``, ``subtract``,
``working_time`` and ``next_open`` are a couple of binary searches whatever the duration, and
``add_days`` one in the list of business dates; the arrays grow (by doubling) when a query
leaves them. Build a calendar once and keep it: the first call costs about a millisecond. A
calendar is immutable and safe to share between threads: its caches only grow, and each is
swapped in whole.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

__all__ = ["BusinessCalendar"]

Clock = str | dt.time
Period = tuple[Clock, Clock]

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_US = dt.timedelta(microseconds=1)
_SECOND = 1_000_000
_DAY = 86_400 * _SECOND
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A search that finds no open time within this span gives up: the calendar is closed for good.
_QUIET_LIMIT = 3_653 * _DAY
_QUIET_LIMIT_DAYS = 3_653
# Intervals are built per local date; the ones of date d lie within local [d, d + 2 days), and
# no zone is more than 26 hours from UTC. Dates built [a, b) make the timeline exact in UTC
# [a + 3 days, b - 2 days).
_MARGIN_BEFORE = 3
_MARGIN_AFTER = 2
_MIN_ORDINAL = 2 + _MARGIN_BEFORE
_MAX_ORDINAL = dt.date.max.toordinal() - 2


def _to_us(moment: dt.datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return (moment - _EPOCH) // _US


def _from_us(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


def _duration_us(duration: dt.timedelta) -> int:
    if not isinstance(duration, dt.timedelta):
        raise TypeError(f"duration must be a timedelta, not {type(duration).__name__}")
    return duration // _US


def _parse_clock(value: Clock, *, is_end: bool) -> int:
    """Microseconds after local midnight; ``"24:00"`` only as an end."""
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise ValueError(f"period bound {value!r} has a zone: periods are local wall times")
        return ((value.hour * 60 + value.minute) * 60 + value.second) * _SECOND + value.microsecond
    if not isinstance(value, str):
        raise ValueError(f"period bound {value!r}: expected 'HH:MM' or a datetime.time")
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"period bound {value!r}: expected 'HH:MM' or 'HH:MM:SS'")
    hour, minute, second = (int(p) for p in [*parts, "00"][:3])
    if minute > 59 or second > 59 or hour > 24 or (hour == 24 and (minute or second)):
        raise ValueError(f"period bound {value!r} is not a time of day")
    if hour == 24 and not is_end:
        raise ValueError(f"period bound {value!r}: '24:00' is only valid as an end")
    return (hour * 3600 + minute * 60 + second) * _SECOND


def _parse_periods(periods: Iterable[Period], where: str) -> tuple[tuple[int, int], ...]:
    """Periods as (start, end) microseconds after the local midnight of the date they start on;
    an end at or before its start crosses midnight."""
    if isinstance(periods, str | bytes):
        raise ValueError(f"{where}: expected a list of (start, end) periods, not {periods!r}")
    parsed = []
    for period in periods:
        try:
            start, end = period
        except (TypeError, ValueError):
            raise ValueError(f"{where}: period {period!r} is not a (start, end) pair") from None
        start_us = _parse_clock(start, is_end=False)
        end_us = _parse_clock(end, is_end=True)
        if start_us == end_us:
            raise ValueError(
                f"{where}: period {period!r} is empty (write ('00:00', '24:00') for a whole day)"
            )
        if end_us < start_us:
            end_us += _DAY
        parsed.append((start_us, end_us))
    return tuple(sorted(parsed))


def _check_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"{where}: {value!r} is not a datetime.date")
    return value


def _merge(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-empty, non-overlapping, non-touching."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _remove(
    intervals: list[tuple[int, int]], holes: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    for hole_start, hole_end in holes:
        kept = []
        for start, end in intervals:
            if hole_end <= start or end <= hole_start:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        intervals = kept
    return intervals


class _Segment:
    """The merged open intervals of the local dates with ordinals [first, stop), exact (and
    clipped to) UTC microseconds [lo, hi). ``cum[i]`` is the open time before interval i.
    ``business`` lists those dates that have open periods of their own."""

    __slots__ = ("business", "cum", "ends", "first", "hi", "lo", "starts", "stop")

    def __init__(
        self, first: int, stop: int, intervals: list[tuple[int, int]], business: list[int]
    ):
        self.first, self.stop, self.business = first, stop, business
        self.lo = (first + _MARGIN_BEFORE - _EPOCH_ORDINAL) * _DAY
        self.hi = (stop - _MARGIN_AFTER - _EPOCH_ORDINAL) * _DAY
        starts, ends, cum, total = [], [], [0], 0
        for start, end in _merge(intervals):
            start, end = max(start, self.lo), min(end, self.hi)
            if start < end:
                starts.append(start)
                ends.append(end)
                total += end - start
                cum.append(total)
        self.starts, self.ends, self.cum = starts, ends, cum

    def worked_until(self, us: int) -> int:
        """Open time in [lo, us), for lo <= us <= hi."""
        i = bisect_right(self.starts, us) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(us, self.ends[i]) - self.starts[i]


class BusinessCalendar:
    """When a desk is open, and business-time arithmetic on it. See the module docstring."""

    def __init__(
        self,
        timezone: str | dt.tzinfo,
        weekly: Mapping[str, Iterable[Period]],
        holidays: Iterable[dt.date] = (),
        breaks: Mapping[dt.date, Iterable[Period]] | None = None,
        special_hours: Mapping[dt.date, Iterable[Period]] | None = None,
    ):
        if isinstance(timezone, str):
            try:
                timezone = ZoneInfo(timezone)
            except (ValueError, LookupError) as exc:  # ZoneInfoNotFoundError is a KeyError
                raise ValueError(f"unknown time zone {timezone!r}") from exc
        if not isinstance(timezone, dt.tzinfo):
            raise ValueError(f"timezone must be an IANA name or a tzinfo, not {timezone!r}")
        self.zone: dt.tzinfo = timezone
        self._fixed_offset = isinstance(timezone, dt.timezone)

        unknown = set(weekly) - set(_WEEKDAYS)
        if unknown:
            raise ValueError(f"weekly: unknown day(s) {sorted(unknown)}; use {list(_WEEKDAYS)}")
        self._weekly = tuple(
            _parse_periods(weekly.get(day, ()), f"weekly[{day!r}]") for day in _WEEKDAYS
        )
        self._holidays = frozenset(_check_date(day, "holidays") for day in holidays)
        self._breaks = {
            _check_date(day, "breaks").toordinal(): _parse_periods(periods, f"breaks[{day}]")
            for day, periods in (breaks or {}).items()
        }
        self._special = {
            _check_date(day, "special_hours"): _parse_periods(periods, f"special_hours[{day}]")
            for day, periods in (special_hours or {}).items()
        }
        if not any(self._weekly) and not any(self._special.values()):
            raise ValueError("calendar is never open: give weekly periods or special hours")

        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._break_intervals: dict[int, tuple[tuple[int, int], ...]] = {}
        self._segments: list[_Segment] = []

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """Open 24/7 in UTC: business time is calendar time."""
        return cls("UTC", {day: [("00:00", "24:00")] for day in _WEEKDAYS})

    def __repr__(self) -> str:
        return f"<BusinessCalendar {getattr(self.zone, 'key', None) or self.zone}>"

    # --- public methods ---------------------------------------------------------------------

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The earliest t with working_time(start, t) == duration; next_open(start) for zero."""
        origin, amount = _to_us(start), _duration_us(duration)
        if amount < 0:
            return _from_us(self._subtract(origin, -amount))
        if amount == 0:
            return _from_us(self._next_open(origin))
        return _from_us(self._add(origin, amount))

    def subtract(self, end: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The latest t with working_time(t, end) == duration; for zero, end when open, else the
        end of the last open period before it."""
        origin, amount = _to_us(end), _duration_us(duration)
        if amount < 0:
            return _from_us(self._add(origin, -amount))
        return _from_us(self._subtract(origin, amount))

    def working_time(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Open time in [a, b); negative when b < a."""
        a_us, b_us = _to_us(a), _to_us(b)
        if b_us < a_us:
            return -dt.timedelta(microseconds=self._worked(b_us, a_us))
        return dt.timedelta(microseconds=self._worked(a_us, b_us))

    def is_open(self, at: dt.datetime) -> bool:
        us = _to_us(at)
        segment = self._segment(us)
        i = bisect_right(segment.starts, us) - 1
        return i >= 0 and us < segment.ends[i]

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """The first open instant >= at."""
        return _from_us(self._next_open(_to_us(at)))

    def add_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """n business days after (before, for n < 0) start's local date, at start's local time
        of day clamped into that date's periods; n == 0 keeps a business day, else moves on."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"naive datetime {start!r}: pass an aware datetime")
        if not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        local = start.astimezone(self.zone)
        ordinal = local.toordinal()
        # The segment of start's instant has built its local date (and three days either side).
        segment = self._segment((start - _EPOCH) // _US)
        while True:
            business = segment.business
            if n > 0:
                i = bisect_right(business, ordinal) + n - 1
            else:
                i = bisect_left(business, ordinal) + n
            if 0 <= i < len(business):
                ordinal = business[i]
                break
            if i >= 0:
                last = business[-1] if business else segment.first
                if segment.stop - max(ordinal, last) > _QUIET_LIMIT_DAYS:
                    raise ValueError(f"no business day within ten years after {start.isoformat()}")
            else:
                first = business[0] if business else segment.stop
                if min(ordinal, first) - segment.first > _QUIET_LIMIT_DAYS:
                    raise ValueError(f"no business day within ten years before {start.isoformat()}")
            segment = self._grow(segment, forward=i >= 0)
        periods = self._day(ordinal)
        target = self._local_to_us(dt.datetime.combine(dt.date.fromordinal(ordinal), local.time()))
        for period_start, period_end in periods:
            if target < period_end:
                return _from_us(max(target, period_start))
        return _from_us(periods[-1][1])

    def periods_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open periods belonging to a local date (starting on it), in UTC, after breaks."""
        ordinal = _check_date(day, "periods_on").toordinal()
        return [(_from_us(start), _from_us(end)) for start, end in self._day(ordinal)]

    # --- arithmetic on microseconds ---------------------------------------------------------

    def _add(self, origin: int, amount: int) -> int:
        segment = self._segment(origin)
        while True:
            target = segment.worked_until(origin) + amount
            k = bisect_left(segment.cum, target)
            if k < len(segment.cum):
                j = k - 1
                return segment.starts[j] + target - segment.cum[j]
            self._check_quiet_after(segment, origin)
            segment = self._grow(segment, forward=True)

    def _subtract(self, origin: int, amount: int) -> int:
        segment = self._segment(origin)
        while True:
            if amount == 0:
                i = bisect_right(segment.starts, origin) - 1
                if i >= 0:
                    return min(origin, segment.ends[i])
            else:
                target = segment.worked_until(origin) - amount
                # target == 0 lands on the first interval's start, unless it was clipped there.
                if target > 0 or (target == 0 and segment.starts[0] > segment.lo):
                    j = bisect_right(segment.cum, target) - 1
                    return segment.starts[j] + target - segment.cum[j]
            self._check_quiet_before(segment, origin)
            segment = self._grow(segment, forward=False)

    def _next_open(self, origin: int) -> int:
        segment = self._segment(origin)
        while True:
            i = bisect_right(segment.starts, origin) - 1
            if i >= 0 and origin < segment.ends[i]:
                return origin
            if i + 1 < len(segment.starts):
                return segment.starts[i + 1]
            self._check_quiet_after(segment, origin)
            segment = self._grow(segment, forward=True)

    def _worked(self, a: int, b: int) -> int:
        segment = self._segment(a)
        while b >= segment.hi:
            segment = self._grow(segment, forward=True)
        return segment.worked_until(b) - segment.worked_until(a)

    def _check_quiet_after(self, segment: _Segment, origin: int) -> None:
        last_open = segment.ends[-1] if segment.ends else segment.lo
        if segment.hi - max(origin, last_open) > _QUIET_LIMIT:
            raise ValueError(f"calendar has no open time within ten years after {_from_us(origin)}")

    def _check_quiet_before(self, segment: _Segment, origin: int) -> None:
        first_open = segment.starts[0] if segment.starts else segment.hi
        if min(origin, first_open) - segment.lo > _QUIET_LIMIT:
            raise ValueError(
                f"calendar has no open time within ten years before {_from_us(origin)}"
            )

    # --- the lazily built timeline ----------------------------------------------------------

    def _segment(self, us: int) -> _Segment:
        """A segment whose exact range holds ``us``: an existing one, one grown to reach it
        (when within two years), or a new one of about three months."""
        segments = self._segments
        for segment in segments:
            if segment.lo <= us < segment.hi:
                return segment
        ordinal = us // _DAY + _EPOCH_ORDINAL
        first = ordinal - _MARGIN_BEFORE
        stop = ordinal + _MARGIN_AFTER + 1
        for segment in segments:
            if segment.first - 731 <= first and stop <= segment.stop + 731:
                first, stop = min(first, segment.first), max(stop, segment.stop)
                return self._replace(segment, first, stop, us)
        return self._replace(None, first - 14, stop + 78, us)

    def _grow(self, segment: _Segment, *, forward: bool) -> _Segment:
        """The segment extended by its own length (at least three months) in one direction."""
        step = max(92, segment.stop - segment.first)
        if forward:
            return self._replace(segment, segment.first, segment.stop + step, None)
        return self._replace(segment, segment.first - step, segment.stop, None)

    def _replace(self, old: _Segment | None, first: int, stop: int, us: int | None) -> _Segment:
        first, stop = max(first, _MIN_ORDINAL), min(stop, _MAX_ORDINAL)
        if old is not None and first >= old.first and stop <= old.stop:
            raise OverflowError("business-time search left the supported range of dates")
        intervals: list[tuple[int, int]] = []
        business = []
        for ordinal in range(first, stop):
            day = self._day(ordinal)
            if day:
                intervals.extend(day)
                business.append(ordinal)
        segment = _Segment(first, stop, intervals, business)
        if us is not None and not segment.lo <= us < segment.hi:
            raise OverflowError(f"{_from_us(us)} is outside the supported range of dates")
        # Swapped in whole, so a thread reading the old list still sees consistent segments.
        self._segments = [s for s in self._segments if s is not old] + [segment]
        return segment

    def _day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """The open intervals (UTC microseconds) belonging to one local date, after breaks."""
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        day = dt.date.fromordinal(ordinal)
        periods = self._special.get(day)
        if periods is None:
            periods = () if day in self._holidays else self._weekly[day.weekday()]
        intervals = _merge([self._to_utc(day, period) for period in periods])
        if intervals and self._breaks:
            for break_day in (ordinal - 1, ordinal, ordinal + 1):
                if break_day in self._breaks:
                    intervals = _remove(intervals, self._breaks_of(break_day))
        result = tuple(intervals)
        self._days[ordinal] = result
        return result

    def _breaks_of(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        cached = self._break_intervals.get(ordinal)
        if cached is None:
            day = dt.date.fromordinal(ordinal)
            cached = tuple(_merge([self._to_utc(day, p) for p in self._breaks[ordinal]]))
            self._break_intervals[ordinal] = cached
        return cached

    def _to_utc(self, day: dt.date, period: tuple[int, int]) -> tuple[int, int]:
        midnight = dt.datetime.combine(day, dt.time())
        start, end = period
        return (
            self._local_to_us(midnight + dt.timedelta(microseconds=start)),
            self._local_to_us(midnight + dt.timedelta(microseconds=end)),
        )

    def _local_to_us(self, wall: dt.datetime) -> int:
        """A naive local wall time (its fold ignored) as UTC microseconds: the first instant
        whose wall clock reads ``wall`` or later. So a repeated time is its first occurrence and
        a skipped one is the instant the clocks jumped."""
        if wall.fold:
            wall = wall.replace(fold=0)
        offset = self.zone.utcoffset(wall)  # for a repeated time, the one before the change
        us = (wall - offset - _NAIVE_EPOCH) // _US
        if self._fixed_offset:
            return us
        if (_EPOCH + dt.timedelta(microseconds=us)).astimezone(self.zone).utcoffset() == offset:
            return us
        # In a gap: read with the offset before the jump it is an instant after the jump; with
        # the offset after (fold=1), an instant before. Transitions fall on whole seconds.
        other = (wall - self.zone.utcoffset(wall.replace(fold=1)) - _NAIVE_EPOCH) // _US
        before, after = min(us, other) // _SECOND, -(-max(us, other) // _SECOND)
        while before + 1 < after:
            middle = (before + after) // 2
            moment = _EPOCH + dt.timedelta(seconds=middle)
            if moment.astimezone(self.zone).replace(tzinfo=None) >= wall:
                after = middle
            else:
                before = middle
        return after * _SECOND
