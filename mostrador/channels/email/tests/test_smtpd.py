"""The embedded SMTP receiver, driven over a real socket with smtplib.

The receiver works in its own threads, so these tests commit for real (transaction=True).
"""

from __future__ import annotations

import io
import smtplib

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.utils import translation

from mostrador.channels.email import smtpd
from mostrador.channels.email.tests.conftest import crlf, free_port
from mostrador.conversations.models import Conversation, Message, RawInbound
from mostrador.core.testing import build_mail, make_email_inbox

pytestmark = pytest.mark.django_db(transaction=True)

SPANISH_BODY = (
    "Hola:\n\nHice un pedido hace una semana (nº 4471) y todavía no ha llegado. "
    "¿Podéis decirme dónde está?\n\nGracias,\nElena"
)


def test_spanish_mail_opens_a_conversation(desk, smtp_receiver):
    receiver = smtp_receiver()
    data = build_mail(
        subject="Pedido 4471 sin entregar", body=SPANISH_BODY, message_id="<pedido-4471@correo.es>"
    )

    assert receiver.send(data) == {}

    conversation = Conversation.objects.get()
    assert conversation.inbox == desk.inbox
    assert conversation.customer == desk.elena
    assert conversation.subject == "Pedido 4471 sin entregar"
    message = conversation.messages.get()
    assert "¿Podéis decirme dónde está?" in message.text
    assert message.provider_id == "<pedido-4471@correo.es>"
    raw = RawInbound.objects.get()
    # Kept exactly as it arrived, after the Return-Path a final delivery agent adds, with the
    # envelope shown to whoever looks at the row.
    assert bytes(raw.payload) == b"Return-Path: <elena.martin@correo.es>\r\n" + crlf(data)
    assert raw.source == (
        "smtp:127.0.0.1 rcpt=soporte@desk.example.com from=elena.martin@correo.es"
    )
    assert raw.status == RawInbound.Status.PROCESSED
    assert raw.message == message


def test_reply_threads_into_the_same_conversation(desk, smtp_receiver):
    receiver = smtp_receiver()
    receiver.send(build_mail(message_id="<primero@correo.es>"))
    receiver.send(
        build_mail(
            subject="Re: No me ha llegado el pedido",
            body="Os paso el número de seguimiento: ES-991.",
            message_id="<segundo@correo.es>",
            in_reply_to="<primero@correo.es>",
        )
    )

    conversation = Conversation.objects.get()
    assert list(conversation.messages.order_by("id").values_list("provider_id", flat=True)) == [
        "<primero@correo.es>",
        "<segundo@correo.es>",
    ]


def test_the_same_message_twice_is_one_message(desk, smtp_receiver):
    receiver = smtp_receiver()
    data = build_mail(message_id="<repetido@correo.es>")
    receiver.send(data)
    receiver.send(data)

    assert Message.objects.count() == 1
    assert sorted(RawInbound.objects.values_list("status", flat=True)) == [
        RawInbound.Status.DUPLICATE,
        RawInbound.Status.PROCESSED,
    ]


def test_mail_over_the_size_limit_is_refused_and_nothing_is_stored(desk, smtp_receiver, settings):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "MAX_MESSAGE_BYTES": 4000}
    receiver = smtp_receiver()
    data = crlf(build_mail(body="Adjunto el inventario completo.\n" + ("x" * 70 + "\n") * 100))
    assert len(data) > 4000

    # A client that announces the size (SIZE extension) is refused at MAIL FROM …
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        receiver.send(data)
    assert refused.value.smtp_code == 552
    # … and one that does not, after DATA.
    with smtplib.SMTP(receiver.host, receiver.port, timeout=10) as client:
        client.ehlo()
        assert client.mail("elena.martin@correo.es")[0] == 250
        assert client.rcpt("soporte@desk.example.com")[0] == 250
        assert client.data(data)[0] == 552

    assert not RawInbound.objects.exists()
    assert not Conversation.objects.exists()
    # Mail under the limit still goes through on the same receiver.
    receiver.send(build_mail(body="Corto."))
    assert Conversation.objects.count() == 1


