"""Automation through the API: triggers in their order, time rules, macros shared and
personal applied to a conversation, and the rule language's schema."""

from __future__ import annotations

import pytest
from django.test import Client

from mostrador.api.tests.conftest import error, ok
from mostrador.automation.models import Macro, TimeRule, Trigger
from mostrador.conversations.models import Conversation, Message

REFUNDS = {"name": "Reembolsos", "events": ["conversation.created"],
           "conditions": {"all": [{"field": "text", "op": "contains",
                                   "value": ["reembolso", "refund"]}]},
           "actions": [{"type": "set_priority", "value": 3},
                       {"type": "add_tags", "value": ["reembolso"]}]}
CHASE = {"name": "Recordar al cliente", "status": "pending", "hours": 48,
         "actions": [{"type": "add_note", "value": "Sin respuesta en 48 horas"}]}
ASK_ORDER = {"name": "Pedir número de pedido",
             "actions": [{"type": "reply", "value": {"es": "Hola {{ customer.first_name }}, "
                                                           "¿nos das el número de pedido?",
                                                     "en": "Hi, what is your order number?"}},
                         {"type": "set_status", "value": "pending"},
                         {"type": "add_tags", "value": ["falta-dato"]}]}


@pytest.fixture
def carla(client_for, desk):
    return client_for(desk.carla)


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run what a request does after commit (triggers) as a real one would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def open_conversation(api, desk, text="Hola, necesito ayuda con mi pedido") -> dict:
    return ok(api.post("/conversations", {"inbox": desk.inbox.pk, "customer": desk.elena.pk,
                                          "subject": "Pedido 4411", "text": text}), 201)


def names(body: dict) -> list[str]:
    return [item["name"] for item in body["items"]]


# --- triggers -------------------------------------------------------------------------------


def test_a_trigger_made_over_the_api_fires(carla, api, desk, run_commits):
    with run_commits():
        created = ok(carla.post("/triggers", {**REFUNDS, "description": "A facturación"}),
                     201)
    assert (created["name"], created["description"], created["active"]) == (
        "Reembolsos", "A facturación", True)
    assert created["events"] == ["conversation.created"]
    assert created["conditions"] == {"all": REFUNDS["conditions"]["all"], "any": []}
    assert created["actions"] == REFUNDS["actions"]
    assert created["created_by"] == {"id": desk.carla.pk, "name": "Carla Méndez"}
    assert (created["fired_count"], created["last_fired_at"]) == (0, None)
    assert ok(api.get(f"/triggers/{created['id']}")) == created

    with run_commits():
        refund = open_conversation(api, desk, "Quiero un reembolso, por favor")
        other = open_conversation(api, desk)
    assert ok(api.get(f"/conversations/{refund['id']}"))["tags"] == ["reembolso"]
    assert Conversation.objects.get(pk=refund["id"]).priority == 3
    assert ok(api.get(f"/conversations/{other['id']}"))["tags"] == []
    assert ok(api.get(f"/triggers/{created['id']}"))["fired_count"] == 1


