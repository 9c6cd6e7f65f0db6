"""Settings → Canned replies: the shared replies (supervisors and administrators change them)
and each agent's personal ones, which every agent keeps here, even without access to the rest
of the settings. Bodies in Spanish and English side by side, with the placeholders as help.

Delivery only: the form turns what was typed into the actions' arguments; the actions check
the rights, the shortcut and the placeholders.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mostrador.automation import canned
from mostrador.automation.models import CannedReply
from mostrador.automation.templating import (
    CLOSE,
    DYNAMIC_PLACEHOLDERS,
    KNOWN_PLACEHOLDERS,
    OPEN,
)
from mostrador.core.errors import MostradorError, NotFound
from mostrador.web.conversation.views import agent_required
from mostrador.web.settings_screens.forms import Form
from mostrador.web.settings_screens.views import _is_htmx

TAB = "canned"
# What an action names → the form field that shows its objection.
ACTION_FIELDS = {"title": "title", "shortcut": "shortcut", "bodies.es": "body_es",
                 "bodies.en": "body_en", "bodies": "body_es", "shared": "shared",
                 "owner": "shared"}


class CannedReplyForm(Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=canned.TITLE_MAX,
                            help_text=gettext_lazy("What agents look for in the list, e.g. "
                                                   "Refund sent."))
    shortcut = forms.CharField(label=gettext_lazy("Shortcut"), required=False,
                               max_length=canned.SHORTCUT_MAX + 1,
                               help_text=gettext_lazy("Optional: type /shortcut in the reply "
                                                      "box to find it, e.g. refund-sent."))
    body_es = forms.CharField(label=gettext_lazy("Spanish"), required=False,
                              max_length=canned.BODY_MAX,
                              widget=forms.Textarea(attrs={"rows": 10, "lang": "es"}))
    body_en = forms.CharField(label=gettext_lazy("English"), required=False,
                              max_length=canned.BODY_MAX,
                              widget=forms.Textarea(attrs={"rows": 10, "lang": "en"}))
    shared = forms.BooleanField(label=gettext_lazy("Shared: every agent sees it"),
                                required=False)

    def __init__(self, *args: Any, may_share: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_share:
            del self.fields["shared"]

    @staticmethod
    def initial_for(reply: CannedReply) -> dict[str, Any]:
        bodies = reply.bodies or {}
        return {"title": reply.title, "shortcut": reply.shortcut,
                "body_es": bodies.get("es", ""), "body_en": bodies.get("en", ""),
                "shared": reply.owner_id is None}

    def bodies(self) -> dict[str, str]:
        return {"es": self.cleaned_data["body_es"], "en": self.cleaned_data["body_en"]}

    def add_action_error(self, exc: MostradorError) -> None:
        field = ACTION_FIELDS.get(exc.field or "")
        self.add_error(field if field in self.fields else None, exc.message)


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {
        "nav": "settings", "tab": TAB,
        "may_share": canned.may_manage_shared(request.user), **context})


def _reply(request: HttpRequest, pk: int) -> CannedReply:
    try:
        return canned.access_canned_reply(request.user, pk)
    except NotFound:
        raise Http404(_("Canned reply %(id)s not found.") % {"id": pk}) from None


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/settings/forbidden.html", {
        "reason": _("Only supervisors and administrators may change shared canned replies; "
                    "you can keep personal ones.")}, status=403)


@agent_required
def canned_list(request: HttpRequest) -> HttpResponse:
    replies = canned.access_canned_replies(request.user, q=request.GET.get("q", "")[:200])
    rows = [{"reply": reply, "editable": canned.may_change_canned_reply(request.user, reply),
             "languages": [code for code in canned.LANGUAGES if (reply.bodies or {}).get(code)]}
            for reply in replies]
    return _page(request, "web/settings/canned.html", q=request.GET.get("q", ""),
                 shared=[row for row in rows if row["reply"].owner_id is None],
                 personal=[row for row in rows if row["reply"].owner_id is not None])


def _form_page(request: HttpRequest, form: CannedReplyForm,
               reply: CannedReply | None) -> HttpResponse:
    return _page(request, "web/settings/canned_form.html", form=form, reply=reply,
                 placeholders=KNOWN_PLACEHOLDERS, dynamic_placeholders=DYNAMIC_PLACEHOLDERS,
                 default_example=_default_example())


def _default_example() -> str:
    # Translators: the fallback word in the example {{ customer.first_name | default: "…" }}.
    fallback = _("there")
    return f'{OPEN} customer.first_name | default: "{fallback}" {CLOSE}'


@agent_required
def canned_new(request: HttpRequest) -> HttpResponse:
    may_share = canned.may_manage_shared(request.user)
    if request.method == "POST":
        form = CannedReplyForm(request.POST, may_share=may_share)
        if form.is_valid():
            data = form.cleaned_data
            try:
                reply = canned.do_create_canned_reply(
                    title=data["title"], bodies=form.bodies(), shortcut=data["shortcut"],
                    owner=None if data.get("shared") else request.user,
                    acting_user=request.user)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The canned reply %(title)s was created.")
                                 % {"title": reply.title})
                return redirect("web:settings_canned")
    else:
        form = CannedReplyForm(may_share=may_share, initial={"shared": False})
    return _form_page(request, form, None)


@agent_required
def canned_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _reply(request, pk)
    if not canned.may_change_canned_reply(request.user, reply):
        return _forbidden(request)
    may_share = canned.may_manage_shared(request.user)
    if request.method == "POST":
        form = CannedReplyForm(request.POST, may_share=may_share,
                               initial=CannedReplyForm.initial_for(reply))
        if form.is_valid():
            data = form.cleaned_data
            try:
                canned.do_update_canned_reply(
                    reply, acting_user=request.user, title=data["title"],
                    bodies=form.bodies(), shortcut=data["shortcut"],
                    shared=data["shared"] if may_share else None)
            except MostradorError as exc:
                form.add_action_error(exc)
            else:
                messages.success(request, _("The canned reply %(title)s was saved.")
                                 % {"title": data["title"]})
                return redirect("web:settings_canned")
    else:
        form = CannedReplyForm(may_share=may_share, initial=CannedReplyForm.initial_for(reply))
    return _form_page(request, form, reply)


@require_POST
@agent_required
def canned_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _reply(request, pk)
    if not canned.may_change_canned_reply(request.user, reply):
        return _forbidden(request)
    title = reply.title
    canned.do_delete_canned_reply(reply, acting_user=request.user)
    messages.success(request, _("The canned reply %(title)s was deleted.") % {"title": title})
    url = reverse("web:settings_canned")
    if _is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)
