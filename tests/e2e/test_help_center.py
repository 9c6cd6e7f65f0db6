"""The public help center in a real browser, once in Spanish and once in English: a reader
arrives at /help/, searches, opens an article, answers "no" to "Was this helpful?" with a
comment, switches to the article's translation, then writes a request, sees a suggested
article while typing, and sends it; the desk has the conversation with the reader's message.
The demo desk's articles are the help center's content."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

JOURNEYS = {
    "es": {
        "locale": "es-ES", "search": "reembolso", "article": "Devoluciones y reembolsos",
        "other": "en", "translation": "Returns and refunds",
        "subject": "No me llega el reembolso",
        "message": "Devolví el pedido {tag} hace dos semanas y todavía no veo el reembolso en "
                   "mi tarjeta. ¿Cuándo lo recibiré?",
        "suggested": "Devoluciones y reembolsos",
    },
    "en": {
        "locale": "en-GB", "search": "password",
        "article": "I can't log in: password and verification code",
        "other": "es",
        "translation": "No puedo entrar en mi cuenta: contraseña y código de verificación",
        "subject": "Can't sign in",
        "message": "I forgot my password and the reset link says it has expired. Order {tag}.",
        "suggested": "I can't log in: password and verification code",
    },
}

# Run inside ``mostrador shell``: what the desk recorded for this reader.
CHECK = r"""
import json
from mostrador.conversations.models import Conversation
from mostrador.portal.models import ArticleVote, RequestVisit

conversation = Conversation.objects.get(customer__identities__external_id=EMAIL)
message = conversation.messages.get()
visit = RequestVisit.objects.get(conversation=conversation)
votes = list(ArticleVote.objects.filter(comment=COMMENT).values_list(
    "helpful", "language", "article__title"))
print("CHECK " + json.dumps({
    "subject": conversation.subject, "name": conversation.customer.name,
    "language": conversation.customer.language, "text": message.text, "meta": message.meta,
    "suggestions_shown": visit.suggestions_shown, "votes": votes}))
"""


@pytest.fixture
def reader(browser, request):
    """A browser page whose language is the journey's (``request.param``)."""
    context = browser.new_context(locale=JOURNEYS[request.param]["locale"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield request.param, page
    context.close()


def desk_record(live_desk, email: str, comment: str) -> dict:
    return live_desk.shell_json(CHECK, "CHECK", EMAIL=email, COMMENT=comment)


@pytest.mark.parametrize("reader", ["es", "en"], indirect=True)
def test_a_reader_searches_votes_switches_language_and_sends_a_request(reader, live_desk):
    lang, page = reader
    journey = JOURNEYS[lang]
    tag = f"MS-{uuid.uuid4().hex[:6].upper()}"
    url = live_desk.url

    # Arriving: the browser's language picks the tree.
    page.goto(f"{url}/help/")
    page.wait_for_url(f"{url}/help/{lang}/")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator(".category-card").count() >= 4  # the demo's, and other tests'

    # Searching and opening the article.
    page.fill("#q-home", journey["search"])
    page.press("#q-home", "Enter")
    page.wait_for_url(re.compile(rf"/help/{lang}/search\?q="))
    result = page.locator(".result-list a", has_text=journey["article"])
    assert page.locator(".result-list mark").count() > 0
    result.click()
    page.wait_for_url(re.compile(rf"/help/{lang}/a/\d+-"))
    assert page.locator("h1").inner_text() == journey["article"]
    assert page.locator(".related a").count() > 0

    # "Was this helpful?" No, with a comment: sent in place.
    comment = f"Falta información {tag}" if lang == "es" else f"Missing details {tag}"
    page.fill("#feedback-comment", comment)
    page.click("button[name=helpful][value=no]")
    status = page.locator("[data-feedback-status]")
    status.filter(has_text=re.compile(r"\w")).wait_for()
    assert page.locator("button[name=helpful][value=no][data-chosen]").count() == 1

    # The translation, through the language switcher.
    page.click(f"nav.languages a[data-language={journey['other']}]")
    page.wait_for_url(re.compile(rf"/help/{journey['other']}/a/\d+-"))
    assert page.locator("h1").inner_text() == journey["translation"]
    assert page.locator("html").get_attribute("lang") == journey["other"]

    # The request form, back in the reader's language.
    page.goto(f"{url}/help/{lang}/request/")
    email = f"{tag.lower()}@cliente.example"
    page.fill("#id_name", f"Cliente {tag}")
    page.fill("#id_email", email)
    page.locator("#id_subject").press_sequentially(journey["subject"], delay=15)
    page.fill("#id_message", journey["message"].format(tag=tag))
    suggestion = page.locator("#suggestions a", has_text=journey["suggested"])
    suggestion.wait_for()
    assert page.locator("#suggestions").is_visible()
    page.click("#request-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/help/{lang}/request/thanks/\?ref="))
    assert page.locator(".notice-success strong").inner_text().startswith("#")

    record = desk_record(live_desk, email, comment)
    assert record["subject"] == journey["subject"]
    assert record["name"] == f"Cliente {tag}" and record["language"] == lang
    assert record["text"] == journey["message"].format(tag=tag)
    assert record["meta"] == {"sender": email, "source": "help_center"}
    assert record["suggestions_shown"] >= 1
    assert record["votes"] == [[False, lang, journey["article"]]]


def test_the_help_center_fits_a_phone(browser, live_desk):
    context = browser.new_context(locale="en-GB", viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{live_desk.url}/help/en/")
        # Nothing wider than the screen: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert page.locator(".skip-link").is_visible()
    finally:
        context.close()
