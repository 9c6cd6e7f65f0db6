import gzip
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mostrador.channels.webchat import actions, limits, views
from mostrador.conversations.models import Attachment, Message

ORIGIN = "https://shop.example.com"


@pytest.fixture
def visitor_token(chat_inbox):
    limits.messages.state.clear()
    return actions.do_start_visitor(chat_inbox)[1]


def test_the_config_answers_allowed_sites_and_refuses_others(client, chat_inbox):
    allowed = client.get("/channels/webchat/wc_test_key/config?lang=en",
                         headers={"Origin": ORIGIN})
    refused = client.get("/channels/webchat/wc_test_key/config",
                         headers={"Origin": "https://elsewhere.example"})
    missing = client.get("/channels/webchat/wc_nope/config")

    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    body = allowed.json()
    assert body["inbox"]["name"] == "Chat" and body["topics"] == ["Pedidos", "Otro"]
    assert body["availability"]["state"] in {"online", "busy", "offline", "closed"}
    assert body["limits"]["max_message_chars"] == 4000
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin"
    assert missing.status_code == 404


def test_the_preflight_names_the_visitor_header(client, chat_inbox):
    response = client.options("/channels/webchat/wc_test_key/messages",
                              headers={"Origin": ORIGIN})
    assert response.status_code == 204
    assert "X-Visitor-Token" in response["Access-Control-Allow-Headers"]


def test_a_file_is_stored_with_its_message_once_and_served_by_its_signed_address(
        client, chat_inbox, visitor_token):
    def post():
        return client.post("/channels/webchat/wc_test_key/messages", {
            "client_id": "up-1", "text": "Aquí la factura",
            "file": SimpleUploadedFile("factura.pdf", b"%PDF-1.4 test", "application/pdf")},
            headers={"Origin": ORIGIN, "X-Visitor-Token": visitor_token})

    first, again = post(), post()

    assert first.status_code == 201 and again.status_code == 200
    message = first.json()["message"]
    assert again.json()["message"]["id"] == message["id"] and again.json()["duplicate"]
    assert Attachment.objects.filter(message_id=message["id"]).count() == 1
    url = message["attachments"][0]["url"]
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == \
        b"%PDF-1.4 test"
    assert client.get(url.replace("/files/", "/files/x")).status_code == 404


def test_bad_uploads_are_refused_with_a_reason(client, chat_inbox, visitor_token):
    config = dict(chat_inbox.config, max_attachment_bytes=10)
    chat_inbox.config = config
    chat_inbox.save(update_fields=["config"])
    headers = {"Origin": ORIGIN, "X-Visitor-Token": visitor_token}

    too_large = client.post("/channels/webchat/wc_test_key/messages", {
        "client_id": "big", "text": "",
        "file": SimpleUploadedFile("big.bin", b"x" * 11, "application/octet-stream")},
        headers=headers)
    stranger = client.post("/channels/webchat/wc_test_key/messages",
                           {"client_id": "x", "text": "hola"},
                           headers={"Origin": ORIGIN, "X-Visitor-Token": "nope"})
    empty = client.post("/channels/webchat/wc_test_key/messages",
                        {"client_id": "e", "text": "  "}, headers=headers)

    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "too_large"
    assert stranger.status_code == 403
    assert empty.status_code == 400
    assert not Message.objects.filter(channel_kind="webchat").exists()


def test_transcript_and_magic_link_endpoints(client, chat_inbox, visitor_token, mailoutbox,
                                             django_capture_on_commit_callbacks):
    headers = {"Origin": ORIGIN, "X-Visitor-Token": visitor_token}
    nothing_yet = client.post("/channels/webchat/wc_test_key/transcript",
                              data=json.dumps({"email": "lucia@example.com"}),
                              content_type="application/json", headers=headers)
    assert nothing_yet.status_code == 400
    client.post("/channels/webchat/wc_test_key/messages", {"client_id": "m1", "text": "Hola"},
                headers=headers)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/channels/webchat/wc_test_key/magic-link",
                           data=json.dumps({"email": "lucia@example.com"}),
                           content_type="application/json", headers=headers)
    assert sent.status_code == 202 and sent.json()["sent_to"] == "lucia@example.com"
    link = mailoutbox[-1].body.split("#mostrador-continue=")[1].split()[0]
    continued = client.post("/channels/webchat/wc_test_key/continue",
                            data=json.dumps({"link": link}), content_type="application/json",
                            headers={"Origin": ORIGIN})
    assert continued.status_code == 200
    assert actions.visitor_for_token(chat_inbox, continued.json()["visitor_token"]) is not None
    broken = client.post("/channels/webchat/wc_test_key/continue", data="{",
                         content_type="application/json")
    assert broken.status_code == 400


def test_the_widget_script_is_small_and_the_hosted_page_loads_it(client, chat_inbox):
    script = client.get("/widget.js")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("text/javascript")
    assert len(gzip.compress(views.WIDGET_PATH.read_bytes(), 9)) < 40 * 1024
    page = client.get("/chat/wc_test_key/")
    assert page.status_code == 200
    assert b'data-inbox="wc_test_key"' in page.content
    assert client.get("/chat/wc_nope/").status_code == 404
