"""Raw inbound payloads through the API: list the quarantine, download, process again."""

from __future__ import annotations

from mostrador.api.tests.conftest import error, ok
from mostrador.channels.email.adapter import forget_inboxes
from mostrador.conversations import actions
from mostrador.conversations.models import Inbox, RawInbound
from mostrador.core.testing import build_mail


def quarantine_unroutable(desk) -> RawInbound:
    """A mail to an address no inbox claims (the desk's inbox stops being the catch-all)."""
    Inbox.objects.filter(pk=desk.inbox.pk).update(config={**desk.inbox.config,
                                                          "catch_all": False})
    forget_inboxes()
    raw = actions.store_raw("email", build_mail(to="ventas@otra-empresa.es"), inbox=None,
                            source="smtp")
    assert actions.process_raw(raw).outcome == "quarantined"
    return raw


def test_supervisors_list_the_quarantine_with_errors(client_for, desk):
    raw = quarantine_unroutable(desk)
    fine = actions.store_raw("email", build_mail(), inbox=desk.inbox, source="smtp")
    actions.process_raw(fine)
    carla = client_for(desk.carla)
    items = ok(carla.get("/raw-inbound", {"status": "quarantined"}))["items"]
    assert [r["id"] for r in items] == [raw.pk]
    (item,) = items
    assert (item["channel"], item["source"], item["status"]) == ("email", "smtp",
                                                                 "quarantined")
    assert item["size"] == len(bytes(raw.payload)) and item["attempts"] == 1
    assert "No inbox accepts" in item["error"]
    assert {r["id"] for r in ok(carla.get("/raw-inbound"))["items"]} == {raw.pk, fine.pk}
    assert error(carla.get("/raw-inbound", {"status": "lost"}), 400)["field"] == "status"
    page = ok(carla.get("/raw-inbound", {"limit": 1}))
    assert [r["id"] for r in page["items"]] == [fine.pk]
    page = ok(carla.get("/raw-inbound", {"limit": 1, "cursor": page["next_cursor"]}))
    assert [r["id"] for r in page["items"]] == [raw.pk] and page["next_cursor"] is None


def test_agents_may_not_see_raw_payloads(api, desk):
    raw = quarantine_unroutable(desk)
    assert error(api.get("/raw-inbound"), 403)["field"] is None
    error(api.get(f"/raw-inbound/{raw.pk}/payload"), 403)
    error(api.post(f"/raw-inbound/{raw.pk}/reprocess"), 403)


def test_payload_is_the_exact_bytes_as_rfc822(client_for, desk):
    raw = quarantine_unroutable(desk)
    response = client_for(desk.diego).get(f"/raw-inbound/{raw.pk}/payload")
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="raw-{raw.pk}.eml"'
    assert response.content == bytes(raw.payload)
    assert error(client_for(desk.diego).get("/raw-inbound/999999/payload"), 404)["field"] == "id"


def test_reprocess_on_a_chosen_inbox(client_for, desk):
    raw = quarantine_unroutable(desk)
    carla = client_for(desk.carla)
    again = ok(carla.post(f"/raw-inbound/{raw.pk}/reprocess"))
    assert again["outcome"] == "quarantined" and again["raw"]["attempts"] == 2

    done = ok(carla.post(f"/raw-inbound/{raw.pk}/reprocess", {"inbox": desk.inbox.pk}))
    assert done["outcome"] == "created" and done["conversation"] and done["message"]
    assert done["raw"]["status"] == "processed" and done["raw"]["inbox"] == desk.inbox.pk
    conversation = ok(carla.get(f"/conversations/{done['conversation']}"))
    assert conversation["customer"]["id"] == desk.elena.pk

    repeat = ok(carla.post(f"/raw-inbound/{raw.pk}/reprocess"))
    assert repeat["outcome"] == "duplicate"
    assert error(carla.post(f"/raw-inbound/{raw.pk}/reprocess", {"inbox": 999_999}),
                 404)["field"] == "inbox"
    assert error(carla.post("/raw-inbound/999999/reprocess"), 404)["field"] == "id"
