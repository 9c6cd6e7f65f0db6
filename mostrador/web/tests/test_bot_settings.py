"""Settings → Answer bot: each inbox's bot (on or off, threshold, greetings, languages), the box
that tries what it would answer, and the unanswered questions (filter, dismiss, open again,
draft an article), for supervisors and administrators only."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mostrador.bot import actions, answer
from mostrador.bot.models import BotSettings, UnansweredQuestion
from mostrador.core.testing import make_email_inbox
from mostrador.knowledge import actions as kb_actions
from mostrador.knowledge import semantic
from mostrador.knowledge.models import Article

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
REFUND_TITLE = "¿Cuánto tarda el reembolso de una devolución?"
REFUND_BODY = ("Cuando recibimos el paquete devuelto lo revisamos en dos días.\n\n"
               "El reembolso llega al mismo medio de pago en 5 a 7 días hábiles después de la "
               "revisión. Con tarjeta puede tardar un ciclo de facturación más en verse.")


@pytest.fixture
def carla(client, desk):
    """Carla, the supervisor, signed in."""
    client.force_login(desk.carla)
    return client


@pytest.fixture
def refund_article(desk, django_capture_on_commit_callbacks):
    """A published Spanish article, indexed and embedded (the listeners run on commit)."""
    semantic.forget()
    with django_capture_on_commit_callbacks(execute=True):
        article = kb_actions.do_create_article(title=REFUND_TITLE, body=REFUND_BODY,
                                               language="es", acting_user=desk.carla)
        article = kb_actions.do_publish_article(article, acting_user=desk.carla)
    yield article
    semantic.forget()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def field_errors(response, name: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>',
                      response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def flashes(client) -> list[str]:
    response = client.get(reverse("web:inbox"))
    return [str(m) for m in response.context["messages"]]


def settings_form(inbox, **values) -> dict[str, str | list[str]]:
    prefix = f"bot-{inbox.pk}"
    data: dict[str, str | list[str]] = {f"{prefix}-threshold": "", f"{prefix}-greeting_es": "",
                                        f"{prefix}-greeting_en": ""}
    for name, value in values.items():
        if value is not None:
            data[f"{prefix}-{name}"] = value
    return data


def record(text: str, *, reason: str = "low_confidence", **fields) -> UnansweredQuestion:
    return actions.do_record_unanswered(text, language=fields.pop("language", "es"),
                                        reason=reason, source="conversation", **fields)


# --- who may come in ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["settings_bot", "settings_bot_unanswered",
                                  "settings_bot_unanswered_draft"])
def test_agents_get_the_403_page_and_strangers_the_sign_in(client, desk, name):
    question = record("¿Enviáis a Andorra?")
    url = reverse(f"web:{name}",
                  args=[question.pk] if name == "settings_bot_unanswered_draft" else [])
    assert client.get(url)["Location"].startswith(reverse("web:login"))
    client.force_login(desk.ana)
    response = client.get(url)
    assert response.status_code == 403
    assert "Only supervisors and administrators" in text_of(response)


def test_agents_cannot_save_try_dismiss_or_draft(client, desk):
    question = record("¿Enviáis a Andorra?")
    client.force_login(desk.ana)
    posts = [
        (reverse("web:settings_bot_inbox", args=[desk.inbox.pk]),
         settings_form(desk.inbox, enabled="on")),
        (reverse("web:settings_bot_try", args=[desk.inbox.pk]),
         {f"try-{desk.inbox.pk}-text": "hola"}),
        (reverse("web:settings_bot_unanswered_status", args=[question.pk]),
         {"status": "dismissed"}),
        (reverse("web:settings_bot_unanswered_draft", args=[question.pk]),
         {"title": "Andorra", "body": "", "language": "es"}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Only supervisors and administrators" in text_of(response)
    assert not BotSettings.objects.exists()
    question.refresh_from_db()
    assert question.status == "open"
    assert not Article.objects.exists()


def test_the_answer_bot_tab_is_in_the_settings(carla):
    html = carla.get(reverse("web:settings_routing")).content.decode()
    assert f'href="{reverse("web:settings_bot")}"' in html
    page = carla.get(reverse("web:settings_bot")).content.decode()
    assert re.search(rf'<a href="{reverse("web:settings_bot")}" aria-current="page">Answer bot',
                     page)


# --- settings per inbox ---------------------------------------------------------------------


def test_each_inbox_has_a_card_with_the_default_threshold_explained(carla, desk,
                                                                    django_assert_num_queries):
    other = make_email_inbox("ventas@desk.example.com", name="Ventas")
    actions.do_update_bot_settings(other, acting_user=desk.carla, enabled=True, threshold=0.7)
    carla.get(reverse("web:settings_bot"))
    with django_assert_num_queries(6) as few:  # session, user, agent, inboxes, settings,
        response = carla.get(reverse("web:settings_bot"))  # open questions
    html = response.content.decode()
    soporte = html[html.index(f'id="bot-inbox-{desk.inbox.pk}"'):]
    soporte = soporte[:soporte.index("</section>")]
    ventas = html[html.index(f'id="bot-inbox-{other.pk}"'):]
    ventas = ventas[:ventas.index("</section>")]
    assert 'class="badge state-off">Off<' in soporte
    assert "threshold 0.5 (default)" in soporte
    assert 'placeholder="0.5"' in soporte
    assert "empty: the calibrated default, 0.5. Higher, the bot hands over more often and " \
        "answers fewer questions, but more surely" in text_of(response)
    assert 'class="badge state-on">On<' in ventas
    assert f'name="bot-{other.pk}-threshold" value="0.7"' in ventas
    assert f'name="bot-{other.pk}-enabled" id="id_bot-{other.pk}-enabled" checked' in ventas

    for n in range(5):
        inbox = make_email_inbox(f"b{n}@desk.example.com", name=f"Buzón {n}")
        actions.do_update_bot_settings(inbox, acting_user=desk.carla, enabled=bool(n % 2))
    with django_assert_num_queries(len(few.captured_queries)):
        carla.get(reverse("web:settings_bot"))


def test_a_supervisor_switches_the_bot_on_with_greetings_languages_and_a_threshold(carla,
                                                                                     desk):
    url = reverse("web:settings_bot_inbox", args=[desk.inbox.pk])
    response = carla.post(url, settings_form(
        desk.inbox, enabled="on", threshold="0.65", greeting_es="  ¡Hola! Soy el asistente. ",
        greeting_en="Hi! I am the assistant.", languages=["es"]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"{reverse('web:settings_bot')}#bot-inbox-"
                                         f"{desk.inbox.pk}")
    row = BotSettings.objects.get(inbox=desk.inbox)
    assert (row.enabled, row.threshold, row.greeting, row.languages) == (
        True, 0.65, {"es": "¡Hola! Soy el asistente.", "en": "Hi! I am the assistant."}, ["es"])
    assert "The answer bot of the inbox Soporte was saved; it answers new conversations" in \
        " ".join(flashes(carla))

    # The card shows what was saved.
    html = carla.get(reverse("web:settings_bot")).content.decode()
    assert f'name="bot-{desk.inbox.pk}-threshold" value="0.65"' in html
    assert "¡Hola! Soy el asistente.</textarea>" in html
    assert re.search(rf'value="es"[^>]*id="id_bot-{desk.inbox.pk}-languages_0" checked', html)
    assert not re.search(rf'value="en"[^>]*id="id_bot-{desk.inbox.pk}-languages_1" checked',
                         html)

    # Emptied: the default threshold, no greetings, every language, off.
    carla.post(url, settings_form(desk.inbox))
    row.refresh_from_db()
    assert (row.enabled, row.threshold, row.greeting, row.languages) == (False, None, {}, [])
    assert "it is off" in " ".join(flashes(carla))


@pytest.mark.parametrize("threshold", ["2", "-0.1"])
def test_a_threshold_outside_zero_to_one_is_refused_next_to_the_field(carla, desk, threshold):
    actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, threshold=0.7)
    response = carla.post(reverse("web:settings_bot_inbox", args=[desk.inbox.pk]),
                          settings_form(desk.inbox, enabled="on", threshold=threshold,
                                        greeting_es="Hola"))
    assert response.status_code == 200
    assert field_errors(response, f"bot-{desk.inbox.pk}-threshold") == \
        "The confidence threshold is a number from 0 to 1."
    # What was typed stays in the form.
    assert f'name="bot-{desk.inbox.pk}-threshold" value="{threshold}"' in \
        response.content.decode()
    row = BotSettings.objects.get(inbox=desk.inbox)
    assert (row.enabled, row.threshold, row.greeting) == (False, 0.7, {})


def test_a_threshold_that_is_not_a_number_is_refused(carla, desk):
    response = carla.post(reverse("web:settings_bot_inbox", args=[desk.inbox.pk]),
                          settings_form(desk.inbox, threshold="mucho"))
    assert field_errors(response, f"bot-{desk.inbox.pk}-threshold") == "Enter a number."
    assert not BotSettings.objects.exists()


def test_an_unknown_language_is_refused_next_to_the_field(carla, desk):
    response = carla.post(reverse("web:settings_bot_inbox", args=[desk.inbox.pk]),
                          settings_form(desk.inbox, languages=["fr"]))
    assert "Select a valid choice" in field_errors(response, f"bot-{desk.inbox.pk}-languages")
    assert not BotSettings.objects.exists()


def test_an_inbox_that_does_not_exist_is_404(carla):
    assert carla.post(reverse("web:settings_bot_inbox", args=[9999]), {}).status_code == 404
    assert carla.post(reverse("web:settings_bot_try", args=[9999]), {}).status_code == 404


# --- trying the bot -------------------------------------------------------------------------


def test_asking_for_a_person_shows_a_handover(carla, desk):
    response = carla.post(reverse("web:settings_bot_try", args=[desk.inbox.pk]),
                          {f"try-{desk.inbox.pk}-text": "quiero hablar con una persona",
                           f"try-{desk.inbox.pk}-language": "es"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="bot-handover-flag">Yes<' in html
    assert 'class="bot-reason">The customer asked for a person<' in html
    assert 'class="bot-confidence">0.00' in html
    assert "The bot is off on this inbox" in html
    # The message in the customer's language, not the supervisor's.
    assert 'lang="es"' in html and "persona de nuestro equipo" in html
    # The result alone, for htmx.
    assert "<html" not in html
    assert not BotSettings.objects.exists()


def test_a_question_an_article_answers_shows_the_answer_with_the_greeting(
        carla, desk, refund_article):
    actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, enabled=True,
                                   greeting={"es": "¡Hola! Soy el asistente de la tienda."})
    response = carla.post(reverse("web:settings_bot_try", args=[desk.inbox.pk]),
                          {f"try-{desk.inbox.pk}-text": "¿Cuántos días tarda en llegar el "
                                                        "reembolso?",
                           f"try-{desk.inbox.pk}-language": "es"}, **HX)
    html = response.content.decode()
    assert 'class="bot-handover-flag">No<' in html
    assert "An article was close enough to quote" in html
    assert "The bot is off" not in html
    assert "¡Hola! Soy el asistente de la tienda." in html
    assert f'href="{reverse("web:knowledge_article", args=[refund_article.pk])}"' in html
    confidence = float(re.search(r'class="bot-confidence">([\d.]+)', html).group(1))
    assert confidence >= answer.DEFAULT_THRESHOLD
    assert "(threshold 0.5)" in html

    # A threshold of 1 never answers: the same question is handed over, with its best article.
    actions.do_update_bot_settings(desk.inbox, acting_user=desk.carla, threshold=1.0)
    response = carla.post(reverse("web:settings_bot_try", args=[desk.inbox.pk]),
                          {f"try-{desk.inbox.pk}-text": "¿Cuántos días tarda en llegar el "
                                                        "reembolso?",
                           f"try-{desk.inbox.pk}-language": "es"}, **HX)
    html = response.content.decode()
    assert 'class="bot-handover-flag">Yes<' in html
    assert "No article was close enough" in html
    assert "Best article found" in html and refund_article.title in html


def test_trying_without_htmx_shows_the_page_with_the_result_in_the_inbox_card(carla, desk):
    other = make_email_inbox("ventas@desk.example.com", name="Ventas")
    response = carla.post(reverse("web:settings_bot_try", args=[desk.inbox.pk]),
                          {f"try-{desk.inbox.pk}-text": "quiero hablar con una persona"})
    html = response.content.decode()
    assert "<html" in html
    card = html[html.index(f'id="bot-inbox-{desk.inbox.pk}"'):]
    card = card[:card.index("</section>")]
    assert 'class="bot-handover-flag">Yes<' in card
    assert 'value="quiero hablar con una persona"' in card
    assert html.count("bot-try-result ") == 1
    assert f'id="bot-inbox-{other.pk}"' in html


def test_an_empty_message_is_refused(carla, desk):
    response = carla.post(reverse("web:settings_bot_try", args=[desk.inbox.pk]),
                          {f"try-{desk.inbox.pk}-text": "  "}, **HX)
    assert "This field is required." in text_of(response)
    assert "bot-try-result" not in response.content.decode()
    response = carla.post(reverse("web:settings_bot_try", args=[desk.inbox.pk]),
                          {f"try-{desk.inbox.pk}-text": ""})
    assert field_errors(response, f"try-{desk.inbox.pk}-text") == "This field is required."


# --- unanswered questions -------------------------------------------------------------------


def test_the_list_shows_open_questions_newest_first_with_their_details(
        carla, desk, refund_article, django_assert_num_queries):
    from mostrador.conversations import actions as conv

    conversation = conv.do_create_conversation(inbox=desk.inbox, customer=desk.elena,
                                               subject="Andorra", text="¿Enviáis a Andorra?")
    older = record("¿Enviáis a Andorra?", conversation=conversation, confidence=0.12,
                   inbox_id=desk.inbox.pk)
    newer = record("How long does the refund take with PayPal?", language="en",
                   reason="not_helpful", article_id=refund_article.pk)
    dismissed = record("¿Tenéis tienda física?")
    actions.do_set_unanswered_status(dismissed, "dismissed", acting_user=desk.carla)

    url = reverse("web:settings_bot_unanswered")
    carla.get(url)
    with django_assert_num_queries(5) as few:  # session, user, agent, questions with their
        response = carla.get(url)  # articles, counts per status
    html = response.content.decode()
    rows = re.findall(r'<tr id="question-(\d+)">(.*?)</tr>', html, re.S)
    assert [int(pk) for pk, _row in rows] == [newer.pk, older.pk]
    newer_row, older_row = rows[0][1], rows[1][1]
    assert "The answer did not help" in newer_row and "English" in newer_row
    assert f'href="{reverse("web:knowledge_article", args=[refund_article.pk])}"' in newer_row
    assert refund_article.title in newer_row
    assert "No article was close enough" in older_row and "Spanish" in older_row
    assert "0.12" in older_row
    assert f'href="{reverse("web:conversation", args=[conversation.pk])}"' in older_row
    assert "¿Tenéis tienda física?" not in html
    assert "Open (2)" in text_of(response) and "Dismissed (1)" in text_of(response)

    for n in range(5):
        record(f"Pregunta {n}", article_id=refund_article.pk)
    with django_assert_num_queries(len(few.captured_queries)):
        carla.get(url)

    dismissed_page = carla.get(url, {"status": "dismissed"}).content.decode()
    assert "¿Tenéis tienda física?" in dismissed_page
    assert "¿Enviáis a Andorra?" not in dismissed_page
    # An unknown status shows the open ones.
    assert "¿Enviáis a Andorra?" in carla.get(url, {"status": "nope"}).content.decode()


def test_dismissing_a_question_and_opening_it_again(carla, desk):
    question = record("¿Enviáis a Andorra?")
    url = reverse("web:settings_bot_unanswered_status", args=[question.pk])
    response = carla.post(url, {"status": "dismissed", "back": "open"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:settings_bot_unanswered")
    question.refresh_from_db()
    assert question.status == "dismissed"
    assert "The question was dismissed." in flashes(carla)
    assert "¿Enviáis a Andorra?" not in carla.get(
        reverse("web:settings_bot_unanswered")).content.decode()

    response = carla.post(url, {"status": "open", "back": "dismissed"})
    assert response["Location"] == f"{reverse('web:settings_bot_unanswered')}?status=dismissed"
    question.refresh_from_db()
    assert question.status == "open"

    # "Drafted" only comes with an article.
    carla.post(url, {"status": "drafted"})
    question.refresh_from_db()
    assert question.status == "open"
    assert carla.post(reverse("web:settings_bot_unanswered_status", args=[9999]),
                      {"status": "dismissed"}).status_code == 404


def test_drafting_an_article_from_a_question(carla, desk):
    question = record("How long does the refund take with PayPal?", language="en")
    url = reverse("web:settings_bot_unanswered_draft", args=[question.pk])
    form = carla.get(url).content.decode()
    assert 'value="How long does the refund take with PayPal?"' in form
    assert '<option value="en" selected>' in form

    response = carla.post(url, {"title": "Refunds paid with PayPal",
                                "body": "They show within 24 hours.", "language": "en"})
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:knowledge_article", args=[article.pk])
    assert (article.title, article.language, article.status) == (
        "Refunds paid with PayPal", "en", Article.Status.DRAFT)
    assert "They show within 24 hours." in article.body_text
    question.refresh_from_db()
    assert (question.status, question.draft_id) == ("drafted", article.pk)
    assert "The draft “Refunds paid with PayPal” was created" in " ".join(flashes(carla))

    # Sent again: the first draft is the one.
    again = carla.post(url, {"title": "Otra", "body": "", "language": "es"})
    assert again["Location"] == reverse("web:knowledge_article", args=[article.pk])
    assert Article.objects.count() == 1

    drafted = carla.get(reverse("web:settings_bot_unanswered"), {"status": "drafted"})
    assert f'href="{reverse("web:knowledge_article", args=[article.pk])}"' in \
        drafted.content.decode()


def test_a_draft_without_a_title_is_refused_next_to_the_field(carla, desk):
    question = record("¿Enviáis a Andorra?")
    response = carla.post(reverse("web:settings_bot_unanswered_draft", args=[question.pk]),
                          {"title": "   ", "body": "", "language": "es"})
    assert response.status_code == 200
    assert field_errors(response, "title") == "This field is required."
    assert not Article.objects.exists()
    question.refresh_from_db()
    assert question.status == "open"
