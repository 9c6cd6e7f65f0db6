import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from mostrador.channels.webchat import actions
from mostrador.channels.webchat.adapter import WebchatConfig, config_of
from mostrador.channels.webchat.models import ChatState, MagicLink, Visitor
from mostrador.conversations.actions import do_change_status, do_send_reply, do_update_inbox
from mostrador.conversations.models import Conversation, Message
from mostrador.core.errors import ValidationFailed
from mostrador.customers.models import Identity


def send(visitor, client_id, text, **fields):
    return actions.receive_visitor_messages([actions.Submission(visitor, client_id, text,
                                                                fields)])[0]


@pytest.fixture
def visitor(chat_inbox):
    return actions.do_start_visitor(chat_inbox, language="es")[0]


def test_a_first_message_opens_a_conversation_for_a_new_chat_customer(visitor, chat_inbox):
    outcome = send(visitor, "c-1", "Hola, ¿dónde está mi pedido 1234?", name="Lucía Gil")

    conversation = outcome.conversation
    assert outcome.new_conversation and not outcome.duplicate
    assert conversation.channel_kind == "webchat" and conversation.status == "new"
    assert conversation.subject == "Hola, ¿dónde está mi pedido 1234?"
    assert conversation.customer.name == "Lucía Gil"
    assert conversation.team_id == chat_inbox.default_team_id
    assert outcome.message.provider_id == f"{visitor.sender_id}:c-1"
    assert Identity.objects.get(kind="webchat", external_id=visitor.sender_id).customer_id == \
        conversation.customer_id
    visitor.refresh_from_db()
    assert visitor.conversation_id == conversation.pk
    assert ChatState.objects.filter(conversation=conversation).exists()


def test_the_topic_is_the_subject_and_must_be_one_offered(visitor):
    with pytest.raises(ValidationFailed):
        actions.clean_prechat({"topic": "Cualquier cosa"}, WebchatConfig(topics=["Pedidos"]))
    outcome = send(visitor, "c-1", "Tengo una duda", topic="Pedidos")
    assert outcome.conversation.subject == "Pedidos"


def test_a_resent_message_is_stored_once_and_answered_with_the_first_copy(visitor):
    first = send(visitor, "c-1", "Hola")
    again = send(visitor, "c-1", "Hola")
    second = send(visitor, "c-2", "¿Hay alguien?")

    assert again.duplicate and again.message.pk == first.message.pk
    assert second.conversation.pk == first.conversation.pk and not second.new_conversation
    assert Message.objects.filter(conversation=first.conversation).count() == 2


def test_a_batch_keeps_order_and_dedupes_within_itself(chat_inbox):
    one = actions.do_start_visitor(chat_inbox)[0]
    two = actions.do_start_visitor(chat_inbox)[0]
    outcomes = actions.receive_visitor_messages([
        actions.Submission(one, "a", "uno"), actions.Submission(two, "a", "dos"),
        actions.Submission(one, "a", "uno"), actions.Submission(one, "b", "tres")])

    assert [o.duplicate for o in outcomes] == [False, False, True, False]
    assert outcomes[0].conversation.pk == outcomes[3].conversation.pk != outcomes[1].conversation.pk
    assert outcomes[2].message.pk == outcomes[0].message.pk


def test_required_prechat_fields_are_asked_before_the_first_message(chat_inbox):
    config = dict(chat_inbox.config, prechat_fields=[{"name": "email", "required": True}])
    do_update_inbox(chat_inbox, config=config, acting_user=None)
    visitor = actions.do_start_visitor(chat_inbox)[0]
    visitor.inbox.refresh_from_db()

    refused = send(visitor, "c-1", "Hola")
    stored = send(visitor, "c-2", "Hola", email="lucia@example.com")

    assert refused.error_code == "invalid" and refused.message is None
    assert stored.message is not None


def test_an_inbox_update_keeps_the_public_key_it_leaves_out(chat_inbox):
    do_update_inbox(chat_inbox, config={"topics": ["Otro"]}, acting_user=None)
    assert config_of(chat_inbox).public_key == "wc_test_key"


