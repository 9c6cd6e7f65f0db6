"""The answer bot in the help center's chat, in a real browser, in Spanish and in English: a
question it can answer gets a quoted article and its link, the answer survives a reload, "No"
brings up the handover, and the conversation reaches the desk with the whole exchange. The
demo desk's articles are the bot's knowledge."""

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

CHATS = {
    "es": {"locale": "es-ES", "question": "No puedo entrar en mi cuenta, he olvidado la "
                                          "contraseña",
           "article": "No puedo entrar en mi cuenta: contraseña y código de verificación",
           "asks": "¿Resolvió esto tu pregunta?",
           "no": "No", "person": "Enviar a una persona"},
    "en": {"locale": "en-GB", "question": "I forgot my password and can't sign in",
           "article": "I can't log in: password and verification code",
           "asks": "Did this solve your question?",
           "no": "No", "person": "Send to a person"},
}

CHECK = r"""
import json
from mostrador.conversations.models import Conversation, Message
conversation = Conversation.objects.get(customer__identities__external_id=EMAIL)
first = conversation.messages.get(direction=Message.Direction.INBOUND)
note = conversation.messages.get(direction=Message.Direction.NOTE)
print("CHECK " + json.dumps({"text": first.text, "note": note.text,
                             "author": note.author_kind,
                             "turns": [t["from"] for t in note.meta["bot_transcript"]]}))
"""


@pytest.fixture
def visitor(browser, request):
    context = browser.new_context(locale=CHATS[request.param]["locale"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield request.param, page
    context.close()


@pytest.mark.parametrize("visitor", ["es", "en"], indirect=True)
def test_the_bot_answers_then_hands_over_with_the_whole_exchange(visitor, live_desk):
    lang, page = visitor
    chat = CHATS[lang]
    tag = uuid.uuid4().hex[:6]
    page.goto(f"{live_desk.url}/help/{lang}/ask/")
    page.fill("#ask-text", chat["question"])
    page.press("#ask-text", "Enter")

    answer = page.locator(".ask-bot .ask-bubble", has_text=chat["asks"])
    answer.wait_for()
    link = answer.locator("a", has_text=re.compile(rf"/help/{lang}/a/\d+-"))
    assert link.count() == 1
    assert page.locator(".ask-customer", has_text=chat["question"]).count() == 1

    # A reload keeps the exchange.
    page.reload()
    page.locator(".ask-bot .ask-bubble", has_text=chat["asks"]).wait_for()

    # The article quoted is the right one.
    # Links are made with MOSTRADOR_BASE_URL; the live server runs on a port of its own.
    path = re.sub(r"^https?://[^/]+", "", link.get_attribute("href"))
    article = page.context.new_page()
    article.goto(f"{live_desk.url}{path}")
    assert article.locator("h1").inner_text() == chat["article"]
    article.close()

    # "No": a person takes over.
    page.click("button[name=helpful][value=no]")
    page.locator("#ask-name").wait_for()
    email = f"chat-{tag}@cliente.example"
    page.fill("#ask-name", f"Visitante {tag}")
    page.fill("#ask-email", email)
    page.click(f"button:has-text('{chat['person']}')")
    done = page.locator(".ask-done")
    done.wait_for()
    assert re.search(r"#\d+", done.inner_text())

    record = live_desk.shell_json(CHECK, "CHECK", EMAIL=email)
    assert record["text"] == chat["question"]
    assert record["author"] == "bot"
    assert record["turns"] == ["customer", "bot", "bot"]
    assert chat["question"] in record["note"]
