"""Automation in the agent workspace: Settings → Automation (triggers in order, time rules,
shared and personal macros) with the rule builder's JSON as the form without script, the
domain's objections next to the box they concern, the Macros menu on the conversation page,
and automation's steps in the timeline."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from mostrador.automation import actions, engine
from mostrador.automation.models import Macro, TimeRule, Trigger
from mostrador.conversations import actions as conv
from mostrador.conversations.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_triggers():
    # Each test's database starts over; so must the process's compiled triggers.
    engine.forget_compiled()
    yield
    engine.forget_compiled()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def field_errors(response, name: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>',
                      response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def flashes(client) -> list[str]:
    return [str(m) for m in client.get(reverse("web:inbox")).context["messages"]]


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def open_conversation(desk, run_commits, *, text="Quiero un reembolso de mi pedido",
                      customer=None) -> Conversation:
    with run_commits():
        return conv.do_create_conversation(inbox=desk.inbox, customer=customer or desk.elena,
                                           subject="Pedido 4411", text=text)


CONDITIONS = {"all": [{"field": "channel", "op": "is", "value": "email"},
                      {"field": "text", "op": "contains", "value": ["reembolso", "refund"]}],
              "any": [{"field": "customer.segments", "op": "includes", "value": ["vip"]},
                      {"field": "priority", "op": "gte", "value": 3}]}


def trigger_form(desk, **changes) -> dict:
    actions_json = [{"type": "set_priority", "value": 3},
                    {"type": "add_tags", "value": ["reembolso"]},
                    {"type": "set_team", "value": desk.team_l2.pk},
                    {"type": "add_note", "value": {"es": "Revisar el pedido",
                                                   "en": "Check the order"}}]
    return {"name": "Reembolsos a L2", "description": "Los reembolsos los lleva L2",
            "active": "on", "events": ["conversation.created", "message.received"],
            "conditions": json.dumps(CONDITIONS), "actions": json.dumps(actions_json),
            **changes}


def make_trigger(desk, name, **extra) -> Trigger:
    return actions.do_create_trigger(
        name=name, events=["conversation.created"], conditions={},
        actions=[{"type": "add_tags", "value": [name.lower()]}], acting_user=desk.carla,
        **extra)


# --- who may come in ------------------------------------------------------------------------


def test_agents_are_refused_on_the_supervisors_screens(client, desk):
    trigger = make_trigger(desk, "Uno")
    rule = actions.do_create_time_rule(name="Recordar", status="pending", hours=72,
                                       actions=[{"type": "add_tags", "value": ["x"]}],
                                       acting_user=desk.carla)
    shared = actions.do_create_macro(name="Cerrar", actions=[{"type": "set_status",
                                                               "value": "solved"}],
                                     acting_user=desk.carla)
    client.force_login(desk.ana)
    for url in (reverse("web:settings_trigger_new"),
                reverse("web:settings_trigger", args=[trigger.pk]),
                reverse("web:settings_time_rule_new"),
                reverse("web:settings_time_rule", args=[rule.pk]),
                reverse("web:settings_macro", args=[shared.pk])):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "supervisors" in text_of(response).lower()
    for url in (reverse("web:settings_trigger_toggle", args=[trigger.pk]),
                reverse("web:settings_trigger_move", args=[trigger.pk]),
                reverse("web:settings_trigger_delete", args=[trigger.pk]),
                reverse("web:settings_time_rule_delete", args=[rule.pk]),
                reverse("web:settings_macro_delete", args=[shared.pk])):
        assert client.post(url).status_code == 403, url
    assert client.post(reverse("web:settings_trigger_new"),
                       trigger_form(desk)).status_code == 403
    assert Trigger.objects.get().active and TimeRule.objects.exists()
    assert Macro.objects.filter(pk=shared.pk).exists()


def test_an_agent_sees_only_their_personal_macros(client, desk):
    make_trigger(desk, "Disparador secreto")
    actions.do_create_macro(name="Compartida", actions=[{"type": "escalate"}],
                            acting_user=desk.carla)
    actions.do_create_macro(name="De Beto", actions=[{"type": "escalate"}], shared=False,
                            acting_user=desk.beto)
    mine = actions.do_create_macro(name="La mía", actions=[{"type": "escalate"}],
                                   shared=False, acting_user=desk.ana)
    client.force_login(desk.ana)
    response = client.get(reverse("web:settings_automation"))
    assert response.status_code == 200
    text = text_of(response)
    assert "La mía" in text
    assert "Compartida" not in text and "De Beto" not in text
    assert "Disparador secreto" not in text and "Triggers" not in text
    assert 'class="settings-tabs"' not in response.content.decode()
    # Someone else's personal macro is not there for her, whatever the address.
    beto_macro = Macro.objects.get(name="De Beto")
    assert client.get(reverse("web:settings_macro", args=[beto_macro.pk])).status_code == 404
    assert client.get(reverse("web:settings_macro", args=[mine.pk])).status_code == 200


def test_an_agent_creates_a_personal_macro(client, desk):
    client.force_login(desk.ana)
    form = client.get(reverse("web:settings_macro_new")).content.decode()
    assert 'name="shared"' not in form  # personal is all an agent may make
    response = client.post(reverse("web:settings_macro_new"), {
        "name": "Pedir el número de pedido", "description": "", "active": "on",
        "shared": "on",  # ignored: the field is not hers to set
        "actions": json.dumps([{"type": "reply", "value": {
            "es": "Hola {{ customer.first_name }}, ¿nos das el número de pedido?",
            "en": "Hi {{ customer.first_name }}, what is the order number?"}},
            {"type": "set_status", "value": "pending"}])})
    assert response.status_code == 302
    macro = Macro.objects.get()
    assert macro.owner_id == desk.ana.pk
    assert [a["type"] for a in macro.actions] == ["reply", "set_status"]
    assert macro.actions[0]["value"]["en"].startswith("Hi {{ customer.first_name }}")


# --- triggers -------------------------------------------------------------------------------


def test_a_supervisor_creates_a_trigger_through_the_json_fields(client, desk):
    client.force_login(desk.carla)
    form = client.get(reverse("web:settings_trigger_new"))
    html = form.content.decode()
    # The JSON boxes are the form without script; the builder's settings ride along.
    assert re.search(r'<textarea name="conditions"', html)
    assert re.search(r'<textarea name="actions"', html)
    assert 'id="rule-builder-config"' in html and "rule-builder.js" in html
    config = form.context["builder"]
    assert {f["value"]: f["kind"] for f in config["fields"]}["text"] == "text"
    assert [op for op, _label in config["operators"]["list"]] == [
        "includes", "excludes", "present", "absent"]
    assert {a["value"]: a["input"] for a in config["actions"]}["reply"] == "bodies"

    response = client.post(reverse("web:settings_trigger_new"), trigger_form(desk))
    assert response.status_code == 302
    trigger = Trigger.objects.get()
    assert response["Location"].endswith(f"#trigger-{trigger.pk}")
    assert trigger.name == "Reembolsos a L2"
    assert trigger.description == "Los reembolsos los lleva L2"
    assert trigger.events == ["conversation.created", "message.received"]
    assert trigger.conditions == CONDITIONS
    assert trigger.actions == [
        {"type": "set_priority", "value": 3}, {"type": "add_tags", "value": ["reembolso"]},
        {"type": "set_team", "value": desk.team_l2.pk},
        {"type": "add_note", "value": {"es": "Revisar el pedido", "en": "Check the order"}}]
    assert trigger.active and trigger.created_by_id == desk.carla.pk

    # The edit form shows the stored JSON back.
    html = client.get(reverse("web:settings_trigger", args=[trigger.pk])).content.decode()
    assert "customer.segments" in html and "Revisar el pedido" in html


@pytest.mark.parametrize(("field", "value", "message"), [
    ("conditions", '{"all": [{"field": "mood", "op": "is", "value": "angry"}]}',
     "Unknown condition field mood"),
    ("conditions", '{"all": [{"field": "tags", "op": "gt", "value": 3}]}',
     "does not take the operator gt"),
    ("conditions", '{"all": [{"field": "channel", "op": "is", "value": "email"}', "not valid JSON"),
    ("actions", '[{"type": "set_priority", "value": 9}]', "Priority must be 1 (low) to 4"),
    ("actions", '[{"type": "launch_rocket"}]', "Unknown action launch_rocket"),
    ("actions", "[]", "required"),
])
def test_validation_errors_are_shown_next_to_the_box(client, desk, field, value, message):
    client.force_login(desk.carla)
    response = client.post(reverse("web:settings_trigger_new"),
                           trigger_form(desk, **{field: value}))
    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert not Trigger.objects.exists()
    # What was typed comes back, for the builder (or the person) to fix.
    assert escape(value) in response.content.decode()


def test_events_are_required(client, desk):
    client.force_login(desk.carla)
    data = trigger_form(desk)
    del data["events"]
    response = client.post(reverse("web:settings_trigger_new"), data)
    assert response.status_code == 200
    assert field_errors(response, "events")
    assert not Trigger.objects.exists()


def test_triggers_are_listed_in_order_moved_and_switched(client, desk, run_commits):
    with run_commits():
        first, second, third = (make_trigger(desk, name) for name in ("Uno", "Dos", "Tres"))
    open_conversation(desk, run_commits)
    client.force_login(desk.carla)

    def order() -> list[str]:
        html = client.get(reverse("web:settings_automation")).content.decode()
        return re.findall(r'<tr id="trigger-\d+"[^>]*>.*?<a href="[^"]+">([^<]+)</a>', html,
                          re.S)

    assert order() == ["Uno", "Dos", "Tres"]
    row = re.search(rf'<tr id="trigger-{first.pk}".*?</tr>',
                    client.get(reverse("web:settings_automation")).content.decode(),
                    re.S).group(0)
    assert re.search(r'<td class="fired">1 time<br><span class="muted">last <time', row)

    client.post(reverse("web:settings_trigger_move", args=[third.pk]), {"direction": "up"})
    assert order() == ["Uno", "Tres", "Dos"]
    client.post(reverse("web:settings_trigger_move", args=[first.pk]), {"direction": "down"})
    assert order() == ["Tres", "Uno", "Dos"]

    response = client.post(reverse("web:settings_trigger_toggle", args=[second.pk]))
    assert response.status_code == 302
    second.refresh_from_db()
    assert not second.active
    assert "The trigger Dos is off." in flashes(client)


def test_deleting_a_trigger(client, desk):
    trigger = make_trigger(desk, "Uno")
    client.force_login(desk.carla)
    response = client.post(reverse("web:settings_trigger_delete", args=[trigger.pk]),
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].endswith("#triggers")
    assert not Trigger.objects.exists()


# --- time rules -----------------------------------------------------------------------------


def test_a_time_rule_through_the_form(client, desk):
    client.force_login(desk.carla)
    form = client.get(reverse("web:settings_time_rule_new")).content.decode()
    assert '<option value="closed"' not in form  # a stay in closed never ends
    response = client.post(reverse("web:settings_time_rule_new"), {
        "name": "Cerrar tras 7 días", "active": "on", "status": "solved", "hours": "168",
        "conditions": "", "actions": json.dumps([{"type": "set_status", "value": "closed"}])})
    assert response.status_code == 302
    rule = TimeRule.objects.get()
    assert (rule.status, rule.hours, rule.conditions) == ("solved", 168, {"all": [], "any": []})
    text = text_of(client.get(reverse("web:settings_automation")))
    assert "Cerrar tras 7 días" in text and "for 168 hours" in text

    client.post(reverse("web:settings_time_rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.active


# --- macros on the conversation page --------------------------------------------------------


def test_applying_a_macro_from_the_conversation_page(client, desk, run_commits):
    conversation = open_conversation(desk, run_commits)
    with run_commits():
        macro = actions.do_create_macro(
            name="Reembolso en curso", acting_user=desk.carla,
            actions=[{"type": "set_priority", "value": 3},
                     {"type": "add_tags", "value": ["reembolso"]},
                     {"type": "add_note", "value": {"es": "Reembolso pedido a finanzas"}}])
        actions.do_create_macro(name="De Beto", actions=[{"type": "escalate"}], shared=False,
                                acting_user=desk.beto)
    client.force_login(desk.ana)
    panel = client.get(reverse("web:conversation_routing", args=[conversation.pk]),
                       HTTP_HX_REQUEST="true").content.decode()
    assert "Reembolso en curso" in panel and "De Beto" not in panel

    with run_commits():
        response = client.post(reverse("web:conversation_macro", args=[conversation.pk]),
                               {"macro": str(macro.pk)})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:conversation", args=[conversation.pk])
    conversation.refresh_from_db()
    assert conversation.priority == 3
    assert list(conversation.tags.values_list("name", flat=True)) == ["reembolso"]
    assert conversation.messages.filter(direction="note", author_user=desk.ana,
                                        text="Reembolso pedido a finanzas").exists()
    macro.refresh_from_db()
    assert macro.used_count == 1

    text = text_of(client.get(response["Location"]))
    assert "Macro Reembolso en curso applied." in text
    assert ("Ana García applied the macro “Reembolso en curso”: set the priority, added tags, "
            "added a note") in text

    # Someone else's personal macro is not hers to apply.
    other = Macro.objects.get(name="De Beto")
    assert client.post(reverse("web:conversation_macro", args=[conversation.pk]),
                       {"macro": str(other.pk)}).status_code == 404


def test_a_trigger_firing_reads_well_on_the_timeline(client, desk, run_commits):
    with run_commits():
        actions.do_create_trigger(
            name="Reembolsos", events=["conversation.created"],
            conditions={"all": [{"field": "text", "op": "contains", "value": ["reembolso"]}]},
            actions=[{"type": "set_priority", "value": 3},
                     {"type": "assign", "value": 99999}], acting_user=desk.carla)
    conversation = open_conversation(desk, run_commits)
    client.force_login(desk.ana)
    text = text_of(client.get(reverse("web:conversation", args=[conversation.pk])))
    assert ("Mostrador ran the trigger “Reembolsos”: set the priority; skipped: "
            "assign: no active agent 99999") in text