def test_database_failure_answers_451_and_the_retry_is_stored(desk, smtp_receiver, monkeypatch):
    receiver = smtp_receiver()
    data = build_mail(message_id="<reintento@correo.es>")

    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(smtpd, "store_raw", database_down)
        with pytest.raises(smtplib.SMTPDataError) as error:
            receiver.send(data)
    assert error.value.smtp_code == 451
    assert error.value.smtp_error == b"4.3.0 Temporary failure, please retry"
    assert not RawInbound.objects.exists()

    # The sending server tries again once the database is back.
    receiver.send(data)
    assert RawInbound.objects.get().status == RawInbound.Status.PROCESSED
    assert Message.objects.get().provider_id == "<reintento@correo.es>"


def test_mail_no_inbox_accepts_waits_in_quarantine_until_reprocessed(db, smtp_receiver):
    make_email_inbox("soporte@desk.example.com", catch_all=False)
    receiver = smtp_receiver()
    data = build_mail(
        to="ventas@tienda.example.com",
        subject="Presupuesto para 40 sillas",
        message_id="<presupuesto@correo.es>",
    )

    receiver.send(data, to=["ventas@tienda.example.com"])

    raw = RawInbound.objects.get()
    assert raw.status == RawInbound.Status.QUARANTINED
    assert raw.inbox is None
    assert "rcpt=ventas@tienda.example.com" in raw.source
    # Written in the desk's language: nobody's request is active in the receiver.
    with translation.override(settings.LANGUAGE_CODE):
        assert raw.error == translation.gettext(
            "No inbox accepts this message; connect an inbox for its address, then process "
            "it again."
        )
    assert not Conversation.objects.exists()

    sales = make_email_inbox("ventas@tienda.example.com", name="Ventas", catch_all=False)
    out = io.StringIO()
    call_command("mail", "reprocess", "--all", stdout=out)

    assert out.getvalue().strip() == f"{raw.pk}: created"
    raw.refresh_from_db()
    assert raw.status == RawInbound.Status.PROCESSED
    assert raw.inbox == sales
    conversation = Conversation.objects.get()
    assert (conversation.inbox, conversation.subject) == (sales, "Presupuesto para 40 sillas")


def test_envelope_recipient_chooses_the_inbox_when_headers_do_not(db, smtp_receiver):
    # A list or a Bcc: the To header names someone else, the envelope names our address.
    make_email_inbox("soporte@desk.example.com", catch_all=False)
    sales = make_email_inbox("ventas@tienda.example.com", name="Ventas", catch_all=False)
    receiver = smtp_receiver()

    receiver.send(build_mail(to="clientes@lista.example.com"), to=["ventas@tienda.example.com"])

    assert RawInbound.objects.get().inbox == sales
    assert Conversation.objects.get().inbox == sales


def test_the_adapter_starts_the_receiver_for_the_embedded_mode(desk, settings):
    port = free_port()
    settings.MOSTRADOR = {**settings.MOSTRADOR, "SMTPD_HOST": "127.0.0.1", "SMTPD_PORT": port}
    from mostrador.channels.registry import get_adapter

    stop = get_adapter("email").start_embedded()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(
                "frank.miller@example.org",
                ["soporte@desk.example.com"],
                crlf(
                    build_mail(
                        sender="Frank Miller <frank.miller@example.org>",
                        subject="Invoice 2291 charged twice",
                        body="I was charged twice.",
                    )
                ),
            )
    finally:
        stop()
    stop()  # stopping twice is harmless

    assert Conversation.objects.get().customer == desk.frank
    with pytest.raises(OSError), smtplib.SMTP("127.0.0.1", port, timeout=2):
        pass


def test_mail_without_a_from_header_is_known_by_its_envelope_sender(desk, smtp_receiver):
    receiver = smtp_receiver()
    bare = b"To: soporte@desk.example.com\r\nSubject: Sin remitente\r\n\r\nHola, soy Frank.\r\n"

    receiver.send(bare, mail_from="frank.miller@example.org")

    conversation = Conversation.objects.get()
    assert conversation.customer == desk.frank
    assert conversation.subject == "Sin remitente"


def test_a_bounce_with_an_empty_envelope_sender_opens_nothing(desk, smtp_receiver):
    receiver = smtp_receiver()
    notice = (
        b"From: Mail Delivery System <postmaster@correo.es>\r\n"
        b"To: soporte@desk.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"\r\nThis is the mail system. Your message could not be delivered.\r\n"
    )

    receiver.send(notice, mail_from="")

    assert Conversation.objects.count() == 0
    raw = RawInbound.objects.get()
    assert raw.status == RawInbound.Status.IGNORED
    assert raw.error  # the reason it was recorded and not opened
