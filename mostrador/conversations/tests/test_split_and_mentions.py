"""Splitting one customer message into its own conversation, and @mentions in notes."""

from __future__ import annotations

import pytest

from mostrador.accounts.actions import do_create_staff_user
from mostrador.channels.base import InboundAttachment, InboundMessage
from mostrador.conversations import actions, events
from mostrador.conversations.models import Attachment, Conversation, Event, Message
from mostrador.conversations.queries import ConversationFilters, list_conversations
from mostrador.core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def frank_writes(desk, provider_id: str, text: str, *, subject: str = "", references=(),
                 attachments=()) -> Message:
    inbound = InboundMessage(sender_kind="email", sender_id="frank.miller@example.org",
                             sender_name="Frank Miller", provider_id=provider_id,
                             subject=subject, text=text, reply_text=text,
                             references=list(references), attachments=list(attachments))
    return actions.receive_inbound(desk.inbox, inbound).message


@pytest.fixture
def thread(desk, settings, tmp_path):
    """Frank asks about an invoice, Ana answers, Frank adds an unrelated question (with a
    screenshot), Ana leaves a note."""
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path)}
    first = frank_writes(desk, "<f1@example.org>", "I was charged twice for invoice 2291.",
                         subject="Charged twice for invoice 2291")
    conversation = first.conversation
    reply = actions.do_send_reply(conversation, "We refunded the second charge.",
                                  acting_user=desk.ana)
    second = frank_writes(desk, "<f2@example.org>", "Also: how do I change my address?",
                          subject="Re: Charged twice for invoice 2291",
                          references=["<f1@example.org>"],
                          attachments=[InboundAttachment("address.png", "image/png", PNG)])
    note = actions.do_add_note(conversation, "Second question is for logistics.",
                               acting_user=desk.ana)
    conversation.refresh_from_db()
    return conversation, first, reply, second, note


def test_split_moves_one_message_with_its_attachments_and_search_row(desk, thread):
    conversation, _first, reply, second, _note = thread
    assert conversation.message_count == 3

    new = actions.do_split_message(second, acting_user=desk.carla)

    assert new.pk != conversation.pk
    assert (new.customer_id, new.inbox_id) == (conversation.customer_id, conversation.inbox_id)
    assert new.subject == "Re: Charged twice for invoice 2291"
    assert new.status == "new"
    assert list(new.messages.values_list("pk", flat=True)) == [second.pk]
    assert Attachment.objects.get(message__conversation=new).filename == "address.png"
    assert new.message_count == 1
    assert new.last_activity_at == second.created_at
    assert new.waiting_since == second.created_at
    conversation.refresh_from_db()
    assert conversation.message_count == 2
    assert sorted(conversation.messages.values_list("direction", flat=True)) == [
        "inbound", "note", "outbound"]
    # Ana's reply is now the last word on the old thread: nobody waits there any more.
    assert conversation.last_activity_at == reply.created_at
    assert conversation.waiting_since is None

    split = Event.objects.get(conversation=conversation, kind=events.SPLIT)
    assert split.after == {"conversation": new.pk}
    assert split.actor_user_id == desk.carla.pk and split.message_id == second.pk
    created = Event.objects.get(conversation=new, kind=events.CONVERSATION_CREATED)
    assert created.after["split_from"] == conversation.pk
    assert created.actor_user_id == desk.carla.pk

    # Search finds the moved message in its new conversation only.
    found = list_conversations(desk.ana, ConversationFilters(q="address")).items
    assert [c.pk for c in found] == [new.pk]
    found = list_conversations(desk.ana, ConversationFilters(q="invoice 2291")).items
    assert conversation.pk in [c.pk for c in found]


def test_a_later_reply_on_the_split_message_threads_into_the_new_conversation(desk, thread):
    *_, second, _note = thread
    new = actions.do_split_message(second, acting_user=desk.carla)

    later = frank_writes(desk, "<f3@example.org>", "Any news about the address?",
                         references=["<f2@example.org>"])

    assert later.conversation_id == new.pk


