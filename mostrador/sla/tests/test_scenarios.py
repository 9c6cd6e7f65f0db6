"""SLA clocks on real conversations: holidays, pauses, policy changes, team moves, legal
deadlines, warnings and breaches with escalation, and the after-hours notice."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mostrador.accounts.actions import do_update_agent
from mostrador.accounts.models import Team
from mostrador.channels.base import InboundMessage
from mostrador.channels.registry import get_adapter
from mostrador.conversations import actions as conv
from mostrador.conversations.models import Conversation, Event, Message
from mostrador.sla import actions, events
from mostrador.sla.after_hours import maybe_reply_after_hours
from mostrador.sla.models import Calendar, Target

pytestmark = pytest.mark.django_db
MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS_9_TO_18 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
UTC = dt.UTC


def madrid(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MADRID)


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run after-commit listeners (SLA sync, after-hours notice) as a real request would."""

    @contextmanager
    def runner():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return runner


@pytest.fixture
def spain(desk, run_commits):
    with run_commits():
        calendar = actions.do_create_calendar(name="Madrid", time_zone="Europe/Madrid",
                                              weekly=WEEKDAYS_9_TO_18, country="ES",
                                              subdivision="MD", is_default=True)
    return calendar


def mail(provider_id: str, *, sender="elena.martin@correo.es", subject="Pedido 4411",
         references=(), **extra) -> InboundMessage:
    return InboundMessage(sender_kind="email", sender_id=sender, sender_name="Elena Martín",
                          provider_id=provider_id, subject=subject, text="¿Dónde está?",
                          reply_text="¿Dónde está?", references=list(references), **extra)


def receive(desk, run_commits, at: dt.datetime, inbound: InboundMessage) -> Conversation:
    with time_machine.travel(at, tick=False), run_commits():
        result = conv.receive_inbound(desk.inbox, inbound)
    return result.conversation


def targets(conversation: Conversation) -> dict[str, Target]:
    return {t.kind: t for t in Target.objects.filter(conversation=conversation)}


def policy(run_commits, **fields):
    with run_commits():
        return actions.do_create_policy(**{"name": "Estándar", **fields})


def test_a_request_at_1759_on_friday_before_a_holiday_monday(desk, spain, run_commits):
    # 12 October 2026, a Monday, is Spain's national day: the hour runs 1 minute on Friday,
    # then 59 minutes from Tuesday 09:00.
    policy(run_commits, first_response_minutes=60, resolution_minutes=9 * 60)
    conversation = receive(desk, run_commits, madrid(2026, 10, 9, 17, 59), mail("<h1@x>"))

    first = targets(conversation)[Target.Kind.FIRST_RESPONSE]
    assert first.due_at == madrid(2026, 10, 13, 9, 59)
    assert first.warn_at == madrid(2026, 10, 13, 9, 44)  # 75 % of the hour spent
    resolution = targets(conversation)[Target.Kind.RESOLUTION]
    assert resolution.due_at == madrid(2026, 10, 13, 17, 59)
    conversation.refresh_from_db()
    assert conversation.sla_due_at == first.due_at
    assert conversation.first_response_due == first.due_at
    assert conversation.sla_status == "on_track"
    started = Event.objects.get(conversation=conversation, kind=events.STARTED)
    assert started.after["policy"] == "Estándar"
    assert {t["kind"] for t in started.after["targets"]} == {"first_response", "resolution"}


