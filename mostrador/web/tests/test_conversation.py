"""The conversation page: the thread in one timeline, replying, notes with mentions, the
properties panel, merge and split, moving through the list, and attachment downloads."""

from __future__ import annotations

import re
import zoneinfo
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from mostrador.accounts.actions import do_update_agent
from mostrador.channels.base import InboundAttachment, InboundMessage, SkippedAttachment
from mostrador.conversations import actions, events
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.web.conversation import timeline

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path / "outbox")}


def frank_writes(desk, provider_id: str, text: str, *, reply_text: str = "", subject: str = "",
                 html: str = "", references=(), attachments=(), skipped=()) -> Message:
    inbound = InboundMessage(
        sender_kind="email", sender_id="frank.miller@example.org", sender_name="Frank Miller",
        provider_id=provider_id, subject=subject, text=text, html=html,
        reply_text=reply_text or text, references=list(references),
        attachments=list(attachments), skipped_attachments=list(skipped))
    return actions.receive_inbound(desk.inbox, inbound).message


@pytest.fixture
def conversation(desk, django_capture_on_commit_callbacks) -> Conversation:
    """Frank's invoice question with attachments, a quoted history and an HTML part; Ana's
    answer; a failed reply; a note mentioning Beto; assignment, tags and a status change."""
    first = frank_writes(
        desk, "<f1@example.org>",
        "I was charged twice for invoice 2291.\n\n> On Monday you wrote:\n> Thanks",
        reply_text="I was charged twice for invoice 2291.",
        subject="Charged twice for invoice 2291",
        html="<p>I was charged <b>twice</b></p><script>alert(1)</script>",
        attachments=[InboundAttachment("receipt.png", "image/png", PNG),
                     InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
                     InboundAttachment("data.zip", "application/zip", b"PK\x03\x04zip")],
        skipped=[SkippedAttachment("video.mov", "video/quicktime", 40_000_000,
                                   "larger than the 25 MB limit")])
    conversation = first.conversation
    actions.do_assign(conversation, desk.ana, acting_user=desk.carla)
    actions.do_add_tags(conversation, ["billing"], acting_user=desk.ana)
    with django_capture_on_commit_callbacks(execute=True):  # delivered to the outbox
        actions.do_send_reply(conversation, "We refunded the second charge.",
                              acting_user=desk.ana)
    failed = actions.do_send_reply(conversation, "Here is the credit note.", acting_user=desk.ana)
    actions.do_mark_failed(failed, "550 mailbox unavailable")
    actions.do_add_note(conversation, "@beto can you check the ledger?", acting_user=desk.ana)
    conversation.refresh_from_db()
    return conversation


