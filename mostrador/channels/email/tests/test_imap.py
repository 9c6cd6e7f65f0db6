"""IMAP polling against a real IMAP server (pymap), each test in a folder of its own."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command

from mostrador.channels.email.imap import encode_mailbox_name, poll_inbox, poll_inboxes
from mostrador.channels.email.models import ImapCursor
from mostrador.channels.email.tasks import poll_imap_inboxes
from mostrador.channels.email.tests.conftest import crlf, free_port
from mostrador.conversations.models import Conversation, Message, RawInbound
from mostrador.core.testing import build_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def poll(django_capture_on_commit_callbacks):
    """Poll with the after-commit processing run, as a real commit would run it."""

    def run(inbox):
        with django_capture_on_commit_callbacks(execute=True):
            return poll_inbox(inbox)

    return run


@pytest.fixture
def mailbox(desk, imap_server, imap_folder, imap_client):
    """The desk's inbox reading ``imap_folder``; ``mailbox.append(data)`` delivers mail there."""

    class Mailbox:
        inbox = desk.inbox
        folder = imap_folder

        def append(self, *messages: bytes) -> None:
            for data in messages:
                status, _ = imap_client.append(
                    encode_mailbox_name(self.folder), None, None, crlf(data)
                )
                assert status == "OK"

        def flags(self) -> list[bytes]:
            imap_client.select(encode_mailbox_name(self.folder), readonly=True)
            _status, data = imap_client.uid("FETCH", "1:*", "(FLAGS)")
            return [item for item in data if item]

    desk.inbox.config = {**desk.inbox.config, "imap": imap_server.settings(imap_folder)}
    desk.inbox.save(update_fields=["config"])
    return Mailbox()


def spanish_mails() -> list[bytes]:
    return [
        build_mail(
            subject="Pedido 4471 sin entregar",
            message_id="<a1@correo.es>",
            body="Hola, el pedido 4471 no ha llegado. ¿Podéis revisarlo?",
        ),
        build_mail(
            subject="Cambio de dirección",
            message_id="<a2@correo.es>",
            body="Me he mudado: calle Mayor 12, 3º B, Zaragoza.",
        ),
        build_mail(
            sender="Frank Miller <frank.miller@example.org>",
            subject="Invoice 2291 charged twice",
            message_id="<f1@example.org>",
            body="I was charged twice for invoice 2291.",
        ),
    ]


def test_polling_fetches_new_mail_once(desk, mailbox, poll):
    mailbox.append(*spanish_mails())

    result = poll(mailbox.inbox)

    assert (result.fetched, result.stored, result.skipped, result.error) == (3, 3, 0, "")
    assert sorted(Conversation.objects.values_list("subject", flat=True)) == [
        "Cambio de dirección",
        "Invoice 2291 charged twice",
        "Pedido 4471 sin entregar",
    ]
    assert Conversation.objects.get(subject="Cambio de dirección").customer == desk.elena
    cursor = ImapCursor.objects.get(inbox=mailbox.inbox, folder=mailbox.folder)
    sources = sorted(RawInbound.objects.values_list("source", flat=True))
    assert sources == [
        f"imap:{mailbox.folder}:{cursor.uidvalidity}:{uid}"
        for uid in sorted(int(s.rsplit(":", 1)[1]) for s in sources)
    ]
    assert cursor.last_uid == max(int(s.rsplit(":", 1)[1]) for s in sources)
    assert cursor.last_error == "" and cursor.last_polled_at is not None

    # Nothing new: nothing fetched, although "UID n:*" always answers with the last UID.
    again = poll(mailbox.inbox)
    assert (again.fetched, again.stored) == (0, 0)
    assert RawInbound.objects.count() == 3

    mailbox.append(
        build_mail(
            subject="Re: Pedido 4471 sin entregar",
            message_id="<a3@correo.es>",
            in_reply_to="<a1@correo.es>",
            body="Ya ha llegado, gracias.",
        )
    )
    latest = poll(mailbox.inbox)
    assert (latest.fetched, latest.stored) == (1, 1)
    assert RawInbound.objects.count() == 4
    assert Conversation.objects.get(subject="Pedido 4471 sin entregar").messages.count() == 2

    # Read-only: nothing marked \Seen or \Deleted on the server.
    flags = mailbox.flags()
    assert len(flags) == 4
    assert not any(b"\\Seen" in f or b"\\Deleted" in f for f in flags)


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(
    desk, mailbox, poll, imap_client
):
    mails = spanish_mails()[:2]
    mailbox.append(*mails)
    assert poll(mailbox.inbox).stored == 2
    old = ImapCursor.objects.get(inbox=mailbox.inbox)

    # The administrator rebuilds the folder: same mail, new UIDVALIDITY.
    assert imap_client.delete(encode_mailbox_name(mailbox.folder))[0] == "OK"
    assert imap_client.create(encode_mailbox_name(mailbox.folder))[0] == "OK"
    mailbox.append(*mails)

    result = poll(mailbox.inbox)

    cursor = ImapCursor.objects.get(inbox=mailbox.inbox)
    assert cursor.uidvalidity != old.uidvalidity
    assert (result.fetched, result.stored, result.error) == (2, 2, "")
    assert Message.objects.count() == 2
    assert Conversation.objects.count() == 2
    assert RawInbound.objects.filter(status=RawInbound.Status.DUPLICATE).count() == 2


