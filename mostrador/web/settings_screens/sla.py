"""Settings → Hours & SLAs (supervisors and administrators): calendars with their weekly hours,
public holidays and the desk's own closed days and special hours; SLA policies in the order
they are tried.

Delivery only: the forms turn what was typed into the actions' arguments, the actions validate
and write (and re-plan open conversations in the background). Reads are the handful of rows a
desk has, in a fixed number of queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from mostrador.accounts.models import Team
from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.errors import MostradorError
from mostrador.customers.models import Identity
from mostrador.sla import actions
from mostrador.sla.models import WEEKDAYS, Calendar, CalendarDay, Policy
from mostrador.web.settings_screens.forms import (
    TARGET_FIELDS,
    CalendarDayForm,
    CalendarForm,
    PolicyForm,
    format_periods,
    holiday_countries,
    next_holidays,
)
from mostrador.web.settings_screens.views import _is_htmx, _page, supervisor_required

TAB = "sla"
# The day form shares its page with the calendar form: its fields get names of their own.
DAY_PREFIX = "day"
# What an action names → the form field that shows its objection.
CALENDAR_FIELDS = {"name": "name", "time_zone": "time_zone", "country": "country",
                   "subdivision": "subdivision"}
POLICY_FIELDS = {"first_response_minutes": "first_response_amount",
                 "next_response_minutes": "next_response_amount",
                 "resolution_minutes": "resolution_amount"}


def _add_error(form, exc: MostradorError, fields: dict[str, str]) -> None:
    field = fields.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


# --- how things read in a list --------------------------------------------------------------


def _day_names() -> dict[str, str]:
    return {"mon": pgettext("opening hours", "Mon"), "tue": pgettext("opening hours", "Tue"),
            "wed": pgettext("opening hours", "Wed"), "thu": pgettext("opening hours", "Thu"),
            "fri": pgettext("opening hours", "Fri"), "sat": pgettext("opening hours", "Sat"),
            "sun": pgettext("opening hours", "Sun")}


def hours_summary(weekly: dict[str, Any]) -> list[str]:
    """``["Mon–Thu 09:00-14:00, 15:00-18:30", "Fri 08:00-15:00"]``: consecutive days with the
    same periods together; closed days left out."""
    names = _day_names()
    lines: list[str] = []
    run: list[str] = []
    for day in (*WEEKDAYS, None):
        periods = (weekly or {}).get(day) if day else None
        if run and (day is None or periods != weekly.get(run[0])):
            days = names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}"
            lines.append(f"{days} {format_periods(weekly[run[0]])}")
            run = []
        if periods:
            run.append(day)
    return lines


def minutes_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    if hours:
        return _("%(count)d h") % {"count": hours}
    return _("%(count)d min") % {"count": rest}


@dataclasses.dataclass
class PolicyRow:
    policy: Policy
    conditions: list[str]
    targets: list[str]
    first: bool
    last: bool


def _policy_rows(policies: list[Policy]) -> list[PolicyRow]:
    channels = dict(Identity.Kind.choices)
    priorities = dict(Conversation.Priority.choices)
    rows = []
    for index, policy in enumerate(policies):
        conditions = []
        if policy.channels:
            conditions.append(_("Channels: %(values)s") % {"values": ", ".join(
                str(channels.get(value, value)) for value in policy.channels)})
        if policy.request_types:
            conditions.append(_("Request types: %(values)s")
                              % {"values": ", ".join(policy.request_types)})
        if policy.priorities:
            conditions.append(_("Priorities: %(values)s") % {"values": ", ".join(
                str(priorities.get(value, value)) for value in policy.priorities)})
        if policy.segments:
            conditions.append(_("Segments: %(values)s") % {"values": ", ".join(policy.segments)})
        targets = []
        for kind, label in TARGET_FIELDS:
            if minutes := getattr(policy, f"{kind}_minutes"):
                targets.append(f"{label}: {minutes_text(minutes)}")
        if targets:
            targets.append(_("in opening hours") if policy.business_hours
                           else _("around the clock"))
        if policy.legal_days:
            targets.append(_("Legal deadline: %(days)d business days") % {
                "days": policy.legal_days})
        rows.append(PolicyRow(policy, conditions or [_("Every conversation")], targets,
                              first=index == 0, last=index == len(policies) - 1))
    return rows


# --- the overview ---------------------------------------------------------------------------


@supervisor_required
def overview(request: HttpRequest) -> HttpResponse:
    """Calendars (with the inboxes and teams that use each) and policies in order."""
    calendars = list(Calendar.objects.prefetch_related(
        Prefetch("inboxes", queryset=Inbox.objects.order_by("name").only("id", "name",
                                                                          "calendar_id")),
        Prefetch("teams", queryset=Team.objects.order_by("name").only("id", "name",
                                                                       "calendar_id")),
    ).order_by("name"))
    policies = list(Policy.objects.order_by("position", "id"))
    by_policies: dict[int, list[str]] = {}
    for policy in policies:
        for calendar_id in {policy.calendar_id, policy.legal_calendar_id} - {None}:
            by_policies.setdefault(calendar_id, []).append(policy.name)
    countries = dict(holiday_countries())
    calendar_rows = [{"calendar": calendar, "hours": hours_summary(calendar.weekly),
                      "country": countries.get(calendar.country, calendar.country),
                      "policies": by_policies.get(calendar.pk, [])}
                     for calendar in calendars]
    return _page(request, "web/settings/sla_overview.html", TAB, calendars=calendar_rows,
                 policies=_policy_rows(policies))


# --- calendars ------------------------------------------------------------------------------


def _calendar(pk: int) -> Calendar:
    calendar = Calendar.objects.filter(pk=pk).first()
    if calendar is None:
        raise Http404(_("Calendar %(id)s not found.") % {"id": pk})
    return calendar


def _calendar_page(request: HttpRequest, form: CalendarForm, calendar: Calendar | None,
                   day_form: CalendarDayForm | None = None) -> HttpResponse:
    data = form.data if form.is_bound else form.initial
    country, region = data.get("country") or "", data.get("subdivision") or ""
    today = timezone.localdate()
    days = list(calendar.days.all()) if calendar is not None else []
    return _page(request, "web/settings/sla_calendar_form.html", TAB, form=form,
                 calendar=calendar, days=days,
                 day_form=day_form or CalendarDayForm(prefix=DAY_PREFIX),
                 holidays=next_holidays(country, region, today), zones=_zone_names())


def _zone_names() -> list[str]:
    import zoneinfo

    return sorted(zoneinfo.available_timezones())


@supervisor_required
def calendar_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CalendarForm(request.POST)
        if form.is_valid():
            try:
                calendar = actions.do_create_calendar(**form.calendar_fields(),
                                                      acting_user=request.user)
            except MostradorError as exc:
                _add_error(form, exc, CALENDAR_FIELDS)
            else:
                messages.success(request, _("The calendar %(name)s was created; add closed "
                                            "days or special hours below if it has any.")
                                 % {"name": calendar.name})
                return redirect("web:settings_calendar", calendar.pk)
    else:
        form = CalendarForm(initial={"time_zone": "Europe/Madrid", "after_hours_reply": True,
                                     "is_default": not Calendar.objects.exists(),
                                     **{f"hours_{day}": "09:00-14:00, 15:00-18:00"
                                        for day in ("mon", "tue", "wed", "thu", "fri")}})
    return _calendar_page(request, form, None)


@supervisor_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = _calendar(pk)
    if request.method == "POST":
        form = CalendarForm(request.POST)
        if form.is_valid():
            try:
                actions.do_update_calendar(calendar, acting_user=request.user,
                                           **form.calendar_fields())
            except MostradorError as exc:
                _add_error(form, exc, CALENDAR_FIELDS)
            else:
                messages.success(request, _("The calendar %(name)s was saved; open "
                                            "conversations' due times follow its new hours.")
                                 % {"name": form.cleaned_data["name"]})
                return redirect("web:settings_sla")
    else:
        form = CalendarForm(initial=CalendarForm.initial_for(calendar))
    return _calendar_page(request, form, calendar)


@supervisor_required
@require_POST
def calendar_day_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the calendar on a date, or open it at special hours (replacing what that date
    had)."""
    calendar = _calendar(pk)
    day_form = CalendarDayForm(request.POST, prefix=DAY_PREFIX)
    if day_form.is_valid():
        data = day_form.cleaned_data
        try:
            actions.do_set_calendar_day(calendar, date=data["date"], kind=data["kind"],
                                        periods=data["periods"], name=data["name"],
                                        acting_user=request.user)
        except MostradorError as exc:
            _add_error(day_form, exc, {"date": "date", "kind": "kind", "periods": "periods"})
        else:
            text = (_("%(date)s: closed.") if data["kind"] == CalendarDay.Kind.CLOSED
                    else _("%(date)s: open %(hours)s.")) % {
                "date": data["date"].isoformat(), "hours": format_periods(data["periods"])}
            messages.success(request, text)
            return redirect(f"{reverse('web:settings_calendar', args=[pk])}#days")
    form = CalendarForm(initial=CalendarForm.initial_for(calendar))
    return _calendar_page(request, form, calendar, day_form)


