"""The customer pages in a real browser: search as you type, the customer 360 (profile,
conversations, one timeline), identities and attributes changed in place, older messages
loaded in place, merging two customers, the panel partial, and the small-screen layout.
Selectors are ids and names, so the tests read the same in any language."""

from __future__ import annotations

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

# Run inside ``mostrador shell``: two customers of our own (so tests never meet another
# test's data). The first has three conversations on two channels, a reply, and 30 notes;
# the second is a duplicate of the first written from another address.
SETUP = r"""
import json
from django.contrib.auth import get_user_model
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.models import Inbox
from mostrador.customers.actions import do_create_customer, do_update_customer

inbox = Inbox.objects.filter(active=True, channel_kind="email").order_by("id").first()
ana = get_user_model().objects.get(username="ana@demo.mostrador.local")
ids = []
for number in range(3):
    result = actions.receive_inbound(inbox, InboundMessage(
        sender_kind="email", sender_id=f"{TAG}@cliente.example", sender_name=f"Cliente {TAG}",
        provider_id=f"<{TAG}-{number}@cliente.example>", subject=f"Pedido {TAG} {number}",
        text=f"Hola, escribo por el pedido {number}.",
        reply_text=f"Hola, escribo por el pedido {number}."))
    ids.append(result.conversation.pk)
customer = result.conversation.customer
do_update_customer(customer, segments=["premium"], attributes={"plan": "business"})
first = actions.receive_inbound(inbox, InboundMessage(
    sender_kind="email", sender_id=f"{TAG}@cliente.example", provider_id=f"<{TAG}-r@x>",
    subject=f"Pedido {TAG} 0", text="Sigue sin llegar", reply_text="Sigue sin llegar",
    references=[f"<{TAG}-0@cliente.example>"])).conversation
actions.do_send_reply(first, "Hola:\n\nTe lo enviamos de nuevo hoy.", acting_user=ana)
for n in range(30):
    actions.do_add_note(first, f"Nota {TAG} {n:02}", acting_user=ana)
duplicate = do_create_customer(name=f"Duplicado {TAG}",
                               identities=[("email", f"{TAG}@otro.example")])
print("SETUP " + json.dumps({"ids": ids, "customer": customer.pk,
                             "duplicate": duplicate.pk}))
"""


@pytest.fixture
def data(live_desk) -> dict:
    tag = f"k{uuid.uuid4().hex[:8]}"
    return {"tag": tag, **live_desk.shell_json(SETUP, "SETUP", TAG=tag)}


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/account/login/")
    page.fill("#id_username", AGENT)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{url}/**")
    page.wait_for_load_state()


def mark_page(page) -> None:
    """Set a flag that a full page load would lose."""
    page.evaluate("window.__stayed = true")


def stayed(page) -> bool:
    return page.evaluate("window.__stayed === true")


def test_search_as_you_type_then_open_the_customer(page, live_desk, data):
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/customers/")
    mark_page(page)
    page.fill("#customer-q", f"{data['tag']}@cliente")
    row = page.locator("#customer-results tbody tr")
    row.first.wait_for()
    page.wait_for_function("document.querySelectorAll('#customer-results tbody tr').length"
                           " === 1")
    assert stayed(page)
    assert f"q={data['tag']}" in page.url  # the address follows the search
    assert "premium" in row.inner_text()
    row.locator("a.customer-name").click()
    page.wait_for_url(f"**/customers/{data['customer']}/")
    profile = page.locator("#customer-profile")
    assert f"{data['tag']}@cliente.example" in profile.inner_text()
    assert "business" in profile.inner_text()
    history = page.locator("#conversations tbody tr")
    assert history.count() == 3
    assert "Te lo enviamos de nuevo hoy." in page.locator("#conversations").inner_text()
    assert page.locator("#timeline li.timeline-entry").count() == 25
    assert page.locator("#timeline li.dir-note").count() >= 20


