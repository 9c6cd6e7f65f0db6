"""The demo desk's hours and promises: a Madrid calendar with Spanish holidays, a legal
calendar for complaints, and four policies from the tightest to the general one."""

from __future__ import annotations

from mostrador.sla import actions

SPLIT_SHIFT = [["09:00", "14:00"], ["15:00", "18:30"]]


def seed_demo_sla(*, acting_user=None, vip_segment: str = "vip") -> None:
    madrid = actions.do_create_calendar(
        name="Soporte Madrid", time_zone="Europe/Madrid", country="ES", subdivision="MD",
        is_default=True, acting_user=acting_user,
        weekly={"mon": SPLIT_SHIFT, "tue": SPLIT_SHIFT, "wed": SPLIT_SHIFT, "thu": SPLIT_SHIFT,
                "fri": [["08:00", "15:00"]]})
    national = actions.do_create_calendar(
        name="España (días hábiles)", time_zone="Europe/Madrid", country="ES",
        weekly={day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        acting_user=acting_user)
    actions.do_create_policy(
        name="Reclamaciones (plazo legal)", request_types=["reclamacion", "queja"],
        first_response_minutes=4 * 60, legal_days=15, legal_calendar=national,
        acting_user=acting_user)
    actions.do_create_policy(
        name="Clientes VIP", segments=[vip_segment], first_response_minutes=60,
        next_response_minutes=2 * 60, resolution_minutes=8 * 60, escalate_tier=True,
        calendar=madrid, acting_user=acting_user)
    actions.do_create_policy(
        name="Urgente", priorities=[4], first_response_minutes=30, next_response_minutes=60,
        resolution_minutes=4 * 60, business_hours=False, acting_user=acting_user)
    actions.do_create_policy(
        name="Estándar", first_response_minutes=4 * 60, next_response_minutes=8 * 60,
        resolution_minutes=3 * 8 * 60, acting_user=acting_user)


def settle_history(now=None) -> int:
    """Mark the warnings and breaches that fell due in the demo's past as already raised (with
    their timeline events), so the first sweep of a new demo desk does not escalate months of
    history at once."""
    from django.db.models import F
    from django.utils import timezone

    from mostrador.conversations.models import Event
    from mostrador.sla import events
    from mostrador.sla.models import Target

    now = now or timezone.now()
    running = Target.objects.filter(state=Target.State.ACTIVE)
    running.filter(warned_at__isnull=True, warn_at__lte=now).update(warned_at=F("warn_at"))
    overdue = list(running.filter(breached_at__isnull=True, due_at__lte=now)
                   .values_list("id", "conversation_id", "kind", "due_at"))
    Target.objects.filter(pk__in=[row[0] for row in overdue]).update(breached_at=F("due_at"))
    Event.objects.bulk_create([
        Event(conversation_id=conversation_id, kind=events.BREACHED, at=due,
              after={"kind": kind, "due": due.isoformat(), "notified": []})
        for _id, conversation_id, kind, due in overdue], batch_size=500)
    return len(overdue)
