"""Customers through the API."""

from __future__ import annotations

from mostrador.api.tests.conftest import error, ok
from mostrador.conversations.actions import do_create_conversation
from mostrador.customers.models import Customer, Organisation


def test_create_then_read_a_customer_with_identities(api, desk):
    acme = Organisation.objects.create(name="Acme", domains=["acme.es"])
    created = ok(api.post("/customers", {
        "name": "Lucía Pérez", "language": "es", "attributes": {"plan": "pro"},
        "segments": ["vip"], "organisation": acme.pk,
        "identities": [{"kind": "email", "external_id": "Lucia@Acme.es"},
                       {"kind": "phone", "external_id": "+34 600 11 22 33"}],
    }), 201)
    assert created["name"] == "Lucía Pérez"
    assert created["organisation"] == {"id": acme.pk, "name": "Acme"}
    assert [(i["kind"], i["external_id"]) for i in created["identities"]] == [
        ("email", "lucia@acme.es"), ("phone", "+34600112233")]
    read = ok(api.get(f"/customers/{created['id']}"))
    assert read == created
    assert read["attributes"] == {"plan": "pro"} and read["segments"] == ["vip"]


def test_creating_a_customer_with_a_taken_identity_is_a_conflict(api, desk):
    body = error(api.post("/customers", {"name": "Otra Elena", "identities": [
        {"kind": "email", "external_id": "elena.martin@correo.es"}]}), 409)
    assert body["field"] == "external_id"
    body = error(api.post("/customers", {"identities": [{"kind": "fax",
                                                         "external_id": "1"}]}), 400)
    assert body["field"] == "kind"


def test_list_searches_name_and_identity_and_pages_by_cursor(api, desk):
    for n in range(5):
        ok(api.post("/customers", {"name": f"Cliente {n}", "identities": [
            {"kind": "email", "external_id": f"cliente{n}@tienda.es"}]}), 201)
    found = ok(api.get("/customers", {"q": "frank.miller@"}))["items"]
    assert [c["name"] for c in found] == ["Frank Miller"]
    found = ok(api.get("/customers", {"q": "elena"}))["items"]
    assert [c["name"] for c in found] == ["Elena Martín"]

    seen, cursor = [], None
    while True:
        page = ok(api.get("/customers", {"limit": 2, **({"cursor": cursor} if cursor else {})}))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    assert error(api.get("/customers", {"cursor": "bm9wZQ"}), 400)["field"] == "cursor"


def test_patch_changes_only_what_is_given(api, desk):
    path = f"/customers/{desk.elena.pk}"
    changed = ok(api.patch(path, {"language": "es", "attributes": {"plan": "basic"}}))
    assert changed["name"] == "Elena Martín"
    assert (changed["language"], changed["attributes"]) == ("es", {"plan": "basic"})
    assert desk.elena.events.filter(kind="customer.updated").count() == 1
    assert error(api.patch(path, {"organisation": 999_999}), 400)["field"] == "organisation"
    assert error(api.patch("/customers/999999", {"name": "x"}), 404)["field"] == "id"


def test_add_identity(api, desk):
    added = ok(api.post(f"/customers/{desk.elena.pk}/identities",
                        {"kind": "phone", "external_id": "600 123 456"}), 201)
    assert added["kind"] == "phone" and added["external_id"] == "+600123456"
    body = error(api.post(f"/customers/{desk.elena.pk}/identities",
                          {"kind": "email", "external_id": "frank.miller@example.org"}), 409)
    assert "merge" in body["detail"]


def test_merge_moves_identities_and_conversations(api, desk):
    duplicate = ok(api.post("/customers", {"name": "E. Martín", "identities": [
        {"kind": "email", "external_id": "elena@trabajo.es"}]}), 201)
    conversation = do_create_conversation(
        inbox=desk.inbox, customer=Customer.objects.get(pk=duplicate["id"]),
        subject="Factura", text="¿Me mandáis la factura?")
    merged = ok(api.post(f"/customers/{duplicate['id']}/merge", {"into": desk.elena.pk}))
    assert merged["id"] == desk.elena.pk
    assert {i["external_id"] for i in merged["identities"]} == {
        "elena.martin@correo.es", "elena@trabajo.es"}
    assert ok(api.get(f"/customers/{duplicate['id']}"))["merged_into"] == desk.elena.pk
    page = ok(api.get(f"/customers/{desk.elena.pk}/conversations"))
    assert [c["id"] for c in page["items"]] == [conversation.pk]
    assert error(api.post(f"/customers/{desk.elena.pk}/merge", {"into": desk.elena.pk}),
                 400)["field"] == "into"
    assert error(api.post(f"/customers/{desk.frank.pk}/merge", {"into": 999_999}),
                 404)["field"] == "into"
    # A merged duplicate is left out of the list.
    listed = [c["id"] for c in ok(api.get("/customers"))["items"]]
    assert duplicate["id"] not in listed
