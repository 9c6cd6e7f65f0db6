"""Messages through the API: reading a real mail thread, replying (delivered to the outbox),
notes, retrying a failed delivery and downloading attachments."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mostrador.api.tests.conftest import error, ok
from mostrador.conversations import actions
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.core.testing import SUPPORT_ADDRESS, build_mail

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def receive(desk, payload: bytes) -> Conversation:
    raw = actions.store_raw("email", payload, inbox=desk.inbox, source="test")
    result = actions.process_raw(raw)
    assert result.outcome in {"created", "threaded"}, result
    return result.conversation


def mail_with_attachments() -> bytes:
    message = EmailMessage()
    message["From"] = "Elena Martín <elena.martin@correo.es>"
    message["To"] = SUPPORT_ADDRESS
    message["Subject"] = "Factura incorrecta"
    message["Message-ID"] = "<factura-1@correo.es>"
    message.set_content("Adjunto la factura y una captura.")
    message.add_attachment(PDF, maintype="application", subtype="pdf",
                           filename='factura "marzo" 20€.pdf')
    message.add_attachment(PNG, maintype="image", subtype="png", filename="captura.png")
    return message.as_bytes()


# --- reading --------------------------------------------------------------------------------


def test_a_mail_thread_reads_with_reply_text_free_of_quotes(api, desk, outbox,
                                                           django_capture_on_commit_callbacks):
    conversation = receive(desk, build_mail(message_id="<pedido-1@correo.es>"))
    with django_capture_on_commit_callbacks(execute=True):
        ok(api.post(f"/conversations/{conversation.pk}/reply",
                    {"text": "Hola Elena, lo revisamos hoy mismo."}), 201)
    ours = Message.objects.get(direction="outbound")
    assert ours.provider_id
    answer = ("Ya ha llegado, ¡gracias!\n\n"
              "El lun, 3 mar 2025 a las 10:00, Soporte <soporte@desk.example.com> escribió:\n"
              "> Hola Elena, lo revisamos hoy mismo.\n")
    receive(desk, build_mail(subject="Re: No me ha llegado el pedido", body=answer,
                             in_reply_to=ours.provider_id,
                             references=f"<pedido-1@correo.es> {ours.provider_id}"))

    page = ok(api.get(f"/conversations/{conversation.pk}/messages"))
    assert page["next_cursor"] is None
    first, reply, last = page["items"]
    assert first["direction"] == "inbound"
    assert first["author"] == {"kind": "customer", "id": desk.elena.pk, "name": "Elena Martín"}
    assert first["provider_id"] == "<pedido-1@correo.es>"
    assert first["to"] == [SUPPORT_ADDRESS] and first["delivery"] is None
    assert reply["direction"] == "outbound"
    assert reply["author"] == {"kind": "agent", "id": desk.ana.pk, "name": "Ana García"}
    assert reply["delivery"]["status"] == "sent" and reply["delivery"]["sent_at"]
    assert last["reply_text"] == "Ya ha llegado, ¡gracias!"
    assert "lo revisamos hoy mismo" in last["text"]
    assert last["conversation"] == conversation.pk


def test_attachments_are_listed_and_downloaded(api, desk):
    conversation = receive(desk, mail_with_attachments())
    (message,) = ok(api.get(f"/conversations/{conversation.pk}/messages"))["items"]
    files = {a["filename"]: a for a in message["attachments"]}
    assert set(files) == {'factura "marzo" 20€.pdf', "captura.png"}
    pdf = files['factura "marzo" 20€.pdf']
    assert (pdf["content_type"], pdf["size"], pdf["inline"]) == ("application/pdf", len(PDF),
                                                                 False)
    assert pdf["url"] == f"/api/v1/attachments/{pdf['id']}"

    response = api.client.get(pdf["url"], headers=api._headers(None))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''factura%20%22marzo%22%2020%E2%82%AC.pdf")
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    response = api.client.get(files["captura.png"]["url"], headers=api._headers(None))
    assert response["Content-Disposition"].startswith("inline;")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PNG

    assert error(api.get("/attachments/999999"), 404)["field"] == "id"
    assert api.client.get(pdf["url"]).status_code == 401


def test_messages_page_by_cursor_and_after(api, desk):
    conversation = actions.do_create_conversation(inbox=desk.inbox, customer=desk.elena,
                                                  subject="Notas", text="Primera")
    for n in range(6):
        actions.do_add_note(conversation, f"nota {n}", acting_user=desk.beto)
    path = f"/conversations/{conversation.pk}/messages"
    seen, cursor = [], None
    while True:
        page = ok(api.get(path, {"limit": 3, **({"cursor": cursor} if cursor else {})}))
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7 and seen == sorted(seen)
    newer = ok(api.get(path, {"after": seen[4]}))["items"]
    assert [m["id"] for m in newer] == seen[5:]
    without_notes = ok(api.get(path, {"notes": "false"}))["items"]
    assert [m["direction"] for m in without_notes] == ["inbound"]
    assert error(api.get(path, {"cursor": "zzz"}), 400)["field"] == "cursor"
    assert error(api.get("/conversations/999999/messages"), 404)["field"] == "id"


def test_messages_queries_do_not_grow_with_the_thread(api, desk):
    conversation = receive(desk, mail_with_attachments())
    actions.do_add_note(conversation, "Revisar la factura", acting_user=desk.carla)
    path = f"/conversations/{conversation.pk}/messages"
    ok(api.get("/me"))  # the token's last use is written once

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            ok(api.get(path))
        return len(queries)

    small = count_queries()
    for n in range(20):
        actions.do_add_note(conversation, f"nota {n}", acting_user=[desk.ana, desk.beto][n % 2])
        receive(desk, build_mail(subject="Re: Factura incorrecta", body=f"Mensaje {n}",
                                 in_reply_to="<factura-1@correo.es>"))
    large = count_queries()
    assert len(ok(api.get(path))["items"]) == 42
    assert small == large, (small, large)
    assert large <= 5


# --- writing --------------------------------------------------------------------------------


def test_reply_is_queued_then_delivered_to_the_outbox(api, desk, outbox,
                                                      django_capture_on_commit_callbacks):
    conversation = receive(desk, build_mail())
    html = '<p onclick="steal()">Hola <b>Elena</b><script>alert(1)</script></p>'
    with django_capture_on_commit_callbacks(execute=True):
        sent = ok(api.post(f"/conversations/{conversation.pk}/reply",
                           {"text": "Hola Elena", "html": html, "status": "pending"}), 201)
        assert sent["delivery"]["status"] == "queued"
    assert sent["direction"] == "outbound" and sent["channel"] == "email"
    assert sent["to"] == ["elena.martin@correo.es"]
    assert sent["html"] == "<p>Hola <b>Elena</b></p>"
    assert sent["author"]["name"] == "Ana García"

    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    delivered = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert delivered["To"] == "elena.martin@correo.es"
    assert "Hola Elena" in delivered.get_body(("plain",)).get_content()
    (listed,) = [m for m in ok(api.get(f"/conversations/{conversation.pk}/messages"))["items"]
                 if m["id"] == sent["id"]]
    assert listed["delivery"]["status"] == "sent"
    assert listed["provider_id"] == delivered["Message-ID"]
    state = ok(api.get(f"/conversations/{conversation.pk}"))
    assert state["status"] == "pending" and state["first_response_at"]


def test_reply_refuses_bad_input(api, desk, outbox):
    conversation = receive(desk, build_mail())
    path = f"/conversations/{conversation.pk}/reply"
    assert error(api.post(path, {"text": "  "}), 400)["field"] == "text"
    assert error(api.post(path, {"text": "Hola", "channel": "pigeon"}), 400)["field"] == "channel"
    assert error(api.post(path, {"text": "Hola", "status": "lost"}), 400)["field"] == "status"
    assert error(api.post("/conversations/999999/reply", {"text": "Hola"}), 404)["field"] == "id"
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_note_is_never_delivered(api, desk, outbox, django_capture_on_commit_callbacks):
    conversation = receive(desk, build_mail())
    with django_capture_on_commit_callbacks(execute=True):
        note = ok(api.post(f"/conversations/{conversation.pk}/notes",
                           {"text": "Cliente VIP, prioridad."}), 201)
    assert note["direction"] == "note" and note["delivery"] is None
    assert note["author"] == {"kind": "agent", "id": desk.ana.pk, "name": "Ana García"}
    assert not outbox.exists() or not list(outbox.iterdir())
    assert Event.objects.filter(conversation=conversation, kind="note.added",
                                message_id=note["id"]).exists()
    assert error(api.post(f"/conversations/{conversation.pk}/notes", {"text": ""}),
                 400)["field"] == "text"


def test_a_failed_reply_can_be_retried(api, desk, outbox, settings,
                                       django_capture_on_commit_callbacks):
    conversation = receive(desk, build_mail())
    settings.MOSTRADOR = {**settings.MOSTRADOR, "SMTP_URL": "carrier-pigeon://nowhere"}
    with django_capture_on_commit_callbacks(execute=True):
        failed = ok(api.post(f"/conversations/{conversation.pk}/reply", {"text": "Hola"}), 201)
    retry = f"/conversations/{conversation.pk}/messages/{failed['id']}/retry"
    (listed,) = [m for m in ok(api.get(f"/conversations/{conversation.pk}/messages"))["items"]
                 if m["id"] == failed["id"]]
    assert listed["delivery"]["status"] == "failed"
    assert "SMTP URL" in listed["delivery"]["error"]

    settings.MOSTRADOR = {**settings.MOSTRADOR, "SMTP_URL": ""}
    with django_capture_on_commit_callbacks(execute=True):
        again = ok(api.post(retry))
        assert again["delivery"]["status"] == "queued"
    assert Message.objects.get(pk=failed["id"]).delivery_status == "sent"
    assert len(list(outbox.glob("*.eml"))) == 1
    assert error(api.post(retry), 409)["field"] == "message"

    other = actions.do_create_conversation(inbox=desk.inbox, customer=desk.frank, subject="x",
                                           text="y")
    body = error(api.post(f"/conversations/{other.pk}/messages/{failed['id']}/retry"), 404)
    assert body["field"] == "message"


def test_replying_in_a_merged_conversation_is_a_conflict(api, desk):
    first = actions.do_create_conversation(inbox=desk.inbox, customer=desk.elena, subject="a",
                                           text="a")
    second = actions.do_create_conversation(inbox=desk.inbox, customer=desk.elena,
                                            subject="b", text="b")
    actions.do_merge_conversations(second, first, acting_user=desk.ana)
    body = error(api.post(f"/conversations/{second.pk}/reply", {"text": "Hola"}), 409)
    assert f"#{first.pk}" in body["detail"]
