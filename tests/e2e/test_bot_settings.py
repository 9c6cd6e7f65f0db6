"""Settings → Answer bot in a real browser: a supervisor switches the bot on for an inbox of the
test's own with a Spanish greeting, and the "try the bot" box answers a customer's question by
quoting a published article, the greeting first, without leaving the page. Selectors are ids,
classes and names, so the test reads the same in any language."""

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

SUPERVISOR = "carla@demo.mostrador.local"

# Run inside ``mostrador shell``: an inbox of the test's own (so the bot it switches on answers
# no other test's customers) and a published article, indexed and embedded before the command
# returns (tasks run inline).
SETUP = r"""
import json
from django.contrib.auth import get_user_model
from mostrador.conversations.actions import do_create_inbox
from mostrador.core.tasks import run_inline
from mostrador.knowledge import actions as kb

carla = get_user_model().objects.get(username="carla@demo.mostrador.local")
with run_inline():
    inbox = do_create_inbox(name=f"Bot {TAG}", channel_kind="email", acting_user=carla,
                            config={"address": f"{TAG}@demo.mostrador.local",
                                    "from_name": "Bot", "catch_all": False})
    article = kb.do_create_article(
        title=f"Tarjetas regalo {TAG}", language="es", acting_user=carla,
        body=f"Las tarjetas regalo {TAG} se compran en la tienda online y valen dos años. "
             "Se canjean al pagar: escribe su código en el carrito.")
    article = kb.do_publish_article(article, acting_user=carla)
print("SETUP " + json.dumps({"inbox": inbox.pk, "article": article.pk}))
"""

CHECK = r"""
import json
from mostrador.bot.models import BotSettings
row = BotSettings.objects.get(inbox_id=INBOX)
print("CHECK " + json.dumps({"enabled": row.enabled, "greeting": row.greeting,
                             "threshold": row.threshold}))
"""


def test_a_supervisor_switches_the_bot_on_and_tries_it(page, live_desk):
    tag = f"bot{uuid.uuid4().hex[:8]}"
    data = live_desk.shell_json(SETUP, "SETUP", TAG=tag)
    inbox = data["inbox"]
    greeting = f"¡Hola! Soy el asistente de Mercado Sol ({tag})."

    page.goto(f"{live_desk.url}/account/login/")
    page.fill("#id_username", SUPERVISOR)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))

    # Settings → Answer bot, from the tabs.
    page.goto(f"{live_desk.url}/settings/")
    page.locator(".settings-tabs a[href='/settings/bot/']").click()
    page.wait_for_url(re.compile(r".*/settings/bot/$"))
    card = page.locator(f"#bot-inbox-{inbox}")
    card.locator(".badge.state-off").wait_for()

    page.check(f"#id_bot-{inbox}-enabled")
    page.fill(f"#id_bot-{inbox}-greeting_es", greeting)
    card.locator("form.bot-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/settings/bot/#bot-inbox-{inbox}$"))
    page.locator(".flash-success").wait_for()
    card.locator(".badge.state-on").wait_for()
    assert page.is_checked(f"#id_bot-{inbox}-enabled")
    assert page.input_value(f"#id_bot-{inbox}-greeting_es") == greeting
    assert live_desk.shell_json(CHECK, "CHECK", INBOX=inbox) == {
        "enabled": True, "greeting": {"es": greeting}, "threshold": None}

    # Try it: the answer comes into the card, the page stays.
    page.fill(f"#id_try-{inbox}-text", "¿Cómo canjeo una tarjeta regalo?")
    page.select_option(f"#id_try-{inbox}-language", "es")
    card.locator("form.bot-try button[type=submit]").click()
    answer = page.locator(f"#bot-try-result-{inbox} .bot-try-answer")
    answer.wait_for()
    text = answer.inner_text()
    assert text.startswith(greeting)
    assert "Se canjean al pagar" in text
    assert f"/help/es/a/{data['article']}-" in text
    assert page.locator(f"#bot-try-result-{inbox} .bot-answered").count() == 1
    assert page.locator(f"#bot-try-result-{inbox} a[href='/kb/{data['article']}/']").count() == 1
    assert page.url.endswith(f"/settings/bot/#bot-inbox-{inbox}")
