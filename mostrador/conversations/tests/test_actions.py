"""The do_* writers: each change lands once, with its event, and bad input is refused."""

from __future__ import annotations

import pytest

from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions, events
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(desk):
    inbound = InboundMessage(sender_kind="email", sender_id="frank.miller@example.org",
                             sender_name="Frank Miller", provider_id="<f1@example.org>",
                             subject="Charged twice for invoice 2291",
                             text="I was charged twice.", reply_text="I was charged twice.")
    return actions.receive_inbound(desk.inbox, inbound).conversation


def kinds(conversation):
    return list(Event.objects.filter(conversation=conversation).order_by("id")
                .values_list("kind", flat=True))


def test_status_changes_write_before_and_after(desk, conversation):
    actions.do_change_status(conversation, "pending", acting_user=desk.ana)
    actions.do_change_status(conversation, "solved", acting_user=desk.ana)

    conversation.refresh_from_db()
    assert conversation.status == "solved"
    assert conversation.solved_at is not None
    changes = Event.objects.filter(conversation=conversation, kind=events.STATUS_CHANGED)
    assert [(e.before, e.after, e.actor_user_id) for e in changes] == [
        ("new", "pending", desk.ana.pk), ("pending", "solved", desk.ana.pk)]


def test_unknown_status_and_closed_conversations_are_refused(desk, conversation):
    with pytest.raises(ValidationFailed) as error:
        actions.do_change_status(conversation, "archived", acting_user=desk.ana)
    assert error.value.field == "status"
    actions.do_change_status(conversation, "closed", acting_user=desk.ana)
    with pytest.raises(Conflict):
        actions.do_change_status(conversation, "open", acting_user=desk.ana)


def test_same_value_writes_no_event(desk, conversation):
    before = kinds(conversation)
    actions.do_change_priority(conversation, conversation.priority, acting_user=desk.ana)
    actions.do_assign(conversation, None, acting_user=desk.ana)
    assert kinds(conversation) == before


def test_assign_opens_a_new_conversation(desk, conversation):
    actions.do_assign(conversation, desk.beto, acting_user=desk.carla)

    conversation.refresh_from_db()
    assert conversation.assignee_id == desk.beto.pk
    assert conversation.status == "open"
    assert kinds(conversation)[-2:] == [events.ASSIGNEE_CHANGED, events.STATUS_CHANGED]


def test_only_agents_can_be_assigned(desk, conversation):
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.create_user("x@example.org", password="x")
    with pytest.raises(ValidationFailed):
        actions.do_assign(conversation, outsider, acting_user=desk.carla)


def test_priority_team_subject_and_custom_fields(desk, conversation):
    actions.do_change_priority(conversation, 4, acting_user=desk.ana)
    actions.do_set_team(conversation, desk.team_l2, acting_user=desk.ana)
    actions.do_change_subject(conversation, "Double charge 2291", acting_user=desk.ana)
    actions.do_set_custom_fields(conversation, {"order": "2291", "plan": "pro"},
                                 acting_user=desk.ana)
    actions.do_set_custom_fields(conversation, {"plan": None}, acting_user=desk.ana)

    conversation.refresh_from_db()
    assert (conversation.priority, conversation.team_id, conversation.subject) == (
        4, desk.team_l2.pk, "Double charge 2291")
    assert conversation.custom_fields == {"order": "2291"}
    with pytest.raises(ValidationFailed):
        actions.do_change_priority(conversation, 9, acting_user=desk.ana)


def test_tags_are_normalised_and_removed(desk, conversation):
    added = actions.do_add_tags(conversation, ["Facturación", "  double   charge "],
                                acting_user=desk.ana)
    assert added == ["double charge", "facturación"]
    assert actions.do_add_tags(conversation, ["facturación"], acting_user=desk.ana) == []
    assert actions.do_remove_tags(conversation, ["FACTURACIÓN"], acting_user=desk.ana) == [
        "facturación"]
    assert list(conversation.tags.values_list("name", flat=True)) == ["double charge"]
    tag_events = Event.objects.filter(conversation=conversation, kind=events.TAGS_CHANGED)
    assert [e.after for e in tag_events] == [["double charge", "facturación"], ["double charge"]]


def test_notes_stay_inside(desk, conversation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = actions.do_add_note(conversation, "@beto can you check the ledger?",
                                   acting_user=desk.ana)
    assert note.direction == Message.Direction.NOTE
    assert note.delivery_status == ""
    with pytest.raises(ValidationFailed):
        actions.do_add_note(conversation, "   ", acting_user=desk.ana)


def test_reply_records_first_response_and_stops_the_wait(desk, conversation, settings, tmp_path,
                                                          django_capture_on_commit_callbacks):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path)}
    with django_capture_on_commit_callbacks(execute=True):
        reply = actions.do_send_reply(conversation, "We refunded the second charge.",
                                      acting_user=desk.ana, status="pending")

    conversation.refresh_from_db()
    reply.refresh_from_db()
    assert conversation.first_response_at is not None
    assert conversation.waiting_since is None
    assert conversation.status == "pending"
    assert reply.delivery_status == "sent"
    assert reply.meta["to"] == ["frank.miller@example.org"]
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_merge_moves_messages_and_closes_the_source(desk, conversation):
    other = actions.receive_inbound(desk.inbox, InboundMessage(
        sender_kind="email", sender_id="frank.miller@example.org", provider_id="<f2@x>",
        subject="Invoice 2291 again", text="Any news?", reply_text="Any news?")).conversation

    target = actions.do_merge_conversations(other, conversation, acting_user=desk.carla)

    other.refresh_from_db()
    assert other.merged_into_id == conversation.pk
    assert other.status == "closed"
    assert target.message_count == 2
    assert Message.objects.filter(conversation=conversation).count() == 2
    with pytest.raises(Conflict):
        actions.do_send_reply(other, "hello", acting_user=desk.ana)


def test_merge_refuses_conversations_of_different_customers(desk, conversation):
    elenas = actions.receive_inbound(desk.inbox, InboundMessage(
        sender_kind="email", sender_id="elena.martin@correo.es", provider_id="<e1@x>",
        subject="Hola", text="Hola", reply_text="Hola")).conversation
    with pytest.raises(ValidationFailed):
        actions.do_merge_conversations(elenas, conversation, acting_user=desk.carla)
    assert Conversation.objects.get(pk=elenas.pk).merged_into_id is None


def test_create_conversation_for_a_customer(desk):
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=desk.elena, subject="Llamada: cambio de dirección",
        text="Llamó para cambiar la dirección de envío.", priority=3, tags=["teléfono"],
        acting_user=desk.ana)

    assert conversation.priority == 3
    assert list(conversation.tags.values_list("name", flat=True)) == ["teléfono"]
    assert kinds(conversation) == [events.CONVERSATION_CREATED, events.MESSAGE_RECEIVED,
                                   events.TAGS_CHANGED]
