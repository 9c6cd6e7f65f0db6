"""The live chat in a real browser: the script tag on a plain page of another site, an agent in
the workspace, messages both ways, a reload in the middle, and a visit outside business hours."""

import http.server
import re
import threading
import time

import pytest
from playwright.sync_api import expect

from mostrador.channels.webchat.availability import CACHE_SECONDS
from mostrador.core.demo import DEMO_CHAT_KEY, DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

KEY = DEMO_CHAT_KEY
AGENT = "ana@demo.mostrador.local"
PASSWORD = DEMO_PASSWORD

SETUP = """
import json
from mostrador.accounts.actions import do_update_agent
from mostrador.accounts.models import Agent
from mostrador.conversations.models import Inbox
from mostrador.sla.actions import do_create_calendar, do_use_calendar
from mostrador.sla.models import Calendar
inbox = Inbox.objects.get(config__public_key=key)
calendar = Calendar.objects.filter(name=name).first() or do_create_calendar(
    name=name, time_zone="UTC", weekly=weekly, after_hours_reply=True)
do_use_calendar(inbox, calendar)
do_update_agent(Agent.objects.get(user__username=agent), status=status)
print("SETUP", json.dumps({"inbox": inbox.pk, "calendar": calendar.pk}))
"""
def set_hours(live_desk, name: str, weekly: dict, status: str) -> None:
    """Give the chat inbox these hours and ana this status, then let the server's short-lived
    availability cache (and the calendar cache behind it) expire: the change was made by
    another process."""
    live_desk.shell_json(SETUP, "SETUP", key=KEY, name=name, weekly=weekly, agent=AGENT,
                         status=status)
    time.sleep(CACHE_SECONDS + 1.5)


ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in
               ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def closed_now() -> dict:
    """Open one hour on the day after tomorrow (UTC): closed now, and it says when it opens."""
    import datetime as dt

    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    day = days[(dt.datetime.now(dt.UTC).weekday() + 2) % 7]
    return {day: [["09:00", "10:00"]]}