def test_older_messages_load_in_place(page, live_desk, data):
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/customers/{data['customer']}/")
    mark_page(page)
    entries = page.locator("#timeline li.timeline-entry")
    assert entries.count() == 25
    page.locator("#timeline li.more-row a").click()
    page.wait_for_function("document.querySelectorAll('#timeline li.timeline-entry').length"
                           " > 25")
    # 30 notes, a reply, four customer messages: 35 in all, and no more link.
    page.wait_for_function("document.querySelectorAll('#timeline li.timeline-entry').length"
                           " === 35")
    assert page.locator("#timeline li.more-row").count() == 0
    assert stayed(page)
    assert entries.last.locator(".entry-text").inner_text() == "Hola, escribo por el pedido 0."


def test_identity_and_attributes_change_in_place(page, live_desk, data):
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/customers/{data['customer']}/")
    mark_page(page)
    profile = page.locator("#customer-profile")
    profile.locator("details.inline-form summary").first.click()
    page.select_option("#id_kind", "phone")
    page.fill("#id_external_id", "+34 611 22 33 44")
    profile.locator("form[action$='/identities/'] button[type=submit]").click()
    page.locator("#customer-profile .flash-success").wait_for()
    assert "+34611223344" in page.locator("#customer-profile .identity-list").inner_text()
    assert stayed(page)

    # An address of another customer: the error is next to the field, with the merge offer.
    page.locator("#customer-profile details.inline-form summary").first.click()
    page.select_option("#id_kind", "email")
    page.fill("#id_external_id", f"{data['tag']}@otro.example")
    page.locator("#customer-profile form[action$='/identities/'] button[type=submit]").click()
    page.locator("#id_external_id_error").wait_for()
    assert f"{data['tag']}@otro.example" in page.locator("#id_external_id_error").inner_text()

    page.locator("#customer-profile details.inline-form summary").nth(1).click()
    page.fill("#id_new_key", "lifetime_value")
    page.fill("#id_new_value", "1840")
    page.locator("#customer-profile form[action$='/attributes/'] button[type=submit]").click()
    page.locator("#customer-profile dl.attributes dt", has_text="lifetime_value").wait_for()
    assert "1840" in page.locator("#customer-profile dl.attributes").inner_text()
    assert stayed(page)


def test_merge_two_customers(page, live_desk, data):
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/customers/{data['customer']}/merge/")
    page.fill("#id_q", f"{data['tag']}@otro")
    page.locator("main form[role=search] button[type=submit]").click()
    page.locator(".candidate-list a").first.click()
    page.wait_for_url(f"**/merge/{data['duplicate']}/")
    assert f"{data['tag']}@otro.example" in page.locator(".merge-moves").inner_text()
    page.locator("main form.form-actions button[type=submit]").click()
    page.wait_for_url(f"**/customers/{data['customer']}/")
    assert f"{data['tag']}@otro.example" in page.locator("#customer-profile").inner_text()
    page.goto(f"{live_desk.url}/customers/{data['duplicate']}/")
    assert page.url.endswith(f"/customers/{data['customer']}/")


def test_the_panel_partial_shows_earlier_conversations(page, live_desk, data):
    sign_in(page, live_desk.url)
    newest = max(data["ids"])
    page.goto(f"{live_desk.url}/customers/{data['customer']}/")
    html = page.evaluate(f"fetch('/customers/panel/{newest}/', {{headers: {{'HX-Request':"
                         f" 'true'}}}}).then(r => r.text())")
    assert "<html" not in html
    assert f"{data['tag']}@cliente.example" in html
    for pk in data["ids"]:
        assert (f"/c/{pk}/" in html) == (pk != newest)


def test_the_customer_page_fits_a_small_screen(browser, live_desk, data):
    context = browser.new_context(locale="es-ES", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_desk.url)
        page.goto(f"{live_desk.url}/customers/{data['customer']}/")
        page.locator("#timeline").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.goto(f"{live_desk.url}/customers/?q={data['tag']}")
        page.locator("#customer-results").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
