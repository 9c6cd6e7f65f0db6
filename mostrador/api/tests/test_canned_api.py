"""Canned replies over HTTP: create, list and search, read, change, delete, with the rights
of each persona, and a reply rendered for a conversation in the language it calls for."""

from __future__ import annotations

import pytest

from mostrador.api.tests.conftest import error, ok
from mostrador.automation.models import CannedReply
from mostrador.conversations import actions

BODIES = {
    "es": "Hola {{ customer.first_name }}, soy {{ agent.first_name }} (#{{ conversation.id }}).",
    "en": "Hi {{ customer.first_name }}, {{ agent.first_name }} here (#{{ conversation.id }}).",
}


@pytest.fixture
def carla(client_for, desk):
    return client_for(desk.carla)


@pytest.fixture
def beto(client_for, desk):
    return client_for(desk.beto)


@pytest.fixture
def shared(carla) -> dict:
    return ok(carla.post("/canned-replies", {"title": "Greeting", "shortcut": "hello",
                                              "bodies": BODIES, "shared": True}), 201)


def test_create_read_change_and_delete_a_personal_reply(api, desk):
    created = ok(api.post("/canned-replies", {"title": "Sign-off", "shortcut": "/Bye",
                                              "bodies": {"es": "Un saludo"}}), 201)
    assert {k: created[k] for k in ("title", "shortcut", "bodies", "shared", "owner",
                                    "editable", "used_count")} == {
        "title": "Sign-off", "shortcut": "bye", "bodies": {"es": "Un saludo"}, "shared": False,
        "owner": desk.ana.pk, "editable": True, "used_count": 0}
    reply_id = created["id"]
    assert ok(api.get(f"/canned-replies/{reply_id}"))["title"] == "Sign-off"

    # bodies changes the languages it names and keeps the other; "" removes one.
    changed = ok(api.patch(f"/canned-replies/{reply_id}",
                           {"title": "Sign-off (es/en)", "bodies": {"en": "Regards"}}))
    assert changed["bodies"] == {"es": "Un saludo", "en": "Regards"}
    assert changed["title"] == "Sign-off (es/en)" and changed["shortcut"] == "bye"
    changed = ok(api.patch(f"/canned-replies/{reply_id}", {"bodies": {"es": ""}}))
    assert changed["bodies"] == {"en": "Regards"}

    response = api.delete(f"/canned-replies/{reply_id}")
    assert response.status_code == 204
    assert error(api.get(f"/canned-replies/{reply_id}"), 404)["field"] == "id"


def test_shared_replies_are_for_supervisors_to_change(api, carla, shared):
    assert (shared["shared"], shared["owner"], shared["editable"]) == (True, None, True)
    body = error(api.post("/canned-replies", {"title": "For all", "bodies": {"en": "x"},
                                              "shared": True}), 403)
    assert body["field"] == "shared"
    listed = ok(api.get("/canned-replies"))["items"]
    assert [(r["title"], r["editable"]) for r in listed] == [("Greeting", False)]
    error(api.patch(f"/canned-replies/{shared['id']}", {"title": "Mine"}), 403)
    error(api.delete(f"/canned-replies/{shared['id']}"), 403)
    assert ok(carla.patch(f"/canned-replies/{shared['id']}", {"title": "Hello"}))["title"] == (
        "Hello")
    # Made personal, it disappears for everyone else.
    assert ok(carla.patch(f"/canned-replies/{shared['id']}", {"shared": False}))["shared"] is (
        False)
    assert ok(api.get("/canned-replies"))["items"] == []


def test_nobody_sees_anothers_personal_reply(api, beto):
    mine = ok(api.post("/canned-replies", {"title": "Ana's", "bodies": {"es": "x"}}), 201)
    for call in (beto.get(f"/canned-replies/{mine['id']}"),
                 beto.patch(f"/canned-replies/{mine['id']}", {"title": "Beto's"}),
                 beto.delete(f"/canned-replies/{mine['id']}"),
                 beto.get("/canned-replies/999999")):
        assert error(call, 404) == {"detail": call.json()["detail"], "field": "id"}
    assert error(beto.get(f"/canned-replies/{mine['id']}"), 404)["detail"] == (
        error(beto.get("/canned-replies/999999"), 404)["detail"].replace("999999",
                                                                        str(mine["id"])))
    assert ok(beto.get("/canned-replies"))["items"] == []


