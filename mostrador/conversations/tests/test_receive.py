"""receive_inbound: identity, threading, dedupe, follow-ups, noise and the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mostrador.channels.base import InboundAttachment, InboundMessage, SkippedAttachment
from mostrador.conversations import actions, events
from mostrador.conversations.models import Conversation, Event, Message, RawInbound
from mostrador.customers.models import Customer, Identity

pytestmark = pytest.mark.django_db


def mail(sender="elena.martin@correo.es", *, provider_id, subject="Pedido 4411 sin llegar",
         text="Hola, mi pedido 4411 no ha llegado.", references=(), number=None, **extra):
    return InboundMessage(sender_kind="email", sender_id=sender, sender_name="Elena Martín",
                          provider_id=provider_id, subject=subject, text=text, reply_text=text,
                          references=list(references), conversation_number=number, **extra)


def receive(desk, inbound, **kwargs):
    return actions.receive_inbound(desk.inbox, inbound, **kwargs)


def test_first_mail_opens_a_conversation_for_a_new_customer(desk):
    result = receive(desk, mail(sender="Nuevo.Cliente@Example.ES", provider_id="<a1@x>"))

    assert result.outcome == "created"
    conversation = result.conversation
    assert conversation.status == Conversation.Status.NEW
    assert conversation.subject == "Pedido 4411 sin llegar"
    assert conversation.channel_kind == "email"
    assert conversation.waiting_since is not None
    identity = Identity.objects.get(kind="email", external_id="nuevo.cliente@example.es")
    assert conversation.customer_id == identity.customer_id
    kinds = list(Event.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert kinds == [events.CONVERSATION_CREATED, events.MESSAGE_RECEIVED]


def test_known_address_resolves_to_the_same_customer(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    second = receive(desk, mail(provider_id="<a2@x>", subject="Otra consulta"))

    assert first.conversation.customer_id == desk.elena.pk
    assert second.conversation.customer_id == desk.elena.pk
    assert second.outcome == "created"  # a new subject with no thread hints is a new request
    assert Customer.objects.filter(identities__external_id="elena.martin@correo.es").count() == 1


def test_reply_threads_by_in_reply_to_and_references(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    reply = receive(desk, mail(provider_id="<a2@x>", subject="Re: Pedido 4411 sin llegar",
                               references=["<a1@x>"]))

    assert reply.outcome == "threaded"
    assert reply.conversation.pk == first.conversation.pk
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert conversation.message_count == 2


def test_reference_token_in_the_subject_threads(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    number = first.conversation.number
    reply = receive(desk, mail(provider_id="<a2@x>", subject=f"Re: algo [#{number}]",
                               number=number))
    assert reply.outcome == "threaded"
    assert reply.conversation.pk == first.conversation.pk


def test_another_customers_mail_never_joins_the_conversation(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    intruder = receive(desk, mail(sender="frank.miller@example.org", provider_id="<f1@y>",
                                  references=["<a1@x>"], number=first.conversation.number))

    assert intruder.outcome == "created"
    assert intruder.conversation.pk != first.conversation.pk
    assert intruder.conversation.customer_id == desk.frank.pk
    assert "another customer" in intruder.message.meta["thread_note"]
    assert Conversation.objects.get(pk=first.conversation.pk).message_count == 1


def test_redelivery_of_the_same_message_id_creates_nothing(desk):
    receive(desk, mail(provider_id="<a1@x>"))
    again = receive(desk, mail(provider_id="<a1@x>"))

    assert again.outcome == "duplicate"
    assert Message.objects.count() == 1


def test_customer_reply_reopens_a_solved_or_pending_conversation(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    actions.do_change_status(first.conversation, "solved", acting_user=desk.ana)

    receive(desk, mail(provider_id="<a2@x>", references=["<a1@x>"]))

    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.solved_at is None
    reopen = Event.objects.filter(conversation=conversation, kind=events.STATUS_CHANGED).last()
    assert (reopen.before, reopen.after) == ("solved", "open")
    assert reopen.actor_customer_id == desk.elena.pk


def test_reply_to_a_closed_conversation_opens_a_linked_follow_up(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    actions.do_change_status(first.conversation, "closed", acting_user=desk.ana)

    follow = receive(desk, mail(provider_id="<a2@x>", references=["<a1@x>"]))

    assert follow.outcome == "created"
    assert follow.conversation.follow_up_of_id == first.conversation.pk
    assert Conversation.objects.get(pk=first.conversation.pk).status == "closed"
    assert Event.objects.filter(conversation=first.conversation,
                                kind=events.FOLLOW_UP_OPENED).exists()


def test_reply_to_a_conversation_solved_long_ago_opens_a_follow_up(desk, settings):
    first = receive(desk, mail(provider_id="<a1@x>"))
    actions.do_change_status(first.conversation, "solved", acting_user=desk.ana)
    later = timezone.now() + dt.timedelta(days=settings.MOSTRADOR["REOPEN_WINDOW_DAYS"] + 1)

    follow = receive(desk, mail(provider_id="<a2@x>", references=["<a1@x>"]), now=later)

    assert follow.outcome == "created"
    assert follow.conversation.follow_up_of_id == first.conversation.pk


def test_auto_reply_without_thread_is_recorded_not_opened(desk):
    raw = actions.store_raw("email", b"...", inbox=desk.inbox, source="test")
    result = receive(desk, mail(provider_id="<ooo@x>", noise="Auto-Submitted: auto-replied"),
                     raw=raw)

    assert result.outcome == "ignored"
    assert Conversation.objects.count() == 0
    raw.refresh_from_db()
    assert raw.status == RawInbound.Status.IGNORED
    assert raw.error == "Auto-Submitted: auto-replied"


def test_auto_reply_on_a_thread_is_kept_without_reopening(desk):
    first = receive(desk, mail(provider_id="<a1@x>"))
    actions.do_change_status(first.conversation, "pending", acting_user=desk.ana)

    result = receive(desk, mail(provider_id="<ooo@x>", references=["<a1@x>"],
                                noise="Auto-Submitted: auto-replied"))

    assert result.message.automatic is True
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert conversation.status == "pending"
    assert Event.objects.filter(kind=events.MESSAGE_AUTOMATIC).count() == 1


def test_bounce_marks_our_reply_failed(desk, django_capture_on_commit_callbacks, settings,
                                       tmp_path):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path)}
    first = receive(desk, mail(provider_id="<a1@x>"))
    with django_capture_on_commit_callbacks(execute=True):
        reply = actions.do_send_reply(first.conversation, "Lo revisamos.", acting_user=desk.ana)
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"

    bounce = InboundMessage(sender_kind="email", sender_id="mailer-daemon@correo.es",
                            provider_id="<dsn1@correo.es>", noise="delivery status notification",
                            bounce_of=reply.provider_id,
                            bounce_reason="5.1.1 smtp; 550 user unknown")
    result = receive(desk, bounce)

    assert result.outcome == "bounced"
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "550 user unknown" in reply.delivery_error
    assert Event.objects.filter(kind=events.MESSAGE_BOUNCED, message=reply).exists()


def test_attachments_are_stored_and_skipped_ones_noted(desk):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    result = receive(desk, mail(
        provider_id="<a1@x>",
        attachments=[InboundAttachment("captura.png", "image/png", png, content_id="img1",
                                       inline=True)],
        skipped_attachments=[SkippedAttachment("video.mov", "video/quicktime", 40_000_000,
                                               "too large")],
    ))

    attachment = result.message.attachments.get()
    assert attachment.filename == "captura.png"
    assert attachment.size == len(png)
    assert attachment.inline and attachment.content_id == "img1"
    with attachment.file.open("rb") as handle:
        assert handle.read() == png
    assert result.message.meta["skipped_attachments"][0]["filename"] == "video.mov"


def test_merged_customers_keep_receiving_into_the_survivor(desk):
    from mostrador.customers.actions import do_add_identity, do_merge_customers

    duplicate = Customer.objects.create(name="Elena M.")
    do_add_identity(duplicate, "email", "elena@trabajo.es")
    do_merge_customers(duplicate, desk.elena, acting_user=desk.carla)

    result = receive(desk, mail(sender="elena@trabajo.es", provider_id="<w1@t>"))

    assert result.conversation.customer_id == desk.elena.pk


def test_process_raw_quarantines_what_does_not_parse_and_retries(desk):
    raw = actions.store_raw("email", b"\x00\x01 not a mail", inbox=desk.inbox, source="test")

    result = actions.process_raw(raw)

    assert result.outcome == "quarantined"
    raw.refresh_from_db()
    assert raw.status == RawInbound.Status.QUARANTINED
    assert raw.error
    assert raw.attempts == 1
    assert bytes(raw.payload) == b"\x00\x01 not a mail"  # kept exactly as it came
