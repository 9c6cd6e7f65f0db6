"""The agent workspace live, in a real browser: a new chat appears in the inbox list without a
reload (and waits while rows are selected), a notification calls the agent, and on the
conversation page another agent's presence and typing, the customer's typing, new messages
and the customer's read marks show up as they happen.

The customer is a websocket client speaking the widget's protocol to the same server, so
every change starts inside the server process, as in production (a ``mostrador shell``
process would publish to its own in-memory channel layer, which the server never sees)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from mostrador.core.demo import DEMO_CHAT_KEY, DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

ANA = "ana@demo.mostrador.local"
BETO = "beto@demo.mostrador.local"

# Desktop notifications and audio recorded instead of shown and played.
NOTIFY_STUBS = """
window.__notes = [];
window.__tones = 0;
window.Notification = class {
  constructor(title, options) { window.__notes.push({title: title, tag: options.tag}); }
  static requestPermission() { return Promise.resolve("granted"); }
  close() {}
};
window.Notification.permission = "granted";
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() {}
  createOscillator() {
    window.__tones += 1;
    return {frequency: {}, connect() {}, start() {}, stop() {}};
  }
  createGain() {
    return {gain: {setValueAtTime() {}, exponentialRampToValueAtTime() {}}, connect() {}};
  }
};
"""


class Visitor:
    """A customer's chat widget, reduced to its protocol."""

    def __init__(self, socket, desk_url: str, name: str) -> None:
        self.socket = socket
        self.name = name
        self.sent = 0
        self.conversation: int | None = None
        self.send(type="hello", token=None, language="es", after=None, page=desk_url)
        self.until("welcome")

    def until(self, kind: str, test=lambda frame: True, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame of this kind that passes ``test`` (others are skipped)."""
        while True:
            frame = json.loads(self.socket.recv(timeout=timeout))
            if frame["type"] == kind and test(frame):
                return frame

    def say(self, text: str) -> dict[str, Any]:
        self.sent += 1
        client_id = f"t{self.sent}-{uuid.uuid4().hex[:8]}"
        self.send(type="message", client_id=client_id, text=text,
                  fields={"name": self.name} if self.sent == 1 else {})
        ack = self.until("ack", lambda frame: frame["client_id"] == client_id)
        self.conversation = ack["conversation"]["id"]
        return ack["message"]

    def send(self, **frame: Any) -> None:
        self.socket.send(json.dumps(frame))


@pytest.fixture
def visitor(live_desk):
    from websockets.sync.client import connect

    address = live_desk.url.replace("http://", "ws://") + f"/ws/chat/{DEMO_CHAT_KEY}/"
    with connect(address, origin=live_desk.url, open_timeout=10) as socket:
        yield Visitor(socket, live_desk.url, f"Elena {uuid.uuid4().hex[:6]}")


def sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/account/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def wait_live(page) -> None:
    page.locator("body[data-live=open]").wait_for(state="attached")


def open_conversation(page, url: str, pk: int) -> None:
    page.goto(f"{url}/c/{pk}/")
    page.locator(".composer-tabs:not([hidden])").wait_for()
    wait_live(page)


def test_a_new_chat_appears_in_the_list_and_calls_the_agent(browser, live_desk, visitor):
    context = browser.new_context(locale="es-ES")
    context.add_init_script(NOTIFY_STUBS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_desk.url, ANA)
        page.goto(f"{live_desk.url}/?view=all")
        wait_live(page)
        page.locator("[data-notify=sound]").click()
        page.locator("[data-notify=desktop]").click()
        page.locator("[data-notify=desktop][aria-pressed=true]").wait_for()
        assert page.evaluate("localStorage.getItem('mostrador.notify.desktop')") == "on"
        tones = page.evaluate("window.__tones")
        assert tones > 0  # turning the sound on plays it once
        page.evaluate("window.__samePage = true")

        visitor.say("Hola, ¿tenéis la talla 42 en azul?")
        pk = visitor.conversation
        row = page.locator(f"#inbox-list tr[data-conversation='{pk}']")
        row.wait_for()
        page.wait_for_function(
            "id => document.getElementById('inbox-status').textContent.includes('#' + id)", arg=pk)
        # The new chat waits for ana's team: a desktop notification and a sound.
        page.wait_for_function(
            "id => window.__notes.some(note => note.tag === 'conv-' + id)", arg=pk)
        page.wait_for_function("n => window.__tones > n", arg=tones)
        assert page.evaluate("window.__samePage") is True

        # With a row selected the list holds still and offers the updates instead.
        page.locator(f"#select-{pk}").check()
        page.evaluate("document.getElementById('inbox-list').__before = true")
        visitor.say("Es para un regalo.")
        page.locator("#live-pending button").wait_for()
        assert page.evaluate("document.getElementById('inbox-list').__before") is True
        page.locator("#live-pending button").click()
        page.wait_for_function("!document.getElementById('inbox-list').__before")
        assert page.locator(f"#select-{pk}").is_checked()
        assert page.locator("#live-pending").is_hidden()
        assert page.evaluate("window.__samePage") is True
    finally:
        context.close()


def test_the_conversation_shows_presence_typing_and_new_messages_live(browser, live_desk,
                                                                       visitor):
    visitor.say("Buenas, mi pedido no ha llegado.")
    pk = visitor.conversation
    contexts = [browser.new_context(locale="es-ES") for _ in range(2)]
    ana, beto = (context.new_page() for context in contexts)
    try:
        for page, email in ((ana, ANA), (beto, BETO)):
            page.set_default_timeout(15_000)
            sign_in(page, live_desk.url, email)
            open_conversation(page, live_desk.url, pk)
        ana.evaluate("window.__samePage = true")

        presence = ana.locator("#live-presence")
        presence.filter(has_text="Beto").wait_for()
        beto.locator("#reply-text").type("Te escribo yo")
        ana.locator("#live-presence.live-collision").filter(has_text="Beto").wait_for()
        # Three seconds without a key: Beto is no longer typing.
        ana.locator("#live-presence:not(.live-collision)").filter(has_text="Beto").wait_for()

        # Ana's draft and focus stay where they are while the thread grows above them.
        ana.locator("#reply-text").fill("Hola, lo miro ahora mismo")
        ana.locator("#reply-text").focus()
        visitor.send(type="typing", on=True)
        ana.locator("#live-visitor").wait_for()
        assert ana.locator("#live-visitor").inner_text().strip()
        message = visitor.say("¿Sigue ahí? Es el pedido 4411.")
        visitor.send(type="typing", on=False)
        ana.locator(f"#timeline #m{message['id']}").wait_for()
        ana.locator("#live-visitor").wait_for(state="hidden")
        assert ana.locator("#timeline .msg-inbound", has_text="pedido 4411").count() == 1
        assert ana.locator("#reply-text").input_value() == "Hola, lo miro ahora mismo"
        assert ana.evaluate("document.activeElement.id") == "reply-text"
        assert ana.evaluate("window.__samePage") is True
        # Beto's page got the message too, once.
        beto.locator(f"#timeline #m{message['id']}").wait_for()
        assert beto.locator(f"#timeline #m{message['id']}").count() == 1

        # The page is visible: the customer learns the desk read up to their message.
        marks = visitor.until("marks", lambda frame: frame["read_up_to"] >= message["id"])
        assert marks["read_up_to"] >= message["id"]

        # Ana answers; the customer's widget shows and reads it: her page ticks it.
        ana.locator("#panel-reply button[value=send]").click()
        reply = visitor.until("message", lambda frame: frame["message"]["author"] == "agent")
        reply_id = reply["message"]["id"]
        visitor.send(type="received", up_to=reply_id)
        ana.locator(f"#m{reply_id} .live-mark[data-mark=delivered]").wait_for()
        visitor.send(type="read", up_to=reply_id)
        ana.locator(f"#m{reply_id} .live-mark[data-mark=read]").wait_for()

        # Beto leaves: Ana is alone again.
        beto.goto(f"{live_desk.url}/?view=all")
        presence.wait_for(state="hidden")
    finally:
        for context in contexts:
            context.close()
