"""`mostrador mail import`: files, folders, mbox and Maildir; counts; nothing lost."""

from __future__ import annotations

import json
import mailbox

import pytest
from django.core.management import call_command

from mostrador.channels.email.importer import import_mail
from mostrador.conversations.models import Conversation, Message, RawInbound
from mostrador.core.testing import build_mail

pytestmark = pytest.mark.django_db


def thread(n):
    """n customers, each with a first mail and a reply to it."""
    mails = []
    for i in range(n):
        first = f"<first-{i}@correo.es>"
        mails.append(
            build_mail(
                sender=f"cliente{i}@correo.es",
                subject=f"Pedido {i}",
                message_id=first,
                body=f"Mi pedido {i} no llega.",
            )
        )
        mails.append(
            build_mail(
                sender=f"cliente{i}@correo.es",
                subject=f"Re: Pedido {i}",
                message_id=f"<reply-{i}@correo.es>",
                in_reply_to=first,
                body=f"¿Alguna novedad del pedido {i}?",
            )
        )
    return mails


def test_a_folder_of_eml_files_threads_and_counts(desk, tmp_path):
    for index, data in enumerate(thread(30)):
        (tmp_path / f"{index:04}.eml").write_bytes(data)
    (tmp_path / "manifest.json").write_text("{}")

    summary = import_mail([tmp_path], batch_size=7, parse_workers=0)

    assert (summary.read, summary.imported, summary.threaded) == (60, 30, 30)
    assert summary.duplicates == summary.quarantined == 0
    assert any("manifest.json" in line for line in summary.unreadable)
    assert Conversation.objects.count() == 30
    assert set(Conversation.objects.values_list("message_count", flat=True)) == {2}
    assert RawInbound.objects.filter(status="processed").count() == 60


def test_importing_twice_creates_no_duplicates(desk, tmp_path):
    for index, data in enumerate(thread(5)):
        (tmp_path / f"{index}.eml").write_bytes(data)
    import_mail([tmp_path], parse_workers=0)

    again = import_mail([tmp_path], parse_workers=0)

    assert (again.read, again.duplicates, again.imported) == (10, 10, 0)
    assert Message.objects.count() == 10


def test_batched_and_one_by_one_import_agree(desk, tmp_path):
    """The bulk path and the one-message path must reach the same state."""
    mails = thread(12)
    for index, data in enumerate(mails):
        (tmp_path / f"{index:03}.eml").write_bytes(data)
    import_mail([tmp_path], batch_size=1000, parse_workers=1)
    batched = sorted(
        Message.objects.values_list(
            "provider_id",
            "conversation__subject",
            "conversation__customer__identities__external_id",
        )
    )
    counts = sorted(Conversation.objects.values_list("subject", "message_count", "status"))
    Message.objects.all().delete()
    Conversation.objects.all().delete()

    import_mail([tmp_path], batch_size=1, parse_workers=0)

    assert (
        sorted(
            Message.objects.values_list(
                "provider_id",
                "conversation__subject",
                "conversation__customer__identities__external_id",
            )
        )
        == batched
    )
    assert sorted(Conversation.objects.values_list("subject", "message_count", "status")) == counts


def test_mbox_and_maildir(desk, tmp_path):
    box = mailbox.mbox(tmp_path / "archive.mbox")
    for data in thread(3):
        box.add(data)
    box.flush()
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(
        build_mail(
            sender="frank.miller@example.org",
            subject="Refund",
            message_id="<md-1@example.org>",
            body="Where is my refund?",
        )
    )

    summary = import_mail([tmp_path / "archive.mbox", tmp_path / "Maildir"], parse_workers=0)

    assert (summary.read, summary.imported, summary.threaded) == (7, 4, 3)


def test_unparseable_mail_is_quarantined_not_dropped(desk, tmp_path):
    (tmp_path / "good.eml").write_bytes(build_mail())
    (tmp_path / "bad.eml").write_bytes(b"\x00\x00\x00 this is not mail at all")

    summary = import_mail([tmp_path], parse_workers=1)

    assert (summary.read, summary.imported, summary.quarantined) == (2, 1, 1)
    bad = RawInbound.objects.get(status="quarantined")
    assert bad.error
    assert bytes(bad.payload).startswith(b"\x00\x00\x00")
    assert "bad.eml" in bad.source


def test_cli_json_summary(desk, tmp_path, capsys):
    for index, data in enumerate(thread(2)):
        (tmp_path / f"{index}.eml").write_bytes(data)

    call_command("mail", "import", str(tmp_path), "--json")

    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in ("read", "imported", "threaded", "duplicates", "quarantined")} == {
        "read": 4,
        "imported": 2,
        "threaded": 2,
        "duplicates": 0,
        "quarantined": 0,
    }
    assert out["seconds"] >= 0


def test_cli_reports_missing_paths(db, capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("mail", "import", "/nonexistent/folder")
    assert "no such file" in capsys.readouterr().err
