"""Inboxes through the API: secrets never leave."""

from __future__ import annotations

from mostrador.api.tests.conftest import error, ok
from mostrador.conversations.models import Inbox

VENTAS = {
    "name": "Ventas", "channel_kind": "email",
    "config": {"address": "Ventas@Desk.Example.com", "from_name": "Ventas",
               "smtp_url": "smtp://ventas:s3cr3t-relay@mail.example.com:587?starttls=1",
               "imap": {"host": "imap.example.com", "username": "ventas",
                        "password": "s3cr3t-imap"}},
}


def test_supervisor_connects_an_inbox_and_secrets_are_masked(client_for, desk):
    carla = client_for(desk.carla)
    created = ok(carla.post("/inboxes", {**VENTAS, "default_team": desk.team_l1.pk}), 201)
    assert created["name"] == "Ventas"
    assert created["default_team"] == {"id": desk.team_l1.pk, "name": "Soporte L1"}
    config = created["config"]
    assert config["address"] == "ventas@desk.example.com"  # normalised by the adapter
    assert config["imap"]["password"] == "********"
    assert config["smtp_url"] == "smtp://ventas:********@mail.example.com:587?starttls=1"
    for response in (carla.get(f"/inboxes/{created['id']}"), carla.get("/inboxes")):
        assert "s3cr3t" not in response.content.decode()
    # Stored in full, for the channel to use.
    stored = Inbox.objects.get(pk=created["id"]).config
    assert stored["imap"]["password"] == "s3cr3t-imap"


def test_list_and_read_inboxes(api, desk):
    items = ok(api.get("/inboxes"))["items"]
    assert [(i["id"], i["channel_kind"]) for i in items] == [(desk.inbox.pk, "email")]
    assert ok(api.get(f"/inboxes/{desk.inbox.pk}"))["name"] == "Soporte"
    assert error(api.get("/inboxes/999999"), 404)["field"] == "inbox"


def test_agents_may_not_create_inboxes(api, desk):
    body = error(api.post("/inboxes", VENTAS), 403)
    assert "supervisors" in body["detail"]
    assert not Inbox.objects.filter(name="Ventas").exists()


def test_a_config_the_channel_refuses_is_a_400_naming_the_setting(client_for, desk):
    diego = client_for(desk.diego)
    body = error(diego.post("/inboxes", {**VENTAS, "config": {"address": "not-an-address"}}),
                 400)
    assert body["field"] == "config.address"
    assert "not an e-mail address" in body["detail"]
    body = error(diego.post("/inboxes", {**VENTAS, "config": {"address": "a@b.es",
                                                               "colour": "red"}}), 400)
    assert body["field"] == "config.colour"
    body = error(diego.post("/inboxes", {**VENTAS, "config": {}}), 400)
    assert body["field"] == "config.address"
    body = error(diego.post("/inboxes", {**VENTAS, "channel_kind": "pigeon"}), 400)
    assert body["field"] == "channel_kind" and "email" in body["detail"]
    body = error(diego.post("/inboxes", {**VENTAS, "name": "  "}), 400)
    assert body["field"] == "name"
    assert error(diego.post("/inboxes", {**VENTAS, "default_team": 999_999}),
                 400)["field"] == "default_team"