def test_list_and_search(api, carla, shared):
    ok(carla.post("/canned-replies", {"title": "Refund sent", "shortcut": "refund",
                                      "bodies": {"es": "Te hemos devuelto el importe.",
                                                 "en": "We refunded you."},
                                      "shared": True}), 201)
    ok(api.post("/canned-replies", {"title": "Ana's notes", "bodies": {"es": "importe"}}), 201)

    def titles(**params):
        return [r["title"] for r in ok(api.get("/canned-replies", params))["items"]]

    assert titles() == ["Ana's notes", "Greeting", "Refund sent"]
    assert titles(q="importe") == ["Ana's notes", "Refund sent"]
    assert titles(q="importe", language="en") == []
    assert titles(q="/ref") == ["Refund sent"]
    assert error(api.get("/canned-replies", {"language": "fr"}), 400)["field"] == "language"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"title": "", "bodies": {"es": "x"}}, 400, "title"),
    ({"title": "x", "bodies": {}}, 400, "bodies"),
    ({"title": "x", "bodies": {"en": "Hi {{ customer.password }"}}, 400, "bodies.en"),
    ({"title": "x", "bodies": {"en": "{{ conversation.customer.user.password }}"}}, 400,
     "bodies.en"),
    ({"title": "x", "bodies": {"es": "x"}, "shortcut": "a b"}, 400, "shortcut"),
    ({"title": "x", "bodies": {"es": "x"}, "owner": 3}, 400, "owner"),
    ({"title": "x", "bodies": {"es": "x"}, "shortcut": "hello"}, 409, "shortcut"),
])
def test_bad_input_is_refused_naming_the_field(api, shared, body, status, field):
    assert error(api.post("/canned-replies", body), status)["field"] == field
    assert CannedReply.objects.count() == 1


def test_nulls_are_refused_in_a_patch(carla, shared):
    for field in ("title", "bodies", "shortcut", "shared"):
        assert error(carla.patch(f"/canned-replies/{shared['id']}", {field: None}),
                     400)["field"] == field


# --- rendering for a conversation -----------------------------------------------------------


@pytest.fixture
def conversation(desk):
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=desk.elena, subject="Pedido", text="¿Dónde está?",
        acting_user=None)
    conversation.language = "es"
    conversation.save(update_fields=["language"])
    return conversation


def test_render_for_a_conversation(api, beto, desk, shared, conversation):
    url = f"/conversations/{conversation.pk}/canned-replies/{shared['id']}/render"
    assert ok(api.post(url)) == {
        "text": f"Hola Elena, soy Ana (#{conversation.pk}).", "language": "es"}
    assert ok(beto.post(url, {"language": "en"})) == {
        "text": f"Hi Elena, Beto here (#{conversation.pk}).", "language": "en"}
    assert ok(api.post(url, {}))["language"] == "es"
    assert ok(api.get(f"/canned-replies/{shared['id']}"))["used_count"] == 3
    # Nothing was sent: the conversation has only the customer's message.
    assert conversation.messages.count() == 1


def test_render_checks_the_conversation_the_reply_and_the_language(api, beto, shared,
                                                                   conversation):
    mine = ok(api.post("/canned-replies", {"title": "Ana's", "bodies": {"es": "x"}}), 201)
    base = f"/conversations/{conversation.pk}/canned-replies"
    assert error(api.post(f"/conversations/999999/canned-replies/{shared['id']}/render"),
                 404)["field"] == "id"
    assert error(beto.post(f"{base}/{mine['id']}/render"), 404)["field"] == "reply_id"
    assert error(api.post(f"{base}/{shared['id']}/render", {"language": "fr"}),
                 400)["field"] == "language"
    assert error(api.post(f"{base}/{shared['id']}/render", {"lang": "es"}), 400)["field"] == (
        "lang")
    assert error(api.get(f"{base}/{shared['id']}/render"), 405)
