"""SLAs through the API: calendars with their days and effective hours, policies, and a
conversation's targets following a policy created and changed over HTTP."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from mostrador.api.tests.conftest import error, ok
from mostrador.customers.actions import do_create_organisation
from mostrador.sla.models import Calendar, CalendarDay, Policy

MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS_9_TO_18 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
MADRID_CALENDAR = {"name": "Madrid", "time_zone": "Europe/Madrid", "weekly": WEEKDAYS_9_TO_18,
                   "country": "ES"}


def madrid(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MADRID)


def utc(text: str) -> str:
    """An ISO time as the API writes it, from a short UTC form like ``2026-12-07T08:00``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).isoformat().replace(
        "+00:00", "Z")


def moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def hours(client, calendar_id: int, start: str, end: str) -> dict[str, dict]:
    body = ok(client.get(f"/sla/calendars/{calendar_id}/hours", {"from": start, "to": end}))
    return {day["date"]: day for day in body["days"]}


def spans(day: dict) -> list[tuple[str, str]]:
    return [(p["start"], p["end"]) for p in day["periods"]]


@pytest.fixture
def carla(client_for, desk):
    return client_for(desk.carla)


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run what a request does after commit (SLA sync, re-computation) as a real one would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- calendars ------------------------------------------------------------------------------


def test_calendar_with_days_and_its_hours_around_spanish_holidays(carla, api):
    created = ok(carla.post("/sla/calendars", {**MADRID_CALENDAR, "country": "es"}), 201)
    assert (created["name"], created["time_zone"], created["country"]) == (
        "Madrid", "Europe/Madrid", "ES")
    assert created["weekly"]["mon"] == [["09:00", "18:00"]] and "sat" not in created["weekly"]
    assert (created["is_default"], created["days"]) == (False, [])
    calendar_id = created["id"]

    week = hours(api, calendar_id, "2026-12-07", "2026-12-13")
    assert list(week) == [f"2026-12-{d:02d}" for d in range(7, 14)]
    # Madrid is UTC+1 in winter.
    monday = week["2026-12-07"]
    assert (monday["kind"], monday["name"]) == ("weekly", "")
    assert spans(monday) == [(utc("2026-12-07T08:00"), utc("2026-12-07T17:00"))]
    # 8 December, the Immaculate Conception, is a national holiday.
    holiday = week["2026-12-08"]
    assert (holiday["kind"], holiday["name"], holiday["periods"]) == (
        "holiday", "Inmaculada Concepción", [])
    assert week["2026-12-12"]["periods"] == [] and week["2026-12-12"]["kind"] == "weekly"

    # Open on Saturday mornings; special hours on Christmas Eve; closed on New Year's Eve.
    patched = ok(carla.patch(f"/sla/calendars/{calendar_id}", {
        "weekly": {**WEEKDAYS_9_TO_18, "sat": [["10:00", "14:00"]]}, "is_default": True}))
    assert patched["weekly"]["sat"] == [["10:00", "14:00"]] and patched["is_default"] is True
    eve = ok(carla.send("PUT", f"/sla/calendars/{calendar_id}/days/2026-12-24", {
        "kind": "special", "periods": [["09:00", "14:00"]], "name": "Nochebuena"}))
    assert eve == {"date": "2026-12-24", "kind": "special", "periods": [["09:00", "14:00"]],
                   "name": "Nochebuena"}
    ok(carla.send("PUT", f"/sla/calendars/{calendar_id}/days/2026-12-31", {"name": "Cierre"}))

    shown = ok(api.get(f"/sla/calendars/{calendar_id}"))
    assert [(d["date"], d["kind"]) for d in shown["days"]] == [("2026-12-24", "special"),
                                                                ("2026-12-31", "closed")]
    assert ok(api.get("/sla/calendars"))["items"] == [shown]

    week = hours(api, calendar_id, "2026-12-12", "2026-12-12")
    assert spans(week["2026-12-12"]) == [(utc("2026-12-12T09:00"), utc("2026-12-12T13:00"))]
    christmas = hours(api, calendar_id, "2026-12-24", "2026-12-31")
    assert (christmas["2026-12-24"]["kind"], christmas["2026-12-24"]["name"]) == (
        "special", "Nochebuena")
    assert spans(christmas["2026-12-24"]) == [(utc("2026-12-24T08:00"),
                                               utc("2026-12-24T13:00"))]
    assert (christmas["2026-12-25"]["kind"], christmas["2026-12-25"]["name"],
            christmas["2026-12-25"]["periods"]) == ("holiday", "Natividad del Señor", [])
    assert (christmas["2026-12-31"]["kind"], christmas["2026-12-31"]["periods"]) == (
        "closed", [])
    assert spans(christmas["2026-12-30"]) == [(utc("2026-12-30T08:00"),
                                               utc("2026-12-30T17:00"))]

    # Removing the special hours brings back Thursday's weekly hours.
    response = carla.delete(f"/sla/calendars/{calendar_id}/days/2026-12-24")
    assert response.status_code == 204
    eve = hours(api, calendar_id, "2026-12-24", "2026-12-24")["2026-12-24"]
    assert eve["kind"] == "weekly"
    assert spans(eve) == [(utc("2026-12-24T08:00"), utc("2026-12-24T17:00"))]
    body = error(carla.delete(f"/sla/calendars/{calendar_id}/days/2026-12-24"), 404)
    assert body["field"] == "date"
    assert list(CalendarDay.objects.values_list("date", flat=True)) == [dt.date(2026, 12, 31)]