def test_a_stored_uidvalidity_that_no_longer_matches_starts_over(desk, mailbox, poll):
    mailbox.append(*spanish_mails())
    poll(mailbox.inbox)
    ImapCursor.objects.filter(inbox=mailbox.inbox).update(uidvalidity=1)

    result = poll(mailbox.inbox)

    assert (result.fetched, result.stored) == (3, 3)
    assert Message.objects.count() == 3
    assert ImapCursor.objects.get(inbox=mailbox.inbox).uidvalidity != 1


def test_a_wrong_password_is_recorded_not_raised(desk, mailbox, imap_server):
    desk.inbox.config = {
        **desk.inbox.config,
        "imap": imap_server.settings(mailbox.folder, password="otra-clave"),
    }
    desk.inbox.save(update_fields=["config"])
    mailbox.append(spanish_mails()[0])

    [line] = list(poll_inboxes())

    assert "login as demouser" in line and "check the username and password" in line
    cursor = ImapCursor.objects.get(inbox=desk.inbox)
    assert "login as demouser" in cursor.last_error
    assert cursor.last_uid == 0
    assert not RawInbound.objects.exists()

    # Fixed: the next poll clears the error and reads the mail.
    desk.inbox.config = {**desk.inbox.config, "imap": imap_server.settings(mailbox.folder)}
    desk.inbox.save(update_fields=["config"])
    out = io.StringIO()
    call_command("mail", "poll", "--inbox", str(desk.inbox.pk), stdout=out)
    assert "1 fetched, 1 new" in out.getvalue()
    assert ImapCursor.objects.get(inbox=desk.inbox).last_error == ""


def test_a_missing_folder_is_named_in_the_error(desk, imap_server, poll):
    desk.inbox.config = {**desk.inbox.config, "imap": imap_server.settings("Archivo 2019")}
    desk.inbox.save(update_fields=["config"])

    result = poll(desk.inbox)

    assert result.error.startswith("opening folder 'Archivo 2019' failed")
    assert "check the folder name" in result.error
    assert ImapCursor.objects.get(inbox=desk.inbox).last_error == result.error


def test_an_unreachable_server_is_recorded_and_other_inboxes_still_poll(desk, mailbox, imap_server):
    from mostrador.core.testing import make_email_inbox

    down = make_email_inbox(
        "ventas@desk.example.com",
        name="Ventas",
        catch_all=False,
        imap={
            "host": "127.0.0.1",
            "port": free_port(),
            "security": "plain",
            "username": "ventas",
            "password": "x",
        },
    )
    mailbox.append(spanish_mails()[0])
    started = time.monotonic()

    lines = list(poll_inboxes())

    assert time.monotonic() - started < 10
    assert len(lines) == 2
    assert lines[0].endswith("1 fetched, 1 new")
    assert "could not connect to 127.0.0.1" in lines[1]
    assert "check the host, port and security" in ImapCursor.objects.get(inbox=down).last_error


def test_messages_over_the_size_limit_stay_on_the_server(desk, mailbox, poll, settings):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "MAX_MESSAGE_BYTES": 3000}
    (small,) = spanish_mails()[:1]
    large = build_mail(
        subject="Catálogo",
        message_id="<grande@correo.es>",
        body=("Adjunto el catálogo.\n" + "x" * 70 + "\n") * 60,
    )
    mailbox.append(large, small)

    result = poll(mailbox.inbox)

    assert (result.fetched, result.stored, result.skipped) == (1, 1, 1)
    assert list(Message.objects.values_list("provider_id", flat=True)) == ["<a1@correo.es>"]
    assert poll(mailbox.inbox).skipped == 0  # passed once, not again at every poll


def test_folder_names_beyond_ascii(desk, imap_server, imap_client, poll):
    # The example of RFC 3501 section 5.1.3.
    assert encode_mailbox_name("~peter/mail/台北/日本語") == '"~peter/mail/&U,BTFw-/&ZeVnLIqe-"'
    folder = f"Atención & Soporte {time.monotonic_ns()}"
    assert imap_client.create(encode_mailbox_name(folder))[0] == "OK"
    data = crlf(spanish_mails()[0])
    assert imap_client.append(encode_mailbox_name(folder), None, None, data)[0] == "OK"
    _status, listed = imap_client.list()
    assert any(b'"Atenci&APM-n &- Soporte ' in line for line in listed)
    desk.inbox.config = {**desk.inbox.config, "imap": imap_server.settings(folder)}
    desk.inbox.save(update_fields=["config"])

    assert poll(desk.inbox).stored == 1


def test_the_periodic_task_polls_every_inbox_with_imap(
    desk, mailbox, django_capture_on_commit_callbacks
):
    mailbox.append(*spanish_mails())

    with django_capture_on_commit_callbacks(execute=True):
        lines = poll_imap_inboxes.call_local()

    assert len(lines) == 1 and lines[0].endswith("3 fetched, 3 new")
    assert Conversation.objects.count() == 3


def test_inboxes_without_imap_are_left_alone(desk):
    assert list(poll_inboxes()) == ["no active e-mail inbox has IMAP settings"]
    [line] = list(poll_inboxes(inbox_id=desk.inbox.pk))
    assert "no IMAP settings" in line
