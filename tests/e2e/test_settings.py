"""The settings screens in a real browser: only supervisors get in; an inbox is created after
its "Test connection" tries the servers in place; a user is added with a password shown once
and can sign in with it; a team gets its members; the inbox form fits a small screen.
Selectors are ids and names, so the tests read the same in any language."""

from __future__ import annotations

import re
import uuid

import pytest

from mostrador.core.demo import DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

SUPERVISOR = "carla@demo.mostrador.local"
AGENT = "ana@demo.mostrador.local"


def sign_in(page, url: str, email: str = SUPERVISOR, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{url}/account/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{url}/**")
    page.wait_for_load_state()


def word() -> str:
    return "e2e" + uuid.uuid4().hex[:8]


def test_an_agent_gets_the_403_page(page, live_desk):
    sign_in(page, live_desk.url, AGENT)
    response = page.goto(f"{live_desk.url}/settings/")
    assert response.status == 403
    assert page.locator("main [role=alert] a[href='/']").count() == 1


def test_test_the_connection_then_create_an_inbox(page, live_desk):
    name = word()
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/settings/")
    assert f"127.0.0.1:{live_desk.smtp_port}" in page.locator(".receiver-note").inner_text()
    page.locator("main a[href='/settings/inboxes/new/']").click()
    page.fill("#id_name", name)
    page.fill("#id_address", f"{name}@tienda.example")
    # The desk's own SMTP receiver stands in for a relay; nothing listens on the IMAP port.
    page.fill("#id_smtp_url", f"smtp://127.0.0.1:{live_desk.smtp_port}?timeout=5")
    page.fill("#id_imap_host", "127.0.0.1")
    page.select_option("#id_imap_security", "plain")
    page.fill("#id_imap_port", str(free_port()))
    page.fill("#id_imap_username", "buzon")
    page.fill("#id_imap_password", "clave-imap")
    page.evaluate("window.__stayed = true")
    page.locator("button[formaction$='/inboxes/test/']").click()
    results = page.locator("#connection-results li")
    results.first.wait_for()
    assert page.evaluate("window.__stayed === true")
    assert results.count() == 2
    assert "ok" in results.nth(0).get_attribute("class")
    assert f"127.0.0.1:{live_desk.smtp_port}" in results.nth(0).inner_text()
    assert "failed" in results.nth(1).get_attribute("class")
    assert "clave-imap" not in page.locator("#connection-results").inner_text()

    page.fill("#id_imap_host", "")
    page.locator("form.settings-form button[type=submit]:not([formaction])").click()
    page.wait_for_url(f"{live_desk.url}/settings/")
    row = page.locator("main table tbody tr", has_text=name)
    assert f"{name}@tienda.example" in row.inner_text()
    row.locator("a").click()
    assert page.input_value("#id_smtp_url").startswith("smtp://127.0.0.1:")
    assert page.input_value("#id_imap_password") == ""


def test_add_a_user_who_signs_in_with_the_password_shown_once(page, browser, live_desk):
    email = f"{word()}@demo.mostrador.local"
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/settings/users/new/")
    page.fill("#id_email", email)
    page.fill("#id_display_name", "Lucía Gómez")
    page.select_option("#id_role", "agent")
    page.select_option("#id_tier", "2")
    page.check("input[name=password_delivery][value=show]")
    page.locator("form.settings-form button[type=submit]").click()
    password = page.locator("#new-password").inner_text().strip()
    assert len(password) >= 12
    page.reload()
    assert page.locator("#new-password").count() == 0

    other = browser.new_context(locale="es-ES")
    try:
        newcomer = other.new_page()
        newcomer.set_default_timeout(15_000)
        sign_in(newcomer, live_desk.url, email, password)
        assert "/account/login/" not in newcomer.url
    finally:
        other.close()

    page.goto(f"{live_desk.url}/settings/users/")
    row = page.locator("main table tbody tr", has_text=email)
    assert "Lucía Gómez" in row.inner_text()
    row.locator("a").click()
    page.locator("form[action$='/deactivate/'] button").click()
    page.wait_for_url(re.compile(r".*/settings/users/\d+/$"))
    assert page.locator("form[action$='/reactivate/']").count() == 1


def test_create_a_team_and_set_its_members(page, live_desk):
    name = word()
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/settings/teams/new/")
    page.fill("#id_name", name)
    page.select_option("#id_tier", "2")
    page.locator("form.settings-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/settings/teams/\d+/$"))
    page.get_by_label("Ana García").check()
    page.select_option("#id_lead", label="Beto Ruiz")
    page.locator("form.settings-form button[type=submit]").click()
    page.wait_for_url(f"{live_desk.url}/settings/teams/")
    row = page.locator("main table tbody tr", has_text=name).inner_text()
    assert "Ana García" in row and "Beto Ruiz" in row


def test_the_inbox_form_fits_a_small_screen(browser, live_desk):
    context = browser.new_context(locale="es-ES", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_desk.url)
        for path in ("/settings/", "/settings/inboxes/new/", "/settings/users/",
                     "/settings/teams/"):
            page.goto(f"{live_desk.url}{path}")
            page.locator("main h1").wait_for()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    finally:
        context.close()
