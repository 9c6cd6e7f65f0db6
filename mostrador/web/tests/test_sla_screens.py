"""Hours & SLAs in the agent workspace: calendars (weekly split shifts, public holidays of a
country and region, closed days and special hours), policies (conditions, targets, order,
escalation), the calendar of an inbox and a team, the inbox sorted by SLA time left, and each
target with its health on the conversation page, with the SLA steps in the timeline."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mostrador.accounts.actions import do_update_agent
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions as conv
from mostrador.conversations.models import Conversation, Inbox
from mostrador.sla import actions, calendars, events
from mostrador.sla.models import Calendar, CalendarDay, Policy, Target
from mostrador.web.conversation import timeline

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")
SPLIT = "09:00-14:00, 15:00-18:00"
WEEKDAYS_9_TO_18 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HX = {"HX-Request": "true"}
# A Friday in November 2026; the next public holidays in Madrid are in December.
FRIDAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=MADRID)


@pytest.fixture(autouse=True)
def _fresh_calendars():
    calendars.forget_cached()
    yield
    calendars.forget_cached()


@pytest.fixture
def carla(client, desk):
    """Carla, the supervisor, signed in."""
    client.force_login(desk.carla)
    return client


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """After-commit work (SLA sync, re-computation) as a real request would run it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def field_errors(response, name: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>',
                      response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def madrid_calendar(**extra) -> Calendar:
    return actions.do_create_calendar(**{"name": "Madrid", "time_zone": "Europe/Madrid",
                                         "weekly": WEEKDAYS_9_TO_18, "country": "ES",
                                         "subdivision": "MD", **extra})


CALENDAR_FORM = {
    "name": "Soporte Madrid", "time_zone": "Europe/Madrid", "time_zone_other": "",
    "hours_mon": SPLIT, "hours_tue": SPLIT, "hours_wed": SPLIT, "hours_thu": SPLIT,
    "hours_fri": "8-15", "hours_sat": "", "hours_sun": "", "country": "ES",
    "subdivision": "MD", "after_hours_reply": "on", "is_default": "on",
}

POLICY_FORM = {
    "name": "VIP", "active": "on", "channels": ["email", "whatsapp"], "priorities": ["3", "4"],
    "request_types": "queja, reclamacion", "segments": "vip",
    "first_response_amount": "2", "first_response_unit": "hours",
    "next_response_amount": "", "next_response_unit": "hours",
    "resolution_amount": "90", "resolution_unit": "minutes",
    "business_hours": "1", "calendar": "", "pause_when_pending": "on",
    "legal_days": "", "legal_calendar": "", "warn_percent": "80",
    "escalate_priority": "on", "escalate_tier": "on", "escalate_team": "",
    "notify_supervisors": "on",
}


# --- who may come in ------------------------------------------------------------------------


@pytest.fixture
def some_calendar_and_policy(desk):
    calendar = madrid_calendar()
    policy = actions.do_create_policy(name="Estándar", first_response_minutes=60)
    return calendar, policy


@pytest.mark.parametrize("name", ["settings_sla", "settings_calendar_new", "settings_policy_new",
                                  "settings_calendar", "settings_policy"])
def test_agents_get_the_403_page_and_strangers_the_sign_in(client, desk, name,
                                                           some_calendar_and_policy):
    calendar, policy = some_calendar_and_policy
    args = {"settings_calendar": [calendar.pk], "settings_policy": [policy.pk]}.get(name, [])
    url = reverse(f"web:{name}", args=args)
    assert client.get(url)["Location"].startswith(reverse("web:login"))
    client.force_login(desk.ana)
    response = client.get(url)
    assert response.status_code == 403
    assert "Only supervisors and administrators" in text_of(response)


def test_an_agent_cannot_change_hours_or_policies(client, desk, some_calendar_and_policy):
    calendar, policy = some_calendar_and_policy
    other = actions.do_create_policy(name="Urgente", priorities=[4], first_response_minutes=15)
    CalendarDay.objects.create(calendar=calendar, date=dt.date(2026, 12, 24))
    client.force_login(desk.ana)
    posts = [
        (reverse("web:settings_calendar", args=[calendar.pk]), {**CALENDAR_FORM, "name": "X"}),
        (reverse("web:settings_calendar_day_add", args=[calendar.pk]),
         {"day-date": "2026-12-31", "day-kind": "closed"}),
        (reverse("web:settings_calendar_day_remove", args=[calendar.pk, "2026-12-24"]), {}),
        (reverse("web:settings_policy_move", args=[other.pk]), {"direction": "up"}),
        (reverse("web:settings_policy_delete", args=[policy.pk]), {}),
        (reverse("web:settings_team", args=[desk.team_l1.pk]),
         {"name": "Soporte L1", "tier": "1", "calendar": str(calendar.pk)}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    calendar.refresh_from_db()
    assert calendar.name == "Madrid"
    assert list(calendar.days.values_list("date", flat=True)) == [dt.date(2026, 12, 24)]
    assert list(Policy.objects.values_list("name", flat=True)) == ["Estándar", "Urgente"]
    desk.team_l1.refresh_from_db()
    assert desk.team_l1.calendar_id is None


def test_missing_calendars_and_policies_are_404(carla, some_calendar_and_policy):
    calendar, _policy = some_calendar_and_policy
    assert carla.get(reverse("web:settings_calendar", args=[999999])).status_code == 404
    assert carla.get(reverse("web:settings_policy", args=[999999])).status_code == 404
    assert carla.post(reverse("web:settings_policy_move", args=[999999]),
                      {"direction": "up"}).status_code == 404
    assert carla.post(reverse("web:settings_calendar_day_remove",
                              args=[calendar.pk, "not-a-date"])).status_code == 404
    assert carla.post(reverse("web:settings_calendar_day_remove",
                              args=[calendar.pk, "2026-12-24"])).status_code == 404


# --- calendars ------------------------------------------------------------------------------


def test_the_settings_tabs_lead_to_hours_and_slas(carla):
    html = carla.get(reverse("web:settings")).content.decode()
    assert f'href="{reverse("web:settings_sla")}"' in html
    response = carla.get(reverse("web:settings_sla"))
    assert 'aria-current="page">Hours & SLAs<' in response.content.decode()
    assert "No calendars yet" in text_of(response)
    assert "No policies yet" in text_of(response)


def test_create_a_calendar_with_split_shifts_and_regional_holidays(carla, desk):
    form = carla.get(reverse("web:settings_calendar_new"))
    assert form.status_code == 200
    # A first calendar is offered as the default, with a split shift on weekdays.
    assert 'name="is_default" id="id_is_default" checked' in form.content.decode()
    assert f'value="{SPLIT}"' in form.content.decode()

    response = carla.post(reverse("web:settings_calendar_new"), CALENDAR_FORM)
    calendar = Calendar.objects.get(name="Soporte Madrid")
    assert response["Location"] == reverse("web:settings_calendar", args=[calendar.pk])
    assert calendar.weekly == {
        **{day: [["09:00", "14:00"], ["15:00", "18:00"]] for day in ("mon", "tue", "wed",
                                                                     "thu")},
        "fri": [["08:00", "15:00"]]}
    assert (calendar.time_zone, calendar.country, calendar.subdivision) == (
        "Europe/Madrid", "ES", "MD")
    assert calendar.is_default and calendar.after_hours_reply

    with time_machine.travel(FRIDAY, tick=False):
        page = carla.get(reverse("web:settings_calendar", args=[calendar.pk]))
    html = page.content.decode()
    assert f'value="{SPLIT}"' in html and 'value="08:00-15:00"' in html
    preview = re.search(r'<ul class="holiday-list".*?</ul>', html, re.S).group(0)
    shown = re.findall(r'datetime="(\d{4}-\d\d-\d\d)"', preview)
    expected = sorted(day for day in calendars.public_holidays("ES", "MD", 2026, 2028)
                      if day >= FRIDAY.date())[:10]
    assert shown == [day.isoformat() for day in expected]
    assert "2026-12-08" in shown  # the Immaculate Conception, a national holiday


def test_the_holiday_preview_follows_the_country_and_region(carla):
    with time_machine.travel(FRIDAY, tick=False):
        madrid = carla.get(reverse("web:settings_sla_holidays"),
                           {"country": "ES", "subdivision": "MD"}, headers=HX)
        mexico = carla.get(reverse("web:settings_sla_holidays"),
                           {"country": "MX", "subdivision": "MD"}, headers=HX)
        nowhere = carla.get(reverse("web:settings_sla_holidays"), {"country": "ZZ"}, headers=HX)
    html = madrid.content.decode()
    assert html.startswith('<div id="holiday-fields"')
    assert '<option value="MD" selected>Madrid (MD)</option>' in html
    assert html.count("<li>") == 10
    # Madrid's region is not Mexico's: the region is dropped, the national holidays shown.
    mexican = mexico.content.decode()
    regions = re.search(r'<select name="subdivision".*?</select>', mexican, re.S).group(0)
    assert '<option value="" selected>' in regions and '"MD"' not in regions
    assert 'datetime="2026-12-25"' in mexican
    assert "<li>" not in nowhere.content.decode()


def test_calendar_mistakes_are_shown_next_to_their_fields(carla, desk):
    url = reverse("web:settings_calendar_new")
    response = carla.post(url, {**CALENDAR_FORM, "hours_tue": "9am to 5pm",
                                "hours_wed": "25:00-26:00", "time_zone": "other",
                                "time_zone_other": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "is not a period" in field_errors(response, "hours_tue")
    assert "25:00 is not a time of day" in field_errors(response, "hours_wed")
    assert "Mars/Olympus_Mons is not a time zone" in field_errors(response, "time_zone_other")
    # What was typed stays.
    assert 'value="9am to 5pm"' in response.content.decode()

    closed = {**CALENDAR_FORM, **{f"hours_{day}": "" for day in
                                  ("mon", "tue", "wed", "thu", "fri")}}
    assert "at least one day" in text_of(carla.post(url, closed))
    madrid_calendar()
    taken = carla.post(url, {**CALENDAR_FORM, "name": "Madrid"})
    assert "already exists" in field_errors(taken, "name")
    assert "is not one of the available choices" in field_errors(
        carla.post(url, {**CALENDAR_FORM, "country": "MX", "subdivision": "MD"}), "subdivision")
    assert Calendar.objects.count() == 1


def test_edit_a_calendar_in_another_zone_without_the_after_hours_reply(carla, desk,
                                                                       run_commits):
    calendar = madrid_calendar(is_default=True)
    url = reverse("web:settings_calendar", args=[calendar.pk])
    html = carla.get(url).content.decode()
    assert 'value="09:00-18:00"' in html
    assert '<option value="Europe/Madrid" selected>' in html
    with run_commits():
        response = carla.post(url, {**CALENDAR_FORM, "name": "Caracas", "time_zone": "other",
                                    "time_zone_other": "America/Caracas", "hours_sat": "10-14",
                                    "country": "VE", "subdivision": "",
                                    "after_hours_reply": ""})
    assert response["Location"] == reverse("web:settings_sla")
    calendar.refresh_from_db()
    assert (calendar.name, calendar.time_zone, calendar.country) == (
        "Caracas", "America/Caracas", "VE")
    assert calendar.weekly["sat"] == [["10:00", "14:00"]]
    assert not calendar.after_hours_reply
    # A zone outside the common list comes back in the free-text field.
    html = carla.get(url).content.decode()
    assert '<option value="other" selected>' in html
    assert 'value="America/Caracas"' in html


def test_add_and_remove_closed_days_and_special_hours(carla, desk):
    calendar = madrid_calendar()
    add = reverse("web:settings_calendar_day_add", args=[calendar.pk])
    page = reverse("web:settings_calendar", args=[calendar.pk])
    response = carla.post(add, {"day-date": "2026-12-24", "day-kind": "closed",
                                "day-name": "Nochebuena"})
    assert response["Location"] == f"{page}#days"
    carla.post(add, {"day-date": "2026-12-31", "day-kind": "special", "day-periods": "9-13",
                     "day-name": "Nochevieja"})
    assert [(d.date.isoformat(), d.kind, d.periods, d.name) for d in calendar.days.all()] == [
        ("2026-12-24", "closed", [], "Nochebuena"),
        ("2026-12-31", "special", [["09:00", "13:00"]], "Nochevieja")]
    text = text_of(carla.get(page))
    assert "Nochebuena" in text and "09:00-13:00" in text and "Nochevieja" in text

    missing = carla.post(add, {"day-date": "2027-01-05", "day-kind": "special",
                               "day-periods": ""})
    assert missing.status_code == 200
    assert "Give the hours the desk is open that day" in field_errors(missing, "day-periods")
    assert "Enter a valid date" in field_errors(
        carla.post(add, {"day-date": "31/12", "day-kind": "closed"}), "day-date")

    remove = reverse("web:settings_calendar_day_remove", args=[calendar.pk, "2026-12-24"])
    assert carla.post(remove)["Location"] == f"{page}#days"
    assert list(calendar.days.values_list("date", flat=True)) == [dt.date(2026, 12, 31)]
    assert carla.post(remove).status_code == 404
    # The hours arithmetic follows: the 31st opens 09:00-13:00 only.
    business = calendars.business_calendar(calendar.pk)
    assert [(s.astimezone(MADRID).hour, e.astimezone(MADRID).hour)
            for s, e in business.periods_on(dt.date(2026, 12, 31))] == [(9, 13)]


def test_the_overview_lists_calendars_with_who_uses_them(carla, desk,
                                                       django_assert_num_queries):
    madrid = madrid_calendar(is_default=True)
    mexico = actions.do_create_calendar(name="México", time_zone="America/Mexico_City",
                                        weekly={"mon": [["08:00", "16:00"]]}, country="MX")
    Inbox.objects.filter(pk=desk.inbox.pk).update(calendar=madrid)
    desk.team_l2.calendar = mexico
    desk.team_l2.save()
    actions.do_create_policy(name="Estándar", first_response_minutes=240, calendar=mexico)
    carla.get(reverse("web:settings_sla"))
    with django_assert_num_queries(7) as few:  # session, user, agent, calendars, their
        response = carla.get(reverse("web:settings_sla"))  # inboxes, teams, policies
    rows = re.findall(r"<tr>.*?</tr>", response.content.decode(), re.S)
    madrid_row = next(row for row in rows if ">Madrid<" in row)
    assert ">default<" in madrid_row and desk.inbox.name in madrid_row
    assert "Mon–Fri 09:00-18:00" in madrid_row and "Spain" in madrid_row
    mexico_row = next(row for row in rows if ">México<" in row)
    assert "team Soporte L2" in mexico_row and "Mexico" in mexico_row
    assert "policy Estándar" in mexico_row

    for n in range(8):
        calendar = actions.do_create_calendar(name=f"Turno {n}", time_zone="UTC",
                                              weekly={"sat": [["00:00", "24:00"]]})
        Inbox.objects.create(name=f"Buzón {n}", channel_kind="email", calendar=calendar,
                             config={"address": f"b{n}@desk.example.com"})
        actions.do_create_policy(name=f"Política {n}", priorities=[1],
                                 resolution_minutes=60 * (n + 1))
    with django_assert_num_queries(len(few.captured_queries)):
        carla.get(reverse("web:settings_sla"))


# --- policies -------------------------------------------------------------------------------


def test_create_a_policy_with_conditions_targets_and_escalation(carla, desk):
    calendar, legal = madrid_calendar(), actions.do_create_calendar(
        name="España hábiles", time_zone="Europe/Madrid", country="ES",
        weekly={day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
    response = carla.post(reverse("web:settings_policy_new"), {
        **POLICY_FORM, "calendar": str(calendar.pk), "legal_days": "15",
        "legal_calendar": str(legal.pk), "escalate_team": str(desk.team_l2.pk)})
    assert response["Location"] == f"{reverse('web:settings_sla')}#policies"
    policy = Policy.objects.get(name="VIP")
    assert (policy.channels, policy.priorities, policy.request_types, policy.segments) == (
        ["email", "whatsapp"], [3, 4], ["queja", "reclamacion"], ["vip"])
    assert (policy.first_response_minutes, policy.next_response_minutes,
            policy.resolution_minutes) == (120, None, 90)
    assert policy.business_hours and policy.calendar == calendar
    assert (policy.legal_days, policy.legal_calendar) == (15, legal)
    assert policy.warn_percent == 80
    assert policy.escalate_priority and policy.escalate_tier and policy.notify_supervisors
    assert policy.escalate_team == desk.team_l2

    text = text_of(carla.get(reverse("web:settings_sla")))
    assert "Channels: E-mail, WhatsApp" in text and "Priorities: High, Urgent" in text
    assert "First response: 2 h" in text and "Resolution: 1 h 30 min" in text
    assert "Legal deadline: 15 business days" in text


def test_policy_mistakes_are_shown_next_to_their_fields(carla, desk):
    url = reverse("web:settings_policy_new")
    none = carla.post(url, {**POLICY_FORM, "first_response_amount": "",
                            "resolution_amount": ""})
    assert none.status_code == 200
    assert "Set at least one target" in field_errors(none, "first_response_amount")
    bad = carla.post(url, {**POLICY_FORM, "warn_percent": "150", "legal_calendar": "999"})
    assert "less than or equal to 100" in field_errors(bad, "warn_percent")
    assert "valid choice" in field_errors(bad, "legal_calendar")
    assert not Policy.objects.exists()


def test_edit_a_policy_shows_its_targets_in_hours_and_calendar_time(carla, desk, run_commits):
    policy = actions.do_create_policy(name="Estándar", first_response_minutes=240,
                                      resolution_minutes=45, channels=["email"])
    url = reverse("web:settings_policy", args=[policy.pk])
    html = carla.get(url).content.decode()
    assert re.search(r'name="first_response_amount" value="4"', html)
    assert re.search(r'<option value="hours" selected>', html)
    assert re.search(r'name="resolution_amount" value="45"', html)
    assert re.search(r'value="email"[^>]*checked', html)
    with run_commits():
        response = carla.post(url, {**POLICY_FORM, "name": "Estándar", "channels": [],
                                    "priorities": [], "request_types": "", "segments": "",
                                    "first_response_amount": "30",
                                    "first_response_unit": "minutes",
                                    "resolution_amount": "", "business_hours": "0",
                                    "active": ""})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.first_response_minutes, policy.resolution_minutes) == (30, None)
    assert not policy.business_hours and not policy.active
    assert policy.channels == [] and policy.priorities == []


def test_move_policies_up_and_down(carla, desk):
    names = ["Reclamaciones", "VIP", "Urgente", "Estándar"]
    for name in names:
        actions.do_create_policy(name=name, first_response_minutes=60)

    def order():
        return list(Policy.objects.order_by("position", "id").values_list("name", flat=True))

    def move(name, direction):
        policy = Policy.objects.get(name=name)
        response = carla.post(reverse("web:settings_policy_move", args=[policy.pk]),
                              {"direction": direction})
        assert response["Location"] == f"{reverse('web:settings_sla')}#policy-{policy.pk}"

    move("Urgente", "up")
    assert order() == ["Reclamaciones", "Urgente", "VIP", "Estándar"]
    move("Reclamaciones", "down")
    assert order() == ["Urgente", "Reclamaciones", "VIP", "Estándar"]
    move("Urgente", "up")  # already first
    move("Estándar", "down")  # already last
    assert order() == ["Urgente", "Reclamaciones", "VIP", "Estándar"]
    # Policies that share a position (written through the API) get numbered on a move.
    Policy.objects.update(position=5)
    move("Estándar", "up")
    assert order() == ["Reclamaciones", "VIP", "Estándar", "Urgente"]
    assert list(Policy.objects.order_by("position").values_list("position", flat=True)) == [
        10, 20, 30, 40]

    html = carla.get(reverse("web:settings_sla")).content.decode()
    rows = re.findall(r'<tr id="policy-\d+".*?</tr>', html, re.S)
    assert [re.search(r'">([^<]+)</a>', row).group(1) for row in rows] == order()
    assert 'value="up" class="btn btn-secondary btn-small" disabled' in rows[0]
    assert 'value="down" class="btn btn-secondary btn-small" disabled' in rows[-1]


def test_delete_a_policy(carla, desk):
    first = actions.do_create_policy(name="VIP", first_response_minutes=60)
    second = actions.do_create_policy(name="Estándar", first_response_minutes=240)
    response = carla.post(reverse("web:settings_policy_delete", args=[first.pk]))
    assert response["Location"] == f"{reverse('web:settings_sla')}#policies"
    response = carla.post(reverse("web:settings_policy_delete", args=[second.pk]), headers=HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('web:settings_sla')}#policies"
    assert not Policy.objects.exists()


# --- the calendar of an inbox and a team -----------------------------------------------------


def test_a_team_and_an_inbox_get_a_calendar_and_open_conversations_follow(
        carla, desk, run_commits):
    madrid = madrid_calendar(is_default=True)
    mexico = actions.do_create_calendar(name="México", time_zone="America/Mexico_City",
                                        weekly=WEEKDAYS_9_TO_18, country="MX")
    actions.do_create_policy(name="Estándar", first_response_minutes=60)
    with time_machine.travel(FRIDAY, tick=False):
        conversation = receive(desk, run_commits, "<team-move@correo.es>")
        conv.do_set_team(conversation, desk.team_l2, acting_user=desk.carla)
        actions.do_sync_sla(conversation.pk)
        assert target(conversation, "first_response").calendar_id == madrid.pk

        form = carla.get(reverse("web:settings_team", args=[desk.team_l2.pk])).content.decode()
        assert f'<option value="{mexico.pk}">México</option>' in form
        with run_commits():
            response = carla.post(reverse("web:settings_team", args=[desk.team_l2.pk]), {
                "name": "Soporte L2", "tier": "2", "members": [str(desk.beto.pk)],
                "lead": "", "calendar": str(mexico.pk)})
    assert response.status_code == 302
    desk.team_l2.refresh_from_db()
    assert desk.team_l2.calendar == mexico
    # Re-planned after the commit: the rest of the hour counts in Mexico City's hours.
    assert target(conversation, "first_response").calendar_id == mexico.pk

    inbox_url = reverse("web:settings_inbox", args=[desk.inbox.pk])
    html = carla.get(inbox_url).content.decode()
    assert "The desk&#x27;s default calendar" in html
    config = desk.inbox.config
    carla.post(inbox_url, {"name": desk.inbox.name, "address": config["address"],
                           "imap_security": "ssl", "calendar": str(mexico.pk),
                           "active": "on", "catch_all": "on"})
    desk.inbox.refresh_from_db()
    assert desk.inbox.calendar == mexico
    assert f'<option value="{mexico.pk}" selected>' in carla.get(inbox_url).content.decode()


# --- the inbox ------------------------------------------------------------------------------


def receive(desk, run_commits, provider_id: str, *, priority: int | None = None,
            sender: str = "elena.martin@correo.es", subject: str = "Pedido") -> Conversation:
    inbound = InboundMessage(sender_kind="email", sender_id=sender, sender_name="",
                             provider_id=provider_id, subject=subject, text="¿Dónde está?",
                             reply_text="¿Dónde está?")
    with run_commits():
        conversation = conv.receive_inbound(desk.inbox, inbound).conversation
        if priority is not None:
            conv.do_change_priority(conversation, priority, acting_user=desk.carla)
    conversation.refresh_from_db()
    return conversation


def target(conversation: Conversation, kind: str) -> Target:
    return Target.objects.get(conversation=conversation, kind=kind)


@pytest.fixture
def timed_desk(desk, run_commits):
    """Madrid hours and three policies: urgent in 30 minutes, high in 2 hours, others in 8,
    all counted around the clock."""
    with run_commits():
        madrid_calendar(is_default=True)
        for name, priorities, minutes in (("Urgente", [4], 30), ("Alta", [3], 120),
                                          ("Estándar", [], 480)):
            actions.do_create_policy(name=name, priorities=priorities, business_hours=False,
                                     first_response_minutes=minutes)
    return desk


def test_the_inbox_sorts_by_sla_time_left(client, timed_desk, run_commits):
    desk = timed_desk
    with time_machine.travel(FRIDAY, tick=False):
        normal = receive(desk, run_commits, "<n@x>", sender="n@correo.es", subject="Normal")
        urgent = receive(desk, run_commits, "<u@x>", sender="u@correo.es", subject="Urgente",
                         priority=4)
    with time_machine.travel(FRIDAY + dt.timedelta(minutes=20), tick=False):
        high = receive(desk, run_commits, "<h@x>", sender="h@correo.es", subject="Alta",
                       priority=3)
    Policy.objects.all().delete()  # no SLA for what arrives now
    with time_machine.travel(FRIDAY + dt.timedelta(minutes=25), tick=False):
        plain = receive(desk, run_commits, "<p@x>", sender="p@correo.es", subject="Sin SLA")
    assert plain.sla_due_at is None and plain.sla_status == ""

    client.force_login(desk.ana)
    with time_machine.travel(FRIDAY + dt.timedelta(minutes=40), tick=False):
        response = client.get("/", {"f": "1", "order": "sla"})
    html = response.content.decode()
    order = [int(pk) for pk in re.findall(r'data-conversation="(\d+)"', html)]
    # Breached first (due 10:30), then due 12:20 (high), then 18:00 (normal), then no SLA.
    assert order == [urgent.pk, high.pk, normal.pk, plain.pk]
    rows = dict(zip(order, re.findall(r'<td class="col-sla".*?</td>', html, re.S), strict=True))
    assert "sla-breached" in rows[urgent.pk] and "10 min overdue" in rows[urgent.pk]
    assert "sla-on_track" in rows[high.pk] and "in 1 h" in rows[high.pk]
    assert "in 7 h" in rows[normal.pk]
    assert rows[plain.pk].endswith("></td>")  # nothing to show
    assert '<option value="sla" selected>SLA: least time left</option>' in html


def test_a_paused_sla_shows_without_a_time(client, timed_desk, run_commits):
    desk = timed_desk
    with time_machine.travel(FRIDAY, tick=False):
        conversation = receive(desk, run_commits, "<pz@x>")
        with run_commits():
            conv.do_send_reply(conversation, "¿Nos dice el número de pedido?",
                               acting_user=desk.ana, status="pending")
        actions.do_update_policy(Policy.objects.get(name="Estándar"), resolution_minutes=600)
        actions.recompute_open()
    conversation.refresh_from_db()
    assert conversation.sla_status == "paused"
    client.force_login(desk.ana)
    html = client.get("/", {"view": "pending"}).content.decode()
    row = re.search(r'<td class="col-sla".*?</td>', html, re.S).group(0)
    assert "sla-paused" in row and "<time" not in row


def test_the_sla_order_costs_the_same_queries_for_few_and_many(client, timed_desk,
                                                              run_commits):
    desk = timed_desk
    client.force_login(desk.ana)

    def add(count, start):
        for n in range(start, start + count):
            receive(desk, run_commits, f"<q{n}@x>", sender=f"c{n % 7}@correo.es",
                    priority=(n % 4) + 1)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/", {"f": "1", "order": "sla", "status": "new"}).status_code == 200
        return len(captured.captured_queries)

    add(4, 0)
    few = queries()
    add(20, 4)
    # Session, user, agent, the filters' choices (channels, agents, teams, tags), saved views,
    # the rows with a due time, the rows without one (the page is not full), their tags, and
    # the last customer message with the read mark of every row.
    assert queries() == few == 12


# --- the conversation page ------------------------------------------------------------------


def page(client, conversation, run_commits=None) -> str:
    """The conversation page; with ``run_commits``, its after-commit work runs as in a real
    request (opening the page marks the conversation read)."""
    if run_commits is None:
        response = client.get(reverse("web:conversation", args=[conversation.pk]))
    else:
        with run_commits():
            response = client.get(reverse("web:conversation", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_conversation_page_shows_each_target_in_the_agents_time_zone(client, desk,
                                                                         run_commits):
    with run_commits():
        madrid_calendar(is_default=True)
        actions.do_create_policy(name="Estándar", first_response_minutes=60,
                                 next_response_minutes=120, resolution_minutes=16 * 60,
                                 warn_percent=50)
    # Friday 17:30 in Madrid: half an hour today, the rest from Monday 09:00.
    friday = dt.datetime(2026, 11, 20, 17, 30, tzinfo=MADRID)
    with time_machine.travel(friday, tick=False):
        conversation = receive(desk, run_commits, "<page@x>")
    do_update_agent(desk.ana.agent, time_zone="America/Mexico_City")
    client.force_login(desk.ana)
    with time_machine.travel(friday + dt.timedelta(minutes=10), tick=False):
        html = page(client, conversation, run_commits)
    panel = re.search(r'<section class="sla-panel".*?</section>', html, re.S).group(0)
    items = re.findall(r'<li class="sla-target" data-kind="(\w+)">(.*?)</li>', panel, re.S)
    assert [kind for kind, _body in items] == ["first_response", "resolution"]
    first = dict(items)["first_response"]
    assert "First response" in first and "sla-on_track" in first and "On track" in first
    # Due Monday 09:30 in Madrid, shown in Ana's zone (Mexico City, 02:30).
    due = re.search(r'<time datetime="([^"]+)">', first).group(1)
    assert dt.datetime.fromisoformat(due) == dt.datetime(2026, 11, 23, 9, 30, tzinfo=MADRID)
    assert due.endswith("-06:00")
    assert "50 min of opening hours left" in first  # 20 today, 30 on Monday

    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 20, tzinfo=MADRID), tick=False):
        html = page(client, conversation, run_commits)
    first = re.search(r'data-kind="first_response">(.*?)</li>', html, re.S).group(1)
    assert "sla-at_risk" in first and "10 min of opening hours left" in first
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=MADRID), tick=False):
        with run_commits():
            actions.sweep()
        html = page(client, conversation, run_commits)
    first = re.search(r'data-kind="first_response">(.*?)</li>', html, re.S).group(1)
    assert "sla-breached" in first and "30 min overdue" in first
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 5, tzinfo=MADRID), tick=False):
        with run_commits():
            conv.do_send_reply(conversation, "Ya está en camino.", acting_user=desk.ana,
                               status="pending")
        html = page(client, conversation, run_commits)
    first = re.search(r'data-kind="first_response">(.*?)</li>', html, re.S).group(1)
    resolution = re.search(r'data-kind="resolution">(.*?)</li>', html, re.S).group(1)
    assert "sla-met_late" in first and "Met late" in first
    assert "sla-paused" in resolution and "left when the clock resumes" in resolution


def test_a_conversation_without_an_sla_shows_no_panel(client, desk, run_commits):
    conversation = receive(desk, run_commits, "<none@x>")
    client.force_login(desk.ana)
    assert "sla-panel" not in page(client, conversation)


def test_the_page_costs_one_query_more_with_an_sla(client, desk, run_commits):
    with run_commits():
        madrid_calendar(is_default=True)
        actions.do_create_policy(name="Urgente", priorities=[4], first_response_minutes=60,
                                 resolution_minutes=480)
    without = receive(desk, run_commits, "<q-none@x>", sender="a@correo.es")
    with_sla = receive(desk, run_commits, "<q-sla@x>", sender="b@correo.es", priority=4)
    assert not without.sla_status and with_sla.sla_status
    client.force_login(desk.ana)
    page(client, without), page(client, with_sla)  # warm the session and the calendar cache
    counts = []
    for conversation in (without, with_sla):
        with CaptureQueriesContext(connection) as queries:
            page(client, conversation)
        counts.append(len(queries))
    assert counts[1] == counts[0] + 1, counts  # the targets, calendars joined


def test_sla_steps_read_as_sentences_in_the_timeline(client, desk, run_commits):
    conversation = receive(desk, run_commits, "<events@x>")
    due = "2026-11-23T08:30:00+00:00"
    before = "2026-11-23T12:00:00+00:00"
    at = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
    rows = [
        (events.STARTED, {"policy": "Estándar", "targets": [
            {"kind": "first_response", "due": due}, {"kind": "legal", "due": due, "days": 15}]}),
        (events.PAUSED, {"targets": [{"kind": "resolution", "due": None}]}),
        (events.RESUMED, {"targets": [{"kind": "resolution", "due": due}]}),
        (events.MET, {"targets": [{"kind": "first_response", "due": None, "late": True}]}),
        (events.RECOMPUTED, {"policy": "VIP", "targets": [
            {"kind": "resolution", "due": due, "before_due": before}]}),
        (events.CANCELLED, {"targets": [{"kind": "next_response", "due": None}]}),
        (events.WARNING, {"kind": "resolution", "due": due, "notified": [desk.ana.pk]}),
        (events.BREACHED, {"kind": "resolution", "due": due,
                           "notified": [desk.ana.pk, desk.carla.pk]}),
        (events.ESCALATED, {"policy": "VIP", "priority": 3, "tier": 2,
                            "unassigned": desk.ana.pk, "team": desk.team_l2.pk}),
        (events.AFTER_HOURS, {"opens": due}),
    ]
    for kind, after in rows:
        conv.record_event(conversation, kind, at=at, after=after)
    do_update_agent(desk.ana.agent, time_zone="Europe/Madrid")
    client.force_login(desk.ana)
    html = page(client, conversation)
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip() for line in
             re.findall(r'<p class="event[^"]*" id="e\d+">(.*?)</p>', html, re.S)]
    sla_lines = [line for line in lines if "SLA" in line or "customer the desk" in line]
    when = "11/23/2026 9:30 a.m."
    assert sla_lines[:3] == [
        f"Mostrador started the SLA clock (Estándar): First response due {when}; "
        f"Legal deadline (15 business days) due {when} 11/20/2026 6 p.m.",
        "Mostrador paused the SLA clock while the customer has the next move: Resolution "
        "11/20/2026 6 p.m.",
        f"Mostrador resumed the SLA clock: Resolution due {when} 11/20/2026 6 p.m.",
    ]
    text = " | ".join(sla_lines)
    assert "recorded the SLA target as met: First response (late)" in text
    assert (f"recomputed the SLA due times (VIP): Resolution due {when} "
            f"(was 11/23/2026 1 p.m.)") in text
    assert "stopped SLA targets that no longer apply: Next response" in text
    assert f"warned that the SLA is at risk: Resolution due {when}; told Ana García" in text
    assert (f"SLA breached: Resolution was due {when}; told Ana García, Carla Méndez"
            in text)
    assert ("escalated the SLA breach (VIP): priority raised to High; moved up to tier 2; "
            "unassigned Ana García; moved to team Soporte L2") in text
    assert f"told the customer the desk is closed; a person answers from {when}" in text
    assert 'class="event event-failure"' in html  # the breach stands out
    assert "sla." not in " ".join(lines)  # no kind shown raw


def test_every_sla_event_kind_has_its_own_sentence():
    names = timeline.Directory([], [])
    for kind in events.ALL:
        text, _failure = timeline.sla_event_text(kind, {}, names)
        assert kind not in text and text.strip()
