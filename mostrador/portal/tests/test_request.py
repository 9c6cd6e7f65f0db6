"""The request form: a request becomes a conversation in the help-center inbox, from the
customer found by e-mail address, with replies going to that address; errors are shown next
to their fields with nothing lost; at most five requests per address in ten minutes."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.errors import NotFound
from mostrador.core.testing import make_email_inbox
from mostrador.customers.models import Customer, Identity
from mostrador.portal import actions, limits
from mostrador.portal.models import RequestVisit
from mostrador.portal.tests.conftest import CLIENT_ADDRESS

pytestmark = pytest.mark.django_db

FORM = {"name": "Marta Ruiz", "email": "Marta.Ruiz@Correo.example",
        "subject": "El reembolso no llega",
        "message": "Devolví el pedido MS-1042 hace dos semanas y no veo el reembolso."}


def start(client, lang: str = "es") -> tuple[str, str]:
    """Open the form: (its page, its visit token)."""
    page = client.get(f"/help/{lang}/request/").content.decode()
    return page, re.search(r'name="visit" value="([^"]+)"', page).group(1)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_form_is_labelled_and_not_cached(client, desk):
    response = client.get("/help/en/request/")
    assert response.status_code == 200
    page = text_of(response)
    for field, label in (("name", "Your name"), ("email", "Your e-mail address"),
                         ("subject", "Subject"), ("message", "Your question")):
        assert f'<label for="id_{field}">{label}</label>' in page
        assert f'id="id_{field}" name="{field}"' in page
    assert 'type="email" id="id_email"' in page and 'autocomplete="email"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in page
    visit = RequestVisit.objects.get()
    assert (visit.language, visit.suggestions_shown, visit.request_submitted_at) == ("en", 0,
                                                                                      None)
    assert f'name="visit" value="{visit.token}"' in page


def test_a_request_opens_a_conversation_from_the_customer_replies_go_to(client, desk):
    _page, token = start(client)
    response = client.post("/help/es/request/", {**FORM, "visit": token})
    assert response.status_code == 303
    conversation = Conversation.objects.get()
    assert response["Location"].startswith("/help/es/request/thanks/?ref=")
    assert (conversation.inbox, conversation.subject, conversation.status) == (
        desk.inbox, "El reembolso no llega", "new")
    customer = conversation.customer
    assert (customer.name, customer.language) == ("Marta Ruiz", "es")
    assert Identity.objects.get(customer=customer).external_id == "marta.ruiz@correo.example"
    message = conversation.messages.get()
    assert (message.direction, message.author_customer, message.text) == (
        "inbound", customer, FORM["message"])
    assert message.meta == {"sender": "marta.ruiz@correo.example", "source": "help_center"}
    visit = RequestVisit.objects.get(token=token)
    assert visit.conversation == conversation and visit.request_submitted_at is not None

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert f"#{conversation.number}" in thanks.content.decode()


def test_a_known_address_is_the_same_customer(client, desk):
    _page, token = start(client, "en")
    client.post("/help/en/request/", {
        "name": "Frank", "email": "FRANK.MILLER@example.org", "subject": "Invoice",
        "message": "I need an invoice with my company's VAT number.", "visit": token})
    conversation = Conversation.objects.get()
    assert conversation.customer == desk.frank
    assert Customer.objects.filter(name__startswith="Frank").count() == 1
    desk.frank.refresh_from_db()
    assert desk.frank.name == "Frank Miller"  # not renamed by what a form said


def test_errors_show_next_to_their_fields_and_nothing_is_lost(client, desk):
    _page, token = start(client, "en")
    response = client.post("/help/en/request/", {
        "name": "  ", "email": "marta@", "subject": "Where is my <b>order</b>?",
        "message": "Help", "visit": token})
    assert response.status_code == 400
    page = text_of(response)
    assert 'role="alert"' in page and "Please check the form" in page
    expected = {"name": "Please tell us your name.",
                "email": "Enter an e-mail address like name@example.com.",
                "message": "Please tell us a little more (at least 10 characters)."}
    for field, message in expected.items():
        assert re.search(rf'<p class="field-error" id="{field}-error">.*?{re.escape(message)}',
                         page), field
        assert re.search(rf'id="id_{field}"[^>]*aria-invalid="true"[^>]*'
                         rf'aria-describedby="[^"]*{field}-error"', page), field
        assert f'<a href="#id_{field}">{message}</a>' in page
    assert "subject-error" not in page
    # What was typed is still there, escaped.
    assert 'value="marta@"' in page
    assert 'value="Where is my &lt;b&gt;order&lt;/b&gt;?"' in page
    assert ">Help</textarea>" in page
    assert f'name="visit" value="{token}"' in page  # the same visit goes on
    assert not Conversation.objects.exists()
    assert RequestVisit.objects.count() == 1


def test_length_limits(client, desk):
    response = client.post("/help/en/request/", {**FORM, "name": "N" * 201,
                                                 "subject": "S" * 201,
                                                 "message": "M" * 10_001})
    page = text_of(response)
    assert response.status_code == 400
    assert "A name has at most 200 characters." in page
    assert "A subject has at most 200 characters." in page
    assert "A message has at most 10000 characters." in page
    assert not Conversation.objects.exists()


def test_at_most_five_requests_per_address_in_ten_minutes(client, desk):
    for n in range(5):
        response = client.post("/help/en/request/", {**FORM, "subject": f"Question {n}"})
        assert response.status_code == 303
    blocked = client.post("/help/en/request/", {**FORM, "subject": "Question 6"})
    assert blocked.status_code == 429
    page = text_of(blocked)
    assert "You have sent several requests in the last few minutes." in page
    assert 'value="Question 6"' in page
    assert Conversation.objects.count() == 5
    # Another address is not held back.
    other = Client(REMOTE_ADDR="192.0.2.7")
    try:
        assert other.post("/help/en/request/", FORM).status_code == 303
    finally:
        limits.forget("192.0.2.7")


def test_the_limit_slides_with_time():
    start_at = 60.0 * 20_000  # the start of a minute
    try:
        for n in range(5):
            assert limits.take_request_place(CLIENT_ADDRESS, now=start_at + n * 60)
        assert not limits.take_request_place(CLIENT_ADDRESS, now=start_at + 9 * 60)
        # The first request leaves the window after ten minutes: one place frees up.
        assert limits.take_request_place(CLIENT_ADDRESS, now=start_at + 10 * 60)
        assert not limits.take_request_place(CLIENT_ADDRESS, now=start_at + 10 * 60 + 30)
    finally:
        limits.forget(CLIENT_ADDRESS, now=start_at)
        limits.forget(CLIENT_ADDRESS, now=start_at + 10 * 60)


def test_a_filled_trap_field_is_thanked_and_ignored(client, desk):
    response = client.post("/help/en/request/", {**FORM, "website": "http://spam.example"})
    assert response.status_code == 303
    assert not Conversation.objects.exists()


def test_the_help_center_inbox_setting_wins_over_the_first_email_inbox(client, desk, settings):
    other = make_email_inbox("ayuda@desk.example.com", name="Ayuda", catch_all=False)
    settings.MOSTRADOR_HELP_CENTER_INBOX = other.pk
    client.post("/help/es/request/", FORM)
    assert Conversation.objects.get().inbox == other
    # An inbox that is gone or off: the first active e-mail inbox instead.
    Inbox.objects.filter(pk=other.pk).update(active=False)
    assert actions.help_center_inbox() == desk.inbox
    settings.MOSTRADOR_HELP_CENTER_INBOX = None
    assert actions.help_center_inbox() == desk.inbox


def test_without_an_inbox_the_reader_is_told_and_nothing_is_lost(client, db):
    with pytest.raises(NotFound):
        actions.help_center_inbox()
    response = client.post("/help/en/request/", FORM)
    assert response.status_code == 400
    page = text_of(response)
    assert "We could not take your request just now." in page
    assert f'value="{FORM["subject"]}"' in page
    assert not Conversation.objects.exists()
    # The failed request did not use up a place.
    assert limits.take_request_place(CLIENT_ADDRESS)


def test_the_form_is_csrf_protected(desk):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/help/en/request/", FORM).status_code == 403
    assert not Conversation.objects.exists()


def test_a_subject_can_come_from_a_search(client, desk):
    page = client.get("/help/en/request/", {"subject": "refund   late"}).content.decode()
    assert 'name="subject" value="refund late"' in page


def test_the_thank_you_page_trusts_only_its_own_reference(client, desk):
    page = text_of(client.get("/help/en/request/thanks/", {"ref": "4411"}))
    assert "Thank you, we have your request" in page and "#4411" not in page