@supervisor_required
@require_POST
def calendar_day_remove(request: HttpRequest, pk: int, day: str) -> HttpResponse:
    calendar = _calendar(pk)
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Http404(_("%(day)s is not a date.") % {"day": day}) from None
    if not actions.do_remove_calendar_day(calendar, date, acting_user=request.user):
        raise Http404(_("The calendar has no closed day or special hours on %(date)s.")
                      % {"date": date.isoformat()})
    messages.success(request, _("%(date)s follows the weekly hours again.")
                     % {"date": date.isoformat()})
    return redirect(f"{reverse('web:settings_calendar', args=[pk])}#days")


@supervisor_required
@require_GET
def holidays_preview(request: HttpRequest) -> HttpResponse:
    """The region choices and the next public holidays of the country (and region) in the
    query string: the calendar form swaps them in when the country or region changes."""
    country = request.GET.get("country") or ""
    form = CalendarForm(initial={"country": country})
    if country not in dict(form.fields["country"].choices):
        country = ""
        form = CalendarForm()
    region = request.GET.get("subdivision") or ""
    if region not in dict(form.fields["subdivision"].choices):
        region = ""  # a region of the country chosen before
    form.initial["subdivision"] = region
    return render(request, "web/settings/sla_holidays.html", {
        "form": form, "holidays": next_holidays(country, region, timezone.localdate())})


