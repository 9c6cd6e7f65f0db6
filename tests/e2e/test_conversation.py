"""The conversation page in a real browser: replying and noting in place, @mention
suggestions, properties edited in place, keyboard shortcuts, moving through the list, and the
small-screen layout. Selectors are ids and names, so the tests read the same in any language."""

from __future__ import annotations

import re
import uuid

import pytest

from mostrador.core.demo import DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

AGENT = "ana@demo.mostrador.local"
PNG = ("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
       "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

# Run inside ``mostrador shell``: a customer of our own with three conversations (so tests
# never meet another test's data), the newest with a reply, a note and an image.
SETUP = r"""
import json
from mostrador.channels.base import InboundAttachment, InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.models import Inbox
from django.contrib.auth import get_user_model

inbox = Inbox.objects.filter(active=True, channel_kind="email").order_by("id").first()
ana = get_user_model().objects.get(username="ana@demo.mostrador.local")
ids = []
for number in range(3):
    inbound = InboundMessage(
        sender_kind="email", sender_id=f"{TAG}@cliente.example", sender_name=f"Cliente {TAG}",
        provider_id=f"<{TAG}-{number}@cliente.example>", subject=f"Pedido {TAG} {number}",
        text=f"Hola, escribo por el pedido {number}.",
        reply_text=f"Hola, escribo por el pedido {number}.",
        attachments=[InboundAttachment("foto.png", "image/png", bytes.fromhex(PNG))])
    ids.append(actions.receive_inbound(inbox, inbound).conversation.pk)
newest = actions.receive_inbound(inbox, InboundMessage(
    sender_kind="email", sender_id=f"{TAG}@cliente.example",
    provider_id=f"<{TAG}-x@cliente.example>", subject="Otra cosa",
    text="Y otra cosa: mi dirección cambió.", reply_text="Y otra cosa: mi dirección cambió.",
    references=[f"<{TAG}-2@cliente.example>"])).conversation
actions.do_add_note(newest, "Revisar con logística", acting_user=ana)
print("SETUP " + json.dumps({"ids": ids, "customer": newest.customer_id}))
"""


@pytest.fixture
def desk_data(live_desk) -> dict:
    tag = f"c{uuid.uuid4().hex[:8]}"
    return live_desk.shell_json(SETUP, "SETUP", TAG=tag, PNG=PNG)


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/account/login/")
    page.fill("#id_username", AGENT)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def open_conversation(page, url: str, pk: int, query: str = "") -> None:
    page.goto(f"{url}/c/{pk}/{query}")
    page.locator("#timeline").wait_for()
    # The page's script has run once the tabs are shown.
    page.locator(".composer-tabs:not([hidden])").wait_for()


def test_reply_and_note_land_in_the_thread_without_a_reload(page, live_desk, desk_data):
    pk = desk_data["ids"][-1]
    sign_in(page, live_desk.url)
    open_conversation(page, live_desk.url, pk)
    page.evaluate("window.__samePage = true")

    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.fill("#reply-text", "Ya lo hemos enviado de nuevo.")
    page.locator("#panel-reply button[value=send]").click()
    page.locator(".msg-outbound", has_text="Ya lo hemos enviado de nuevo.").wait_for()
    assert page.locator("#reply-text").input_value() == ""
    page.wait_for_function("document.activeElement && document.activeElement.id === 'reply-text'")
    page.locator("#notice .notice-line").wait_for()

    page.locator("#reply-text").press("Escape")
    page.keyboard.press("n")
    note = page.locator("#note-text")
    assert page.evaluate("document.activeElement.id") == "note-text"
    note.type("Hola @an")
    option = page.locator("#mention-list [role=option]", has_text="@ana")
    option.wait_for()
    note.press("Enter")
    assert note.input_value() == "Hola @ana "
    note.type("mira esto")
    page.locator("#panel-note button[type=submit]").click()
    page.locator(".msg-note .mention", has_text="@ana").wait_for()
    assert page.evaluate("window.__samePage") is True
    # The note tab stays open for the next note.
    page.locator("#panel-reply").wait_for(state="hidden")
    assert page.locator("#panel-note").is_visible()


def test_properties_change_in_place_and_solving_can_be_undone(page, live_desk, desk_data):
    pk = desk_data["ids"][0]
    sign_in(page, live_desk.url)
    open_conversation(page, live_desk.url, pk)

    page.select_option("#id_priority", "4")
    page.locator("#conversation-head .badge.priority-4").wait_for()
    page.fill("#id_add", "urgente, vip")
    page.locator("#id_add").press("Enter")
    page.locator(".tag-list .tag", has_text="vip").wait_for()
    page.locator("#timeline .event", has_text="vip").wait_for()

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    page.locator("#conversation-head .badge.status-solved").wait_for()
    page.locator("#undo-button").wait_for()
    # Focus moves to "Undo", so Enter takes the solve back.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'undo-button'")
    page.keyboard.press("Enter")
    page.locator("#conversation-head .badge.status-solved").wait_for(state="detached")
    assert page.locator("#id_status").input_value() != "solved"

    page.keyboard.press("?")
    page.locator("#shortcut-help").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("#shortcut-help").wait_for(state="hidden")


def test_images_load_through_the_session_and_the_original_is_sandboxed(page, live_desk,
                                                                       desk_data):
    pk = desk_data["ids"][1]
    sign_in(page, live_desk.url)
    open_conversation(page, live_desk.url, pk)
    thumb = page.locator("img.thumb").first
    thumb.wait_for()
    page.wait_for_function("document.querySelector('img.thumb').complete")
    assert page.evaluate("document.querySelector('img.thumb').naturalWidth") == 1


def test_j_and_k_follow_the_list_the_agent_came_from(page, live_desk, desk_data):
    first, second, third = desk_data["ids"]
    sign_in(page, live_desk.url)
    query = f"?from=customer%3D{desk_data['customer']}%26order%3D-created"
    open_conversation(page, live_desk.url, third, query)

    page.keyboard.press("j")
    page.wait_for_url(re.compile(rf".*/c/{second}/\?from="))
    page.locator(".composer-tabs:not([hidden])").wait_for()
    page.keyboard.press("j")
    page.wait_for_url(re.compile(rf".*/c/{first}/\?from="))
    page.locator(".composer-tabs:not([hidden])").wait_for()
    page.keyboard.press("j")  # the end of the list: say so, stay
    page.locator("#notice .notice-line").wait_for()
    assert f"/c/{first}/" in page.url
    page.keyboard.press("k")
    page.wait_for_url(re.compile(rf".*/c/{second}/\?from="))


def test_split_a_message_off(page, live_desk, desk_data):
    pk = desk_data["ids"][-1]
    sign_in(page, live_desk.url)
    open_conversation(page, live_desk.url, pk)
    page.on("dialog", lambda dialog: dialog.accept())
    message = page.locator(".msg-inbound", has_text="mi dirección cambió")
    message.locator("button.msg-action").click()
    page.locator("#timeline .event a[href^='/c/']").last.wait_for()
    assert page.locator(".msg-inbound", has_text="mi dirección cambió").count() == 0
    page.locator("#timeline .event a[href^='/c/']").last.click()
    page.locator(".msg-inbound", has_text="mi dirección cambió").wait_for()


def test_small_screens_fold_the_properties_under_the_thread(browser, live_desk, desk_data):
    context = browser.new_context(locale="es-ES", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_desk.url)
        open_conversation(page, live_desk.url, desk_data["ids"][0])
        assert page.locator(".properties-fold").evaluate("d => d.open") is False
        assert not page.locator("#id_status").is_visible()
        # Nothing sticks out sideways; the reply box spans the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        box = page.locator("#reply-text").bounding_box()
        assert box["width"] > 300
        thread = page.locator("#timeline").bounding_box()
        properties = page.locator("#properties").bounding_box()
        assert properties["y"] > thread["y"] + thread["height"]
        page.locator(".properties-fold > summary").click()
        page.locator("#id_status").wait_for(state="visible")
    finally:
        context.close()
