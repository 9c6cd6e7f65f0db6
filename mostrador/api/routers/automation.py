"""Automation: triggers (on a conversation event), time rules (after hours in a status) and
macros (applied by an agent), plus the rule language's schema for clients that build rules.
Any agent reads triggers and time rules; supervisors and administrators change them and the
shared macros; every agent keeps personal macros and applies the ones they can see."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from mostrador.api import reads, render
from mostrador.api.render import ref
from mostrador.api.schemas_automation import (
    AutomationSchemaOut,
    MacroAppliedOut,
    MacroCreateIn,
    MacroOut,
    MacroPage,
    MacroPatchIn,
    MoveIn,
    TimeRuleCreateIn,
    TimeRuleOut,
    TimeRulePage,
    TimeRulePatchIn,
    TriggerCreateIn,
    TriggerOut,
    TriggerPage,
    TriggerPatchIn,
)
from mostrador.automation import actions, rules
from mostrador.automation.models import Macro, TimeRule, Trigger
from mostrador.conversations.models import Conversation
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import NotFound, ValidationFailed

router = Router(tags=["automation"])


# --- reading --------------------------------------------------------------------------------


def access_trigger(trigger_id: int) -> Trigger:
    trigger = Trigger.objects.select_related("created_by__agent").filter(pk=trigger_id).first()
    if trigger is None:
        raise NotFound(_("Trigger %(id)s not found.") % {"id": trigger_id}, field="trigger")
    return trigger


def access_time_rule(rule_id: int) -> TimeRule:
    rule = TimeRule.objects.select_related("created_by__agent").filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Time rule %(id)s not found.") % {"id": rule_id}, field="time_rule")
    return rule


def access_macro(user, macro_id: int) -> Macro:
    """A shared macro or the user's own; someone else's personal macro is not found."""
    try:
        return actions.access_macro(user, macro_id)
    except NotFound as exc:
        exc.field = exc.field or "macro"
        raise


def _changes(payload: Schema) -> dict[str, Any]:
    """The fields a PATCH body gives; none of them may be null."""
    changes = payload.model_dump(include=payload.model_fields_set)
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    return changes


def _is_supervisor(user) -> bool:
    agent = reads.agent_of(user)
    return bool(user.is_superuser or (agent is not None and agent.is_supervisor))


# --- rendering ------------------------------------------------------------------------------


def _creator(obj: Trigger | TimeRule) -> dict[str, Any] | None:
    if not obj.created_by_id:
        return None
    user = obj.created_by
    return ref(user, reads.display_names([user])[user.pk])


def _trigger(t: Trigger) -> dict[str, Any]:
    return {"id": t.pk, "name": t.name, "description": t.description, "active": t.active,
            "position": t.position, "events": list(t.events or []),
            "conditions": t.conditions or {}, "actions": list(t.actions or []),
            "fired_count": t.fired_count, "last_fired_at": t.last_fired_at,
            "created_by": _creator(t), "created_at": t.created_at, "updated_at": t.updated_at}


def _time_rule(r: TimeRule) -> dict[str, Any]:
    return {"id": r.pk, "name": r.name, "active": r.active, "position": r.position,
            "status": r.status, "hours": r.hours, "conditions": r.conditions or {},
            "actions": list(r.actions or []), "fired_count": r.fired_count,
            "last_fired_at": r.last_fired_at, "created_by": _creator(r),
            "created_at": r.created_at, "updated_at": r.updated_at}


def _macro(m: Macro, user) -> dict[str, Any]:
    return {"id": m.pk, "name": m.name, "description": m.description,
            "actions": list(m.actions or []), "shared": m.owner_id is None,
            "owner": m.owner_id, "active": m.active, "position": m.position,
            "used_count": m.used_count,
            "editable": m.owner_id == user.pk or (m.owner_id is None and _is_supervisor(user)),
            "created_at": m.created_at, "updated_at": m.updated_at}


def _triggers() -> dict[str, Any]:
    rows = Trigger.objects.select_related("created_by__agent").order_by("position", "id")
    return {"items": [_trigger(t) for t in rows], "next_cursor": None}


# --- triggers -------------------------------------------------------------------------------


@router.get("/triggers", response=TriggerPage)
def list_triggers(request: HttpRequest):
    """Every trigger in the order they run: on each change, the first active one whose
    conditions hold fires, and the pass starts over (each fires at most once per change)."""
    return _triggers()


@router.post("/triggers", response={201: TriggerOut})
def create_trigger(request: HttpRequest, payload: TriggerCreateIn):
    """Supervisors and administrators. It runs after the existing ones; conditions and actions
    that the rule language does not accept are a 400 naming ``conditions`` or ``actions``."""
    trigger = actions.do_create_trigger(
        name=payload.name, events=payload.events, conditions=payload.conditions,
        actions=payload.actions, description=payload.description, active=payload.active,
        acting_user=request.user)
    return _trigger(access_trigger(trigger.pk))


@router.get("/triggers/{int:trigger_id}", response=TriggerOut)
def get_trigger(request: HttpRequest, trigger_id: int):
    return _trigger(access_trigger(trigger_id))


@router.patch("/triggers/{int:trigger_id}", response=TriggerOut)
def update_trigger(request: HttpRequest, trigger_id: int, payload: TriggerPatchIn):
    """Change what is given (supervisors and administrators); ``conditions`` and ``actions``
    are replaced whole."""
    trigger = access_trigger(trigger_id)
    actions.check_may_manage_rules(request.user)
    changes = _changes(payload)
    if changes:
        actions.do_update_trigger(trigger, acting_user=request.user, **changes)
    return _trigger(access_trigger(trigger_id))


@router.delete("/triggers/{int:trigger_id}", response={204: None})
def delete_trigger(request: HttpRequest, trigger_id: int):
    actions.do_delete_trigger(access_trigger(trigger_id), acting_user=request.user)
    return Status(204, None)


@router.post("/triggers/{int:trigger_id}/move", response=TriggerPage)
def move_trigger(request: HttpRequest, trigger_id: int, payload: MoveIn):
    """One place ``up`` (runs earlier) or ``down``; the first stays first and the last last.
    Answers every trigger in the new order."""
    trigger = access_trigger(trigger_id)
    actions.do_move_trigger(trigger, -1 if payload.direction == "up" else 1,
                            acting_user=request.user)
    return _triggers()


# --- time rules -----------------------------------------------------------------------------


@router.get("/time-rules", response=TimeRulePage)
def list_time_rules(request: HttpRequest):
    rows = TimeRule.objects.select_related("created_by__agent").order_by("position", "id")
    return {"items": [_time_rule(r) for r in rows], "next_cursor": None}


@router.post("/time-rules", response={201: TimeRuleOut})
def create_time_rule(request: HttpRequest, payload: TimeRuleCreateIn):
    """Supervisors and administrators. Runs each minute on conversations that have been in
    ``status`` for ``hours``, once per stay in that status."""
    rule = actions.do_create_time_rule(
        name=payload.name, status=payload.status, hours=payload.hours,
        conditions=payload.conditions, actions=payload.actions, active=payload.active,
        acting_user=request.user)
    return _time_rule(access_time_rule(rule.pk))


@router.get("/time-rules/{int:rule_id}", response=TimeRuleOut)
def get_time_rule(request: HttpRequest, rule_id: int):
    return _time_rule(access_time_rule(rule_id))


@router.patch("/time-rules/{int:rule_id}", response=TimeRuleOut)
def update_time_rule(request: HttpRequest, rule_id: int, payload: TimeRulePatchIn):
    """Change what is given. A new status or number of hours looks again at stays already past
    the new threshold (each still fires at most once)."""
    rule = access_time_rule(rule_id)
    actions.check_may_manage_rules(request.user)
    changes = _changes(payload)
    if changes:
        actions.do_update_time_rule(rule, acting_user=request.user, **changes)
    return _time_rule(access_time_rule(rule_id))


@router.delete("/time-rules/{int:rule_id}", response={204: None})
def delete_time_rule(request: HttpRequest, rule_id: int):
    actions.do_delete_time_rule(access_time_rule(rule_id), acting_user=request.user)
    return Status(204, None)


# --- macros ---------------------------------------------------------------------------------


class MacroQuery(Schema):
    include_inactive: bool = False


@router.get("/macros", response=MacroPage)
def list_macros(request: HttpRequest, query: Query[MacroQuery]):
    """The macros the token's user may apply: the shared ones and their own, in order;
    ``include_inactive=true`` adds those switched off."""
    rows = actions.access_macros(request.user, include_inactive=query.include_inactive)
    return {"items": [_macro(m, request.user) for m in rows], "next_cursor": None}


@router.post("/macros", response={201: MacroOut})
def create_macro(request: HttpRequest, payload: MacroCreateIn):
    """A shared macro (supervisors and administrators) or, with ``"shared": false``, one of
    your own."""
    macro = actions.do_create_macro(name=payload.name, actions=payload.actions,
                                    description=payload.description, shared=payload.shared,
                                    acting_user=request.user)
    return _macro(macro, request.user)


@router.get("/macros/{int:macro_id}", response=MacroOut)
def get_macro(request: HttpRequest, macro_id: int):
    return _macro(access_macro(request.user, macro_id), request.user)


@router.patch("/macros/{int:macro_id}", response=MacroOut)
def update_macro(request: HttpRequest, macro_id: int, payload: MacroPatchIn):
    """Change what is given: your own macros, or shared ones as a supervisor or
    administrator."""
    macro = access_macro(request.user, macro_id)
    if macro.owner_id is None:
        actions.check_may_manage_rules(request.user)
    changes = _changes(payload)
    if changes:
        macro = actions.do_update_macro(macro, acting_user=request.user, **changes)
    return _macro(macro, request.user)


@router.delete("/macros/{int:macro_id}", response={204: None})
def delete_macro(request: HttpRequest, macro_id: int):
    actions.do_delete_macro(access_macro(request.user, macro_id), acting_user=request.user)
    return Status(204, None)


@router.post("/conversations/{int:conversation_id}/macros/{int:macro_id}/apply",
             response=MacroAppliedOut)
def apply_macro(request: HttpRequest, conversation_id: int, macro_id: int):
    """Run the macro's actions on the conversation as the token's user, all in one go: its
    reply goes out in their name and each change is on the timeline as theirs. An action that
    cannot run (an agent since deactivated…) is skipped and listed in ``skipped``."""
    conversation = access_conversation(request.user, conversation_id)
    macro = access_macro(request.user, macro_id)
    if not macro.active:
        raise ValidationFailed(_("The macro %(name)s is switched off; switch it on to apply "
                                 "it.") % {"name": macro.name}, field="macro")
    result = actions.do_apply_macro(conversation, macro, acting_user=request.user)
    conversation = access_conversation(request.user, conversation_id)
    names = reads.display_names([conversation.assignee] if conversation.assignee_id else [])
    return {"done": result.done, "skipped": result.skipped, "reply_id": result.reply_id,
            "conversation": render.conversation(conversation, names=names)}


# --- the rule language ----------------------------------------------------------------------


@router.get("/automation/schema", response=AutomationSchemaOut)
def automation_schema(request: HttpRequest):
    """What conditions and actions may say, for clients and screens that build rules: each
    condition field with its operators, the prefixes that reach custom attributes and fields,
    and each action type with what its value is."""
    return {
        "fields": [{"name": name, "kind": kind, "operators": list(rules.OPERATORS[kind])}
                   for name, kind in rules.FIELDS.items()],
        "dynamic_fields": [{"prefix": prefix, "kind": "any",
                            "operators": list(rules.OPERATORS["any"])}
                           for prefix in rules.DYNAMIC_PREFIXES],
        "no_value_operators": list(rules.NO_VALUE),
        "actions": [{"type": kind, "description": description,
                     "in_macros": kind in actions.MACRO_ACTIONS}
                    for kind, description in rules.ACTION_TYPES.items()],
        "trigger_events": [{"value": value, "label": str(label)}
                           for value, label in Trigger.On.choices],
        "time_rule_statuses": [{"value": value, "label": str(label)}
                               for value, label in Conversation.Status.choices
                               if value != Conversation.Status.CLOSED],
    }
