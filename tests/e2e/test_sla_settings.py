"""Hours & SLAs in a real browser: a supervisor sets a calendar's hours (with the holiday
preview following the country), adds a closed day, creates a policy and moves it to the top;
a conversation that arrives then shows its due time on its page. Selectors are ids, names and
addresses, so the test reads the same in any language."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from mostrador.core.demo import ADMIN_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

SUPERVISOR = "carla@demo.mostrador.local"
# Open around the clock, written as a split shift: due times are exactly the target away.
ALL_DAY = "00:00-12:00, 12:00-24:00"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/account/login/")
    page.fill("#id_username", SUPERVISOR)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{url}/**")
    page.wait_for_load_state()


def test_a_supervisor_sets_hours_and_a_policy_and_a_conversation_shows_its_due_time(
        page, live_desk):
    import httpx

    name = "e2e" + uuid.uuid4().hex[:8]
    url = live_desk.url
    sign_in(page, url)
    page.goto(f"{url}/settings/")
    page.locator("nav.settings-tabs a[href='/settings/sla/']").click()
    page.wait_for_url(f"{url}/settings/sla/")
    page.locator("main a[href='/settings/sla/calendars/new/']").click()

    # The calendar: a time zone, the hours of every day, and a look at Spain's holidays.
    page.fill("#id_name", name)
    page.select_option("#id_time_zone", "UTC")
    for day in WEEKDAYS:
        page.fill(f"#id_hours_{day}", ALL_DAY)
    # Each change swaps the country and region fields with the preview: wait for each answer
    # so that a late one does not undo the next change.
    preview = "/settings/sla/holidays/"
    with page.expect_response(lambda r: preview in r.url and "country=ES" in r.url):
        page.select_option("#id_country", "ES")
    page.locator(".holiday-list li").nth(9).wait_for()
    assert page.locator(".holiday-list li").count() == 10
    with page.expect_response(lambda r: preview in r.url and "subdivision=MD" in r.url):
        page.select_option("#id_subdivision", "MD")
    page.wait_for_function("document.querySelector('#id_subdivision').value === 'MD' && "
                           "document.querySelectorAll('.holiday-list li').length === 10")
    with page.expect_response(lambda r: preview in r.url and "country=&" in r.url):
        page.select_option("#id_country", "")  # no public holidays after all
    page.locator(".holiday-list").wait_for(state="detached")
    if page.is_checked("#id_is_default"):
        page.uncheck("#id_is_default")
    page.locator("form.calendar-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/settings/sla/calendars/\d+/$"))
    assert page.input_value("#id_hours_sun") == ALL_DAY

    # A closed day of the desk's own, far ahead.
    closed = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    page.fill("#id_day-date", closed)
    page.check("input[name=day-kind][value=closed]")
    page.fill("#id_day-name", "Aniversario")
    page.locator("form.day-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/settings/sla/calendars/\d+/#days$"))
    assert page.locator(f"#days time[datetime='{closed}']").count() == 1

    # The policy: low-priority conversations answered within 7 hours in these hours.
    page.goto(f"{url}/settings/sla/policies/new/")
    page.fill("#id_name", name)
    page.check("input[name=priorities][value='1']")
    page.fill("#id_first_response_amount", "7")
    page.select_option("#id_first_response_unit", "hours")
    page.check("input[name=business_hours][value='1']")
    page.select_option("#id_calendar", label=name)
    page.locator("form.policy-form button[type=submit]").click()
    page.wait_for_url(f"{url}/settings/sla/#policies")
    row = page.locator("tr[id^=policy-]", has_text=name)
    policy_id = row.get_attribute("id")
    # Created last; moved up until it is tried first.
    while page.locator("tr[id^=policy-]").first.get_attribute("id") != policy_id:
        page.locator(f"#{policy_id} button[value=up]").click()
        page.wait_for_load_state()
    assert page.locator(f"#{policy_id} button[value=up]").is_disabled()

    token = live_desk.mostrador("token", "create", "--user", ADMIN_EMAIL).strip()
    with httpx.Client(base_url=url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as api:
        inbox = api.get("/api/v1/inboxes").raise_for_status().json()["items"][0]["id"]
        created = api.post("/api/v1/conversations", json={
            "inbox": inbox, "customer_email": f"{name}@correo.example", "priority": 1,
            "subject": f"{name} consulta", "text": "Hola, ¿me ayudan?"}).raise_for_status().json()
    page.goto(f"{url}/c/{created['id']}/")
    first = page.locator(".sla-panel .sla-target[data-kind=first_response]")
    first.wait_for()
    due = dt.datetime.fromisoformat(first.locator("time").first.get_attribute("datetime"))
    opened = dt.datetime.fromisoformat(created["created_at"])
    assert abs(due - (opened + dt.timedelta(hours=7))) < dt.timedelta(seconds=1), (due, opened)
    assert first.locator(".badge.sla-on_track").count() == 1

    # Gone again, so the other tests' conversations keep the demo's policies.
    page.goto(f"{url}/settings/sla/")
    page.locator(f"#{policy_id} a").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form.delete-form button").click()
    page.wait_for_url(f"{url}/settings/sla/#policies")
    assert page.locator(f"#{policy_id}").count() == 0
