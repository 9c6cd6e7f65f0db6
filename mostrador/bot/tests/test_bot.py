"""The answer bot on the real database: its decision, the conversation hook, handover with
the whole exchange, unanswered questions, settings and the REST doors."""

import pytest
from django.test import Client

from mostrador.bot import actions, answer
from mostrador.bot.models import UnansweredQuestion
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.inbound import receive_inbound
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.core.errors import PermissionDenied, ValidationFailed
from mostrador.core.testing import api_token_for
from mostrador.knowledge import actions as kb_actions
from mostrador.knowledge import semantic

ARTICLES = [
    ("¿Cuánto tarda el reembolso de una devolución?",
     "Cuando recibimos el paquete devuelto lo revisamos en dos días.\n\n"
     "El reembolso llega al mismo medio de pago en 5 a 7 días hábiles después de la "
     "revisión. Con tarjeta puede tardar un ciclo de facturación más en verse.",
     "How long does a refund take?",
     "When we receive the returned parcel we check it within two days.\n\n"
     "The refund reaches the same payment method 5 to 7 working days after the check. With "
     "a card it may take one more billing cycle to show."),
    ("Cómo cambiar la contraseña",
     "Si olvidaste tu contraseña, abre la página de acceso y pulsa «He olvidado mi "
     "contraseña». Te enviamos un enlace al correo que vale una hora.",
     "How to change your password",
     "If you forgot your password, open the sign-in page and choose \"Forgot password\". We "
     "send a link to your e-mail address that is valid for one hour."),
    ("Plazos de envío",
     "Los pedidos peninsulares llegan en 24 a 48 horas laborables. Baleares y Canarias, de 3 "
     "a 5 días.",
     "Delivery times",
     "Orders within the mainland arrive in 24 to 48 working hours. The islands take 3 to 5 "
     "days."),
]


@pytest.fixture
def kb(desk, django_capture_on_commit_callbacks):
    semantic.forget()
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        for es_title, es_body, en_title, en_body in ARTICLES:
            es = kb_actions.do_create_article(title=es_title, body=es_body, language="es",
                                              acting_user=desk.carla)
            en = kb_actions.do_create_article(title=en_title, body=en_body, language="en",
                                              acting_user=desk.carla, translation_of=es)
            made[es_title] = kb_actions.do_publish_article(es, acting_user=desk.carla)
            made[en_title] = kb_actions.do_publish_article(en, acting_user=desk.carla)
    return made


@pytest.mark.parametrize("text", [
    "quiero hablar con una persona", "¿Puedo hablar con un agente, por favor?", "HUMANO",
    "agent", "I want to talk to a person", "Can I speak to someone please?",
])
def test_asking_for_a_person_is_recognised(text):
    assert answer.asks_for_human(text)


@pytest.mark.parametrize("text", [
    "mi pedido no ha llegado", "how long does a refund take",
    "the agent who helped me last week was great and I want to thank you all for the "
    "quick help with my order",
])
def test_ordinary_questions_are_not_requests_for_a_person(text):
    assert not answer.asks_for_human(text)


def test_the_confidence_grows_with_similarity_and_lead():
    assert answer.confidence(0.8, 0.3) > answer.confidence(0.8, 0.05) > \
        answer.confidence(0.4, 0.05)
    assert 0.0 < answer.confidence(0.0, 0.0) < answer.confidence(1.0, 1.0) < 1.0


def test_a_spanish_question_gets_the_spanish_article_quoted_word_for_word(kb):
    decision = answer.decide("¿Cuántos días tarda en llegar el reembolso?", language="es")
    article = kb["¿Cuánto tarda el reembolso de una devolución?"]
    assert not decision.handover
    assert decision.article_id == article.pk
    assert decision.passage in " ".join(article.body_text.split())
    assert decision.passage in decision.answer
    assert f"/help/es/a/{article.pk}-" in decision.answer
    assert "¿Resolvió esto tu pregunta?" in decision.answer
    assert decision.confidence >= answer.DEFAULT_THRESHOLD