@pytest.mark.parametrize(("weekly", "message"), [
    ({"mon": [["9:00", "25:00"]]}, "25:00 is not a time of day"),
    ({"mon": [["09:00"]]}, "pair of times"),
    ({"monday": [["09:00", "18:00"]]}, "Unknown day monday"),
    ({"mon": [["18:00", "18:00"]]}, "same time"),
])
def test_invalid_weekly_hours_are_a_400_naming_weekly(carla, weekly, message):
    body = error(carla.post("/sla/calendars", {**MADRID_CALENDAR, "weekly": weekly}), 400)
    assert body["field"] == "weekly"
    assert message in body["detail"]
    assert not Calendar.objects.exists()


def test_invalid_calendars_and_days_are_400s_naming_the_field(carla, api):
    def refused(body, status=400) -> str:
        return error(carla.post("/sla/calendars", {**MADRID_CALENDAR, **body}), status)["field"]

    body = error(carla.post("/sla/calendars", {**MADRID_CALENDAR,
                                               "time_zone": "Europe/Atlantis"}), 400)
    assert (body["field"], body["detail"]) == ("time_zone", "Unknown time zone Europe/Atlantis.")
    assert refused({"country": "XX"}) == "country"
    assert refused({"subdivision": "ZZ"}) == "subdivision"
    assert refused({"name": "  "}) == "name"
    assert refused({"weekly": {"mon": [[9, 18]]}}) == "weekly.mon.0.0"
    assert refused({"colour": "red"}) == "colour"
    assert not Calendar.objects.exists()

    calendar_id = ok(carla.post("/sla/calendars", MADRID_CALENDAR), 201)["id"]
    assert refused({}) == "name"  # taken
    path = f"/sla/calendars/{calendar_id}"
    assert error(carla.patch(path, {"time_zone": "Mars/Olympus"}), 400)["field"] == "time_zone"
    assert error(carla.patch(path, {"name": None}), 400)["field"] == "name"
    assert error(carla.patch(path, {"weekly": {"sun": [["20:00", "x"]]}}),
                 400)["field"] == "weekly"
    assert ok(carla.get(path))["time_zone"] == "Europe/Madrid"

    day = f"{path}/days/2026-12-24"
    assert error(carla.send("PUT", day, {"kind": "special"}), 400)["field"] == "periods"
    assert error(carla.send("PUT", day, {"kind": "open"}), 400)["field"] == "kind"
    assert error(carla.send("PUT", day, {"kind": "special", "periods": [["09:00", "9pm"]]}),
                 400)["field"] == "periods"
    assert error(carla.send("PUT", f"{path}/days/2026-13-01", {}), 400)["field"] == "date"
    assert not CalendarDay.objects.exists()

    assert error(api.get(f"{path}/hours", {"from": "2026-01-01", "to": "2026-03-05"}),
                 400)["field"] == "to"  # 64 days
    ok(api.get(f"{path}/hours", {"from": "2026-01-01", "to": "2026-03-03"}))  # 62 days
    assert error(api.get(f"{path}/hours", {"from": "2026-02-01", "to": "2026-01-31"}),
                 400)["field"] == "to"
    assert error(api.get(f"{path}/hours", {"to": "2026-01-31"}), 400)["field"] == "from"
    assert error(api.get(f"{path}/hours", {"from": "mañana", "to": "2026-01-31"}),
                 400)["field"] == "from"


