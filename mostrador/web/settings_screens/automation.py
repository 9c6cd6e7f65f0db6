"""Settings → Automation: triggers in the order they run, time rules and macros. Supervisors
and administrators manage triggers, time rules and the shared macros; every agent keeps their
personal macros here, even without access to the rest of the settings.

The forms hold conditions and actions as the JSON the domain stores (``automation.rules``
describes it). In the browser ``rule-builder.js`` turns each JSON box into rows of selects and
inputs and writes the JSON back as they change; without script the JSON box is the form.
The actions validate; their objections are shown next to the box they concern.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mostrador.accounts.models import Agent, Team
from mostrador.automation import actions
from mostrador.automation.models import Macro, TimeRule, Trigger, WebhookSubscription
from mostrador.automation.rules import ACTION_TYPES, DYNAMIC_PREFIXES, FIELDS, NO_VALUE, OPERATORS
from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.errors import MostradorError, NotFound
from mostrador.customers.models import Identity
from mostrador.web.conversation.views import agent_required
from mostrador.web.settings_screens.forms import Form
from mostrador.web.settings_screens.views import _is_htmx, supervisor_required

TAB = "automation"
Status = Conversation.Status


def may_manage(user) -> bool:
    agent = getattr(user, "agent", None)
    return bool(user.is_superuser or (agent is not None and agent.is_supervisor))


# --- how rules read -------------------------------------------------------------------------


def field_labels() -> dict[str, str]:
    return {
        "status": _("Status"), "priority": _("Priority"), "channel": _("Channel"),
        "inbox": _("Inbox"), "team": _("Team"), "tier": _("Tier"),
        "assignee": _("Assigned agent"), "request_type": _("Request type"),
        "language": _("Conversation language"), "subject": _("Subject"),
        "text": _("Customer's latest message"), "tags": _("Tags"),
        "customer.segments": _("Customer segments"),
        "customer.language": _("Customer language"), "customer.email": _("Customer e-mail"),
        "customer.organisation": _("Customer organisation (id)"),
        "business_hours": _("Within opening hours"), "message_count": _("Number of messages"),
    }


def operator_labels() -> dict[str, str]:
    return {
        "is": _("is"), "is_not": _("is not"), "in": _("is one of"), "not_in": _("is none of"),
        "present": _("is set"), "absent": _("is empty"), "changed": _("changed"),
        "changed_to": _("changed to"), "changed_from": _("changed from"),
        "gt": _("is more than"), "gte": _("is at least"), "lt": _("is less than"),
        "lte": _("is at most"), "contains": _("contains any of"),
        "not_contains": _("contains none of"), "includes": _("includes any of"),
        "excludes": _("includes none of"),
    }


def action_labels() -> dict[str, str]:
    return {
        "assign": _("Assign to"), "set_team": _("Move to team"), "set_tier": _("Set the tier"),
        "escalate": _("Escalate one tier"), "set_priority": _("Set the priority"),
        "set_status": _("Set the status"), "add_tags": _("Add tags"),
        "remove_tags": _("Remove tags"), "set_field": _("Set a custom field"),
        "reply": _("Reply to the customer"), "add_note": _("Add an internal note"),
        "notify": _("Notify by e-mail"), "webhook": _("Call a webhook"),
    }


# The input each action's value needs in the rule builder.
ACTION_INPUTS = {"assign": "agent", "set_team": "team", "set_tier": "tier", "escalate": "none",
                 "set_priority": "priority", "set_status": "status", "add_tags": "tags",
                 "remove_tags": "tags", "set_field": "field", "reply": "bodies",
                 "add_note": "bodies", "notify": "notify", "webhook": "webhook"}
# Condition fields whose values the builder offers as a list to choose from.
FIELD_CHOICES = {"status": "statuses", "priority": "priorities", "channel": "channels",
                 "inbox": "inboxes", "team": "teams", "tier": "tiers", "assignee": "agents",
                 "language": "languages", "customer.language": "languages",
                 "business_hours": "booleans"}


def builder_config(*, action_types: tuple[str, ...], conditions: bool) -> dict[str, Any]:
    """What ``rule-builder.js`` offers: fields with their kinds, the operators of each kind,
    the action types with the input each needs, the choices (teams, agents…) and the words of
    its buttons, all in the agent's language."""
    labels, ops, kinds = field_labels(), operator_labels(), action_labels()
    agents = (Agent.objects.filter(user__is_active=True).order_by("display_name", "user_id")
              .values_list("user_id", "display_name"))
    return {
        "conditions": conditions,
        "fields": [{"value": name, "label": labels.get(name, name), "kind": kind,
                    "choices": FIELD_CHOICES.get(name, "")} for name, kind in FIELDS.items()],
        "dynamic": [{"prefix": DYNAMIC_PREFIXES[0], "label": _("Customer attribute…")},
                    {"prefix": DYNAMIC_PREFIXES[1], "label": _("Custom field…")}],
        "operators": {kind: [[op, ops.get(op, op)] for op in names]
                      for kind, names in OPERATORS.items()},
        "no_value": list(NO_VALUE),
        "actions": [{"value": kind, "label": kinds.get(kind, kind),
                     "input": ACTION_INPUTS.get(kind, "json")} for kind in action_types],
        "choices": {
            "statuses": [[value, str(label)] for value, label in Status.choices],
            "priorities": [[value, str(label)] for value, label in
                           Conversation.Priority.choices],
            "channels": [[value, str(label)] for value, label in Identity.Kind.choices],
            "inboxes": list(Inbox.objects.order_by("name").values_list("pk", "name")),
            "teams": list(Team.objects.order_by("name").values_list("pk", "name")),
            "tiers": [[1, _("Tier 1")], [2, _("Tier 2")], [3, _("Tier 3")]],
            "agents": [list(row) for row in agents],
            "languages": [[code, str(name)] for code, name in settings.LANGUAGES],
            "booleans": [[True, _("yes")], [False, _("no")]],
            "webhooks": list(WebhookSubscription.objects.order_by("name")
                             .values_list("pk", "name")),
            "notify": [["assignee", _("the assigned agent")], ["team", _("the team")],
                       ["supervisors", _("the supervisors")], ["people", _("these people")]],
        },
        "text": {
            "all": _("All of these conditions hold"),
            "any": _("…and at least one of these (when any are listed)"),
            "add_condition": _("Add condition"), "add_action": _("Add action"),
            "remove": _("Remove"), "field": _("Field"), "operator": _("Operator"),
            "value": _("Value"), "name": _("Name"), "action": _("Action"),
            "list_help": _("Separated by commas"), "spanish": _("Spanish"),
            "english": _("English"), "auto": _("Whoever routing chooses"),
            "nobody": _("Nobody (unassign)"), "no_team": _("No team"),
            "field_name": _("Field name"), "field_value": _("Value"),
            "to": _("Tell"), "message": _("Message"), "show_json": _("Edit as JSON"),
            "show_builder": _("Back to the rule builder"),
            "no_webhooks": _("No webhooks yet: an administrator adds them under Webhooks."),
            "cannot_build": _("This rule uses something the builder cannot show; edit its "
                              "JSON below."),
            "none_yet": _("None yet."),
        },
    }