def test_triggers_change_and_move_in_their_order(carla, desk):
    first = ok(carla.post("/triggers", {**REFUNDS, "name": "Primero"}), 201)
    second = ok(carla.post("/triggers", {**REFUNDS, "name": "Segundo"}), 201)
    third = ok(carla.post("/triggers", {**REFUNDS, "name": "Tercero"}), 201)
    assert names(ok(carla.get("/triggers"))) == ["Primero", "Segundo", "Tercero"]
    assert first["position"] < second["position"] < third["position"]

    moved = ok(carla.post(f"/triggers/{third['id']}/move", {"direction": "up"}))
    assert names(moved) == ["Primero", "Tercero", "Segundo"]
    assert names(ok(carla.post(f"/triggers/{first['id']}/move", {"direction": "up"}))) == [
        "Primero", "Tercero", "Segundo"]  # already first
    assert names(ok(carla.post(f"/triggers/{first['id']}/move", {"direction": "down"}))) == [
        "Tercero", "Primero", "Segundo"]
    assert names(ok(carla.get("/triggers"))) == ["Tercero", "Primero", "Segundo"]
    assert error(carla.post(f"/triggers/{first['id']}/move", {"direction": "left"}),
                 400)["field"] == "direction"

    changed = ok(carla.patch(f"/triggers/{second['id']}", {
        "active": False, "events": ["message.received", "conversation.created"],
        "conditions": {"any": [{"field": "priority", "op": "gte", "value": 3}]}}))
    assert changed["active"] is False
    # Events keep the order the choices are listed in.
    assert changed["events"] == ["conversation.created", "message.received"]
    assert changed["conditions"] == {"all": [], "any": [{"field": "priority", "op": "gte",
                                                         "value": 3}]}
    assert changed["actions"] == REFUNDS["actions"] and changed["name"] == "Segundo"
    assert ok(carla.patch(f"/triggers/{second['id']}", {})) == ok(
        carla.get(f"/triggers/{second['id']}"))

    assert carla.delete(f"/triggers/{first['id']}").status_code == 204
    assert error(carla.get(f"/triggers/{first['id']}"), 404)["field"] == "trigger"
    assert list(Trigger.objects.order_by("position").values_list("name", flat=True)) == [
        "Tercero", "Segundo"]


def test_invalid_triggers_are_400s_naming_the_field(carla):
    def refused(body: dict) -> dict:
        return error(carla.post("/triggers", {**REFUNDS, **body}), 400)

    assert refused({"events": []})["field"] == "events"
    assert refused({"events": ["ticket.created"]})["field"] == "events"
    body = refused({"conditions": {"all": [{"field": "mood", "op": "is", "value": "x"}]}})
    assert body["field"] == "conditions" and "mood" in body["detail"]
    body = refused({"conditions": {"all": [{"field": "priority", "op": "contains",
                                            "value": 3}]}})
    assert body["field"] == "conditions" and "gte" in body["detail"]
    assert refused({"conditions": {"every": []}})["field"] == "conditions"
    assert refused({"conditions": [{"field": "priority"}]})["field"] == "conditions"
    assert refused({"actions": []})["field"] == "actions"
    body = refused({"actions": [{"type": "delete_everything"}]})
    assert body["field"] == "actions" and "set_priority" in body["detail"]
    assert refused({"actions": [{"type": "set_priority", "value": 9}]})["field"] == "actions"
    assert refused({"name": "  "})["field"] == "name"
    assert refused({"when": "always"})["field"] == "when"
    assert not Trigger.objects.exists()

    trigger = ok(carla.post("/triggers", REFUNDS), 201)
    path = f"/triggers/{trigger['id']}"
    assert error(carla.patch(path, {"name": None}), 400)["field"] == "name"
    assert error(carla.patch(path, {"actions": []}), 400)["field"] == "actions"
    assert ok(carla.get(path)) == trigger
    assert error(carla.get("/triggers/999999"), 404)["field"] == "trigger"
    assert error(carla.post("/triggers/999999/move", {"direction": "up"}),
                 404)["field"] == "trigger"


def test_agents_read_triggers_and_time_rules_but_may_not_change_them(api, carla, client_for,
                                                                     desk):
    trigger = ok(carla.post("/triggers", REFUNDS), 201)
    rule = ok(carla.post("/time-rules", CHASE), 201)
    assert names(ok(api.get("/triggers"))) == ["Reembolsos"]
    assert ok(api.get(f"/time-rules/{rule['id']}"))["name"] == CHASE["name"]
    for response in (
        api.post("/triggers", {**REFUNDS, "name": "Mío"}),
        api.patch(f"/triggers/{trigger['id']}", {"active": False}),
        api.patch(f"/triggers/{trigger['id']}", {"name": None}),
        api.post(f"/triggers/{trigger['id']}/move", {"direction": "down"}),
        api.delete(f"/triggers/{trigger['id']}"),
        api.post("/time-rules", {**CHASE, "name": "Mía"}),
        api.patch(f"/time-rules/{rule['id']}", {"hours": 1}),
        api.delete(f"/time-rules/{rule['id']}"),
    ):
        assert "supervisors" in error(response, 403)["detail"]
    assert list(Trigger.objects.values_list("name", "active")) == [("Reembolsos", True)]
    assert list(TimeRule.objects.values_list("name", "hours")) == [(CHASE["name"], 48)]
    # Administrators may, as supervisors do.
    assert client_for(desk.diego).delete(f"/triggers/{trigger['id']}").status_code == 204


