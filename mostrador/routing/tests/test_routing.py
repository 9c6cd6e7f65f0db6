import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from mostrador.accounts.actions import do_create_staff_user, do_create_team, do_update_agent
from mostrador.accounts.models import Agent
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations import events as conversation_events
from mostrador.conversations.models import Conversation, Event
from mostrador.core.publish import muted
from mostrador.customers.actions import resolve_identity
from mostrador.routing import actions, events
from mostrador.routing.queries import routing_figures

ONLINE = Agent.Status.ONLINE


def staff(name, *, tier=1, status=ONLINE, capacity=None, skills=()):
    user = do_create_staff_user(email=f"{name}@desk.example.com", password="x" * 12,
                                display_name=name.title(), check_password=False)
    do_update_agent(user.agent, tier=tier, status=status, capacity=capacity or {},
                    skills=list(skills))
    return user


def open_conversation(desk, customer=None, *, subject="Consulta", text="Hola, necesito ayuda",
                      team=None):
    conversation = conversation_actions.do_create_conversation(
        inbox=desk.inbox, customer=customer or desk.elena, subject=subject, text=text)
    if team is not None:
        Conversation.objects.filter(pk=conversation.pk).update(team=team)
        conversation.refresh_from_db()
    return conversation


@pytest.fixture
def team(desk):
    team = do_create_team("Ventas", tier=1)
    return team


def rule(team, strategy, **options):
    return actions.do_set_assignment_rule(team=team, strategy=strategy, acting_user=None,
                                          **options)


def test_round_robin_serves_the_longest_idle_online_agent(desk, team):
    sara, tomas, offline = staff("sara"), staff("tomas"), staff("olga", status="offline")
    team.members.set([sara, tomas, offline])
    rule(team, "round_robin")
    Agent.objects.filter(user=sara).update(last_assigned_at=timezone.now())
    first = open_conversation(desk, team=team)
    second = open_conversation(desk, team=team)
    third = open_conversation(desk, team=team)
    assert actions.route(first).agent_id == tomas.pk
    assert actions.route(second).agent_id == sara.pk
    assert actions.route(third).agent_id == tomas.pk
    first.refresh_from_db()
    assert first.assignee_id == tomas.pk
    assert first.status == Conversation.Status.OPEN
    event = Event.objects.get(conversation=first, kind=events.ASSIGNED)
    assert event.after == {"agent": tomas.pk, "strategy": "round_robin", "load": 1,
                           "capacity": None}


def test_capacity_per_channel_is_never_exceeded_and_the_rest_waits(desk, team):
    sara = staff("sara", capacity={"email": 2, "webchat": 3})
    team.members.set([sara])
    rule(team, "least_loaded")
    decisions = [actions.route(open_conversation(desk, team=team)) for _ in range(3)]
    assert [d.agent_id for d in decisions] == [sara.pk, sara.pk, None]
    assert decisions[2].reason == "no_agent_available"
    assert Conversation.objects.filter(assignee=sara).count() == 2


def test_manual_rule_and_missing_rule_leave_conversations_alone(desk, team):
    sara = staff("sara")
    team.members.set([sara])
    conversation = open_conversation(desk, team=team)
    assert actions.route(conversation).reason == "manual"
    rule(team, "manual")
    assert actions.route(conversation).reason == "manual"
    assert Conversation.objects.get(pk=conversation.pk).assignee_id is None


def test_least_loaded_picks_the_agent_with_fewest_open_conversations(desk, team):
    sara, tomas = staff("sara"), staff("tomas")
    team.members.set([sara, tomas])
    for _ in range(2):
        conversation_actions.do_assign(open_conversation(desk, team=team), sara,
                                       acting_user=None)
    rule(team, "least_loaded")
    assert actions.route(open_conversation(desk, team=team)).agent_id == tomas.pk
    # Solved conversations do not weigh.
    for conversation in Conversation.objects.filter(assignee=sara):
        conversation_actions.do_change_status(conversation, "solved", acting_user=None)
    assert actions.route(open_conversation(desk, team=team)).agent_id == sara.pk