def test_split_refuses_notes_replies_and_the_only_message(desk, thread):
    _conversation, _first, reply, _second, note = thread
    with pytest.raises(ValidationFailed) as error:
        actions.do_split_message(note, acting_user=desk.carla)
    assert error.value.field == "message"
    with pytest.raises(ValidationFailed):
        actions.do_split_message(reply, acting_user=desk.carla)

    lonely = frank_writes(desk, "<lonely@example.org>", "A brand new question.",
                          subject="New question")
    with pytest.raises(ValidationFailed) as error:
        actions.do_split_message(lonely, acting_user=desk.carla)
    assert "only message" in error.value.message
    assert Conversation.objects.count() == 2
    assert not Event.objects.filter(kind=events.SPLIT).exists()


def test_split_refuses_a_merged_conversation_and_a_message_that_moved(desk, thread):
    conversation, first, _reply, second, _note = thread
    new = actions.do_split_message(second, acting_user=desk.carla)
    # The caller still holds the message as it was before the split.
    second.conversation_id = conversation.pk
    with pytest.raises(Conflict):
        actions.do_split_message(second, acting_user=desk.carla)

    other = frank_writes(desk, "<other@example.org>", "Unrelated", subject="Other").conversation
    actions.do_merge_conversations(conversation, other, acting_user=desk.carla)
    first.refresh_from_db()
    assert first.conversation_id == other.pk
    stale = Message.objects.get(pk=first.pk)
    stale.conversation_id = conversation.pk
    with pytest.raises(Conflict):
        actions.do_split_message(stale, acting_user=desk.carla)
    assert Conversation.objects.filter(pk=new.pk).exists()


def test_split_uses_the_first_line_when_the_message_has_no_subject(desk, thread):
    conversation, *_ = thread
    chat_like = frank_writes(desk, "<f9@example.org>", "\n  Where is   my parcel?\nThanks",
                             references=["<f1@example.org>"])
    assert chat_like.conversation_id == conversation.pk

    new = actions.do_split_message(chat_like, acting_user=desk.ana)

    assert new.subject == "Where is my parcel?"


# --- mentions -------------------------------------------------------------------------------


def mentions_of(note: Message) -> list[int]:
    return list(Event.objects.filter(message=note, kind=events.NOTE_MENTIONED)
                .order_by("id").values_list("after__user", flat=True))


def test_mentions_match_first_names_and_user_names_without_case_or_accents(desk, thread):
    conversation, *_ = thread
    lucia = do_create_staff_user(email="lucia.fernandez@desk.example.com", password="x",
                                 display_name="Lucía Fernández", check_password=False)

    note = actions.do_add_note(
        conversation, "@ANA and @lucia, please check; cc @carla. (not ana@example.com)",
        acting_user=desk.beto)

    expected = sorted([desk.ana.pk, lucia.pk, desk.carla.pk])
    assert note.meta["mentions"] == expected
    assert sorted(mentions_of(note)) == expected
    event = Event.objects.filter(message=note, kind=events.NOTE_MENTIONED).first()
    assert event.actor_user_id == desk.beto.pk
    assert event.conversation_id == conversation.pk


def test_a_user_name_wins_over_a_shared_first_name(desk, thread):
    conversation, *_ = thread
    ana_two = do_create_staff_user(email="ana.lopez@desk.example.com", password="x",
                                   display_name="Ana López", check_password=False)

    both = actions.do_add_note(conversation, "@ana?", acting_user=desk.beto)
    only = actions.do_add_note(conversation, "@ana.lopez: yours.", acting_user=desk.beto)

    # "ana" is also the local part of ana@desk.example.com: the user name decides.
    assert both.meta["mentions"] == [desk.ana.pk]
    assert only.meta["mentions"] == [ana_two.pk]


def test_unknown_and_inactive_names_mention_nobody(desk, thread):
    conversation, *_ = thread
    desk.beto.is_active = False
    desk.beto.save(update_fields=["is_active"])

    note = actions.do_add_note(conversation, "@beto @nobody e-mail me at x@y.z",
                               acting_user=desk.ana)

    assert "mentions" not in note.meta
    assert mentions_of(note) == []


def test_notes_without_an_at_sign_do_not_look_agents_up(desk, thread,
                                                        django_assert_num_queries):
    conversation, *_ = thread
    # Savepoint, message, conversation, search row, event, release: no agent look-up.
    with django_assert_num_queries(6):
        actions.do_add_note(conversation, "Plain note.", acting_user=desk.ana)


def test_mention_handle_is_the_user_name_local_part(desk):
    assert actions.mention_handle(desk.ana) == "ana"
