"""Settings → Routing (supervisors and administrators): how each team's conversations find
their agent (strategy, premium segments, whether agents who are away get work), the next rung of
the escalation ladder, the same rule per inbox for conversations without a team, and each
agent's status, tier, skills and capacity per channel next to their current load.

Delivery only: the forms turn what was typed into the actions' arguments; the actions validate
and write. The overview reads teams, inboxes, rules, agents, queue lengths and loads in a fixed
number of queries, whatever the size of the desk.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mostrador.accounts.actions import check_may_manage_staff, do_update_agent, do_update_team
from mostrador.accounts.models import Agent, Team
from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.errors import MostradorError
from mostrador.routing.actions import (
    LOAD_STATUSES,
    ROUTABLE_STATUSES,
    capacity_for,
    do_delete_assignment_rule,
    do_set_assignment_rule,
)
from mostrador.routing.models import AssignmentRule
from mostrador.web.settings_screens.forms import TIER_CHOICES, Form
from mostrador.web.settings_screens.views import _page, supervisor_required

TAB = "routing"
# Without a rule of its own a team's conversations follow their inbox's rule.
INHERIT = ""
# The channels whose capacity the agent form asks for; "*" is every other channel.
CAPACITY_CHANNELS = ("email", "webchat", "*")
SKILL_KINDS = ("language", "product", "channel")
_SKILL_RE = re.compile(r"^(?P<kind>[a-z]+):(?P<value>[\w.\-]+)$")
RULE_FIELDS = {"strategy": "strategy", "team": "strategy", "premium_segments":
               "premium_segments", "escalates_to": "escalates_to"}
AGENT_FIELDS = {"status": "status", "tier": "tier", "skills": "skills",
                "capacity": "capacity_any"}


def _add_error(form: forms.Form, exc: MostradorError, fields: dict[str, str]) -> None:
    field = fields.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def _names(text: str) -> list[str]:
    return sorted({part.strip() for part in re.split(r"[,;\n]+", text or "") if part.strip()})


# --- forms ----------------------------------------------------------------------------------


def strategy_choices(*, inherit: bool) -> list[tuple[str, Any]]:
    choices = list(AssignmentRule.Strategy.choices)
    if inherit:
        choices.insert(0, (INHERIT, gettext_lazy("No rule of its own: the inbox's rule "
                                                 "decides")))
    return choices


class RuleForm(Form):
    """The assignment rule of a team (with its ladder rung) or of an inbox."""

    strategy = forms.ChoiceField(
        label=gettext_lazy("Assignment"),
        help_text=gettext_lazy("Round robin: the agent idle the longest. Least loaded: the one "
                               "with the fewest open conversations on the channel. Skills "
                               "match: the customer's language first, then product and "
                               "channel skills. Manual: nobody is chosen automatically."))
    premium_segments = forms.CharField(
        label=gettext_lazy("Premium customer segments"), required=False, max_length=500,
        help_text=gettext_lazy("Separated by commas, e.g. vip, enterprise: their conversations "
                               "get the next free agent before anyone else's."))
    include_away = forms.BooleanField(
        label=gettext_lazy("Also assign to agents who are away"), required=False)
    escalates_to = forms.ModelChoiceField(
        label=gettext_lazy("Escalations go to"), required=False, queryset=Team.objects.none(),
        empty_label=gettext_lazy("The desk's first team of the next tier"),
        help_text=gettext_lazy("The next rung of the ladder (L1 → L2 → L3)."))

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["strategy"].choices = strategy_choices(inherit=team is not None)
        # A team may have no rule of its own (the empty choice); an inbox always says one.
        self.fields["strategy"].required = team is None
        if team is None:
            del self.fields["escalates_to"]
        else:
            self.fields["escalates_to"].queryset = (Team.objects.exclude(pk=team.pk)
                                                    .order_by("tier", "name"))

    @staticmethod
    def initial_for(rule: AssignmentRule | None, team: Team | None = None) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "strategy": rule.strategy if rule else (INHERIT if team else
                                                    AssignmentRule.Strategy.MANUAL),
            "premium_segments": ", ".join(rule.premium_segments) if rule else "",
            "include_away": rule.include_away if rule else False}
        if team is not None:
            initial["escalates_to"] = team.escalates_to_id
        return initial

    def clean_premium_segments(self) -> list[str]:
        return _names(self.cleaned_data.get("premium_segments") or "")


def _capacity_field(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=999)


class AgentRoutingForm(Form):
    """What routing needs to know about an agent."""

    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=Agent.Status.choices)
    tier = forms.TypedChoiceField(label=gettext_lazy("Tier"), choices=TIER_CHOICES, coerce=int)
    skills = forms.CharField(
        label=gettext_lazy("Skills"), required=False, max_length=1000,
        help_text=gettext_lazy("Tags separated by commas, each kind:value: language:es, "
                               "product:billing, channel:email. Skills-match routing gives "
                               "conversations to agents who speak the customer's language "
                               "and know the product."))
    capacity_email = _capacity_field(gettext_lazy("E-mail"))
    capacity_webchat = _capacity_field(gettext_lazy("Chat"))
    capacity_any = _capacity_field(gettext_lazy("Any other channel"))

    @staticmethod
    def initial_for(agent: Agent) -> dict[str, Any]:
        capacity = agent.capacity or {}
        return {"status": agent.status, "tier": agent.tier,
                "skills": ", ".join(agent.skills or []),
                "capacity_email": capacity.get("email"),
                "capacity_webchat": capacity.get("webchat"),
                "capacity_any": capacity.get("*")}

    @property
    def capacity_fields(self) -> list[forms.BoundField]:
        return [self["capacity_email"], self["capacity_webchat"], self["capacity_any"]]

    def clean_skills(self) -> list[str]:
        skills: list[str] = []
        for tag in _names((self.cleaned_data.get("skills") or "").lower()):
            tag = re.sub(r"\s*:\s*", ":", tag)
            match = _SKILL_RE.match(tag)
            if match is None or match["kind"] not in SKILL_KINDS:
                raise forms.ValidationError(
                    _("%(tag)s is not a skill routing understands: write kind:value with kind "
                      "language, product or channel, e.g. language:es, product:billing, "
                      "channel:email.") % {"tag": tag})
            if tag not in skills:
                skills.append(tag)
        return sorted(skills)

    def capacity(self, before: dict[str, Any]) -> dict[str, Any]:
        """The agent's capacity with the three figures of the form; figures for other
        channels (set through the API) stay as they were. An empty field: no limit."""
        capacity = dict(before or {})
        for channel, name in zip(CAPACITY_CHANNELS, ("capacity_email", "capacity_webchat",
                                                     "capacity_any"), strict=True):
            value = self.cleaned_data.get(name)
            if value is None:
                capacity.pop(channel, None)
            else:
                capacity[channel] = value
        return capacity


# --- the overview ---------------------------------------------------------------------------


@dataclasses.dataclass
class QueueRow:
    owner: Team | Inbox
    rule: AssignmentRule | None
    queued: int
    channel: str = ""


@dataclasses.dataclass
class AgentRow:
    agent: Agent
    # (channel label, load, capacity or None) for every channel with a load or a limit.
    loads: list[tuple[str, int, int | None]]
    total: int


def _queue_lengths() -> tuple[dict[int, int], dict[int, int]]:
    """How many conversations wait for an agent in each team's queue and in each inbox's
    (its conversations whose team has no rule of its own): the rows ``routing.queue``
    orders, counted."""
    waiting = Conversation.objects.filter(assignee__isnull=True, status__in=ROUTABLE_STATUSES,
                                          merged_into__isnull=True)
    by_team = dict(waiting.filter(team__isnull=False).values_list("team_id")
                   .annotate(n=Count("id")).values_list("team_id", "n"))
    by_inbox = dict(waiting.exclude(team__assignment_rule__isnull=False)
                    .values_list("inbox_id").annotate(n=Count("id"))
                    .values_list("inbox_id", "n"))
    return by_team, by_inbox


def _channel_labels() -> dict[str, str]:
    from mostrador.customers.models import Identity

    return {**{k: str(v) for k, v in Identity.Kind.choices}, "*": _("other channels")}


def _agent_rows() -> list[AgentRow]:
    agents = list(Agent.objects.filter(user__is_active=True).select_related("user")
                  .order_by("display_name", "user_id"))
    loads: dict[int, dict[str, int]] = {}
    for user_id, channel, count in (
            Conversation.objects.filter(assignee_id__in=[a.user_id for a in agents],
                                        status__in=LOAD_STATUSES)
            .values_list("assignee_id", "channel_kind").annotate(n=Count("id"))
            .values_list("assignee_id", "channel_kind", "n")):
        loads.setdefault(user_id, {})[channel] = count
    labels = _channel_labels()
    order = {channel: index for index, channel in enumerate(CAPACITY_CHANNELS)}
    rows = []
    for agent in agents:
        mine = loads.get(agent.user_id, {})
        channels = sorted(set(mine) | set(agent.capacity or {}),
                          key=lambda c: (order.get(c, 1.5), c))
        shown = [(labels.get(c, c), mine.get(c, 0), capacity_for(agent.capacity, c))
                 for c in channels]
        rows.append(AgentRow(agent, shown, sum(mine.values())))
    return rows


@supervisor_required
def overview(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.select_related("escalates_to").order_by("tier", "name"))
    inboxes = list(Inbox.objects.order_by("name", "id"))
    rules = list(AssignmentRule.objects.all())
    team_rules = {r.team_id: r for r in rules if r.team_id}
    inbox_rules = {r.inbox_id: r for r in rules if r.inbox_id}
    by_team, by_inbox = _queue_lengths()
    labels = _channel_labels()
    return _page(request, "web/settings/routing.html", TAB,
                 teams=[QueueRow(t, team_rules.get(t.pk), by_team.get(t.pk, 0)) for t in teams],
                 inboxes=[QueueRow(i, inbox_rules.get(i.pk), by_inbox.get(i.pk, 0),
                                   labels.get(i.channel_kind, i.channel_kind))
                          for i in inboxes],
                 agents=_agent_rows())


# --- rules ----------------------------------------------------------------------------------


def _save_rule(request: HttpRequest, form: RuleForm, *, team: Team | None = None,
               inbox: Inbox | None = None) -> bool:
    data = form.cleaned_data
    try:
        with transaction.atomic():
            if data["strategy"] == INHERIT:
                do_delete_assignment_rule(team=team, inbox=inbox, acting_user=request.user)
            else:
                do_set_assignment_rule(team=team, inbox=inbox, strategy=data["strategy"],
                                       premium_segments=data["premium_segments"],
                                       include_away=data["include_away"],
                                       acting_user=request.user)
            if team is not None:
                do_update_team(team, escalates_to=data["escalates_to"],
                               acting_user=request.user)
    except MostradorError as exc:
        _add_error(form, exc, RULE_FIELDS)
        return False
    return True


def _rule_page(request: HttpRequest, form: RuleForm, *, team: Team | None = None,
               inbox: Inbox | None = None) -> HttpResponse:
    return _page(request, "web/settings/routing_rule_form.html", TAB, form=form, team=team,
                 inbox=inbox)


@supervisor_required
def team_rule(request: HttpRequest, pk: int) -> HttpResponse:
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise Http404(_("Team %(id)s not found.") % {"id": pk})
    rule = AssignmentRule.objects.filter(team=team).first()
    if request.method == "POST":
        form = RuleForm(request.POST, team=team)
        if form.is_valid() and _save_rule(request, form, team=team):
            messages.success(request, _("Routing of the team %(name)s was saved; waiting "
                                        "conversations follow it in a moment.")
                             % {"name": team.name})
            return redirect(f"{reverse('web:settings_routing')}#team-{team.pk}")
    else:
        form = RuleForm(team=team, initial=RuleForm.initial_for(rule, team))
    return _rule_page(request, form, team=team)


@supervisor_required
def inbox_rule(request: HttpRequest, pk: int) -> HttpResponse:
    inbox = Inbox.objects.filter(pk=pk).first()
    if inbox is None:
        raise Http404(_("Inbox %(id)s not found.") % {"id": pk})
    rule = AssignmentRule.objects.filter(inbox=inbox).first()
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid() and _save_rule(request, form, inbox=inbox):
            messages.success(request, _("Routing of the inbox %(name)s was saved; waiting "
                                        "conversations follow it in a moment.")
                             % {"name": inbox.name})
            return redirect(f"{reverse('web:settings_routing')}#inbox-{inbox.pk}")
    else:
        form = RuleForm(initial=RuleForm.initial_for(rule))
    return _rule_page(request, form, inbox=inbox)


# --- agents ---------------------------------------------------------------------------------


@supervisor_required
def agent_routing(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent's status, tier, skills and capacity (``pk`` is their user id)."""
    agent = (Agent.objects.select_related("user").filter(user_id=pk, user__is_active=True)
             .first())
    if agent is None:
        raise Http404(_("Agent %(id)s not found.") % {"id": pk})
    if request.method == "POST":
        form = AgentRoutingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            wanted = {"status": data["status"], "tier": data["tier"], "skills": data["skills"],
                      "capacity": form.capacity(agent.capacity)}
            changes = {field: value for field, value in wanted.items()
                       if getattr(agent, field) != value}
            try:
                check_may_manage_staff(request.user)
                do_update_agent(agent, **changes)
            except MostradorError as exc:
                _add_error(form, exc, AGENT_FIELDS)
            else:
                messages.success(request, _("%(name)s was saved.")
                                 % {"name": agent.display_name})
                return redirect(f"{reverse('web:settings_routing')}#agent-{agent.user_id}")
    else:
        form = AgentRoutingForm(initial=AgentRoutingForm.initial_for(agent))
    return _page(request, "web/settings/routing_agent_form.html", TAB, form=form, agent=agent)
