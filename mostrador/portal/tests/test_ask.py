"""The help center's chat with the answer bot: answers, "did this solve it?", a person on
request, and the handover that opens a conversation with the whole exchange."""

import pytest
from django.core.cache import cache

from mostrador.bot.models import UnansweredQuestion
from mostrador.conversations.models import Conversation, Message
from mostrador.portal import ask

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_message_counters():
    cache.clear()
    yield
    cache.clear()


def post(client, path, data, fetch=False):
    headers = {"X-Requested-With": "fetch"} if fetch else {}
    return client.post(path, data, headers=headers)


def test_a_question_gets_a_quoted_article_and_the_question_whether_it_helped(help_center,
                                                                              client):
    response = post(client, "/help/es/ask/", {"text": "¿Cuándo recibo el reembolso?"})
    assert response.status_code == 303 and response["Location"].endswith("/help/es/ask/#chat")
    page = client.get("/help/es/ask/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "3 a 5 días hábiles" in html
    assert f"/help/es/a/{help_center.refunds_es.pk}-" in html
    assert "¿Resolvió esto tu pregunta?" in html
    assert 'name="helpful" value="yes"' in html
    # The exchange is kept across a reload.
    assert "¿Cuándo recibo el reembolso?" in client.get("/help/es/ask/").content.decode()


def test_no_on_an_answer_collects_the_question_and_hands_over(help_center, client):
    post(client, "/help/en/ask/", {"text": "When will I get my refund?"})
    panel = post(client, "/help/en/ask/feedback/", {"helpful": "no"}, fetch=True)
    assert panel.status_code == 200
    assert 'action="/help/en/ask/handover/"' in panel.content.decode()
    question = UnansweredQuestion.objects.get()
    assert question.reason == "not_helpful" and question.source == "help_center"
    assert question.article_id == help_center.refunds_en.pk


def test_talking_to_a_person_opens_a_conversation_with_the_whole_exchange(help_center,
                                                                          client):
    post(client, "/help/es/ask/", {"text": "¿Puedo pagar a plazos con mi tarjeta?"})
    post(client, "/help/es/ask/person/", {})
    bad = post(client, "/help/es/ask/handover/", {"name": "", "email": "nope"}, fetch=True)
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.content.decode()
    done = post(client, "/help/es/ask/handover/",
                {"name": "Elena Martín", "email": "Elena.Martin@Correo.es"}, fetch=True)
    assert done.status_code == 200
    conversation = Conversation.objects.get()
    assert f"#{conversation.number}" in done.content.decode()
    assert conversation.customer.identities.get(kind="email").external_id == \
        "elena.martin@correo.es"
    first = conversation.messages.get(direction=Message.Direction.INBOUND)
    assert first.text == "¿Puedo pagar a plazos con mi tarjeta?"
    note = conversation.messages.get(direction=Message.Direction.NOTE)
    assert "¿Puedo pagar a plazos con mi tarjeta?" in note.text
    # The bot could not answer (nothing about instalments): it said so, and handed over.
    assert [turn["from"] for turn in note.meta["bot_transcript"]] == ["customer", "bot"]
    # The chat starts afresh for the next question.
    assert "¿Puedo pagar" not in client.get("/help/es/ask/").content.decode()


def test_an_empty_message_is_refused_and_messages_are_rate_limited(help_center, client,
                                                                   monkeypatch):
    assert post(client, "/help/es/ask/", {"text": "   "}).status_code == 400
    long = "palabra " * 200
    refused = post(client, "/help/es/ask/", {"text": long})
    assert refused.status_code == 400
    assert long.strip() in refused.content.decode()  # given back whole, not cut
    monkeypatch.setattr(ask, "MESSAGES_PER_WINDOW", 2)
    assert post(client, "/help/es/ask/", {"text": "hola"}).status_code == 303
    assert post(client, "/help/es/ask/", {"text": "hola otra vez"}).status_code == 303
    limited = post(client, "/help/es/ask/", {"text": "y otra"})
    assert limited.status_code == 429
    assert "y otra" in limited.content.decode()  # what was typed is still there
