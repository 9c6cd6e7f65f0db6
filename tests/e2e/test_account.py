"""Signing in to the workspace and switching its language, in a real browser."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

AGENT = "ana@demo.mostrador.local"
PASSWORD = "mostrador-demo"


def test_sign_in_then_switch_to_english_and_back(page, live_desk):
    page.goto(f"{live_desk.url}/")
    assert "/account/login/" in page.url
    page.fill("#id_username", AGENT)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#language-select")
    assert page.locator("html").get_attribute("lang") == "es"  # the browser asks for es-ES
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()

    page.select_option("#language-select", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("button", name="Sign out").is_visible()

    page.select_option("#language-select", "es")
    page.wait_for_function("document.documentElement.lang === 'es'")
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()


def test_a_wrong_password_is_refused_with_a_message(page, live_desk):
    page.goto(f"{live_desk.url}/account/login/")
    page.fill("#id_username", AGENT)
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".flash-error")
    assert "/account/login/" in page.url