def test_giving_a_known_address_joins_the_chat_to_that_customer(desk, visitor):
    outcome = send(visitor, "c-1", "Hola, soy Elena", email="ELENA.MARTIN@correo.es")

    assert outcome.conversation.customer_id == desk.elena.pk
    assert Identity.objects.get(kind="webchat", external_id=visitor.sender_id).customer_id == \
        desk.elena.pk
    assert outcome.conversation.events.filter(kind=actions.IDENTIFIED).exists() is False
    visitor.refresh_from_db()
    assert visitor.email == "elena.martin@correo.es" and not visitor.email_verified


def test_an_address_given_later_moves_an_anonymous_chat_customer(desk, visitor):
    outcome = send(visitor, "c-1", "Hola")
    anonymous = outcome.conversation.customer

    actions.do_identify(visitor, name="Elena", email="elena.martin@correo.es")

    outcome.conversation.refresh_from_db()
    anonymous.refresh_from_db()
    assert outcome.conversation.customer_id == desk.elena.pk
    assert anonymous.merged_into_id == desk.elena.pk
    assert outcome.conversation.events.filter(kind=actions.IDENTIFIED).count() == 1


def test_a_new_address_becomes_the_chat_customers_address(visitor):
    outcome = send(visitor, "c-1", "Hola", email="nuevo@example.com")
    assert Identity.objects.get(kind="email", external_id="nuevo@example.com").customer_id == \
        outcome.conversation.customer_id


def test_a_message_after_the_conversation_closed_opens_a_follow_up_for_every_device(
        desk, visitor):
    first = send(visitor, "c-1", "Hola")
    other_device = actions.do_start_visitor(visitor.inbox, sender_id=visitor.sender_id,
                                            customer=visitor.customer,
                                            conversation_id=first.conversation.pk)[0]
    do_change_status(first.conversation, Conversation.Status.CLOSED, acting_user=desk.ana)

    later = send(visitor, "c-2", "Otra pregunta")

    assert later.new_conversation and later.conversation.pk != first.conversation.pk
    other_device.refresh_from_db()
    assert other_device.conversation_id == later.conversation.pk


def test_the_widget_gets_messages_both_ways_but_never_notes(desk, visitor):
    from mostrador.conversations.actions import do_add_note

    first = send(visitor, "c-1", "Hola")
    note = do_add_note(first.conversation, "Cliente VIP", acting_user=desk.ana)
    reply = do_send_reply(first.conversation, "¡Hola! Soy Ana.", acting_user=desk.ana)

    shown = actions.messages_for_visitor(visitor)
    assert [m.pk for m in shown] == [first.message.pk, reply.pk]
    assert note.pk not in [m.pk for m in actions.messages_for_visitor(visitor, after=0)]
    assert [m.pk for m in actions.messages_for_visitor(visitor, after=first.message.pk)] == \
        [reply.pk]
    assert reply.meta["to"] == [visitor.sender_id]


def test_marks_only_move_forward_and_stop_at_the_last_message(desk, visitor,
                                                              django_capture_on_commit_callbacks):
    first = send(visitor, "c-1", "Hola")
    reply = do_send_reply(first.conversation, "Hola", acting_user=desk.ana)
    with django_capture_on_commit_callbacks(execute=False) as published:
        state = actions.do_mark_visitor_progress(visitor, read=reply.pk + 1000)
    assert (state.visitor_read_up_to, state.visitor_received_up_to) == (reply.pk, reply.pk)
    assert len(published) == 1
    with django_capture_on_commit_callbacks(execute=False) as published:
        state = actions.do_mark_visitor_progress(visitor, received=first.message.pk)
    assert state.visitor_received_up_to == reply.pk and published == []
    state = actions.do_mark_desk_read(first.conversation.pk, first.message.pk)
    assert state.desk_read_up_to == first.message.pk


def test_asking_for_a_person_reopens_a_conversation_the_bot_left_pending(desk, visitor):
    first = send(visitor, "c-1", "Hola")
    do_change_status(first.conversation, Conversation.Status.PENDING, acting_user=None)

    actions.do_request_human(visitor)

    first.conversation.refresh_from_db()
    assert first.conversation.status == Conversation.Status.OPEN
    assert first.conversation.waiting_since is not None
    assert first.conversation.events.filter(kind=actions.HUMAN_REQUESTED).count() == 1


