import datetime as dt

import pytest
import time_machine

from mostrador.automation import actions, events
from mostrador.automation.models import TimeRuleFiring, Trigger
from mostrador.automation.rules import compile_conditions, parse_conditions
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.core.errors import PermissionDenied, ValidationFailed


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def create(desk, run_commits, text="Quiero un reembolso de mi pedido", customer=None,
           subject="Pedido 4411"):
    with run_commits():
        return conversation_actions.do_create_conversation(
            inbox=desk.inbox, customer=customer or desk.elena, subject=subject, text=text)


def fired(conversation, kind=events.TRIGGER_FIRED):
    return list(Event.objects.filter(conversation=conversation, kind=kind).order_by("id")
                .values_list("after", flat=True))


def test_a_trigger_on_creation_matches_accent_insensitive_text_and_acts(desk, run_commits):
    with run_commits():
        trigger = actions.do_create_trigger(
            name="Reembolsos a L2", events=["conversation.created"],
            conditions={"all": [{"field": "channel", "op": "is", "value": "email"},
                                {"field": "text", "op": "contains",
                                 "value": ["REEMBOLSÓ", "refund"]}]},
            actions=[{"type": "set_priority", "value": 3},
                     {"type": "add_tags", "value": ["reembolso"]},
                     {"type": "set_team", "value": desk.team_l2.pk}],
            acting_user=desk.carla)
    conversation = create(desk, run_commits)
    other = create(desk, run_commits, text="¿Dónde está mi pedido?")
    conversation.refresh_from_db()
    assert conversation.priority == 3
    assert conversation.team_id == desk.team_l2.pk
    assert list(conversation.tags.values_list("name", flat=True)) == ["reembolso"]
    assert fired(conversation) == [{"trigger": trigger.pk, "name": "Reembolsos a L2",
                                    "actions": ["set_priority", "add_tags", "set_team"],
                                    "skipped": []}]
    assert fired(other) == []
    trigger.refresh_from_db()
    assert trigger.fired_count == 1


def test_triggers_chain_once_each_and_their_own_writes_do_not_wake_them(desk, run_commits):
    with run_commits():
        actions.do_create_trigger(
            name="Alta prioridad: etiqueta", events=["conversation.updated"],
            conditions={"all": [{"field": "priority", "op": "gte", "value": 3}]},
            actions=[{"type": "add_tags", "value": ["atención"]}], acting_user=desk.carla)
        actions.do_create_trigger(
            name="Etiqueta: urgente", events=["conversation.updated"],
            conditions={"all": [{"field": "tags", "op": "includes", "value": "atención"}]},
            actions=[{"type": "set_priority", "value": 4},
                     {"type": "add_tags", "value": ["escalado"]}],
            acting_user=desk.carla)
    conversation = create(desk, run_commits)
    with run_commits():
        conversation_actions.do_change_priority(conversation, 3, acting_user=desk.ana)
    conversation.refresh_from_db()
    assert conversation.priority == 4
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["atención", "escalado"]
    assert [f["name"] for f in fired(conversation)] == ["Alta prioridad: etiqueta",
                                                        "Etiqueta: urgente"]
    # A later change by a person runs the pass again; each fires at most once per change.
    with run_commits():
        conversation_actions.do_change_subject(conversation, "Pedido 4411 (urgente)",
                                               acting_user=desk.ana)
    assert len(fired(conversation)) == 4


def test_changed_to_conditions_and_notes_with_placeholders(desk, run_commits, mailoutbox):
    with run_commits():
        actions.do_create_trigger(
            name="Al resolver", events=["conversation.updated"],
            conditions={"all": [{"field": "status", "op": "changed_to", "value": "solved"}]},
            actions=[{"type": "add_note",
                      "value": {"es": "Resuelto para {{ customer.first_name }}",
                                "en": "Solved for {{ customer.first_name }}"}},
                     {"type": "notify", "value": {"to": "supervisors",
                                                  "text": "#{{ conversation.id }} resuelto"}}],
            acting_user=desk.carla)
    conversation = create(desk, run_commits)
    with run_commits():
        conversation_actions.do_change_priority(conversation, 3, acting_user=desk.ana)
    assert fired(conversation) == []
    with run_commits():
        conversation_actions.do_change_status(conversation, "solved", acting_user=desk.ana)
    note = conversation.messages.get(direction=Message.Direction.NOTE)
    assert note.text == "Resuelto para Elena"
    assert note.author_kind == Message.AuthorKind.SYSTEM
    assert sorted(m.to[0] for m in mailoutbox) == ["carla@desk.example.com",
                                                   "diego@desk.example.com"]
    assert f"#{conversation.pk} resuelto" in mailoutbox[0].body