# --- time rules -----------------------------------------------------------------------------


def test_time_rules_crud(carla, desk):
    created = ok(carla.post("/time-rules", {
        **CHASE, "conditions": {"all": [{"field": "channel", "op": "is", "value": "email"}]}}),
        201)
    assert (created["status"], created["hours"], created["active"]) == ("pending", 48, True)
    assert created["actions"] == CHASE["actions"]
    assert created["created_by"] == {"id": desk.carla.pk, "name": "Carla Méndez"}
    solved = ok(carla.post("/time-rules", {"name": "Cerrar resueltas", "status": "solved",
                                           "hours": 96, "active": False,
                                           "actions": [{"type": "set_status",
                                                        "value": "closed"}]}), 201)
    assert names(ok(carla.get("/time-rules"))) == [CHASE["name"], "Cerrar resueltas"]

    path = f"/time-rules/{created['id']}"
    changed = ok(carla.patch(path, {"hours": 72, "status": "on_hold", "name": "Recordar"}))
    assert (changed["hours"], changed["status"], changed["name"]) == (72, "on_hold", "Recordar")
    assert changed["conditions"]["all"] == [{"field": "channel", "op": "is", "value": "email"}]
    assert ok(carla.get(path)) == changed

    assert carla.delete(f"/time-rules/{solved['id']}").status_code == 204
    assert error(carla.get(f"/time-rules/{solved['id']}"), 404)["field"] == "time_rule"
    assert list(TimeRule.objects.values_list("name", flat=True)) == ["Recordar"]


def test_invalid_time_rules_are_400s_naming_the_field(carla):
    def refused(body: dict) -> str:
        return error(carla.post("/time-rules", {**CHASE, **body}), 400)["field"]

    assert refused({"status": "closed"}) == "status"
    assert refused({"status": "waiting"}) == "status"
    assert refused({"hours": 0}) == "hours"
    assert refused({"hours": 9000}) == "hours"
    assert refused({"hours": "mucho"}) == "hours"
    assert refused({"actions": [{"type": "set_tier", "value": 7}]}) == "actions"
    assert refused({"conditions": {"all": [{"field": "tags", "op": "gt", "value": 1}]}}) \
        == "conditions"
    assert not TimeRule.objects.exists()
    rule = ok(carla.post("/time-rules", CHASE), 201)
    path = f"/time-rules/{rule['id']}"
    assert error(carla.patch(path, {"hours": -1}), 400)["field"] == "hours"
    assert error(carla.patch(path, {"status": None}), 400)["field"] == "status"
    assert ok(carla.get(path))["hours"] == 48
    assert error(carla.patch("/time-rules/999999", {"hours": 2}), 404)["field"] == "time_rule"


# --- macros ---------------------------------------------------------------------------------