def test_unknown_calendars_and_policies_are_404(carla):
    assert error(carla.get("/sla/calendars/999999"), 404)["field"] == "calendar"
    assert error(carla.patch("/sla/calendars/999999", {"name": "X"}), 404)["field"] == "calendar"
    assert error(carla.get("/sla/calendars/999999/hours", {"from": "2026-01-01",
                                                           "to": "2026-01-02"}),
                 404)["field"] == "calendar"
    assert error(carla.get("/sla/policies/999999"), 404)["field"] == "policy"
    assert error(carla.delete("/sla/policies/999999"), 404)["field"] == "policy"
    response = carla.get("/sla/calendars/1/days/2026-01-01")
    assert error(response, 405) and "PUT" in response["Allow"]


# --- policies -------------------------------------------------------------------------------


def test_policies_crud_in_position_order(carla, desk):
    acme = do_create_organisation(name="Acme")
    calendar_id = ok(carla.post("/sla/calendars", MADRID_CALENDAR), 201)["id"]
    vip = ok(carla.post("/sla/policies", {
        "name": "VIP", "segments": ["vip"], "organisations": [acme.pk], "priorities": [3, 4],
        "channels": ["email"], "first_response_minutes": 30, "resolution_minutes": 480,
        "calendar": calendar_id, "escalate_team": desk.team_l2.pk, "escalate_tier": True,
        "warn_percent": 80}), 201)
    assert vip["organisations"] == [acme.pk]
    assert (vip["calendar"], vip["legal_calendar"], vip["escalate_team"]) == (
        calendar_id, None, desk.team_l2.pk)
    assert (vip["position"], vip["active"], vip["business_hours"]) == (10, True, True)
    assert (vip["warn_percent"], vip["next_response_minutes"]) == (80, None)
    standard = ok(carla.post("/sla/policies", {"name": "Estándar",
                                               "first_response_minutes": 240}), 201)
    assert (standard["position"], standard["pause_when_pending"]) == (20, True)
    legal = ok(carla.post("/sla/policies", {"name": "Reclamaciones", "position": 5,
                                            "request_types": ["reclamación"], "legal_days": 30,
                                            "legal_calendar": calendar_id}), 201)

    listed = ok(carla.get("/sla/policies"))["items"]
    assert [p["name"] for p in listed] == ["Reclamaciones", "VIP", "Estándar"]
    assert listed[0]["legal_days"] == 30 and listed[0]["legal_calendar"] == calendar_id

    changed = ok(carla.patch(f"/sla/policies/{vip['id']}", {
        "position": 1, "organisations": [], "calendar": None, "resolution_minutes": None,
        "active": False}))
    assert (changed["position"], changed["organisations"], changed["calendar"]) == (1, [], None)
    assert (changed["resolution_minutes"], changed["active"]) == (None, False)
    assert changed["first_response_minutes"] == 30  # untouched
    assert ok(carla.get(f"/sla/policies/{vip['id']}")) == changed

    response = carla.delete(f"/sla/policies/{legal['id']}")
    assert response.status_code == 204
    error(carla.get(f"/sla/policies/{legal['id']}"), 404)
    assert list(Policy.objects.values_list("name", flat=True)) == ["VIP", "Estándar"]