def summary(actions_json: Any) -> list[str]:
    """The action types of a rule, as the lists show them."""
    labels = action_labels()
    return [labels.get(a.get("type"), a.get("type", "")) for a in actions_json or []
            if isinstance(a, dict)]


def condition_count(conditions: Any) -> int:
    conditions = conditions if isinstance(conditions, dict) else {}
    return len(conditions.get("all") or []) + len(conditions.get("any") or [])


# --- forms ----------------------------------------------------------------------------------


class JSONField(forms.CharField):
    """JSON typed into a box (or written there by the rule builder)."""

    def __init__(self, *, empty: Any, **kwargs: Any) -> None:
        self.empty = empty
        kwargs.setdefault("widget", forms.Textarea(attrs={
            "rows": 8, "spellcheck": "false", "class": "json-box", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        return json.dumps(self.empty if value is None else value, ensure_ascii=False,
                          indent=2)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return copy.deepcopy(self.empty)
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)d, column %(column)d: %(error)s).")
                % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}) from None


def _conditions_field() -> JSONField:
    return JSONField(label=gettext_lazy("Conditions"), required=False,
                     empty={"all": [], "any": []},
                     help_text=gettext_lazy('{"all": [conditions], "any": [conditions]}, '
                                            'each {"field": …, "op": …, "value": …}. Empty: '
                                            'every conversation.'))