def test_shared_and_personal_macros(api, carla, client_for, desk):
    shared = ok(carla.post("/macros", ASK_ORDER), 201)
    assert (shared["shared"], shared["owner"], shared["editable"]) == (True, None, True)
    mine = ok(api.post("/macros", {"name": "Mi cierre", "shared": False,
                                   "actions": [{"type": "set_status", "value": "solved"}]}),
              201)
    assert (mine["shared"], mine["owner"], mine["editable"]) == (False, desk.ana.pk, True)
    assert "supervisors" in error(api.post("/macros", {"name": "Para todos", "actions": [
        {"type": "escalate"}]}), 403)["detail"]
    body = error(api.post("/macros", {"name": "Avisar", "shared": False, "actions": [
        {"type": "notify", "value": {"to": "team"}}]}), 400)
    assert body["field"] == "actions" and "notify" in body["detail"]

    listed = ok(api.get("/macros"))["items"]
    assert [(m["name"], m["editable"]) for m in listed] == [
        ("Pedir número de pedido", False), ("Mi cierre", True)]
    assert ok(api.get(f"/macros/{shared['id']}")) == listed[0]
    beto = client_for(desk.beto)
    assert names(ok(beto.get("/macros"))) == ["Pedir número de pedido"]
    assert error(beto.get(f"/macros/{mine['id']}"), 404)["field"] == "macro"
    assert error(beto.delete(f"/macros/{mine['id']}"), 404)["field"] == "macro"

    assert "supervisors" in error(api.patch(f"/macros/{shared['id']}", {}), 403)["detail"]
    assert "supervisors" in error(api.delete(f"/macros/{shared['id']}"), 403)["detail"]
    off = ok(api.patch(f"/macros/{mine['id']}", {"active": False, "description": "Al final"}))
    assert (off["active"], off["description"]) == (False, "Al final")
    assert names(ok(api.get("/macros"))) == ["Pedir número de pedido"]
    assert names(ok(api.get("/macros", {"include_inactive": "true"}))) == [
        "Pedir número de pedido", "Mi cierre"]
    assert error(api.patch(f"/macros/{mine['id']}", {"actions": [{"type": "webhook"}]}),
                 400)["field"] == "actions"
    assert error(api.patch(f"/macros/{mine['id']}", {"name": None}), 400)["field"] == "name"

    assert ok(carla.patch(f"/macros/{shared['id']}", {"name": "Pedir el pedido"}))["name"] \
        == "Pedir el pedido"
    assert api.delete(f"/macros/{mine['id']}").status_code == 204
    assert list(Macro.objects.values_list("name", flat=True)) == ["Pedir el pedido"]


def test_applying_a_macro_replies_and_changes_the_conversation(api, carla, desk, outbox,
                                                               run_commits):
    macro = ok(carla.post("/macros", ASK_ORDER), 201)
    created = open_conversation(api, desk)
    path = f"/conversations/{created['id']}/macros/{macro['id']}/apply"
    with run_commits():
        applied = ok(api.post(path))
    assert (applied["done"], applied["skipped"]) == (["reply", "set_status", "add_tags"], [])
    reply = Message.objects.get(pk=applied["reply_id"])
    assert reply.text == "Hola Elena, ¿nos das el número de pedido?"
    assert (reply.conversation_id, reply.author_user_id) == (created["id"], desk.ana.pk)
    conversation = applied["conversation"]
    assert (conversation["id"], conversation["status"], conversation["tags"]) == (
        created["id"], "pending", ["falta-dato"])
    assert conversation == ok(api.get(f"/conversations/{created['id']}"))
    assert ok(api.get(f"/macros/{macro['id']}"))["used_count"] == 1

    # An action whose target is gone is skipped, not fatal.
    gone = ok(carla.post("/macros", {"name": "A nadie", "actions": [
        {"type": "assign", "value": 999999}, {"type": "add_tags", "value": ["x"]}]}), 201)
    skipped = ok(api.post(f"/conversations/{created['id']}/macros/{gone['id']}/apply"))
    assert (skipped["done"], skipped["skipped"], skipped["reply_id"]) == (
        ["add_tags"], ["assign: no active agent 999999"], None)

    ok(carla.patch(f"/macros/{gone['id']}", {"active": False}))
    body = error(api.post(f"/conversations/{created['id']}/macros/{gone['id']}/apply"), 400)
    assert body["field"] == "macro" and "switched off" in body["detail"]
    assert error(api.post(f"/conversations/999999/macros/{macro['id']}/apply"),
                 404)["field"] == "id"
    assert error(api.post(f"/conversations/{created['id']}/macros/999999/apply"),
                 404)["field"] == "macro"