def test_invalid_policies_are_400s_naming_the_field(carla, desk):
    def refused(body: dict) -> str:
        return error(carla.post("/sla/policies", {"name": "P", "first_response_minutes": 60,
                                                  **body}), 400)["field"]

    assert refused({"first_response_minutes": None}) == "first_response_minutes"  # no target
    assert refused({"first_response_minutes": 0}) == "first_response_minutes"
    assert refused({"priorities": [7]}) == "priorities"
    assert refused({"warn_percent": 0}) == "warn_percent"
    assert refused({"calendar": 999_999}) == "calendar"
    assert refused({"legal_calendar": 999_999}) == "legal_calendar"
    assert refused({"escalate_team": 999_999}) == "escalate_team"
    assert refused({"organisations": [999_999]}) == "organisations"
    assert refused({"name": " "}) == "name"
    assert refused({"segment": ["vip"]}) == "segment"
    assert not Policy.objects.exists()

    policy = ok(carla.post("/sla/policies", {"name": "P", "first_response_minutes": 60}), 201)
    assert refused({}) == "name"  # taken
    path = f"/sla/policies/{policy['id']}"
    assert error(carla.patch(path, {"active": None}), 400)["field"] == "active"
    assert error(carla.patch(path, {"position": None}), 400)["field"] == "position"
    assert error(carla.patch(path, {"first_response_minutes": None}),
                 400)["field"] == "first_response_minutes"  # it would have no target left
    assert ok(carla.get(path))["first_response_minutes"] == 60


def test_agents_read_calendars_and_policies_but_may_not_change_them(api, carla, client_for,
                                                                   desk):
    calendar_id = ok(carla.post("/sla/calendars", MADRID_CALENDAR), 201)["id"]
    policy_id = ok(carla.post("/sla/policies", {"name": "Estándar",
                                                "first_response_minutes": 60}), 201)["id"]
    assert [c["id"] for c in ok(api.get("/sla/calendars"))["items"]] == [calendar_id]
    assert ok(api.get(f"/sla/policies/{policy_id}"))["name"] == "Estándar"
    assert [p["id"] for p in ok(api.get("/sla/policies"))["items"]] == [policy_id]

    for response in (
        api.post("/sla/policies", {"name": "Mía", "first_response_minutes": 5}),
        api.patch(f"/sla/policies/{policy_id}", {"first_response_minutes": 5}),
        api.delete(f"/sla/policies/{policy_id}"),
        api.post("/sla/calendars", {**MADRID_CALENDAR, "name": "Otra"}),
        api.patch(f"/sla/calendars/{calendar_id}", {"weekly": {}}),
        api.send("PUT", f"/sla/calendars/{calendar_id}/days/2026-12-24", {}),
        api.delete(f"/sla/calendars/{calendar_id}/days/2026-12-24"),
    ):
        assert "supervisors" in error(response, 403)["detail"]
    assert list(Policy.objects.values_list("name", "first_response_minutes")) == [
        ("Estándar", 60)]
    assert Calendar.objects.count() == 1 and not CalendarDay.objects.exists()
    # Administrators may, as supervisors do.
    ok(client_for(desk.diego).send("PUT", f"/sla/calendars/{calendar_id}/days/2026-12-24", {}))


# --- a conversation's targets ---------------------------------------------------------------