def test_an_english_question_gets_the_english_translation(kb):
    decision = answer.decide("I forgot my password, how do I get a new one?")
    assert not decision.handover
    assert decision.language == "en"
    assert decision.article_id == kb["How to change your password"].pk
    assert "Did this solve your question?" in decision.answer


def test_an_unrelated_question_is_handed_over_without_an_article(kb):
    decision = answer.decide("¿Cuál es la capital de Mongolia y cuántos habitantes tiene?",
                             language="es")
    assert decision.handover
    assert decision.article_id is None
    assert decision.reason in {"low_confidence", "no_articles"}
    assert decision.confidence < answer.DEFAULT_THRESHOLD
    assert "persona" in decision.answer


def test_asking_for_a_person_hands_over_even_when_an_article_fits(kb):
    decision = answer.decide("reembolso: quiero hablar con una persona", language="es")
    assert decision.handover and decision.reason == "asked_for_human"


def test_a_threshold_of_one_always_hands_over(kb):
    decision = answer.decide("How long does a refund take?", threshold=1.0)
    assert decision.handover and decision.reason == "low_confidence"
    assert decision.best_article_id == kb["How long does a refund take?"].pk


def _mail(desk, subject, text, provider_id):
    return receive_inbound(desk.inbox, InboundMessage(
        sender_kind="email", sender_id="elena.martin@correo.es", sender_name="Elena Martín",
        provider_id=provider_id, subject=subject, text=text, reply_text=text)).conversation


def test_a_new_conversation_gets_the_bots_answer_and_waits_for_the_customer(
        kb, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        conversation = _mail(desk, "Reembolso", "¿Cuántos días tarda el reembolso en llegar?",
                             "<bot-1@x>")
    conversation.refresh_from_db()
    reply = conversation.messages.get(direction=Message.Direction.OUTBOUND)
    assert reply.author_kind == Message.AuthorKind.BOT
    assert reply.automatic and reply.meta["automatic"] == "bot"
    assert "5 a 7 días hábiles" in reply.text
    assert conversation.status == Conversation.Status.PENDING
    assert conversation.first_response_at is None  # the bot is not the desk's response
    answered = Event.objects.get(conversation=conversation, kind=actions.ANSWERED)
    assert answered.after["article"] == kb["¿Cuánto tarda el reembolso de una devolución?"].pk

    # The customer answers back: a person takes over with the whole thread.
    with django_capture_on_commit_callbacks(execute=True):
        receive_inbound(desk.inbox, InboundMessage(
            sender_kind="email", sender_id="elena.martin@correo.es", provider_id="<bot-2@x>",
            conversation_number=conversation.number, subject="Re: Reembolso",
            text="No, ya pasaron dos semanas", reply_text="No, ya pasaron dos semanas"))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.messages.count() == 3


def test_a_question_without_an_article_goes_to_a_person_and_is_collected(
        kb, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        conversation = _mail(desk, "Factura", "Necesito que me pongáis el CIF de mi empresa en "
                             "la factura del mes de marzo", "<bot-3@x>")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.NEW
    assert not conversation.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    handed = Event.objects.get(conversation=conversation, kind=actions.HANDED_OVER)
    assert handed.after["reason"] in {"low_confidence", "no_articles"}
    question = UnansweredQuestion.objects.get(conversation=conversation)
    assert "CIF" in question.text and question.source == "conversation"


def test_the_bot_stays_out_when_off(kb, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = _mail(desk, "Reembolso", "¿Cuántos días tarda el reembolso?",
                             "<bot-4@x>")
    assert not Event.objects.filter(conversation=conversation, kind__startswith="bot.").exists()


def test_a_chat_handover_keeps_the_whole_exchange_for_the_agent(kb, desk):
    transcript = [
        {"from": "customer", "text": "¿Hacéis envíos a Andorra?"},
        {"from": "bot", "text": answer.handover_text("es")},
        {"from": "customer", "text": "Vale, espero"},
    ]
    conversation = actions.do_hand_over_chat(inbox=desk.inbox, customer=desk.elena,
                                             transcript=transcript, language="es",
                                             reason="low_confidence")
    first = conversation.messages.get(direction=Message.Direction.INBOUND)
    assert first.text == "¿Hacéis envíos a Andorra?\n\nVale, espero"
    note = conversation.messages.get(direction=Message.Direction.NOTE)
    assert note.author_kind == Message.AuthorKind.BOT
    assert "¿Hacéis envíos a Andorra?" in note.text and "Bot:" in note.text
    assert note.meta["bot_transcript"] == transcript
    with pytest.raises(ValidationFailed):
        actions.do_hand_over_chat(inbox=desk.inbox, customer=desk.elena, language="es",
                                  transcript=[{"from": "bot", "text": "hola"}],
                                  reason="asked_for_human")


def test_settings_are_for_supervisors_and_validated(desk):
    with pytest.raises(PermissionDenied):
        actions.do_update_bot_settings(desk.inbox, acting_user=desk.ana, enabled=True)
    with pytest.raises(ValidationFailed):
        actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, threshold=1.5)
    with pytest.raises(ValidationFailed):
        actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, languages=["fr"])
    row = actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, enabled=True,
                                         threshold=0.7, languages=["es"],
                                         greeting={"es": "¡Hola! Soy el asistente."})
    assert (row.enabled, row.threshold, row.languages) == (True, 0.7, ["es"])


