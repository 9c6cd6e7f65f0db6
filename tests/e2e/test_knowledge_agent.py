"""The knowledge base from the reply box in a real browser: an agent opens the panel, searches,
inserts a public article's link into the reply (an internal one offers no link), sends it, and
saves the reply as a draft article. Selectors are ids, classes and names, so the test reads the
same in any language."""

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

# Run inside ``mostrador shell``: a public and an internal article, published, both holding a
# word of our own (so no other test's data matches), and a customer asking about it.
SETUP = r"""
import json
from django.contrib.auth import get_user_model
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.models import Inbox
from mostrador.knowledge import actions as kb

carla = get_user_model().objects.get(username="carla@demo.mostrador.local")
public = kb.do_create_article(
    title=f"Devoluciones {TAG}", language="es", acting_user=carla,
    body=f"Para devolver un pedido {TAG} entra en tu cuenta y elige Devolver. "
         "El reembolso llega en 5 a 7 días hábiles.")
public = kb.do_publish_article(public, acting_user=carla)
internal = kb.do_create_article(
    title=f"Guía interna {TAG}", language="es", visibility="internal", acting_user=carla,
    body=f"Las devoluciones {TAG} de más de 500 euros las aprueba un supervisor.")
internal = kb.do_publish_article(internal, acting_user=carla)
inbox = Inbox.objects.filter(active=True, channel_kind="email").order_by("id").first()
conversation = actions.receive_inbound(inbox, InboundMessage(
    sender_kind="email", sender_id=f"{TAG}@cliente.example", sender_name=f"Cliente {TAG}",
    provider_id=f"<{TAG}@cliente.example>", subject=f"Devolver el pedido {TAG}",
    text=f"Hola, quiero devolver el pedido {TAG}. ¿Cómo lo hago?",
    reply_text=f"Hola, quiero devolver el pedido {TAG}. ¿Cómo lo hago?")).conversation
conversation.language = "es"
conversation.save(update_fields=["language"])
print("SETUP " + json.dumps({"conversation": conversation.pk, "public": public.pk,
                             "slug": public.slug, "internal": internal.pk}))
"""

CHECK = r"""
import json
from mostrador.knowledge.models import Article
article = Article.objects.get(title=TITLE)
print("CHECK " + json.dumps({"status": article.status, "text": article.body_text,
                             "language": article.language}))
"""


def test_an_agent_inserts_an_articles_link_and_saves_the_reply_as_an_article(page, live_desk):
    tag = f"kb{uuid.uuid4().hex[:8]}"
    data = live_desk.shell_json(SETUP, "SETUP", TAG=tag)
    page.goto(f"{live_desk.url}/account/login/")
    page.fill("#id_username", AGENT)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))
    page.goto(f"{live_desk.url}/c/{data['conversation']}/")
    page.locator(".composer-tabs:not([hidden])").wait_for()
    page.locator(".kb-toggle").wait_for()

    # "b" opens the panel with suggestions for the conversation, the field focused.
    page.keyboard.press("b")
    page.locator("#kb-panel").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "kb-search"
    assert page.locator(".kb-toggle").get_attribute("aria-expanded") == "true"
    page.locator("#kb-results .kb-result").first.wait_for()
    assert page.locator("#kb-heading").inner_text().strip()

    page.fill("#kb-search", f"devoluciones {tag}")
    page.locator("#kb-search").press("Enter")
    public = page.locator(f"#kb-results [data-article='{data['public']}']")
    internal = page.locator(f"#kb-results [data-article='{data['internal']}']")
    public.wait_for()
    internal.wait_for()
    # Enter searched; it did not send the reply.
    assert page.locator(".msg-outbound").count() == 0
    assert internal.locator(".kb-internal").count() == 1
    assert internal.locator(".kb-no-link").count() == 1
    assert internal.locator("button").count() == 1  # text only, no link
    assert public.locator("mark").count() >= 1

    page.fill("#reply-text", "Hola: aquí lo explicamos")
    page.locator("#kb-search").focus()
    public.locator("button").first.click()  # "Insert link"
    url = f"{live_desk.url}/help/es/a/{data['public']}-{data['slug']}/"
    page.wait_for_function(
        "url => document.getElementById('reply-text').value.includes(url)", arg=url)
    assert page.locator("#reply-text").input_value() == f"Hola: aquí lo explicamos {url}"
    page.locator("#kb-panel").wait_for(state="hidden")
    assert page.evaluate("document.activeElement.id") == "reply-text"

    page.locator("#panel-reply button[value=send]").click()
    reply = page.locator(".msg-outbound", has_text=url)
    reply.wait_for()

    reply.locator("a.msg-action").click()
    title = reply.locator("input[name=title]")
    title.wait_for()
    assert title.input_value() == f"Devolver el pedido {tag}"
    assert url in reply.locator("textarea[name=body]").input_value()
    assert reply.locator("select[name=language]").input_value() == "es"
    title.fill(f"Cómo devolver un pedido {tag}")
    reply.locator(".article-form button[type=submit]").click()
    done = reply.locator(".article-done")
    done.wait_for()
    assert re.search(r"/kb/\d+/$", done.locator("a").get_attribute("href"))

    saved = live_desk.shell_json(CHECK, "CHECK", TITLE=f"Cómo devolver un pedido {tag}")
    assert saved["status"] == "draft" and saved["language"] == "es"
    assert saved["text"] == f"Hola: aquí lo explicamos {url}"

    # The article opens in the knowledge base screens, still a draft.
    done.locator("a").click()
    page.locator(".kb-status-draft").first.wait_for()
    assert page.locator("#id_title").input_value() == f"Cómo devolver un pedido {tag}"