def test_pending_pauses_the_clock_across_a_weekend(desk, spain, run_commits):
    policy(run_commits, resolution_minutes=16 * 60)
    conversation = receive(desk, run_commits, madrid(2026, 10, 16, 10, 0), mail("<p1@x>"))
    assert targets(conversation)["resolution"].due_at == madrid(2026, 10, 19, 17, 0)

    with time_machine.travel(madrid(2026, 10, 16, 12, 0), tick=False), run_commits():
        conv.do_send_reply(conversation, "¿Nos envía el número de pedido?",
                           acting_user=desk.ana, status="pending")
    paused = targets(conversation)["resolution"]
    assert paused.state == Target.State.PAUSED
    assert paused.due_at is None
    assert paused.budget_us == 14 * 3600 * 10**6  # two business hours spent
    conversation.refresh_from_db()
    assert conversation.sla_status == "paused"
    assert conversation.sla_due_at is None

    receive(desk, run_commits, madrid(2026, 10, 19, 11, 0),
            mail("<p2@x>", subject="Re: Pedido 4411", references=["<p1@x>"]))
    resumed = targets(conversation)["resolution"]
    assert resumed.state == Target.State.ACTIVE
    # 14 hours left from Monday 11:00: 7 on Monday, 7 on Tuesday.
    assert resumed.due_at == madrid(2026, 10, 20, 16, 0)
    kinds = list(Event.objects.filter(conversation=conversation, kind__startswith="sla.")
                 .order_by("id").values_list("kind", flat=True))
    assert kinds == [events.STARTED, events.PAUSED, events.RESUMED]


def test_next_response_runs_after_each_customer_message(desk, spain, run_commits):
    policy(run_commits, first_response_minutes=60, next_response_minutes=120)
    conversation = receive(desk, run_commits, madrid(2026, 10, 14, 10, 0), mail("<n1@x>"))
    with time_machine.travel(madrid(2026, 10, 14, 10, 30), tick=False), run_commits():
        conv.do_send_reply(conversation, "Lo miramos.", acting_user=desk.ana)
    first = targets(conversation)["first_response"]
    assert (first.state, first.met_at) == (Target.State.MET, madrid(2026, 10, 14, 10, 30))
    assert "next_response" not in targets(conversation)

    receive(desk, run_commits, madrid(2026, 10, 14, 17, 0),
            mail("<n2@x>", subject="Re: Pedido 4411", references=["<n1@x>"]))
    following = targets(conversation)["next_response"]
    assert following.started_at == madrid(2026, 10, 14, 17, 0)
    assert following.due_at == madrid(2026, 10, 15, 10, 0)  # 1 h today, 1 h tomorrow
    with time_machine.travel(madrid(2026, 10, 15, 9, 15), tick=False), run_commits():
        conv.do_send_reply(conversation, "Ya está en camino.", acting_user=desk.ana)
    assert targets(conversation)["next_response"].state == Target.State.MET

    receive(desk, run_commits, madrid(2026, 10, 15, 12, 0),
            mail("<n3@x>", subject="Re: Pedido 4411", references=["<n1@x>"]))
    again = targets(conversation)["next_response"]
    assert (again.state, again.started_at) == (Target.State.ACTIVE, madrid(2026, 10, 15, 12, 0))
    assert again.due_at == madrid(2026, 10, 15, 14, 0)


def test_a_policy_change_recomputes_open_conversations(desk, spain, run_commits):
    standard = policy(run_commits, first_response_minutes=4 * 60)
    open_one = receive(desk, run_commits, madrid(2026, 10, 14, 10, 0), mail("<c1@x>"))
    answered = receive(desk, run_commits, madrid(2026, 10, 14, 10, 5),
                       mail("<c2@x>", subject="Otra cosa"))
    with time_machine.travel(madrid(2026, 10, 14, 10, 10), tick=False), run_commits():
        conv.do_send_reply(answered, "Hecho.", acting_user=desk.ana, status="solved")
    assert targets(open_one)["first_response"].due_at == madrid(2026, 10, 14, 14, 0)

    with time_machine.travel(madrid(2026, 10, 14, 11, 0), tick=False), run_commits():
        actions.do_update_policy(standard, first_response_minutes=2 * 60)

    assert targets(open_one)["first_response"].due_at == madrid(2026, 10, 14, 12, 0)
    recomputed = Event.objects.get(conversation=open_one, kind=events.RECOMPUTED)
    assert recomputed.after["targets"][0]["before_due"] == \
        madrid(2026, 10, 14, 14, 0).astimezone(UTC).isoformat()
    assert targets(answered)["first_response"].state == Target.State.MET
    assert not Event.objects.filter(conversation=answered, kind=events.RECOMPUTED).exists()