def _actions_field() -> JSONField:
    return JSONField(label=gettext_lazy("Actions"), empty=[],
                     help_text=gettext_lazy('[{"type": …, "value": …}, …], run in order.'))


class RuleForm(Form):
    """What triggers, time rules and macros share; the domain validates the JSON."""

    field_map = {"name": "name", "conditions": "conditions", "actions": "actions"}

    def add_action_error(self, exc: MostradorError) -> None:
        field = self.field_map.get(exc.field or "", exc.field)
        self.add_error(field if field in self.fields else None, exc.message)


class TriggerForm(RuleForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    events = forms.MultipleChoiceField(label=gettext_lazy("Runs when"),
                                       choices=Trigger.On.choices,
                                       widget=forms.CheckboxSelectMultiple)
    conditions = _conditions_field()
    actions = _actions_field()
    field_map = {**RuleForm.field_map, "events": "events"}

    @staticmethod
    def initial_for(trigger: Trigger) -> dict[str, Any]:
        return {"name": trigger.name, "description": trigger.description,
                "active": trigger.active, "events": trigger.events,
                "conditions": trigger.conditions, "actions": trigger.actions}


def time_rule_statuses() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Status.choices if value != Status.CLOSED]


class TimeRuleForm(RuleForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    status = forms.ChoiceField(label=gettext_lazy("When a conversation has been"),
                               choices=time_rule_statuses)
    hours = forms.IntegerField(label=gettext_lazy("For at least (hours)"), min_value=1,
                               max_value=24 * 365)
    conditions = _conditions_field()
    actions = _actions_field()
    field_map = {**RuleForm.field_map, "status": "status", "hours": "hours"}

    @staticmethod
    def initial_for(rule: TimeRule) -> dict[str, Any]:
        return {"name": rule.name, "active": rule.active, "status": rule.status,
                "hours": rule.hours, "conditions": rule.conditions, "actions": rule.actions}


class MacroForm(RuleForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150,
                           help_text=gettext_lazy("What agents see in the Macros menu."))
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(label=gettext_lazy("Active: offered in the Macros menu"),
                                required=False, initial=True)
    shared = forms.BooleanField(label=gettext_lazy("Shared: every agent may apply it"),
                                required=False)
    actions = _actions_field()

    def __init__(self, *args: Any, may_share: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_share:
            del self.fields["shared"]

    @staticmethod
    def initial_for(macro: Macro) -> dict[str, Any]:
        return {"name": macro.name, "description": macro.description, "active": macro.active,
                "shared": macro.owner_id is None, "actions": macro.actions}


# --- pages ----------------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"nav": "settings", "tab": TAB,
                                      "may_manage": may_manage(request.user), **context})


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "web/settings/forbidden.html", {"reason": reason}, status=403)


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Where a confirmed button leads: htmx follows ``HX-Redirect``, a plain form the 302."""
    if _is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _list_url(anchor: str = "") -> str:
    url = reverse("web:settings_automation")
    return f"{url}#{anchor}" if anchor else url


@agent_required
def automation_list(request: HttpRequest) -> HttpResponse:
    """Supervisors: triggers, time rules, shared and their own macros. Agents: their own
    macros."""
    manager = may_manage(request.user)
    if manager:
        macros = actions.access_macros(request.user, include_inactive=True)
    else:
        macros = list(Macro.objects.filter(owner=request.user)
                      .order_by("position", "name", "id"))
    context: dict[str, Any] = {
        "shared_macros": [(m, summary(m.actions)) for m in macros if m.owner_id is None],
        "personal_macros": [(m, summary(m.actions)) for m in macros if m.owner_id is not None],
    }
    if manager:
        triggers = list(Trigger.objects.order_by("position", "id"))
        on = dict(Trigger.On.choices)
        context["triggers"] = [
            {"trigger": t, "events": [on.get(e, e) for e in t.events or []],
             "conditions": condition_count(t.conditions), "actions": summary(t.actions),
             "first": i == 0, "last": i == len(triggers) - 1}
            for i, t in enumerate(triggers)]
        context["time_rules"] = [
            {"rule": r, "status": dict(Status.choices).get(r.status, r.status),
             "conditions": condition_count(r.conditions),
             "actions": summary(r.actions)}
            for r in TimeRule.objects.order_by("position", "id")]
    return _page(request, "web/settings/automation.html", **context)


def _form_page(request: HttpRequest, form: RuleForm, *, kind: str, obj: Any,
               action_types: tuple[str, ...]) -> HttpResponse:
    return _page(request, "web/settings/automation_form.html", form=form, kind=kind, obj=obj,
                 builder=builder_config(action_types=action_types,
                                        conditions="conditions" in form.fields))


# --- triggers -------------------------------------------------------------------------------


def _trigger(pk: int) -> Trigger:
    trigger = Trigger.objects.filter(pk=pk).first()
    if trigger is None:
        raise Http404(_("Trigger %(id)s not found.") % {"id": pk})
    return trigger


ALL_ACTIONS = tuple(ACTION_TYPES)


@supervisor_required
def trigger_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = TriggerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                trigger = actions.do_create_trigger(
                    name=data["name"], events=data["events"], conditions=data["conditions"],
                    actions=data["actions"], description=data["description"],
                    active=data["active"], acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The trigger %(name)s was created, last in the "
                                            "order.") % {"name": trigger.name})
                return redirect(_list_url(f"trigger-{trigger.pk}"))
    else:
        form = TriggerForm(initial={"events": [Trigger.On.CREATED]})
    return _form_page(request, form, kind="trigger", obj=None, action_types=ALL_ACTIONS)


@supervisor_required
def trigger_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = _trigger(pk)
    if request.method == "POST":
        form = TriggerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_update_trigger(
                    trigger, name=data["name"], events=data["events"],
                    conditions=data["conditions"], actions=data["actions"],
                    description=data["description"], active=data["active"],
                    acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The trigger %(name)s was saved.")
                                 % {"name": data["name"]})
                return redirect(_list_url(f"trigger-{trigger.pk}"))
    else:
        form = TriggerForm(initial=TriggerForm.initial_for(trigger))
    return _form_page(request, form, kind="trigger", obj=trigger, action_types=ALL_ACTIONS)


@supervisor_required
@require_POST
def trigger_move(request: HttpRequest, pk: int) -> HttpResponse:
    """One place up (``direction=up``) or down in the order triggers run in."""
    trigger = _trigger(pk)
    actions.do_move_trigger(trigger, -1 if request.POST.get("direction") == "up" else 1,
                            acting_user=request.user)
    return redirect(_list_url(f"trigger-{trigger.pk}"))


@supervisor_required
@require_POST
def trigger_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = _trigger(pk)
    trigger = actions.do_update_trigger(trigger, active=not trigger.active,
                                        acting_user=request.user)
    messages.success(request, (_("The trigger %(name)s is on.") if trigger.active
                               else _("The trigger %(name)s is off.")) % {"name": trigger.name})
    return redirect(_list_url(f"trigger-{trigger.pk}"))


@supervisor_required
@require_POST
def trigger_delete(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = _trigger(pk)
    name = trigger.name
    actions.do_delete_trigger(trigger, acting_user=request.user)
    messages.success(request, _("The trigger %(name)s was deleted.") % {"name": name})
    return _go(request, _list_url("triggers"))


# --- time rules -----------------------------------------------------------------------------


def _time_rule(pk: int) -> TimeRule:
    rule = TimeRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404(_("Time rule %(id)s not found.") % {"id": pk})
    return rule


@supervisor_required
def time_rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = TimeRuleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                rule = actions.do_create_time_rule(
                    name=data["name"], status=data["status"], hours=data["hours"],
                    conditions=data["conditions"], actions=data["actions"],
                    active=data["active"], acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The time rule %(name)s was created.")
                                 % {"name": rule.name})
                return redirect(_list_url(f"time-rule-{rule.pk}"))
    else:
        form = TimeRuleForm(initial={"status": Status.PENDING, "hours": 72})
    return _form_page(request, form, kind="time_rule", obj=None, action_types=ALL_ACTIONS)


@supervisor_required
def time_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _time_rule(pk)
    if request.method == "POST":
        form = TimeRuleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_update_time_rule(
                    rule, name=data["name"], status=data["status"], hours=data["hours"],
                    conditions=data["conditions"], actions=data["actions"],
                    active=data["active"], acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The time rule %(name)s was saved.")
                                 % {"name": data["name"]})
                return redirect(_list_url(f"time-rule-{rule.pk}"))
    else:
        form = TimeRuleForm(initial=TimeRuleForm.initial_for(rule))
    return _form_page(request, form, kind="time_rule", obj=rule, action_types=ALL_ACTIONS)


@supervisor_required
@require_POST
def time_rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _time_rule(pk)
    rule = actions.do_update_time_rule(rule, active=not rule.active, acting_user=request.user)
    messages.success(request, (_("The time rule %(name)s is on.") if rule.active
                               else _("The time rule %(name)s is off.")) % {"name": rule.name})
    return redirect(_list_url(f"time-rule-{rule.pk}"))


@supervisor_required
@require_POST
def time_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _time_rule(pk)
    name = rule.name
    actions.do_delete_time_rule(rule, acting_user=request.user)
    messages.success(request, _("The time rule %(name)s was deleted.") % {"name": name})
    return _go(request, _list_url("time-rules"))


# --- macros ---------------------------------------------------------------------------------


def _macro(request: HttpRequest, pk: int) -> Macro:
    try:
        return actions.access_macro(request.user, pk)
    except NotFound:
        raise Http404(_("Macro %(id)s not found.") % {"id": pk}) from None


def _may_change(user, macro: Macro) -> bool:
    return macro.owner_id == user.pk if macro.owner_id is not None else may_manage(user)


MACRO_FORBIDDEN = gettext_lazy("Only supervisors and administrators change shared macros; you "
                               "can keep personal ones.")


@agent_required
def macro_new(request: HttpRequest) -> HttpResponse:
    may_share = may_manage(request.user)
    if request.method == "POST":
        form = MacroForm(request.POST, may_share=may_share)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    macro = actions.do_create_macro(
                        name=data["name"], actions=data["actions"],
                        description=data["description"], shared=bool(data.get("shared")),
                        acting_user=request.user)
                    if not data["active"]:
                        actions.do_update_macro(macro, active=False, acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The macro %(name)s was created.")
                                 % {"name": macro.name})
                return redirect(_list_url(f"macro-{macro.pk}"))
    else:
        form = MacroForm(may_share=may_share, initial={"shared": False})
    return _form_page(request, form, kind="macro", obj=None, action_types=actions.MACRO_ACTIONS)


@agent_required
def macro_edit(request: HttpRequest, pk: int) -> HttpResponse:
    macro = _macro(request, pk)
    if not _may_change(request.user, macro):
        return _forbidden(request, str(MACRO_FORBIDDEN))
    # A macro stays shared or personal: the form does not offer to move it.
    if request.method == "POST":
        form = MacroForm(request.POST, may_share=False)
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_update_macro(macro, name=data["name"], actions=data["actions"],
                                        description=data["description"],
                                        active=data["active"], acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The macro %(name)s was saved.")
                                 % {"name": data["name"]})
                return redirect(_list_url(f"macro-{macro.pk}"))
    else:
        form = MacroForm(may_share=False, initial=MacroForm.initial_for(macro))
    return _form_page(request, form, kind="macro", obj=macro, action_types=actions.MACRO_ACTIONS)


@require_POST
@agent_required
def macro_delete(request: HttpRequest, pk: int) -> HttpResponse:
    macro = _macro(request, pk)
    if not _may_change(request.user, macro):
        return _forbidden(request, str(MACRO_FORBIDDEN))
    name = macro.name
    actions.do_delete_macro(macro, acting_user=request.user)
    messages.success(request, _("The macro %(name)s was deleted.") % {"name": name})
    return _go(request, _list_url("macros"))