def test_skills_match_sends_spanish_to_a_spanish_speaker_and_ranks_products(desk, team):
    english = staff("eve", skills=["language:en", "product:billing"])
    spanish = staff("sara", skills=["language:es"])
    spanish_billing = staff("tomas", skills=["language:es", "product:billing"])
    team.members.set([english, spanish, spanish_billing])
    rule(team, "skills")
    text = "Hola, quiero saber por qué mi factura es más alta este mes"
    conversation = open_conversation(desk, team=team, text=text)
    assert conversation.language == "es"
    Conversation.objects.filter(pk=conversation.pk).update(request_type="billing")
    decision = actions.route(conversation)
    assert decision.agent_id == spanish_billing.pk
    event = Event.objects.get(conversation=conversation, kind=events.ASSIGNED)
    assert event.after["skills"] == ["language:es", "product:billing"]
    # English text goes to the English speaker even though nobody else is busy.
    english_conversation = open_conversation(
        desk, desk.frank, team=team, text="Hello, I have a problem with my invoice please")
    assert english_conversation.language == "en"
    assert actions.route(english_conversation).agent_id == english.pk


def test_agents_below_the_conversation_tier_do_not_get_it(desk, team):
    junior, senior = staff("sara"), staff("tomas", tier=2)
    team.members.set([junior, senior])
    rule(team, "round_robin")
    conversation = open_conversation(desk, team=team)
    Conversation.objects.filter(pk=conversation.pk).update(tier=2)
    assert actions.route(conversation).agent_id == senior.pk


def test_the_queue_serves_premium_customers_first_when_an_agent_frees_up(
        desk, team, django_capture_on_commit_callbacks):
    # Batch listeners run once every on-commit callback of the transaction has: run them all.
    with django_capture_on_commit_callbacks(execute=True):
        sara = staff("sara", capacity={"email": 1})
        team.members.set([sara])
        rule(team, "round_robin", premium_segments=["premium"])
        busy = open_conversation(desk, team=team)
        actions.route(busy)
        regular = open_conversation(desk, team=team)
        vip, _ = resolve_identity("email", "vip@example.org", name="Valeria Ip")
        vip.segments = ["premium"]
        vip.save(update_fields=["segments"])
        premium = open_conversation(desk, vip, team=team)
    assert Conversation.objects.get(pk=busy.pk).assignee_id == sara.pk
    assert actions.queue(team_id=team.pk) == [premium.pk, regular.pk]
    with django_capture_on_commit_callbacks(execute=True):
        conversation_actions.do_change_status(busy, "solved", acting_user=sara)
    assert Conversation.objects.get(pk=premium.pk).assignee_id == sara.pk
    assert Conversation.objects.get(pk=regular.pk).assignee_id is None