# --- policies -------------------------------------------------------------------------------


def _policy(pk: int) -> Policy:
    policy = Policy.objects.filter(pk=pk).first()
    if policy is None:
        raise Http404(_("Policy %(id)s not found.") % {"id": pk})
    return policy


def _policy_page(request: HttpRequest, form: PolicyForm, policy: Policy | None) -> HttpResponse:
    return _page(request, "web/settings/sla_policy_form.html", TAB, form=form, policy=policy)


@supervisor_required
def policy_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                policy = actions.do_create_policy(**form.policy_fields(),
                                                  acting_user=request.user)
            except MostradorError as exc:
                _add_error(form, exc, POLICY_FIELDS)
            else:
                messages.success(request, _("The policy %(name)s was created, last in the "
                                            "order; move it up if it should be tried "
                                            "sooner.") % {"name": policy.name})
                return redirect(f"{reverse('web:settings_sla')}#policies")
    else:
        form = PolicyForm()
    return _policy_page(request, form, None)


@supervisor_required
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy(pk)
    if request.method == "POST":
        form = PolicyForm(request.POST, initial=PolicyForm.initial_for(policy))
        if form.is_valid():
            try:
                actions.do_update_policy(policy, **form.policy_fields(),
                                         acting_user=request.user)
            except MostradorError as exc:
                _add_error(form, exc, POLICY_FIELDS)
            else:
                messages.success(request, _("The policy %(name)s was saved; open "
                                            "conversations follow it in a moment.")
                                 % {"name": form.cleaned_data["name"]})
                return redirect(f"{reverse('web:settings_sla')}#policies")
    else:
        form = PolicyForm(initial=PolicyForm.initial_for(policy))
    return _policy_page(request, form, policy)


@supervisor_required
@require_POST
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One place up (``direction=up``) or down in the order policies are tried."""
    policy = _policy(pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    with transaction.atomic():
        ordered = list(Policy.objects.select_for_update().order_by("position", "id"))
        index = next((i for i, p in enumerate(ordered) if p.pk == policy.pk), None)
        other = -1 if index is None else index + step
        if index is not None and 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            a, b = ordered[index], ordered[other]
            if len({p.position for p in ordered}) == len(ordered):
                # Distinct positions: the two trade places, nobody else moves.
                positions = {a.pk: b.position, b.pk: a.position}
            else:
                # Shared positions (the id breaks the tie): number them all afresh.
                positions = {p.pk: (n + 1) * 10 for n, p in enumerate(ordered)}
            for row in ordered:
                if row.pk in positions and positions[row.pk] != row.position:
                    actions.do_update_policy(row, position=positions[row.pk],
                                             acting_user=request.user)
    return redirect(f"{reverse('web:settings_sla')}#policy-{policy.pk}")


@supervisor_required
@require_POST
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy(pk)
    name = policy.name
    actions.do_delete_policy(policy, acting_user=request.user)
    messages.success(request, _("The policy %(name)s was deleted; the conversations it applied "
                                "to follow the next matching policy.") % {"name": name})
    url = f"{reverse('web:settings_sla')}#policies"
    if _is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)