def page(client, conversation, **params) -> str:
    url = reverse("web:conversation", args=[conversation.pk])
    response = client.get(url + ("?" + urlencode(params) if params else ""))
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def test_the_page_needs_a_signed_in_agent(client, desk, conversation):
    url = reverse("web:conversation", args=[conversation.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    bare = get_user_model().objects.create_user("bare@desk.example.com", password="x",
                                                is_staff=True)
    client.force_login(bare)
    assert client.get(url).status_code == 403
    client.force_login(desk.ana)
    assert client.get(reverse("web:conversation", args=[conversation.pk + 999])).status_code == 404


def test_the_thread_shows_messages_notes_and_events_in_time_order(client, desk, conversation):
    client.force_login(desk.ana)
    html = page(client, conversation)

    order = [html.index(text) for text in (
        "I was charged twice for invoice 2291.",
        "assigned the conversation to Ana García",
        "added tags billing",
        "We refunded the second charge.",
        "Here is the credit note.",
        "Delivery of a reply failed: 550 mailbox unavailable",
        'class="mention">@beto</span> can you check the ledger?',
    )]
    assert order == sorted(order)
    assert 'class="msg msg-inbound"' in html
    assert 'class="msg msg-outbound"' in html
    assert 'class="msg msg-note"' in html
    # The folded history is behind "Show original"; customer HTML only inside a sandbox.
    assert "Show original" in html
    assert "&gt; On Monday you wrote:" in html
    assert 'sandbox=""' in html and "srcdoc=" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Delivery: one sent, one failed with the reason and a way to send it again.
    assert "delivery-sent" in html and "delivery-failed" in html
    assert "Send again" in html
    # Customer link and the channel the reply goes out on.
    assert reverse("web:customer", args=[conversation.customer_id]) in html
    assert '<option value="email" selected>E-mail</option>' in html


def test_attachments_are_listed_with_previews_and_skipped_ones_explained(client, desk,
                                                                         conversation):
    client.force_login(desk.ana)
    html = page(client, conversation)
    files = {a.filename: a for a in Message.objects.get(
        conversation=conversation, direction="inbound").attachments.all()}
    image_url = reverse("web:attachment", args=[files["receipt.png"].pk])
    assert f'<img class="thumb" src="{image_url}" alt="receipt.png"' in html
    pdf_url = reverse("web:attachment", args=[files["invoice.pdf"].pk])
    assert re.search(rf'<a href="{pdf_url}" target="_blank" rel="noopener">invoice.pdf</a>', html)
    zip_url = reverse("web:attachment", args=[files["data.zip"].pk])
    assert f'<a href="{zip_url}" download>data.zip</a>' in html
    assert "video.mov (38.1\xa0MB) was not kept: larger than the 25 MB limit" in html


def test_attachment_downloads_check_access_and_never_run_in_our_origin(client, desk,
                                                                       conversation):
    files = {a.filename: a for a in Message.objects.get(
        conversation=conversation, direction="inbound").attachments.all()}
    url = reverse("web:attachment", args=[files["receipt.png"].pk])
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(desk.beto)

    image = client.get(url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline")
    assert image["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content) == PNG

    pdf = client.get(reverse("web:attachment", args=[files["invoice.pdf"].pk]))
    assert b"".join(pdf.streaming_content) == b"%PDF-1.4 test"  # consumed: closed
    assert pdf["Content-Disposition"].startswith("inline")
    archive = client.get(reverse("web:attachment", args=[files["data.zip"].pk]))
    assert b"".join(archive.streaming_content) == b"PK\x03\x04zip"
    assert archive["Content-Disposition"] == 'attachment; filename="data.zip"'
    assert client.get(reverse("web:attachment", args=[999_999])).status_code == 404


def test_times_are_shown_in_the_agents_time_zone(client, desk, conversation):
    do_update_agent(desk.ana.agent, time_zone="America/Mexico_City")
    client.force_login(desk.ana)
    html = page(client, conversation)
    created = conversation.created_at.astimezone(zoneinfo.ZoneInfo("America/Mexico_City"))
    assert f'datetime="{created.isoformat(timespec="seconds")}' in html or (
        f'datetime="{created.strftime("%Y-%m-%dT%H:%M")}' in html)
    assert "-06:00" in html


def thread_of(desk, messages: int, name: str = "t") -> Conversation:
    """A thread of ``messages`` messages: inbound, outbound and notes in turn, with events
    and an attachment every few messages."""
    first = frank_writes(desk, f"<{name}0@example.org>", "Message 0", subject="Long thread",
                         attachments=[InboundAttachment("a.png", "image/png", PNG)])
    conversation = first.conversation
    for i in range(1, messages):
        if i % 3 == 1:
            actions.do_send_reply(conversation, f"Reply {i}", acting_user=desk.ana)
        elif i % 3 == 2:
            actions.do_add_note(conversation, f"Note {i} for @beto", acting_user=desk.ana)
        else:
            frank_writes(desk, f"<{name}{i}@example.org>", f"Message {i}",
                         references=[f"<{name}0@example.org>"],
                         attachments=[InboundAttachment(f"{i}.png", "image/png", PNG)])
        if i % 20 == 0:
            actions.do_change_priority(conversation, 1 + i % 4, acting_user=desk.carla)
            actions.do_add_tags(conversation, [f"t{i}"], acting_user=desk.carla)
    conversation.refresh_from_db()
    return conversation


def test_the_page_costs_the_same_queries_for_3_and_200_messages(client, desk,
                                                                django_assert_num_queries):
    short, long = thread_of(desk, 3, "short"), thread_of(desk, 200, "long")
    assert Message.objects.filter(conversation=long).count() == 200
    client.force_login(desk.ana)
    page(client, short)  # warm the session and caches

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for conversation in (short, long):
        with CaptureQueriesContext(connection) as queries:
            html = page(client, conversation)
        counts.append(len(queries))
        assert html.count('class="msg ') == Message.objects.filter(
            conversation=conversation).count()
    assert counts[0] == counts[1], counts
    # Session, user, agent, conversation, agents, teams, messages, attachments, events, tags,
    # identities, follow-ups.
    # 12 to build the page, 3 to record that the agent read it (savepoint, upsert, release).
    assert counts[0] <= 15


def test_long_threads_show_the_newest_messages_first_and_load_earlier_ones(
        client, desk, monkeypatch):
    monkeypatch.setattr(timeline, "THREAD_LIMIT", 4)
    conversation = thread_of(desk, 10)
    client.force_login(desk.ana)
    html = page(client, conversation)
    assert html.count('class="msg ') == 4
    assert "Show earlier messages" in html
    assert "Reply 7" in html and "Message 0" not in html
    before = re.search(r"timeline/\?before=(\d+)", html).group(1)

    chunk = client.get(reverse("web:conversation_timeline", args=[conversation.pk]),
                       {"before": before}, **HX).content.decode()
    assert chunk.count('class="msg ') == 4
    assert "Reply 4" in chunk and "Reply 7" not in chunk
    # Without script, the same chunk is a page of its own.
    assert "Reply 4" in page(client, conversation, before=before)


# --- replying -------------------------------------------------------------------------------


def test_reply_without_script_redirects_and_sends(client, desk, conversation,
                                                  django_capture_on_commit_callbacks):
    client.force_login(desk.ana)
    url = reverse("web:conversation_reply", args=[conversation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"text": "Refund done.", "channel": "email",
                                     "send": "solved", "from": "status=open"})
    assert response.status_code == 302
    assert response["Location"] == (reverse("web:conversation", args=[conversation.pk])
                                    + "?from=status%3Dopen")
    reply = Message.objects.filter(conversation=conversation, text="Refund done.").get()
    assert reply.delivery_status == "sent"
    assert reply.author_user_id == desk.ana.pk
    conversation.refresh_from_db()
    assert conversation.status == "solved"
    assert "Reply queued; conversation solved." in page(client, conversation)


def test_reply_with_htmx_returns_the_changed_regions(client, desk, conversation):
    client.force_login(desk.ana)
    url = reverse("web:conversation_reply", args=[conversation.pk])
    response = client.post(url, {"text": "We are on it.", "channel": "email",
                                 "send": "pending"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    for region in ("conversation-head", "timeline", "properties", "composer"):
        assert f'id="{region}"' in html
    assert html.count('hx-swap-oob="true"') == 4
    assert "We are on it." in html
    assert "Reply queued; waiting for the customer." in html
    conversation.refresh_from_db()
    assert conversation.status == "pending"


def test_reply_files_go_out_as_attachments(client, desk, conversation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(desk.ana)
    upload = SimpleUploadedFile("label.png", PNG, content_type="image/png")
    client.post(reverse("web:conversation_reply", args=[conversation.pk]),
                {"text": "Your return label.", "channel": "email", "files": [upload]})
    reply = Message.objects.get(conversation=conversation, text="Your return label.")
    assert [a.filename for a in reply.attachments.all()] == ["label.png"]


def test_an_empty_reply_is_refused_next_to_the_box(client, desk, conversation):
    client.force_login(desk.ana)
    url = reverse("web:conversation_reply", args=[conversation.pk])
    response = client.post(url, {"text": "  ", "channel": "email"})
    assert response.status_code == 400
    assert 'id="reply-text-error"' in response.content.decode()
    assert "The reply cannot be empty." in response.content.decode()
    htmx = client.post(url, {"text": "", "channel": "email"}, **HX).content.decode()
    assert "The reply cannot be empty." in htmx
    assert 'id="timeline"' not in htmx
    unknown = client.post(url, {"text": "hi", "channel": "fax"}).content.decode()
    assert "Select a valid choice." in unknown


def test_notes_mention_agents_and_stay_on_the_note_tab(client, desk, conversation):
    client.force_login(desk.ana)
    response = client.post(reverse("web:conversation_note", args=[conversation.pk]),
                           {"text": "@Carla please approve the refund"}, **HX)
    html = response.content.decode()
    note = Message.objects.filter(conversation=conversation, direction="note").latest("id")
    assert note.meta["mentions"] == [desk.carla.pk]
    assert Event.objects.filter(message=note, kind=events.NOTE_MENTIONED,
                                after__user=desk.carla.pk).exists()
    assert 'data-tab="note"' in html
    assert re.search(r'id="panel-reply"[^>]* hidden', html)
    assert not re.search(r'id="panel-note"[^>]* hidden', html)
    assert '<span class="mention">@Carla</span> please approve the refund' in html
    assert "Note added." in html


def test_the_mention_list_offers_active_agents(client, desk, conversation):
    client.force_login(desk.ana)
    html = page(client, conversation)
    data = re.search(r'<script id="mention-agents" type="application/json">(.*?)</script>',
                     html).group(1)
    assert '{"handle": "beto", "name": "Beto Ruiz"}' in data


# --- the properties panel -------------------------------------------------------------------


def set_url(conversation, field):
    return reverse("web:conversation_set", args=[conversation.pk, field])


def test_each_property_changes_through_its_action(client, desk, conversation):
    client.force_login(desk.carla)
    client.post(set_url(conversation, "status"), {"status": "on_hold"}, **HX)
    client.post(set_url(conversation, "priority"), {"priority": "4"}, **HX)
    client.post(set_url(conversation, "assignee"), {"assignee": str(desk.beto.pk)}, **HX)
    client.post(set_url(conversation, "team"), {"team": str(desk.team_l2.pk)}, **HX)
    response = client.post(set_url(conversation, "subject"), {"subject": "Double charge"}, **HX)

    conversation.refresh_from_db()
    assert (conversation.status, conversation.priority, conversation.assignee_id,
            conversation.team_id, conversation.subject) == (
        "on_hold", 4, desk.beto.pk, desk.team_l2.pk, "Double charge")
    kinds = set(Event.objects.filter(conversation=conversation, actor_user=desk.carla)
                .values_list("kind", flat=True))
    assert {events.STATUS_CHANGED, events.PRIORITY_CHANGED, events.ASSIGNEE_CHANGED,
            events.TEAM_CHANGED, events.SUBJECT_CHANGED} <= kinds
    html = response.content.decode()
    assert "Subject changed." in html
    assert "changed the subject to “Double charge”" in html
    assert "moved the conversation to team Soporte L2" in html

    client.post(set_url(conversation, "assignee"), {"assignee": ""}, **HX)
    client.post(set_url(conversation, "team"), {"team": ""}, **HX)
    conversation.refresh_from_db()
    assert conversation.assignee_id is None and conversation.team_id is None


def test_solving_offers_an_undo(client, desk, conversation):
    client.force_login(desk.ana)
    html = client.post(set_url(conversation, "status"), {"status": "solved"},
                       **HX).content.decode()
    assert "Status changed to Solved." in html
    assert re.search(r'name="status" value="open"><input type="hidden" name="undo"', html)
    html = client.post(set_url(conversation, "status"), {"status": "open", "undo": "1"},
                       **HX).content.decode()
    assert "Status set back to Open." in html
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_property_errors_show_next_to_the_field(client, desk, conversation):
    client.force_login(desk.ana)
    actions.do_change_status(conversation, "closed", acting_user=desk.ana)
    response = client.post(set_url(conversation, "status"), {"status": "open"}, **HX)
    html = response.content.decode()
    assert 'id="id_status_error"' in html
    assert "A closed conversation cannot change" in html
    assert 'aria-invalid="true"' in html
    response = client.post(set_url(conversation, "priority"), {"priority": "9"})
    assert response.status_code == 400
    assert 'id="id_priority_error"' in response.content.decode()
    inactive = get_user_model().objects.create_user("gone@desk.example.com", password="x")
    response = client.post(set_url(conversation, "assignee"), {"assignee": str(inactive.pk)})
    assert response.status_code == 400
    assert client.post(set_url(conversation, "colour"), {"colour": "red"}).status_code == 404


def test_tags_and_custom_fields_are_added_and_removed(client, desk, conversation):
    client.force_login(desk.ana)
    tags_url = reverse("web:conversation_tags", args=[conversation.pk])
    client.post(tags_url, {"add": "Refund, VIP"}, **HX)
    assert set(conversation.tags.values_list("name", flat=True)) == {"billing", "refund", "vip"}
    html = client.post(tags_url, {"remove": "billing"}, **HX).content.decode()
    assert set(conversation.tags.values_list("name", flat=True)) == {"refund", "vip"}
    assert "Tag removed: billing." in html
    html = client.post(tags_url, {"add": "x" * 65}, **HX).content.decode()
    assert "Tags are 1 to 64 characters." in html and 'id="id_add_error"' in html

    fields_url = reverse("web:conversation_fields", args=[conversation.pk])
    client.post(fields_url, {"key": "order", "value": "A-2291"}, **HX)
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"order": "A-2291"}
    html = client.post(fields_url, {"remove": "order"}, **HX).content.decode()
    conversation.refresh_from_db()
    assert conversation.custom_fields == {}
    assert "changed custom fields: order removed" in html
    html = client.post(fields_url, {"key": "", "value": "x"}, **HX).content.decode()
    assert "Give the field a name." in html


# --- merge, split, retry --------------------------------------------------------------------


def test_merge_into_another_conversation_of_the_same_customer(client, desk, conversation):
    other = frank_writes(desk, "<other@example.org>", "Also my address",
                         subject="Address").conversation
    client.force_login(desk.ana)
    response = client.post(reverse("web:conversation_merge", args=[conversation.pk]),
                           {"target": str(other.pk)}, **HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("web:conversation", args=[other.pk])
    conversation.refresh_from_db()
    assert conversation.merged_into_id == other.pk
    html = page(client, conversation)
    assert "This conversation was merged into" in html
    assert 'id="panel-reply"' not in html


def test_merge_refusals_are_shown(client, desk, conversation):
    elenas = actions.receive_inbound(desk.inbox, InboundMessage(
        sender_kind="email", sender_id="elena.martin@correo.es", provider_id="<e1@x>",
        subject="Hola", text="Hola", reply_text="Hola")).conversation
    client.force_login(desk.ana)
    url = reverse("web:conversation_merge", args=[conversation.pk])
    html = client.post(url, {"target": str(elenas.pk)}, **HX).content.decode()
    assert "Only conversations of the same customer can be merged" in html
    assert 'id="id_target_error"' in html
    html = client.post(url, {"target": "999999"}).content.decode()
    assert "There is no conversation #999999." in html
    conversation.refresh_from_db()
    assert conversation.merged_into_id is None


def test_split_a_message_into_a_new_conversation(client, desk, conversation):
    later = frank_writes(desk, "<f2@example.org>", "Also: my address changed.",
                         subject="Re: Charged twice", references=["<f1@example.org>"])
    client.force_login(desk.ana)
    html = client.post(reverse("web:conversation_split", args=[conversation.pk, later.pk]),
                       **HX).content.decode()
    later.refresh_from_db()
    assert later.conversation_id != conversation.pk
    assert f"The message is now conversation #{later.conversation_id}." in html
    assert "split a message off into" in html
    assert reverse("web:conversation", args=[later.conversation_id]) in html
    new_page = page(client, later.conversation)
    assert "split this conversation off from" in new_page

    reply = Message.objects.filter(conversation=conversation, direction="outbound").first()
    response = client.post(reverse("web:conversation_split", args=[conversation.pk, reply.pk]))
    assert response.status_code == 400
    assert "Only a customer&#x27;s message can be split off" in response.content.decode()


def test_send_again_requeues_a_failed_reply(client, desk, conversation,
                                           django_capture_on_commit_callbacks):
    failed = Message.objects.get(conversation=conversation, delivery_status="failed")
    client.force_login(desk.ana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:conversation_retry",
                                       args=[conversation.pk, failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.delivery_status == "sent"  # tasks run inline in tests
    html = page(client, conversation)
    assert "sent a failed reply again" in html
    again = client.post(reverse("web:conversation_retry", args=[conversation.pk, failed.pk]),
                        **HX).content.decode()
    assert "Only a failed reply can be sent again." in again


# --- links and moving through the list ------------------------------------------------------


def test_follow_up_links(client, desk, conversation):
    actions.do_change_status(conversation, "closed", acting_user=desk.ana)
    follow_up = frank_writes(desk, "<f9@example.org>", "It happened again",
                             references=["<f1@example.org>"]).conversation
    assert follow_up.follow_up_of_id == conversation.pk
    client.force_login(desk.ana)
    assert f"Follow-up of #{conversation.pk}" in page(client, follow_up)
    html = page(client, conversation)
    link = reverse("web:conversation", args=[follow_up.pk])
    assert re.search(rf'Follow-ups:\s*<a href="{link}">#{follow_up.pk}</a>', html)


def test_next_and_previous_follow_the_list_the_agent_came_from(client, desk):
    conversations = []
    for i in range(4):
        message = frank_writes(desk, f"<n{i}@example.org>", f"Question {i}", subject=f"Q{i}")
        conversations.append(message.conversation)
    actions.do_change_status(conversations[2], "pending", acting_user=desk.ana)
    # Newest activity first: 3, 2, 1, 0 (2 is pending).
    client.force_login(desk.ana)

    def neighbour(conversation, direction, from_query="", json=True):
        url = reverse(f"web:conversation_{direction}", args=[conversation.pk])
        params = {"from": from_query} if from_query else {}
        headers = {"HTTP_ACCEPT": "application/json"} if json else {}
        return client.get(url, params, **headers)

    def target(response):
        url = response.json()["url"]
        return int(re.search(r"/c/(\d+)/", url).group(1)) if url else None

    c0, c1, c2, c3 = conversations
    assert target(neighbour(c3, "next")) == c2.pk
    assert target(neighbour(c2, "previous")) == c3.pk
    assert target(neighbour(c3, "previous")) is None
    assert target(neighbour(c3, "next", "status=new")) == c1.pk
    assert target(neighbour(c1, "previous", "status=new&assignee=none")) == c3.pk
    assert target(neighbour(c0, "next", "status=new")) is None
    # The from list travels on, and a plain link redirects.
    response = neighbour(c3, "next", "status=new", json=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:conversation", args=[c1.pk]) + "?from=status%3Dnew"
    response = neighbour(c0, "next", json=False)
    assert response["Location"] == reverse("web:conversation", args=[c0.pk])
    # Nonsense in the list's address is ignored rather than failing.
    assert target(neighbour(c3, "next", "status=bogus&order=sideways&team=x")) == c2.pk
    assert target(neighbour(c0, "next", "order=last_activity")) == c1.pk


def test_the_page_keeps_the_list_for_shortcuts(client, desk, conversation):
    client.force_login(desk.ana)
    html = page(client, conversation, **{"from": "view=mine&status=open"})
    assert 'data-from="view=mine&amp;status=open"' in html
    assert "?from=view%3Dmine%26status%3Dopen" in html
    assert 'popovertarget="shortcut-help"' in html


def test_spanish_page(client, desk, conversation):
    do_update_agent(desk.ana.agent, language="es")
    client.force_login(desk.ana)
    html = page(client, conversation)
    assert 'lang="es"' in html
    assert timezone.now()  # the page rendered with the Spanish catalogue active