def test_greeting_and_languages_of_the_inbox_apply(kb, desk):
    row = actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, enabled=True,
                                         languages=["es"],
                                         greeting={"es": "¡Hola! Soy el asistente."})
    decision = actions.decide_for(row, "¿Cuántos días tarda el reembolso en llegar?",
                                  language="es")
    assert decision.answer.startswith("¡Hola! Soy el asistente.")
    english = actions.decide_for(row, "How long does the refund take to arrive?",
                                 language="en")
    assert english.handover and english.reason == "language"


def test_api_answer_unanswered_and_settings(kb, desk):
    client = Client(headers={"authorization": f"Bearer {api_token_for(desk.carla)}"})
    response = client.post("/api/v1/bot/answer", {"text": "How long does a refund take?"},
                           content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"answer", "article_id", "confidence", "handover"}
    assert body["article_id"] == kb["How long does a refund take?"].pk
    assert body["handover"] is False and 0 < body["confidence"] <= 1

    response = client.post("/api/v1/bot/answer", {"text": "talk to a human"},
                           content_type="application/json")
    assert response.json()["handover"] is True and response.json()["article_id"] is None
    response = client.post("/api/v1/bot/answer", {"text": "hola", "language": "fr"},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "language"
    response = client.post("/api/v1/bot/answer", "{broken", content_type="application/json")
    assert response.status_code in (400, 422)

    response = client.put(f"/api/v1/inboxes/{desk.inbox.pk}/bot",
                          {"enabled": True, "threshold": None},
                          content_type="application/json")
    assert response.status_code == 200
    assert response.json()["enabled"] is True
    assert response.json()["effective_threshold"] == answer.DEFAULT_THRESHOLD

    question = actions.do_record_feedback(question="¿Y si el paquete llega roto?",
                                          article_id=None, helpful=False, language="es",
                                          source="help_center")
    listed = client.get("/api/v1/bot/unanswered").json()["items"]
    assert [q["id"] for q in listed] == [question.pk]
    assert listed[0]["reason"] == "not_helpful"
    response = client.patch(f"/api/v1/bot/unanswered/{question.pk}", {"status": "dismissed"},
                            content_type="application/json")
    assert response.json()["status"] == "dismissed"
    assert client.get("/api/v1/bot/unanswered").json()["items"] == []


def test_a_draft_article_from_an_unanswered_question(desk):
    question = actions.do_record_unanswered("¿Enviáis a Andorra?", language="es",
                                            reason="low_confidence", source="api")
    question, article = actions.do_draft_article_from_question(
        question, acting_user=desk.carla, title="Envíos a Andorra",
        body="Sí, enviamos a Andorra en 3 a 5 días.")
    assert question.status == "drafted" and question.draft == article
    assert article.status == "draft" and article.language == "es"
    assert conversation_actions is not None