def test_a_trigger_reply_is_automatic_and_does_not_count_as_the_first_response(
        desk, run_commits):
    with run_commits():
        actions.do_create_trigger(
            name="Acuse de recibo", events=["conversation.created"], conditions={},
            actions=[{"type": "reply", "value": {
                "es": "Hola {{ customer.first_name }}, recibimos tu consulta "
                      "#{{ conversation.id }}.",
                "en": "Hi {{ customer.first_name }}, we got request #{{ conversation.id }}."}}],
            acting_user=desk.carla)
    spanish = create(desk, run_commits)
    english = create(desk, run_commits, customer=desk.frank,
                     text="Hello, where is my order please?")
    reply = spanish.messages.get(direction=Message.Direction.OUTBOUND)
    assert reply.text == f"Hola Elena, recibimos tu consulta #{spanish.pk}."
    assert reply.automatic is True
    assert english.messages.get(direction=Message.Direction.OUTBOUND).text == \
        f"Hi Frank, we got request #{english.pk}."
    spanish.refresh_from_db()
    assert spanish.first_response_at is None


def test_business_hours_and_customer_attribute_conditions_evaluate():
    predicate = compile_conditions(parse_conditions({
        "all": [{"field": "customer.attributes.plan", "op": "in", "value": ["Gold", "oro"]}],
        "any": [{"field": "business_hours", "op": "is", "value": False},
                {"field": "customer.segments", "op": "includes", "value": "premium"}]}))
    base = {"customer.attributes": {"plan": "ORO"}, "customer.segments": [],
            "business_hours": True}
    assert predicate(base) is False
    assert predicate({**base, "business_hours": False}) is True
    assert predicate({**base, "customer.segments": ["premium"]}) is True
    assert predicate({**base, "business_hours": False,
                      "customer.attributes": {"plan": "silver"}}) is False


@pytest.mark.parametrize("conditions, message", [
    ({"all": [{"field": "password", "op": "is", "value": 1}]}, "Unknown condition field"),
    ({"all": [{"field": "status", "op": "contains", "value": "x"}]}, "does not take"),
    ({"all": [{"field": "priority", "op": "gt", "value": "high"}]}, "needs a number"),
    ({"every": []}, "expected shape"),
])
def test_invalid_conditions_are_refused_with_a_reason(desk, conditions, message):
    with pytest.raises(ValidationFailed, match=message):
        actions.do_create_trigger(name="x", events=["conversation.created"],
                                  conditions=conditions, actions=[{"type": "escalate"}],
                                  acting_user=desk.carla)


def test_only_supervisors_manage_triggers(desk):
    with pytest.raises(PermissionDenied):
        actions.do_create_trigger(name="x", events=["conversation.created"], conditions={},
                                  actions=[{"type": "escalate"}], acting_user=desk.ana)
    with pytest.raises(ValidationFailed, match="Unknown action"):
        actions.do_create_trigger(name="x", events=["conversation.created"], conditions={},
                                  actions=[{"type": "delete_everything"}],
                                  acting_user=desk.carla)


def test_reordering_triggers(desk):
    first = actions.do_create_trigger(name="a", events=["conversation.created"], conditions={},
                                      actions=[{"type": "escalate"}], acting_user=desk.carla)
    second = actions.do_create_trigger(name="b", events=["conversation.created"],
                                       conditions={}, actions=[{"type": "escalate"}],
                                       acting_user=desk.carla)
    actions.do_move_trigger(second, -1, acting_user=desk.carla)
    assert list(Trigger.objects.values_list("name", flat=True)) == ["b", "a"]
    actions.do_move_trigger(second, -1, acting_user=desk.carla)
    assert list(Trigger.objects.values_list("pk", flat=True)) == [second.pk, first.pk]


# --- time rules ----------------------------------------------------------------------------


def test_time_rules_remind_solve_and_close_each_exactly_once(desk, run_commits):
    with run_commits():
        actions.do_create_time_rule(
            name="Recordatorio", status="pending", hours=72,
            actions=[{"type": "reply", "value": {"es": "¿Seguimos esperando tu respuesta?",
                                                 "en": "Are you still there?"}}],
            acting_user=desk.carla)
        actions.do_create_time_rule(name="Resolver", status="pending", hours=168,
                                    actions=[{"type": "set_status", "value": "solved"}],
                                    acting_user=desk.carla)
        actions.do_create_time_rule(name="Cerrar", status="solved", hours=96,
                                    actions=[{"type": "set_status", "value": "closed"}],
                                    acting_user=desk.carla)
    conversation = create(desk, run_commits)
    untouched = create(desk, run_commits, text="Otra consulta")
    with run_commits():
        conversation_actions.do_send_reply(conversation, "¿Nos envías el número de pedido?",
                                           acting_user=desk.ana, status="pending")
    conversation.refresh_from_db()
    start = conversation.status_since

    def run(hours, since=None):
        with time_machine.travel((since or start) + dt.timedelta(hours=hours), tick=False), \
                run_commits():
            return actions.run_time_rules()

    assert run(71).fired == 0
    assert run(73).fired == 1
    assert run(74).fired == 0  # the same stay never fires twice
    reminders = conversation.messages.filter(automatic=True)
    assert [m.text for m in reminders] == ["¿Seguimos esperando tu respuesta?"]
    assert run(169).fired == 1
    conversation.refresh_from_db()
    assert conversation.status == "solved"
    assert run(169 + 95).fired == 0
    assert run(95, since=conversation.status_since).fired == 0
    assert run(97, since=conversation.status_since).fired == 1
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert [e["name"] for e in fired(conversation, events.TIME_RULE_FIRED)] == \
        ["Recordatorio", "Resolver", "Cerrar"]
    assert TimeRuleFiring.objects.count() == 3
    assert Conversation.objects.get(pk=untouched.pk).status == "new"


