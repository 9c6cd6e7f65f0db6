"""Canned replies in the agent workspace: the settings screen (shared replies for supervisors,
personal ones for every agent, Spanish and English side by side, the placeholders as help) and
the reply box's picker: its list and the CSRF-protected endpoint that renders a reply for the
conversation."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from mostrador.automation.canned import do_create_canned_reply
from mostrador.automation.models import CannedReply
from mostrador.conversations import actions

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
BODIES = {"es": "Hola {{ customer.first_name }}, soy {{ agent.first_name }}.",
          "en": "Hi {{ customer.first_name }}, {{ agent.first_name }} here."}


@pytest.fixture(autouse=True)
def _static_root(settings):
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def shared(desk) -> CannedReply:
    return do_create_canned_reply(title="Greeting", shortcut="hello", bodies=BODIES,
                                  acting_user=desk.carla)


@pytest.fixture
def anas(desk) -> CannedReply:
    return do_create_canned_reply(title="Ana's sign-off", shortcut="bye",
                                  bodies={"es": "Un saludo, {{ agent.name }}"}, owner=desk.ana,
                                  acting_user=desk.ana)


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                                    response.content.decode())))


def form_data(**values) -> dict[str, str]:
    return {"title": "Refund sent", "shortcut": "refund", "body_es": "", "body_en": "",
            **values}


# --- the settings screen --------------------------------------------------------------------


def test_the_list_shows_shared_and_own_replies_to_every_agent(client, desk, shared, anas):
    do_create_canned_reply(title="Beto's secret", bodies={"en": "x"}, owner=desk.beto,
                           acting_user=desk.beto)
    client.force_login(desk.ana)
    response = client.get(reverse("web:settings_canned"))
    assert response.status_code == 200
    page = text_of(response)
    assert "Greeting" in page and "/hello" in page and "Ana's sign-off" in page
    assert "Beto's secret" not in page
    markup = response.content.decode()
    # Ana edits her own reply, not the shared one; no settings tabs she could not open.
    assert reverse("web:settings_canned_edit", args=[anas.pk]) in markup
    assert reverse("web:settings_canned_edit", args=[shared.pk]) not in markup
    assert reverse("web:settings_users") not in markup
    client.force_login(desk.carla)
    markup = client.get(reverse("web:settings_canned")).content.decode()
    assert reverse("web:settings_canned_edit", args=[shared.pk]) in markup
    assert reverse("web:settings_users") in markup and "Ana's sign-off" not in markup


def test_the_list_searches(client, desk, shared, anas):
    client.force_login(desk.ana)
    page = text_of(client.get(reverse("web:settings_canned"), {"q": "saludo"}))
    assert "Ana's sign-off" in page and "Greeting" not in page


def test_an_agent_creates_a_personal_reply_with_both_languages(client, desk):
    client.force_login(desk.ana)
    form = client.get(reverse("web:settings_canned_new"))
    markup = form.content.decode()
    # Both bodies side by side, the placeholder list, and no "shared" box for an agent.
    assert 'name="body_es"' in markup and 'name="body_en"' in markup
    assert "{{ customer.first_name }}" in markup and "customer.attributes.&lt;name&gt;" in markup
    assert 'name="shared"' not in markup
    response = client.post(reverse("web:settings_canned_new"), form_data(
        body_es="Hola {{ customer.first_name }}", body_en="Hi {{ customer.first_name }}",
        shared="on"))
    assert response.status_code == 302
    reply = CannedReply.objects.get()
    assert (reply.owner_id, reply.shortcut, reply.bodies) == (
        desk.ana.pk, "refund", {"es": "Hola {{ customer.first_name }}",
                                "en": "Hi {{ customer.first_name }}"})


def test_a_supervisor_creates_a_shared_reply(client, desk):
    client.force_login(desk.carla)
    assert 'name="shared"' in client.get(reverse("web:settings_canned_new")).content.decode()
    client.post(reverse("web:settings_canned_new"), form_data(body_en="Done.", shared="on"))
    assert CannedReply.objects.get().owner_id is None


@pytest.mark.parametrize(("values", "field", "words"), [
    ({}, "body_es", "Write the reply in Spanish, in English or in both."),
    ({"body_en": "Hi {{ customer.first_name"}, "body_en", "is not closed"),
    ({"body_es": "{{ customer.__class__ }}"}, "body_es", "Unknown placeholder"),
    ({"body_es": "x", "shortcut": "two words"}, "shortcut", "one word"),
    ({"body_es": "x", "shortcut": "hello"}, "shortcut", "/hello is already taken"),
])
def test_the_form_shows_what_to_fix_next_to_the_field(client, desk, shared, values, field,
                                                      words):
    client.force_login(desk.ana)
    response = client.post(reverse("web:settings_canned_new"), form_data(**values))
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])
    assert CannedReply.objects.count() == 1


def test_editing_and_deleting_ones_own_reply(client, desk, anas):
    client.force_login(desk.ana)
    url = reverse("web:settings_canned_edit", args=[anas.pk])
    assert "Un saludo, {{ agent.name }}" in client.get(url).content.decode()
    response = client.post(url, form_data(title="Bye", shortcut="bye",
                                          body_es="Un saludo", body_en="Regards"))
    assert response.status_code == 302
    anas.refresh_from_db()
    assert (anas.title, anas.bodies) == ("Bye", {"es": "Un saludo", "en": "Regards"})
    response = client.post(reverse("web:settings_canned_delete", args=[anas.pk]), headers=HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("web:settings_canned")
    assert not CannedReply.objects.exists()


def test_agents_cannot_change_shared_replies_nor_reach_others(client, desk, shared, anas):
    client.force_login(desk.beto)
    url = reverse("web:settings_canned_edit", args=[shared.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, form_data(body_es="x")).status_code == 403
    assert client.post(reverse("web:settings_canned_delete",
                               args=[shared.pk])).status_code == 403
    assert client.get(reverse("web:settings_canned_edit", args=[anas.pk])).status_code == 404
    assert client.post(reverse("web:settings_canned_delete",
                               args=[anas.pk])).status_code == 404
    assert CannedReply.objects.count() == 2
    client.force_login(desk.carla)
    client.post(reverse("web:settings_canned_edit", args=[shared.pk]),
                form_data(title="Hello", shortcut="hello", body_en="Hi", shared="on"))
    shared.refresh_from_db()
    assert (shared.title, shared.bodies, shared.owner_id) == ("Hello", {"en": "Hi"}, None)


def test_the_screen_needs_a_signed_in_agent(client, desk):
    response = client.get(reverse("web:settings_canned"))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]


# --- the reply box --------------------------------------------------------------------------


@pytest.fixture
def conversation(desk):
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=desk.elena, subject="Pedido", text="¿Dónde está?",
        acting_user=None)
    conversation.language = "es"
    conversation.save(update_fields=["language"])
    return conversation


def test_the_reply_box_has_the_picker(client, desk, conversation):
    client.force_login(desk.ana)
    markup = client.get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert 'class="canned" hidden' in markup and "web/canned.js" in markup
    assert reverse("web:conversation_canned", args=[conversation.pk]) in markup
    assert 'aria-keyshortcuts="/"' in markup and 'role="listbox"' in markup
    assert reverse("web:settings_canned") in markup


def test_the_picker_lists_what_the_agent_sees(client, desk, conversation, shared, anas):
    client.force_login(desk.ana)
    url = reverse("web:conversation_canned", args=[conversation.pk])
    assert client.get(url).json() == {"items": [
        {"id": anas.pk, "title": "Ana's sign-off", "shortcut": "bye", "shared": False,
         "languages": ["es"]},
        {"id": shared.pk, "title": "Greeting", "shortcut": "hello", "shared": True,
         "languages": ["es", "en"]}]}
    assert [i["id"] for i in client.get(url, {"q": "/hel"}).json()["items"]] == [shared.pk]
    client.force_login(desk.beto)
    assert [i["id"] for i in client.get(url).json()["items"]] == [shared.pk]
    missing = client.get(reverse("web:conversation_canned", args=[conversation.pk + 999]))
    assert missing.status_code == 404


def test_inserting_renders_the_reply_for_the_conversation(desk, conversation, shared, anas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk.ana)
    page = client.get(reverse("web:conversation", args=[conversation.pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                      page.content.decode()).group(1)
    url = reverse("web:conversation_canned_render", args=[conversation.pk, shared.pk])
    # Without the token: refused, as any form would be.
    assert client.post(url).status_code == 403
    response = client.post(url, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json() == {"text": "Hola Elena, soy Ana.", "language": "es",
                               "language_name": "Español"}
    english = client.post(url, {"language": "en"}, headers={"X-CSRFToken": token}).json()
    assert english["text"] == "Hi Elena, Ana here."
    own = client.post(reverse("web:conversation_canned_render",
                              args=[conversation.pk, anas.pk]), headers={"X-CSRFToken": token})
    assert own.json()["text"] == "Un saludo, Ana García"
    shared.refresh_from_db()
    assert shared.used_count == 2
    # Nothing is sent: the text only goes into the reply box.
    assert conversation.messages.count() == 1


def test_inserting_someone_elses_or_a_gone_reply_is_a_404(client, desk, conversation, anas):
    client.force_login(desk.beto)
    response = client.post(reverse("web:conversation_canned_render",
                                   args=[conversation.pk, anas.pk]))
    assert response.status_code == 404 and "no longer exists" in response.json()["detail"]
    assert client.get(reverse("web:conversation_canned_render",
                              args=[conversation.pk, anas.pk])).status_code == 405
    response = client.post(reverse("web:conversation_canned_render",
                                   args=[conversation.pk + 999, anas.pk]))
    assert response.status_code == 404
    assert response.json()["detail"] == f"Conversation {conversation.pk + 999} not found."
    client.force_login(desk.ana)
    bad = client.post(reverse("web:conversation_canned_render", args=[conversation.pk, anas.pk]),
                      {"language": "fr"})
    assert bad.status_code == 400 and bad.json()["field"] == "language"