def test_moving_to_a_team_with_other_hours_keeps_the_time_spent(desk, spain, run_commits):
    with run_commits():
        mexico = actions.do_create_calendar(name="CDMX", time_zone="America/Mexico_City",
                                            weekly=WEEKDAYS_9_TO_18, country="MX")
    Team.objects.filter(pk=desk.team_l1.pk).update(calendar=spain)
    Team.objects.filter(pk=desk.team_l2.pk).update(calendar=mexico)
    policy(run_commits, resolution_minutes=8 * 60)
    conversation = receive(desk, run_commits, madrid(2026, 10, 14, 10, 0), mail("<t1@x>"))
    with time_machine.travel(madrid(2026, 10, 14, 10, 0), tick=False), run_commits():
        conv.do_set_team(conversation, desk.team_l1, acting_user=desk.carla)
    assert targets(conversation)["resolution"].due_at == madrid(2026, 10, 14, 18, 0)

    with time_machine.travel(madrid(2026, 10, 14, 12, 0), tick=False), run_commits():
        conv.do_set_team(conversation, desk.team_l2, acting_user=desk.carla)
    moved = targets(conversation)["resolution"]
    assert moved.calendar_id == mexico.pk
    # Two hours spent in Madrid; six left in Mexico City's hours, which open at 09:00 there.
    assert moved.due_at == dt.datetime(2026, 10, 14, 15, 0,
                                       tzinfo=ZoneInfo("America/Mexico_City"))


def test_legal_deadline_counts_business_days_from_the_day_after(desk, run_commits):
    with run_commits():
        colombia = actions.do_create_calendar(
            name="Colombia", time_zone="America/Bogota", country="CO",
            weekly={day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
    policy(run_commits, name="Derechos de petición", request_types=["peticion"], legal_days=15,
           legal_calendar=colombia)
    bogota = ZoneInfo("America/Bogota")
    with time_machine.travel(dt.datetime(2026, 11, 26, 16, 0, tzinfo=bogota), tick=False), \
            run_commits():
        conversation = conv.do_create_conversation(
            inbox=desk.inbox, customer=desk.elena, subject="Derecho de petición",
            text="Solicito copia de mi contrato.", acting_user=desk.ana)
        Conversation.objects.filter(pk=conversation.pk).update(request_type="peticion")
        actions.do_sync_sla(conversation.pk)
    legal = targets(conversation)["legal"]
    # 27 Nov is day 1; 8 December (Immaculate Conception) is a Colombian holiday.
    assert legal.due_at == dt.datetime(2026, 12, 18, 17, 0, tzinfo=bogota)
    assert Event.objects.filter(conversation=conversation, kind=events.STARTED,
                                after__targets__0__kind="legal").exists()

    with time_machine.travel(dt.datetime(2026, 12, 10, 9, 0, tzinfo=bogota), tick=False), \
            run_commits():
        conv.do_change_status(conversation, "solved", acting_user=desk.ana)
    met = targets(conversation)["legal"]
    assert met.state == Target.State.MET
    assert met.breached_at is None
    assert Event.objects.get(conversation=conversation, kind=events.MET).after["targets"] == [
        {"kind": "legal", "due": None, "late": False}]


def test_warning_then_breach_escalates_exactly_once(desk, spain, run_commits, mailoutbox):
    policy(run_commits, first_response_minutes=30, business_hours=False, escalate_tier=True,
           escalate_team=desk.team_l2)
    with run_commits():
        do_update_agent(desk.ana.agent, tier=1)
    start = dt.datetime(2026, 10, 17, 23, 0, tzinfo=UTC)  # a Saturday night: calendar time
    conversation = receive(desk, run_commits, start, mail("<b1@x>"))
    with time_machine.travel(start, tick=False), run_commits():
        conv.do_assign(conversation, desk.ana, acting_user=desk.carla)

    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False), run_commits():
        assert actions.sweep().warned == 0
    with time_machine.travel(start + dt.timedelta(minutes=23), tick=False), run_commits():
        assert actions.sweep().warned == 1
        assert actions.sweep().warned == 0
    conversation.refresh_from_db()
    assert conversation.sla_status == "at_risk"
    warning = Event.objects.get(conversation=conversation, kind=events.WARNING)
    assert warning.after["notified"] == [desk.ana.pk]

    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False), run_commits():
        result = actions.sweep()
        assert (result.breached, actions.sweep().breached) == (1, 0)
    conversation.refresh_from_db()
    assert conversation.sla_status == "breached"
    assert (conversation.priority, conversation.tier, conversation.team_id,
            conversation.assignee_id) == (3, 2, desk.team_l2.pk, None)
    breach = Event.objects.get(conversation=conversation, kind=events.BREACHED)
    assert breach.after["due"] == (start + dt.timedelta(minutes=30)).isoformat()
    escalated = Event.objects.get(conversation=conversation, kind=events.ESCALATED)
    assert escalated.after == {"policy": "Estándar", "priority": 3, "tier": 2,
                               "unassigned": desk.ana.pk, "team": desk.team_l2.pk}
    assert targets(conversation)["first_response"].breached_at == start + dt.timedelta(minutes=30)
    subjects = sorted(m.subject for m in mailoutbox)
    number = conversation.pk
    assert subjects == [f"SLA at risk: First response on #{number}",
                        *[f"SLA breached: First response on #{number}"] * 3]