def test_a_policy_made_over_the_api_runs_and_its_change_moves_open_due_times(
        client_for, carla, api, desk, run_commits):
    diego = client_for(desk.diego)
    with run_commits():
        ok(diego.post("/sla/calendars", {**MADRID_CALENDAR, "is_default": True}), 201)
        policy = ok(diego.post("/sla/policies", {"name": "Estándar",
                                                 "first_response_minutes": 60,
                                                 "resolution_minutes": 16 * 60}), 201)

    # Monday 7 December at 17:30; Tuesday is a national holiday.
    with time_machine.travel(madrid(2026, 12, 7, 17, 30), tick=False), run_commits():
        created = ok(api.post("/conversations", {
            "inbox": desk.inbox.pk, "customer": desk.elena.pk, "subject": "Pedido 4411",
            "text": "El pedido no ha llegado."}), 201)
    path = f"/conversations/{created['id']}/sla"

    with time_machine.travel(madrid(2026, 12, 7, 17, 45), tick=False):
        sla = ok(api.get(path))
    assert sla["status"] == "on_track"
    first, resolution = sla["targets"]
    assert (first["kind"], first["state"], first["health"]) == (
        "first_response", "active", "on_track")
    assert first["policy"] == {"id": policy["id"], "name": "Estándar"}
    # 30 minutes on Monday, the other 30 on Wednesday morning.
    assert moment(first["due_at"]) == madrid(2026, 12, 9, 9, 30)
    assert moment(first["warn_at"]) == madrid(2026, 12, 9, 9, 15)
    assert moment(first["started_at"]) == madrid(2026, 12, 7, 17, 30)
    assert (first["target_seconds"], first["business_hours"]) == (3600, True)
    assert first["seconds_left"] == 45 * 60  # 15 minutes of Monday spent
    assert (first["met_at"], first["breached_at"]) == (None, None)
    assert moment(sla["due_at"]) == madrid(2026, 12, 9, 9, 30)
    assert resolution["kind"] == "resolution"
    # 16 hours: 30 minutes on Monday, 9 hours on Wednesday, 6 h 30 on Thursday.
    assert moment(resolution["due_at"]) == madrid(2026, 12, 10, 15, 30)

    # Two hours instead of one: the open conversation's promise moves with it.
    with time_machine.travel(madrid(2026, 12, 7, 17, 50), tick=False), run_commits():
        ok(carla.patch(f"/sla/policies/{policy['id']}", {"first_response_minutes": 120}))
    with time_machine.travel(madrid(2026, 12, 9, 9, 0), tick=False):
        sla = ok(api.get(path))
    first = sla["targets"][0]
    assert (first["target_seconds"], first["health"]) == (7200, "on_track")
    assert moment(first["due_at"]) == madrid(2026, 12, 9, 10, 30)
    assert moment(sla["due_at"]) == madrid(2026, 12, 9, 10, 30)
    assert first["seconds_left"] == 90 * 60

    # Past the due time (before the minute sweep records the breach) the health says so.
    with time_machine.travel(madrid(2026, 12, 9, 11, 0), tick=False):
        first = ok(api.get(path))["targets"][0]
    assert (first["health"], first["seconds_left"]) == ("breached", -30 * 60)


def test_a_conversation_without_a_policy_has_no_targets(api, desk, run_commits):
    with run_commits():
        created = ok(api.post("/conversations", {"inbox": desk.inbox.pk,
                                                 "customer": desk.elena.pk, "text": "Hola"}),
                     201)
    assert ok(api.get(f"/conversations/{created['id']}/sla")) == {
        "status": "", "due_at": None, "targets": []}
    assert error(api.get("/conversations/999999/sla"), 404)["field"] == "id"


def test_the_openapi_document_describes_the_sla_endpoints(db):
    schema = ok(Client().get("/api/v1/openapi.json"))
    paths = schema["paths"]
    for path in ("/api/v1/sla/calendars", "/api/v1/sla/calendars/{calendar_id}",
                 "/api/v1/sla/calendars/{calendar_id}/days/{date}",
                 "/api/v1/sla/calendars/{calendar_id}/hours", "/api/v1/sla/policies",
                 "/api/v1/sla/policies/{policy_id}",
                 "/api/v1/conversations/{conversation_id}/sla"):
        assert path in paths, path
    assert set(paths["/api/v1/sla/calendars/{calendar_id}/days/{date}"]) == {"put", "delete"}
    query = [p["name"] for p in paths["/api/v1/sla/calendars/{calendar_id}/hours"]["get"]
             ["parameters"] if p["in"] == "query"]
    assert query == ["from", "to"]
    assert "seconds_left" in schema["components"]["schemas"]["TargetOut"]["properties"]
