"""Writers of automation: triggers, time rules and macros (canned replies live in
``automation.canned``, webhooks in ``automation.webhooks``), applying a macro, and the time-rule
run.

Rules are validated by ``automation.rules`` before they are stored, so what runs is always
what was accepted. Supervisors and admins manage triggers and time rules and the shared macros;
every agent may keep personal macros.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.automation import events
from mostrador.automation.engine import (
    apply_actions,
    compile_rule,
    facts_for,
    forget_compiled,
)
from mostrador.automation.models import Macro, TimeRule, TimeRuleFiring, Trigger
from mostrador.automation.rules import parse_actions, parse_conditions
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation
from mostrador.core.errors import NotFound, PermissionDenied, ValidationFailed
from mostrador.core.publish import caused_by, publish_on_commit

logger = logging.getLogger(__name__)
TIME_RULE_CAUSE = "time_rule"
# Conversations a time rule handles per run; the rest wait for the next minute.
TIME_RULE_BATCH = 500


def _is_supervisor(user) -> bool:
    agent = getattr(user, "agent", None)
    return bool(user is not None and (user.is_superuser or (agent and agent.is_supervisor)))


def check_may_manage_rules(acting_user) -> None:
    if acting_user is not None and not _is_supervisor(acting_user):
        raise PermissionDenied(_("Only supervisors and administrators manage automation."))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give it a name."), field="name")
    return name[:150]


def _clean_events(on: Any) -> list[str]:
    values = Trigger.On.values
    if not isinstance(on, list) or not on or any(e not in values for e in on):
        raise ValidationFailed(_("Choose when it runs: %(choices)s.")
                               % {"choices": ", ".join(values)}, field="events")
    return sorted(set(on), key=values.index)


def _next_position(model) -> int:
    return (model.objects.aggregate(m=Max("position"))["m"] or 0) + 1


def _published(kind: str, obj, acting_user) -> None:
    publish_on_commit(kind, {"id": obj.pk, "acting_user_id": getattr(acting_user, "pk", None)})
    if kind.startswith("automation.trigger"):
        # This process sees its own change at once; others within a second.
        transaction.on_commit(forget_compiled)


# --- triggers ------------------------------------------------------------------------------


@transaction.atomic
def do_create_trigger(*, name: str, events: list[str], conditions: Any, actions: Any,
                      description: str = "", active: bool = True, acting_user) -> Trigger:
    check_may_manage_rules(acting_user)
    trigger = Trigger(name=_clean_name(name), description=description or "",
                      events=_clean_events(events),
                      conditions=parse_conditions(conditions).model_dump(),
                      actions=[a.model_dump() for a in parse_actions(actions)],
                      active=active, position=_next_position(Trigger), created_by=acting_user)
    trigger.save()
    _published("automation.trigger_changed", trigger, acting_user)
    return trigger


@transaction.atomic
def do_update_trigger(trigger: Trigger, *, acting_user, name: str | None = None,
                      events: list[str] | None = None, conditions: Any = None,
                      actions: Any = None, description: str | None = None,
                      active: bool | None = None) -> Trigger:
    check_may_manage_rules(acting_user)
    trigger = Trigger.objects.select_for_update().get(pk=trigger.pk)
    if name is not None:
        trigger.name = _clean_name(name)
    if events is not None:
        trigger.events = _clean_events(events)
    if conditions is not None:
        trigger.conditions = parse_conditions(conditions).model_dump()
    if actions is not None:
        trigger.actions = [a.model_dump() for a in parse_actions(actions)]
    if description is not None:
        trigger.description = description
    if active is not None:
        trigger.active = active
    trigger.save()
    _published("automation.trigger_changed", trigger, acting_user)
    return trigger


@transaction.atomic
def do_delete_trigger(trigger: Trigger, *, acting_user) -> None:
    check_may_manage_rules(acting_user)
    _published("automation.trigger_deleted", trigger, acting_user)
    trigger.delete()


def _move(model, obj, direction: int) -> None:
    rows = list(model.objects.select_for_update().order_by("position", "id"))
    index = next(i for i, row in enumerate(rows) if row.pk == obj.pk)
    other = index + direction
    if not 0 <= other < len(rows):
        return
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            model.objects.filter(pk=row.pk).update(position=position, updated_at=timezone.now())


@transaction.atomic
def do_move_trigger(trigger: Trigger, direction: int, *, acting_user) -> None:
    """One place up (-1) or down (+1) in the order triggers run in."""
    check_may_manage_rules(acting_user)
    _move(Trigger, trigger, -1 if direction < 0 else 1)
    _published("automation.trigger_moved", trigger, acting_user)


# --- time rules ----------------------------------------------------------------------------


def _clean_time_rule(status: str, hours: Any) -> tuple[str, int]:
    if status not in Conversation.Status.values or status == Conversation.Status.CLOSED:
        raise ValidationFailed(_("Choose the status it waits on (not closed)."), field="status")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 24 * 365:
        raise ValidationFailed(_("Hours must be a whole number from 1 to 8760."),
                               field="hours")
    return status, hours


@transaction.atomic
def do_create_time_rule(*, name: str, status: str, hours: int, actions: Any,
                        conditions: Any = None, active: bool = True,
                        acting_user) -> TimeRule:
    check_may_manage_rules(acting_user)
    status, hours = _clean_time_rule(status, hours)
    rule = TimeRule.objects.create(
        name=_clean_name(name), status=status, hours=hours,
        conditions=parse_conditions(conditions).model_dump(),
        actions=[a.model_dump() for a in parse_actions(actions)], active=active,
        position=_next_position(TimeRule), created_by=acting_user)
    _published("automation.time_rule_changed", rule, acting_user)
    return rule


@transaction.atomic
def do_update_time_rule(rule: TimeRule, *, acting_user, name: str | None = None,
                        status: str | None = None, hours: int | None = None,
                        conditions: Any = None, actions: Any = None,
                        active: bool | None = None) -> TimeRule:
    """Change a time rule. A new status or a longer wait starts its look-out over, so stays
    already past the new threshold are considered (each still fires at most once)."""
    check_may_manage_rules(acting_user)
    rule = TimeRule.objects.select_for_update().get(pk=rule.pk)
    new_status, new_hours = _clean_time_rule(status or rule.status,
                                             rule.hours if hours is None else hours)
    if (new_status, new_hours) != (rule.status, rule.hours):
        rule.checked_until = None
    rule.status, rule.hours = new_status, new_hours
    if name is not None:
        rule.name = _clean_name(name)
    if conditions is not None:
        rule.conditions = parse_conditions(conditions).model_dump()
    if actions is not None:
        rule.actions = [a.model_dump() for a in parse_actions(actions)]
    if active is not None:
        rule.active = active
    rule.save()
    _published("automation.time_rule_changed", rule, acting_user)
    return rule


@transaction.atomic
def do_delete_time_rule(rule: TimeRule, *, acting_user) -> None:
    check_may_manage_rules(acting_user)
    _published("automation.time_rule_deleted", rule, acting_user)
    rule.delete()


@dataclasses.dataclass
class TimeRuleRun:
    rules: int = 0
    looked_at: int = 0
    fired: int = 0


def run_time_rules(*, now: dt.datetime | None = None) -> TimeRuleRun:
    """Fire every active time rule on the conversations whose stay crossed its threshold.

    Each rule reads only stays that began in (checked_until, now - hours], through the
    (status, status_since) index, so the work per run is what became due since the last run,
    not every open conversation. Exactly once per stay: the firing row's unique constraint is
    written in the same transaction as the actions, so a second worker's attempt rolls back.
    """
    now = now or timezone.now()
    run = TimeRuleRun()
    for rule in TimeRule.objects.filter(active=True).order_by("position", "id"):
        run.rules += 1
        try:
            compiled = compile_rule(rule.pk, rule.name, ["time"], rule.conditions, rule.actions)
        except Exception:
            logger.exception("time rule %s cannot be compiled; skipped", rule.pk)
            continue
        threshold = now - dt.timedelta(hours=rule.hours)
        due = Conversation.objects.filter(status=rule.status, status_since__lte=threshold,
                                          merged_into__isnull=True)
        if rule.checked_until is not None:
            due = due.filter(status_since__gte=rule.checked_until)
        rows = list(due.order_by("status_since", "id").values_list("id", "status_since")
                    [:TIME_RULE_BATCH])
        for conversation_id, since in rows:
            run.looked_at += 1
            if _fire_time_rule(rule, compiled, conversation_id, since, now):
                run.fired += 1
        checked = threshold if len(rows) < TIME_RULE_BATCH else rows[-1][1]
        TimeRule.objects.filter(pk=rule.pk).update(checked_until=checked)
    return run


def _fire_time_rule(rule: TimeRule, compiled, conversation_id: int, since: dt.datetime,
                    now: dt.datetime) -> bool:
    conversation = (Conversation.objects.select_related("customer", "inbox", "team")
                    .filter(pk=conversation_id).first())
    if conversation is None or conversation.status != rule.status \
            or conversation.status_since != since:
        return False
    if not compiled.matches(facts_for(conversation, needs=compiled.needs, now=now)):
        return False
    try:
        with caused_by(TIME_RULE_CAUSE), transaction.atomic():
            TimeRuleFiring.objects.create(rule=rule, conversation_id=conversation_id,
                                          anchor=since, fired_at=now)
            outcome = apply_actions(conversation, compiled.actions, acting_user=None,
                                    automatic=True, label=rule.name)
            conversation_actions.record_event(
                conversation, events.TIME_RULE_FIRED, at=now,
                after={"rule": rule.pk, "name": rule.name, "hours": rule.hours,
                       **outcome.as_dict()})
            TimeRule.objects.filter(pk=rule.pk).update(fired_count=F("fired_count") + 1,
                                                       last_fired_at=now)
    except IntegrityError:
        return False  # another worker fired it for this stay
    return True


# --- macros --------------------------------------------------------------------------------


def access_macros(user, *, include_inactive: bool = False) -> list[Macro]:
    """The macros ``user`` may apply: the shared ones and their own (with
    ``include_inactive``, also those switched off, for managing them)."""
    macros = Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user))
    if not include_inactive:
        macros = macros.filter(active=True)
    return list(macros.order_by("position", "name", "id"))


def access_macro(user, pk: int) -> Macro:
    macro = Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user), pk=pk).first()
    if macro is None:
        raise NotFound(_("There is no such macro."))
    return macro


def _check_may_edit_macro(macro_owner, acting_user) -> None:
    if macro_owner is None:
        check_may_manage_rules(acting_user)
    elif acting_user is not None and acting_user.pk != macro_owner.pk \
            and not _is_supervisor(acting_user):
        raise PermissionDenied(_("This is someone else's macro."))


MACRO_ACTIONS = ("assign", "set_team", "set_tier", "escalate", "set_priority", "set_status",
                 "add_tags", "remove_tags", "set_field", "reply", "add_note", "webhook")


@transaction.atomic
def do_create_macro(*, name: str, actions: Any, description: str = "", shared: bool = True,
                    acting_user) -> Macro:
    owner = None if shared else acting_user
    _check_may_edit_macro(owner, acting_user)
    macro = Macro.objects.create(
        name=_clean_name(name), description=description or "",
        actions=[a.model_dump() for a in parse_actions(actions, allowed=MACRO_ACTIONS)],
        owner=owner, position=_next_position(Macro))
    _published("automation.macro_changed", macro, acting_user)
    return macro


@transaction.atomic
def do_update_macro(macro: Macro, *, acting_user, name: str | None = None,
                    actions: Any = None, description: str | None = None,
                    active: bool | None = None) -> Macro:
    _check_may_edit_macro(macro.owner, acting_user)
    if name is not None:
        macro.name = _clean_name(name)
    if actions is not None:
        macro.actions = [a.model_dump() for a in parse_actions(actions, allowed=MACRO_ACTIONS)]
    if description is not None:
        macro.description = description
    if active is not None:
        macro.active = active
    macro.save()
    _published("automation.macro_changed", macro, acting_user)
    return macro


@transaction.atomic
def do_delete_macro(macro: Macro, *, acting_user) -> None:
    _check_may_edit_macro(macro.owner, acting_user)
    _published("automation.macro_deleted", macro, acting_user)
    macro.delete()


@dataclasses.dataclass
class MacroResult:
    conversation: Conversation
    done: list[str]
    skipped: list[str]
    reply_id: int | None


@transaction.atomic
def do_apply_macro(conversation: Conversation, macro: Macro, *, acting_user) -> MacroResult:
    """Run the macro's actions as ``acting_user``, in one transaction: its reply goes out in
    their name and every change is on the timeline as theirs, with one ``automation.macro``
    event that says which macro did it."""
    if macro.owner_id is not None and macro.owner_id != getattr(acting_user, "pk", None):
        raise NotFound(_("There is no such macro."))
    conversation_actions._check_open_for_writing(conversation)
    actions = parse_actions(macro.actions, allowed=MACRO_ACTIONS)
    outcome = apply_actions(conversation, actions, acting_user=acting_user, automatic=False,
                            label=macro.name)
    conversation_actions.record_event(
        conversation, events.MACRO_APPLIED, at=timezone.now(), user=acting_user,
        after={"macro": macro.pk, "name": macro.name, **outcome.as_dict()})
    Macro.objects.filter(pk=macro.pk).update(used_count=F("used_count") + 1)
    conversation.refresh_from_db()
    return MacroResult(conversation, outcome.done, outcome.skipped,
                       outcome.reply.pk if outcome.reply else None)