def test_the_transcript_goes_to_the_address_given(desk, visitor, settings,
                                                  django_capture_on_commit_callbacks):
    settings.TASKS = {**settings.TASKS, "immediate": True}
    first = send(visitor, "c-1", "Hola, quiero saber el estado de mi pedido")
    do_send_reply(first.conversation, "Sale mañana.", acting_user=desk.ana)

    with django_capture_on_commit_callbacks(execute=True):
        address = actions.do_send_transcript(visitor, email="lucia@example.com")

    assert address == "lucia@example.com"
    sent = [m for m in mail.outbox if m.to == ["lucia@example.com"]]
    assert len(sent) == 1
    assert "quiero saber el estado de mi pedido" in sent[0].body
    assert "Sale mañana." in sent[0].body and "Ana:" in sent[0].body


def test_a_transcript_needs_a_conversation_and_an_address(visitor):
    with pytest.raises(ValidationFailed):
        actions.do_send_transcript(visitor)


def test_a_magic_link_continues_the_chat_once(desk, visitor, django_capture_on_commit_callbacks):
    first = send(visitor, "c-1", "Hola")
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_send_magic_link(visitor, email="lucia@example.com")
    body = next(m.body for m in mail.outbox if m.to == ["lucia@example.com"])
    token = body.split("#mostrador-continue=")[1].split()[0]
    assert "/chat/wc_test_key/" in body

    device, secret = actions.do_continue_with_link(visitor.inbox, token)

    assert device.sender_id == visitor.sender_id and device.pk != visitor.pk
    assert device.conversation_id == first.conversation.pk and device.email_verified
    assert actions.visitor_for_token(visitor.inbox, secret).pk == device.pk
    assert Identity.objects.get(kind="email", external_id="lucia@example.com").verified
    with pytest.raises(ValidationFailed):
        actions.do_continue_with_link(visitor.inbox, token)


def test_an_expired_magic_link_is_refused(visitor):
    send(visitor, "c-1", "Hola")
    actions.do_send_magic_link(visitor, email="lucia@example.com")
    MagicLink.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    link = MagicLink.objects.get()
    with pytest.raises(ValidationFailed):
        actions.do_continue_with_link(visitor.inbox, link.digest)


def test_visitor_tokens_are_stored_only_as_digests(chat_inbox):
    visitor, token = actions.do_start_visitor(chat_inbox)
    assert token not in Visitor.objects.values_list("token_digest", flat=True)
    assert actions.visitor_for_token(chat_inbox, token).pk == visitor.pk
    assert actions.visitor_for_token(chat_inbox, "nope") is None


def test_a_reply_no_widget_showed_goes_out_by_email_with_a_way_back(desk, visitor):
    from mostrador.channels.webchat.tasks import mail_missed_reply

    first = send(visitor, "c-1", "Hola", email="lucia@example.com")
    seen = do_send_reply(first.conversation, "Visto a tiempo", acting_user=desk.ana)
    actions.do_mark_visitor_progress(visitor, received=seen.pk)
    missed = do_send_reply(first.conversation, "Su pedido sale hoy.", acting_user=desk.ana)
    mail.outbox.clear()

    assert mail_missed_reply.call_local(seen.pk) is False
    assert mail_missed_reply.call_local(missed.pk) is True

    assert [m.to for m in mail.outbox] == [["lucia@example.com"]]
    assert "Su pedido sale hoy." in mail.outbox[0].body
    token = mail.outbox[0].body.split("#mostrador-continue=")[1].split()[0]
    assert actions.do_continue_with_link(visitor.inbox, token)[0].conversation_id == \
        first.conversation.pk


def test_a_missed_reply_to_a_visitor_without_address_stays_in_the_chat(desk, visitor):
    from mostrador.channels.webchat.tasks import mail_missed_reply

    first = send(visitor, "c-1", "Hola")
    reply = do_send_reply(first.conversation, "Hola", acting_user=desk.ana)
    mail.outbox.clear()
    assert mail_missed_reply.call_local(reply.pk) is False
    assert mail.outbox == []