def test_new_conversations_are_routed_after_commit_and_an_agent_coming_online_drains(
        desk, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sara = staff("sara", status="offline")
        team.members.set([sara])
        rule(team, "round_robin")
        desk.inbox.default_team = team
        desk.inbox.save(update_fields=["default_team"])
        conversation = open_conversation(desk)
    assert Conversation.objects.get(pk=conversation.pk).assignee_id is None
    with django_capture_on_commit_callbacks(execute=True):
        do_update_agent(sara.agent, status="online")
    assert Conversation.objects.get(pk=conversation.pk).assignee_id == sara.pk


def test_escalation_keeps_history_and_waiting_time_and_reaches_the_next_rung(
        desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        desk.team_l1.escalates_to = desk.team_l2
        desk.team_l1.save(update_fields=["escalates_to"])
        do_update_agent(desk.beto.agent, status="online")
        rule(desk.team_l2, "round_robin")
        conversation = open_conversation(desk, team=desk.team_l1)
        conversation_actions.do_assign(conversation, desk.ana, acting_user=desk.ana)
    waiting_since = Conversation.objects.get(pk=conversation.pk).waiting_since
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_escalate(conversation, acting_user=desk.ana,
                            note="El cliente necesita un reembolso parcial")
    conversation.refresh_from_db()
    assert conversation.tier == 2
    assert conversation.team_id == desk.team_l2.pk
    assert conversation.assignee_id == desk.beto.pk  # routed to the L2 agent
    assert conversation.waiting_since == waiting_since
    kinds = list(Event.objects.filter(conversation=conversation).order_by("at", "id")
                 .values_list("kind", flat=True))
    assert kinds.index(events.ESCALATED) < kinds.index(conversation_events.NOTE_ADDED)
    assert conversation.messages.filter(direction="note", text__contains="reembolso").exists()
    escalated = Event.objects.get(conversation=conversation, kind=events.ESCALATED)
    assert escalated.before == {"tier": 1, "team": desk.team_l1.pk, "agent": desk.ana.pk}
    assert escalated.after["tier"] == 2
    figures = routing_figures(conversation, now=timezone.now() + dt.timedelta(hours=1))
    assert figures.escalations == 1
    assert figures.transfers == 2  # L1 → L2 team, ana → beto
    assert set(figures.seconds_in_tier) == {1, 2}
    assert figures.seconds_in_tier[2] >= 3600
    with pytest.raises(Exception, match="top tier"):
        Conversation.objects.filter(pk=conversation.pk).update(tier=3)
        conversation.refresh_from_db()
        actions.do_escalate(conversation, acting_user=desk.beto)


def test_deescalation_and_transfer_to_an_agent(desk):
    desk.team_l1.escalates_to = desk.team_l2
    desk.team_l1.save(update_fields=["escalates_to"])
    conversation = open_conversation(desk, team=desk.team_l2)
    Conversation.objects.filter(pk=conversation.pk).update(tier=2)
    conversation.refresh_from_db()
    actions.do_deescalate(conversation, acting_user=desk.beto, note="Ya está resuelto el fallo")
    conversation.refresh_from_db()
    assert (conversation.tier, conversation.team_id) == (1, desk.team_l1.pk)
    actions.do_transfer(conversation, acting_user=desk.ana, agent=desk.carla)
    conversation.refresh_from_db()
    assert conversation.assignee_id == desk.carla.pk
    transferred = Event.objects.get(conversation=conversation, kind=events.TRANSFERRED)
    assert transferred.after["agent"] == desk.carla.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_exceed_capacity_nor_double_assign():
    from mostrador.core.testing import make_desk

    with muted():
        desk = make_desk()
        team = do_create_team("Concurrencia", tier=1)
        agents = [staff(f"worker{i}", capacity={"email": 3}) for i in range(3)]
        team.members.set(agents)
        rule(team, "least_loaded")
        conversations = [open_conversation(desk, team=team) for _ in range(20)]
    ids = [c.pk for c in conversations]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            barrier.wait()
            # Every worker walks every conversation, from a different starting point.
            for conversation_id in ids[offset:] + ids[:offset]:
                with muted():
                    actions.route(conversation_id)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i * 2,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loads = {a.pk: Conversation.objects.filter(assignee=a).count() for a in agents}
    assert loads == {a.pk: 3 for a in agents}
    assigned = Event.objects.filter(conversation_id__in=ids,
                                    kind=conversation_events.ASSIGNEE_CHANGED)
    assert assigned.count() == 9  # one assignment per assigned conversation, never two
    assert Event.objects.filter(conversation_id__in=ids, kind=events.ASSIGNED).count() == 9


def test_an_escalation_frees_the_agent_for_the_next_in_their_queue(
        desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sara = staff("sara", capacity={"email": 1})
        desk.team_l1.members.set([sara])
        desk.team_l1.escalates_to = desk.team_l2
        desk.team_l1.save(update_fields=["escalates_to"])
        rule(desk.team_l1, "round_robin")
        first = open_conversation(desk, team=desk.team_l1)
        waiting = open_conversation(desk, team=desk.team_l1)
    assert Conversation.objects.get(pk=first.pk).assignee_id == sara.pk
    assert Conversation.objects.get(pk=waiting.pk).assignee_id is None
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_escalate(Conversation.objects.get(pk=first.pk), acting_user=sara)
    assert Conversation.objects.get(pk=first.pk).team_id == desk.team_l2.pk
    assert Conversation.objects.get(pk=waiting.pk).assignee_id == sara.pk


def test_round_robin_skips_agents_at_capacity_window_after_window(desk, team, monkeypatch):
    monkeypatch.setattr(actions, "ROUND_ROBIN_WINDOW", 2)
    full = [staff(f"full{i}", capacity={"email": 1}) for i in range(5)]
    free = staff("libre", capacity={"email": 1})
    team.members.set([*full, free])
    rule(team, "round_robin")
    for agent in full:
        conversation_actions.do_assign(open_conversation(desk, team=team), agent,
                                       acting_user=None)
    # The five full agents were given work more recently: the free one is last in turn.
    Agent.objects.filter(user=free).update(last_assigned_at=dt.datetime(2020, 1, 1,
                                                                        tzinfo=dt.UTC))
    Agent.objects.filter(user__in=full).update(last_assigned_at=None)
    assert actions.route(open_conversation(desk, team=team)).agent_id == free.pk
    assert actions.route(open_conversation(desk, team=team)).reason == "no_agent_available"