def test_a_new_stay_in_the_status_fires_again(desk, run_commits):
    with run_commits():
        actions.do_create_time_rule(name="Recordatorio", status="pending", hours=24,
                                    actions=[{"type": "add_tags", "value": ["recordado"]}],
                                    acting_user=desk.carla)
    conversation = create(desk, run_commits)
    with run_commits():
        conversation_actions.do_change_status(conversation, "pending", acting_user=desk.ana)
    conversation.refresh_from_db()
    first_stay = conversation.status_since
    assert actions.run_time_rules(now=first_stay + dt.timedelta(hours=25)).fired == 1
    with time_machine.travel(first_stay + dt.timedelta(hours=30), tick=False), run_commits():
        conversation_actions.do_change_status(conversation, "open", acting_user=desk.ana)
        conversation_actions.do_change_status(conversation, "pending", acting_user=desk.ana)
    conversation.refresh_from_db()
    second = conversation.status_since
    assert actions.run_time_rules(now=second + dt.timedelta(hours=25)).fired == 1
    assert TimeRuleFiring.objects.filter(conversation=conversation).count() == 2


# --- macros --------------------------------------------------------------------------------


def test_a_macro_applies_its_actions_as_the_agent(desk, run_commits):
    macro = actions.do_create_macro(
        name="Pedir número de pedido",
        actions=[{"type": "reply", "value": {"es": "Hola {{ customer.first_name }}, ¿nos "
                                                   "das el número de pedido? {{ agent.name }}",
                                             "en": "Hi"}},
                 {"type": "set_status", "value": "pending"},
                 {"type": "add_tags", "value": ["falta-dato"]}],
        acting_user=desk.carla)
    conversation = create(desk, run_commits)
    assert macro in actions.access_macros(desk.ana)
    with run_commits():
        result = actions.do_apply_macro(conversation, macro, acting_user=desk.ana)
    assert result.done == ["reply", "set_status", "add_tags"]
    reply = Message.objects.get(pk=result.reply_id)
    assert reply.text == "Hola Elena, ¿nos das el número de pedido? Ana García"
    assert reply.author_user_id == desk.ana.pk and not reply.automatic
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert conversation.first_response_at is not None
    applied = Event.objects.get(conversation=conversation, kind=events.MACRO_APPLIED)
    assert applied.actor_user_id == desk.ana.pk
    macro.refresh_from_db()
    assert macro.used_count == 1


def test_personal_macros_belong_to_their_owner(desk, run_commits):
    mine = actions.do_create_macro(name="Mi cierre", shared=False,
                                   actions=[{"type": "set_status", "value": "solved"}],
                                   acting_user=desk.ana)
    assert mine in actions.access_macros(desk.ana)
    assert mine not in actions.access_macros(desk.beto)
    with pytest.raises(PermissionDenied):
        actions.do_create_macro(name="Para todos", actions=[{"type": "escalate"}],
                                acting_user=desk.ana)
    with pytest.raises(ValidationFailed, match="Unknown action"):
        actions.do_create_macro(name="x", shared=False, acting_user=desk.ana,
                                actions=[{"type": "notify", "value": {"to": "team"}}])


def test_placeholders_in_rule_texts_are_checked_like_canned_replies(desk):
    with pytest.raises(ValidationFailed) as error:
        actions.do_create_macro(
            name="x", acting_user=desk.carla,
            actions=[{"type": "reply", "value": {"es": "Hola {{ customer.__class__ }}"}}])
    assert error.value.field == "actions"


def test_business_hours_condition_reads_the_channel_calendar(desk, run_commits):
    from mostrador.sla import actions as sla_actions

    with run_commits():
        sla_actions.do_create_calendar(
            name="Madrid", time_zone="Europe/Madrid", is_default=True,
            weekly={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
        actions.do_create_trigger(
            name="Fuera de horario", events=["conversation.created"],
            conditions={"all": [{"field": "business_hours", "op": "is", "value": False}]},
            actions=[{"type": "add_tags", "value": ["fuera-de-horario"]}],
            acting_user=desk.carla)
    sunday = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(sunday, tick=False):
        closed = create(desk, run_commits)
    with time_machine.travel(monday, tick=False):
        open_ = create(desk, run_commits)
    assert list(closed.tags.values_list("name", flat=True)) == ["fuera-de-horario"]
    assert list(open_.tags.values_list("name", flat=True)) == []