def test_a_late_answer_counts_as_breached_even_before_the_sweep(desk, spain, run_commits):
    policy(run_commits, first_response_minutes=30, business_hours=False)
    start = dt.datetime(2026, 10, 14, 8, 0, tzinfo=UTC)
    conversation = receive(desk, run_commits, start, mail("<l1@x>"))
    with time_machine.travel(start + dt.timedelta(minutes=45), tick=False), run_commits():
        conv.do_send_reply(conversation, "Perdón por la espera.", acting_user=desk.ana)
    first = targets(conversation)["first_response"]
    assert first.state == Target.State.MET
    assert first.breached_at == start + dt.timedelta(minutes=30)
    conversation.refresh_from_db()
    assert conversation.sla_status == "met"


def test_after_hours_mail_is_told_when_a_person_answers(desk, spain, run_commits):
    desk.elena.language = "es"
    desk.elena.save(update_fields=["language"])
    # Saturday night: Monday 12 October is a holiday, so people answer on Tuesday at 09:00.
    conversation = receive(desk, run_commits, madrid(2026, 10, 10, 23, 30), mail("<a1@x>"))
    (notice,) = Message.objects.filter(conversation=conversation,
                                       direction=Message.Direction.OUTBOUND)
    assert notice.automatic and notice.author_kind == Message.AuthorKind.SYSTEM
    assert "a partir del martes 13 de octubre a las 09:00 (hora de Europe/Madrid)" in notice.text
    assert f"#{conversation.pk}" in notice.text
    mime = get_adapter("email").build(notice)
    assert mime["Auto-Submitted"] == "auto-replied"
    conversation.refresh_from_db()
    assert conversation.first_response_at is None  # the notice is not the desk's answer
    assert conversation.waiting_since == madrid(2026, 10, 10, 23, 30)
    assert Event.objects.get(conversation=conversation, kind=events.AFTER_HOURS).after == {
        "opens": madrid(2026, 10, 13, 9, 0).astimezone(UTC).isoformat()}

    # A second message the same night gets no second notice.
    receive(desk, run_commits, madrid(2026, 10, 11, 1, 0),
            mail("<a2@x>", subject="Re: Pedido 4411", references=["<a1@x>"]))
    assert conversation.messages.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_no_notice_in_opening_hours_nor_to_mail_that_refuses_it(desk, spain, run_commits):
    in_hours = receive(desk, run_commits, madrid(2026, 10, 14, 10, 0), mail("<o1@x>"))
    assert not in_hours.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    refusing = receive(desk, run_commits, madrid(2026, 10, 10, 23, 0),
                       mail("<o2@x>", subject="Otra", extra={"suppress_autoreply": True}))
    assert not refusing.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    assert not maybe_reply_after_hours(refusing.pk, now=madrid(2026, 10, 10, 23, 5))


