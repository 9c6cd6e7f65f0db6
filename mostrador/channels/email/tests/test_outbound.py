"""Replies leave by SMTP to a real local server (or to the outbox), threaded for the customer's
mail client, and delivery trouble ends in a retry or a clear failure."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
from email.message import EmailMessage

import pytest

from mostrador.channels.base import InboundAttachment
from mostrador.channels.email import ids
from mostrador.channels.registry import get_adapter
from mostrador.conversations import actions, events
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.conversations.tasks import deliver_message
from mostrador.core.tasks import huey
from mostrador.core.testing import build_mail

pytestmark = pytest.mark.django_db

CUSTOMER_MESSAGE_ID = "<pedido-4471@correo.es>"


@pytest.fixture(autouse=True)
def no_default_relay(settings, tmp_path):
    settings.MOSTRADOR = {
        **settings.MOSTRADOR,
        "SMTP_URL": "",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "DELIVERY_MAX_ATTEMPTS": 8,
    }
    huey.storage.flush_schedule()
    yield
    huey.storage.flush_schedule()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what the code under test hands over after commit, as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def receive(data: bytes):
    raw = actions.store_raw("email", data, inbox=None, source="test")
    return actions.process_raw(raw)


@pytest.fixture
def conversation(desk, run_on_commit):
    result = run_on_commit(
        receive,
        build_mail(
            subject="Pedido 4471 sin entregar",
            body="Hola, mi pedido no ha llegado.",
            message_id=CUSTOMER_MESSAGE_ID,
        ),
    )
    assert result.outcome == "created"
    return result.conversation


def use_relay(inbox, url: str) -> None:
    inbox.config = {**inbox.config, "smtp_url": url}
    inbox.save(update_fields=["config"])


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_reply_goes_out_threaded_and_the_answer_comes_back(
    desk, conversation, smtp_sink, run_on_commit
):
    sink = smtp_sink()
    use_relay(desk.inbox, sink.url)

    reply = run_on_commit(
        actions.do_send_reply,
        conversation,
        "Hola Elena, lo revisamos hoy mismo.",
        acting_user=desk.ana,
    )

    [received] = sink.received
    assert received.mail_from == "soporte@desk.example.com"
    assert received.rcpt_tos == ["elena.martin@correo.es"]
    mail = parse(received.data)
    assert email.utils.parseaddr(mail["From"]) == ("Soporte", "soporte@desk.example.com")
    assert mail["To"] == "elena.martin@correo.es"
    assert mail["Subject"] == f"Re: Pedido 4471 sin entregar [#{conversation.number}]"
    message_id = mail["Message-ID"]
    assert ids.conversation_number_from_message_id(message_id) == conversation.number
    assert message_id.endswith("@desk.example.com>")
    assert mail["In-Reply-To"] == CUSTOMER_MESSAGE_ID
    assert CUSTOMER_MESSAGE_ID in ids.parse_references(mail["References"])
    assert mail.get_content().strip() == "Hola Elena, lo revisamos hoy mismo."

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.provider_id == message_id
    assert reply.delivery_attempts == 1
    assert reply.sent_at is not None
    assert Event.objects.filter(kind=events.MESSAGE_SENT, message=reply).count() == 1

    # The customer answers from a client that keeps only In-Reply-To (and a new subject).
    answer = run_on_commit(
        receive,
        build_mail(
            subject="Gracias",
            body="Perfecto, quedo a la espera.",
            message_id="<gracias@correo.es>",
            in_reply_to=message_id,
        ),
    )
    assert answer.outcome == "threaded"
    assert answer.conversation == conversation
    assert Conversation.objects.count() == 1


def test_temporary_refusal_requeues_and_a_later_attempt_sends(
    desk, conversation, smtp_sink, run_on_commit
):
    busy = smtp_sink(data_reply="451 4.7.1 Greylisted, try again later")
    use_relay(desk.inbox, busy.url)

    reply = run_on_commit(
        actions.do_send_reply, conversation, "Lo revisamos.", acting_user=desk.ana
    )

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.QUEUED
    assert reply.delivery_attempts == 1
    assert "451" in reply.delivery_error and "Greylisted" in reply.delivery_error
    [retry] = [t for t in huey.scheduled() if t.args == (reply.pk,)]
    assert retry.name.endswith("deliver_message")
    wait = retry.eta - dt.datetime.now(dt.UTC).replace(tzinfo=None)  # huey keeps naive UTC
    assert 20 < wait.total_seconds() <= 30  # the first back-off step
    assert not Event.objects.filter(kind=events.MESSAGE_FAILED, message=reply).exists()
    first_id = reply.provider_id
    assert first_id

    good = smtp_sink()
    use_relay(desk.inbox, good.url)
    huey.execute(retry, timestamp=retry.eta)  # the scheduled retry, its time come

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.delivery_attempts == 2
    assert reply.delivery_error == ""
    # The retry carries the id fixed before the first attempt: one message in the client.
    [received] = good.received
    assert parse(received.data)["Message-ID"] == first_id == reply.provider_id


def test_permanent_refusal_fails_the_reply(desk, conversation, smtp_sink, run_on_commit):
    unknown = smtp_sink(rcpt_reply="550 5.1.1 user unknown")
    use_relay(desk.inbox, unknown.url)

    reply = run_on_commit(
        actions.do_send_reply, conversation, "Lo revisamos.", acting_user=desk.ana
    )

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "550" in reply.delivery_error and "user unknown" in reply.delivery_error
    failed = Event.objects.get(kind=events.MESSAGE_FAILED, message=reply)
    assert "550" in failed.after["reason"]
    assert not [t for t in huey.scheduled() if t.args == (reply.pk,)]


def test_delivery_gives_up_after_the_attempt_limit(
    desk, conversation, smtp_sink, settings, run_on_commit
):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "DELIVERY_MAX_ATTEMPTS": 2}
    busy = smtp_sink(data_reply="451 4.3.0 Mailbox busy")
    use_relay(desk.inbox, busy.url)

    reply = run_on_commit(
        actions.do_send_reply, conversation, "Lo revisamos.", acting_user=desk.ana
    )
    deliver_message.call_local(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert reply.delivery_attempts == 2
    assert reply.delivery_error.endswith("(gave up after 2 attempts)")
    assert Event.objects.filter(kind=events.MESSAGE_FAILED, message=reply).count() == 1


def test_notes_never_leave_the_desk(desk, conversation, smtp_sink, run_on_commit):
    sink = smtp_sink()
    use_relay(desk.inbox, sink.url)

    note = run_on_commit(
        actions.do_add_note,
        conversation,
        "Elena ya escribió por esto en marzo.",
        acting_user=desk.ana,
    )
    assert deliver_message.call_local(note.pk) == "not queued"
    assert get_adapter("email").check_outbound(note)
    assert sink.received == []


def test_a_note_marked_queued_by_mistake_is_refused(desk, conversation, smtp_sink, run_on_commit):
    sink = smtp_sink()
    use_relay(desk.inbox, sink.url)
    note = run_on_commit(
        actions.do_add_note,
        conversation,
        "Elena ya escribió por esto en marzo.",
        acting_user=desk.ana,
    )
    Message.objects.filter(pk=note.pk).update(delivery_status=Message.Delivery.QUEUED)

    try:
        assert deliver_message.call_local(note.pk) == "refused"
    finally:
        assert sink.received == []
    note.refresh_from_db()
    assert note.delivery_status == Message.Delivery.FAILED


def test_without_a_relay_the_reply_lands_in_the_outbox(
    desk, conversation, settings, run_on_commit, tmp_path
):
    reply = run_on_commit(
        actions.do_send_reply, conversation, "Lo revisamos.", acting_user=desk.ana
    )

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    mail = parse(eml.read_bytes())
    assert mail["Message-ID"] == reply.provider_id
    assert mail["To"] == "elena.martin@correo.es"
    assert mail["In-Reply-To"] == CUSTOMER_MESSAGE_ID


def test_attachments_go_out_as_mime_parts(desk, conversation, smtp_sink, run_on_commit):
    sink = smtp_sink()
    use_relay(desk.inbox, sink.url)
    invoice = b"%PDF-1.4\n% factura 2291\n" + bytes(range(256)) * 8

    run_on_commit(
        actions.do_send_reply,
        conversation,
        "Te adjunto la factura corregida.",
        acting_user=desk.ana,
        files=[InboundAttachment("factura-2291.pdf", "application/pdf", invoice)],
    )

    [received] = sink.received
    mail = parse(received.data)
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "factura-2291.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == invoice
    assert mail.get_body(("plain",)).get_content().strip() == "Te adjunto la factura corregida."
