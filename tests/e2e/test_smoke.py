"""Smoke test of the whole desk through a real browser: sign in, read the conversation list,
mail the embedded SMTP receiver and watch the conversation appear, call the API."""

from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage

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

CONVERSATIONS = "/admin/conversations/conversation/"


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")
    assert page.locator("#user-tools").is_visible()


def test_admin_signs_in_and_lists_the_demo_conversations(page, live_desk):
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}{CONVERSATIONS}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 25  # the seeded ones, and mail another test may have sent
    # Read-only: conversations change through actions, never through an admin form.
    assert page.locator(".object-tools a.addlink").count() == 0
    rows.first.locator("th a").first.click()
    page.wait_for_url("**/change/")
    # The thread and the timeline, shown, not editable.
    page.locator(".inline-group").first.wait_for()
    assert page.locator("input[name=_save]").count() == 0


def test_mail_to_the_embedded_receiver_opens_a_conversation(page, live_desk):
    subject = f"Pedido sin llegar {uuid.uuid4().hex[:8]}"
    mail = EmailMessage()
    mail["From"] = "Elena Martín <elena.e2e@correo.example>"
    mail["To"] = "soporte@example.com"  # nobody's address: the catch-all inbox takes it
    mail["Subject"] = subject
    mail.set_content("Hola, hice un pedido hace una semana y todavía no ha llegado.")
    with smtplib.SMTP("127.0.0.1", live_desk.smtp_port, timeout=10) as client:
        client.send_message(mail)

    sign_in(page, live_desk.url)
    found = page.locator("#result_list tbody tr", has_text=subject)
    deadline = time.monotonic() + 20
    while True:
        page.goto(f"{live_desk.url}{CONVERSATIONS}?q={subject.split()[-1]}")
        if found.count() == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found.count() == 1, f"{subject!r} did not show up in the conversation list"
    assert "Elena Mart" in found.inner_text()


def test_api_answers_in_the_browser(page, live_desk):
    spec = page.request.get(f"{live_desk.url}/api/v1/openapi.json")
    assert spec.ok
    document = spec.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/conversations" in document["paths"]

    token = live_desk.mostrador("token", "create", "--user", ADMIN_EMAIL).strip()
    listed = page.request.get(f"{live_desk.url}/api/v1/conversations?limit=5",
                              headers={"Authorization": f"Bearer {token}"})
    assert listed.ok, listed.text()
    assert len(listed.json()["items"]) == 5
    refused = page.request.get(f"{live_desk.url}/api/v1/conversations")
    assert refused.status == 401