def test_someone_elses_personal_macro_cannot_be_applied(api, client_for, desk):
    mine = ok(api.post("/macros", {"name": "Mi cierre", "shared": False,
                                   "actions": [{"type": "set_status", "value": "solved"}]}),
              201)
    created = open_conversation(api, desk)
    beto = client_for(desk.beto)
    assert error(beto.post(f"/conversations/{created['id']}/macros/{mine['id']}/apply"),
                 404)["field"] == "macro"
    assert Conversation.objects.get(pk=created["id"]).status == "new"


# --- the rule language ----------------------------------------------------------------------


def test_the_schema_lists_what_rules_may_say_and_it_is_accepted(api, carla):
    schema = ok(api.get("/automation/schema"))
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["priority"] == {"name": "priority", "kind": "number", "operators": [
        "is", "is_not", "gt", "gte", "lt", "lte", "changed", "changed_to", "changed_from"]}
    assert fields["text"]["operators"][:2] == ["contains", "not_contains"]
    assert [d["prefix"] for d in schema["dynamic_fields"]] == ["customer.attributes.",
                                                               "fields."]
    assert set(schema["no_value_operators"]) == {"present", "absent", "changed"}
    action_types = {a["type"]: a for a in schema["actions"]}
    assert action_types["notify"]["in_macros"] is False
    assert action_types["reply"]["in_macros"] is True
    assert "tier" in action_types["escalate"]["description"]
    assert [e["value"] for e in schema["trigger_events"]] == [
        "conversation.created", "message.received", "conversation.updated"]
    assert [s["value"] for s in schema["time_rule_statuses"]] == [
        "new", "open", "pending", "on_hold", "solved"]

    # Every field with each of its operators that takes no value makes a valid trigger.
    conditions = [{"field": name, "op": op} for name, field in fields.items()
                  for op in field["operators"] if op in schema["no_value_operators"]]
    conditions += [{"field": f"{d['prefix']}plan", "op": "present"}
                   for d in schema["dynamic_fields"]]
    ok(carla.post("/triggers", {**REFUNDS, "conditions": {"any": conditions},
                                "events": [e["value"] for e in schema["trigger_events"]]}),
       201)


def test_the_openapi_document_describes_the_automation_endpoints(db):
    paths = ok(Client().get("/api/v1/openapi.json"))["paths"]
    for path in ("/api/v1/triggers", "/api/v1/triggers/{trigger_id}",
                 "/api/v1/triggers/{trigger_id}/move", "/api/v1/time-rules",
                 "/api/v1/time-rules/{rule_id}", "/api/v1/macros", "/api/v1/macros/{macro_id}",
                 "/api/v1/conversations/{conversation_id}/macros/{macro_id}/apply",
                 "/api/v1/automation/schema"):
        assert path in paths, path
    assert set(paths["/api/v1/triggers/{trigger_id}"]) == {"get", "patch", "delete"}


def test_lists_cost_the_same_queries_however_long(api, carla, desk,
                                                  django_assert_num_queries):
    for n in range(3):
        ok(carla.post("/triggers", {**REFUNDS, "name": f"Trigger {n}"}), 201)
        ok(carla.post("/time-rules", {**CHASE, "name": f"Regla {n}"}), 201)
        ok(carla.post("/macros", {**ASK_ORDER, "name": f"Macro {n}"}), 201)
    ok(api.get("/me"))  # the token's first use of the minute writes last_used_at
    for path in ("/triggers", "/time-rules", "/macros"):
        with django_assert_num_queries(2):  # the token, the rows (creators with them)
            assert len(ok(api.get(path))["items"]) == 3
