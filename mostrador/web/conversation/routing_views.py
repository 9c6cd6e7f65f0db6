"""Routing and macros on the conversation page: the routing panel (tier, time in each tier,
transfers, waiting since), escalating, de-escalating and transferring, and the Macros menu.

The panel is loaded into the properties after the page (like the customer panel), so the page
itself costs no query more; without script its link opens the same panel as a page. Every
write is a plain form POST through a ``do_*`` action that comes back to the conversation page
with a flash message, so the whole page shows what the change did.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from mostrador.automation.actions import access_macro, access_macros, do_apply_macro
from mostrador.conversations.models import Conversation
from mostrador.core.errors import MostradorError, NotFound
from mostrador.routing.actions import MAX_TIER, do_deescalate, do_escalate, do_transfer
from mostrador.routing.queries import routing_figures
from mostrador.web.conversation.timeline import Directory, directory, duration_text, moment
from mostrador.web.conversation.views import (
    _conversation,
    _from_query,
    _is_htmx,
    agent_required,
    page_url,
)

NOTE_MAX = 5000


class TransferForm(forms.Form):
    team = forms.TypedChoiceField(label=gettext_lazy("To team"), coerce=int, required=False,
                                  empty_value=None)
    agent = forms.TypedChoiceField(label=gettext_lazy("To agent"), coerce=int, required=False,
                                   empty_value=None)
    note = forms.CharField(label=gettext_lazy("Note for them (optional)"), required=False,
                           max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, names: Directory, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "transfer_%s")
        super().__init__(*args, **kwargs)
        self.names = names
        self.fields["team"].choices = [("", _("Keep the team")),
                                       *((t.pk, t.name) for t in names.teams)]
        self.fields["agent"].choices = [("", _("Whoever the team's routing picks")),
                                        *((a.user_id, a.display_name)
                                          for a in names.assignable)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and data.get("team") is None and data.get("agent") is None:
            raise forms.ValidationError(_("Choose the team or the agent to transfer to."))
        return data

    def chosen_team(self):
        return next((t for t in self.names.teams if t.pk == self.cleaned_data["team"]), None)

    def chosen_agent(self):
        return next((a.user for a in self.names.assignable
                     if a.user_id == self.cleaned_data["agent"]), None)


def panel_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    figures = routing_figures(conversation)
    names = directory()
    return {
        "conversation": conversation,
        "tier": figures.tier,
        "team_name": names.team_name(conversation.team_id),
        "tiers": [(tier, duration_text(int(seconds)))
                  for tier, seconds in sorted(figures.seconds_in_tier.items())],
        "transfers": figures.transfers,
        "escalations": figures.escalations,
        "waiting_since": moment(figures.waiting_since) if figures.waiting_since else None,
        "may_escalate": figures.tier < MAX_TIER,
        "may_deescalate": figures.tier > 1,
        "transfer_form": TransferForm(names=names),
        "macros": access_macros(request.user),
        "writable": conversation.merged_into_id is None,
        "from_query": _from_query(request),
    }


@require_GET
@agent_required
def routing_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel alone for the page's htmx slot; a page of its own for a plain link."""
    conversation = _conversation(request, pk)
    context = panel_context(request, conversation)
    if _is_htmx(request):
        return render(request, "web/conversation/_routing_panel.html", context)
    return render(request, "web/conversation/routing.html", {**context, "nav": "inbox"})


def _back(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    return HttpResponseRedirect(page_url(conversation.pk, _from_query(request)))


def _note(request: HttpRequest) -> str:
    return (request.POST.get("note") or "")[:NOTE_MAX]


def _tier_text(conversation: Conversation) -> str:
    team = conversation.team.name if conversation.team_id else ""
    if team:
        return _("tier %(tier)s (%(team)s)") % {"tier": conversation.tier, "team": team}
    return _("tier %(tier)s") % {"tier": conversation.tier}


@require_POST
@agent_required
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    try:
        moved = do_escalate(conversation, acting_user=request.user, note=_note(request))
    except MostradorError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Escalated to %(where)s.") % {"where": _tier_text(moved)})
    return _back(request, conversation)


@require_POST
@agent_required
def deescalate(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    try:
        moved = do_deescalate(conversation, acting_user=request.user, note=_note(request))
    except MostradorError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Sent back to %(where)s.") % {"where": _tier_text(moved)})
    return _back(request, conversation)


@require_POST
@agent_required
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = TransferForm(request.POST, names=directory())
    if not form.is_valid():
        messages.error(request, " ".join(message for errors in form.errors.values()
                                         for message in errors))
        return _back(request, conversation)
    team, agent = form.chosen_team(), form.chosen_agent()
    try:
        moved = do_transfer(conversation, team=team, agent=agent,
                            note=form.cleaned_data["note"], acting_user=request.user)
    except MostradorError as error:
        messages.error(request, error.message)
        return _back(request, conversation)
    if agent is not None:
        text = _("Transferred to %(agent)s, %(where)s.") % {
            "agent": agent.agent.display_name, "where": _tier_text(moved)}
    else:
        text = _("Transferred to %(where)s.") % {"where": _tier_text(moved)}
    messages.success(request, text)
    return _back(request, conversation)


@require_POST
@agent_required
def apply_macro(request: HttpRequest, pk: int) -> HttpResponse:
    """Run one of the macros the agent may use (the shared ones and their own)."""
    conversation = _conversation(request, pk)
    macro_id = request.POST.get("macro", "")
    try:
        macro = access_macro(request.user, int(macro_id) if macro_id.isdigit() else 0)
    except NotFound:
        raise Http404(_("Macro %(id)s not found.") % {"id": macro_id}) from None
    try:
        result = do_apply_macro(conversation, macro, acting_user=request.user)
    except MostradorError as error:
        messages.error(request, error.message)
        return _back(request, conversation)
    if result.skipped:
        messages.warning(request, _("Macro %(name)s applied; skipped: %(skipped)s.")
                         % {"name": macro.name, "skipped": "; ".join(result.skipped)})
    else:
        messages.success(request, _("Macro %(name)s applied.") % {"name": macro.name})
    return _back(request, conversation)