class _Page(http.server.BaseHTTPRequestHandler):
    desk_url = ""

    def do_GET(self):
        body = (f'<!doctype html><html lang="es"><head><meta charset="utf-8">'
                f'<title>Tienda</title><style>button {{ background: red !important; }}'
                f' * {{ font-size: 40px; }}</style></head>'
                f'<body><h1>Mercado Sol</h1><p>Nuestra tienda.</p>'
                f'<script src="{self.desk_url}/widget.js" data-inbox="{KEY}" '
                f'data-lang="es" async></script></body></html>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def shop(live_desk):
    """A plain page on another origin with nothing but the script tag."""
    handler = type("ShopPage", (_Page,), {"desk_url": live_desk.url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def open_chat(page, shop_url):
    page.goto(shop_url)
    page.locator(".mc-launcher").click()
    expect(page.locator(".mc-panel")).to_be_visible()


def send(page, text):
    page.locator(".mc-input").fill(text)
    page.locator(".mc-send").click()


def test_a_chat_with_an_agent_both_ways_surviving_a_reload(browser, live_desk, shop):
    set_hours(live_desk, "E2E siempre abierto", ALWAYS_OPEN, "online")
    visitor = browser.new_context(locale="es-ES")
    agent = browser.new_context()
    try:
        page = visitor.new_page()
        open_chat(page, shop)
        expect(page.locator(".mc-availability")).to_have_attribute("data-state", "online")
        # The host page's aggressive styles do not reach the widget.
        color = page.locator(".mc-send").evaluate("e => getComputedStyle(e).backgroundColor")
        assert color != "rgb(255, 0, 0)"
        prechat = page.locator("form.mc-prechat")
        if prechat.count() and prechat.is_visible():
            prechat.locator("[name=name]").fill("Lucía Gil")
        send(page, "Hola, ¿dónde está mi pedido 4711?")
        mine = page.locator(".mc-msg[data-author=visitor]").last
        expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
        message_id = int(mine.get_attribute("data-id"))
        conversation = live_desk.shell_json(
            "import json\nfrom mostrador.conversations.models import Message\n"
            "m = Message.objects.get(pk=pk)\n"
            "print('CONV', json.dumps({'id': m.conversation_id, 'channel': m.channel_kind}))",
            "CONV", pk=message_id)
        assert conversation["channel"] == "webchat"

        desk = agent.new_page()
        desk.goto(f"{live_desk.url}/account/login/")
        desk.fill("#id_username", AGENT)
        desk.fill("#id_password", PASSWORD)
        desk.locator("form button[type=submit]").first.click()
        desk.wait_for_url(re.compile(r".*/(\?.*)?$"))
        desk.goto(f"{live_desk.url}/c/{conversation['id']}/")
        expect(desk.locator("#timeline")).to_contain_text("¿dónde está mi pedido 4711?")

        desk.fill("#reply-text", "¡Hola Lucía! Sale hoy mismo.")
        desk.locator("#panel-reply button[value=send]").click()
        expect(page.locator(".mc-msg[data-author=agent]").last).to_contain_text(
            "Sale hoy mismo.")

        # A reload keeps the conversation; the next message reaches the agent's open page.
        page.reload()
        # The widget remembers it was open.
        expect(page.locator(".mc-panel")).to_be_visible()
        expect(page.locator(".mc-msg[data-author=agent]").last).to_contain_text(
            "Sale hoy mismo.")
        expect(page.locator(".mc-msg[data-author=visitor]").first).to_contain_text("4711")
        send(page, "¡Gracias! ¿Me llega el número de seguimiento?")
        expect(page.locator(".mc-msg[data-author=visitor]").last).to_have_attribute(
            "data-id", re.compile(r"^\d+$"))
        expect(desk.locator("#timeline")).to_contain_text("número de seguimiento",
                                                          timeout=10_000)
        desk.fill("#reply-text", "Sí, en un minuto.")
        desk.locator("#panel-reply button[value=send]").click()
        expect(page.locator(".mc-msg[data-author=agent]").last).to_contain_text(
            "en un minuto")
        count = live_desk.shell_json(
            "import json\nfrom mostrador.conversations.models import Message\n"
            "print('N', json.dumps(Message.objects.filter(conversation_id=pk).count()))",
            "N", pk=conversation["id"])
        assert count == 4
    finally:
        visitor.close()
        agent.close()


def test_a_visit_outside_business_hours_says_when_a_person_answers(browser, live_desk, shop):
    set_hours(live_desk, "E2E cerrado ahora", closed_now(), "offline")
    visitor = browser.new_context(locale="es-ES")
    try:
        page = visitor.new_page()
        open_chat(page, shop)
        availability = page.locator(".mc-availability")
        expect(availability).to_have_attribute("data-state", "closed")
        expect(availability).to_contain_text("cerrados")
        prechat = page.locator("form.mc-prechat")
        if prechat.count() and prechat.is_visible():
            prechat.locator("[name=email]").fill("noche@example.com")
        send(page, "Escribo de noche: mi pedido llegó roto.")
        expect(page.locator(".mc-msg[data-author=visitor]").last).to_have_attribute(
            "data-id", re.compile(r"^\d+$"))
        notice = page.locator(".mc-msg[data-author=system]").last
        expect(notice).to_contain_text("09:00")
        conversation = live_desk.shell_json(
            "import json\nfrom mostrador.conversations.models import Conversation\n"
            "c = Conversation.objects.filter(channel_kind='webchat').latest('id')\n"
            "print('C', json.dumps({'status': c.status, 'text': c.messages.first().text}))",
            "C")
        assert conversation == {"status": "new",
                                "text": "Escribo de noche: mi pedido llegó roto."}
    finally:
        visitor.close()
        set_hours(live_desk, "E2E siempre abierto", ALWAYS_OPEN, "offline")