def test_no_calendar_means_no_notice_and_calendar_time(desk, run_commits):
    policy(run_commits, first_response_minutes=90)
    start = dt.datetime(2026, 10, 10, 22, 0, tzinfo=UTC)
    conversation = receive(desk, run_commits, start, mail("<z1@x>"))
    assert not conversation.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    assert targets(conversation)["first_response"].due_at == start + dt.timedelta(minutes=90)


def test_sync_is_idempotent_and_the_sweep_reads_only_due_rows(desk, spain, run_commits):
    policy(run_commits, first_response_minutes=60)
    conversation = receive(desk, run_commits, madrid(2026, 10, 14, 10, 0), mail("<i1@x>"))
    before = list(Target.objects.filter(conversation=conversation).values())
    event_count = Event.objects.filter(conversation=conversation).count()
    with time_machine.travel(madrid(2026, 10, 14, 10, 5), tick=False):
        actions.do_sync_sla(conversation.pk)
        actions.do_sync_sla(conversation.pk)
    assert list(Target.objects.filter(conversation=conversation).values()) == before
    assert Event.objects.filter(conversation=conversation).count() == event_count
    assert actions.due_for_breach(madrid(2026, 10, 14, 10, 59)) == []
    assert actions.due_for_breach(madrid(2026, 10, 14, 11, 0)) == [before[0]["id"]]


def test_calendar_and_policy_validation(desk):
    from mostrador.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as bad_hours:
        actions.do_create_calendar(name="X", time_zone="Europe/Madrid",
                                   weekly={"mon": [["9", "17:00"]]})
    assert bad_hours.value.field == "weekly"
    with pytest.raises(ValidationFailed) as bad_zone:
        actions.do_create_calendar(name="X", time_zone="Europe/Atlantis", weekly={})
    assert bad_zone.value.field == "time_zone"
    with pytest.raises(ValidationFailed) as bad_country:
        actions.do_create_calendar(name="X", time_zone="UTC", weekly=WEEKDAYS_9_TO_18,
                                   country="XX")
    assert bad_country.value.field == "country"
    with pytest.raises(ValidationFailed) as no_target:
        actions.do_create_policy(name="Vacía")
    assert no_target.value.field == "first_response_minutes"
    assert Calendar.objects.count() == 0


def test_a_policy_that_stops_matching_cancels_and_a_match_restarts(desk, spain, run_commits):
    policy(run_commits, name="Urgente", priorities=[4], first_response_minutes=30)
    conversation = receive(desk, run_commits, madrid(2026, 10, 14, 10, 0), mail("<u1@x>"))
    assert targets(conversation) == {}
    with time_machine.travel(madrid(2026, 10, 14, 10, 10), tick=False), run_commits():
        conv.do_change_priority(conversation, 4, acting_user=desk.carla)
    urgent = targets(conversation)["first_response"]
    # The promise starts from the customer's message, not from the priority change.
    assert urgent.due_at == madrid(2026, 10, 14, 10, 30)
    with time_machine.travel(madrid(2026, 10, 14, 10, 15), tick=False), run_commits():
        conv.do_change_priority(conversation, 2, acting_user=desk.carla)
    assert targets(conversation)["first_response"].state == Target.State.CANCELLED
    conversation.refresh_from_db()
    assert (conversation.sla_status, conversation.sla_due_at) == ("", None)
    with time_machine.travel(madrid(2026, 10, 14, 10, 20), tick=False), run_commits():
        conv.do_change_priority(conversation, 4, acting_user=desk.carla)
    again = targets(conversation)["first_response"]
    assert (again.state, again.due_at) == (Target.State.ACTIVE, madrid(2026, 10, 14, 10, 30))
