"""The settings screens (supervisors and administrators): inboxes with a connection test, staff
accounts, and teams (the hours and SLA screens are in ``sla.py``).

Delivery only: reads are plain lists of the few rows a desk has (inboxes, staff, teams, each in
a fixed number of queries); writes go through the actions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mostrador.accounts.actions import (
    check_may_manage_staff,
    do_create_staff_user,
    do_create_team,
    do_deactivate_user,
    do_reactivate_user,
    do_set_team_members,
    do_update_agent,
    do_update_staff_user,
    do_update_team,
    generate_password,
)
from mostrador.accounts.models import Team
from mostrador.channels.base import ConfigError
from mostrador.channels.email import connection_test
from mostrador.conversations.actions import do_create_inbox, do_update_inbox
from mostrador.conversations.models import Inbox
from mostrador.core.errors import MostradorError
from mostrador.sla.actions import do_use_calendar
from mostrador.web.settings_screens.forms import (
    EmailInboxForm,
    NewStaffForm,
    NewTeamForm,
    StaffForm,
    TeamForm,
)

EMAIL = "email"
NEW_PASSWORD_KEY = "settings_new_password"


def supervisor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as a supervisor or administrator; anyone else gets the 403 page."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        agent = getattr(request.user, "agent", None)
        if not (request.user.is_superuser or (agent is not None and agent.is_supervisor)):
            return render(request, "web/settings/forbidden.html", {
                "reason": _("Only supervisors and administrators may change the desk's "
                            "settings.")}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _field_error(form, exc: MostradorError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _page(request: HttpRequest, template: str, tab: str, **context: Any) -> HttpResponse:
    return render(request, template, {"nav": "settings", "tab": tab, **context})


# --- the calendar of an inbox or a team -----------------------------------------------------


# --- inboxes --------------------------------------------------------------------------------


def _receiver() -> str:
    return f"{settings.MOSTRADOR['SMTPD_HOST']}:{settings.MOSTRADOR['SMTPD_PORT']}"


@supervisor_required
def inbox_list(request: HttpRequest) -> HttpResponse:
    inboxes = list(Inbox.objects.select_related("default_team").order_by("name", "id"))
    rows = []
    for inbox in inboxes:
        config = inbox.config or {}
        imap = config.get("imap") or {}
        rows.append({"inbox": inbox, "address": config.get("address", ""),
                     "aliases": config.get("aliases") or [],
                     "catch_all": bool(config.get("catch_all")),
                     "imap": f"{imap['host']}:{imap.get('port', '')}" if imap.get("host")
                     else "", "editable": inbox.channel_kind == EMAIL})
    return _page(request, "web/settings/inboxes.html", "inboxes", rows=rows,
                 receiver=_receiver())


def _save_inbox(request: HttpRequest, form: EmailInboxForm,
                inbox: Inbox | None) -> Inbox | None:
    """Create or update through the actions; the adapter's objections land on the form."""
    data = form.cleaned_data
    try:
        with transaction.atomic():
            if inbox is None:
                inbox = do_create_inbox(name=data["name"], channel_kind=EMAIL,
                                        config=form.config(), default_team=data["default_team"],
                                        active=data["active"], acting_user=request.user)
            else:
                inbox = do_update_inbox(inbox, name=data["name"], config=form.config(),
                                        default_team=data["default_team"],
                                        active=data["active"], acting_user=request.user)
            do_use_calendar(inbox, data["calendar"], acting_user=request.user)
            return inbox
    except ConfigError as exc:
        cause = exc.__cause__
        if cause is not None and hasattr(cause, "errors"):
            form.add_config_errors(cause)
        else:
            form.add_error(None, str(exc))
    except MostradorError as exc:
        _field_error(form, exc)
    return None


def _inbox_form_page(request: HttpRequest, form: EmailInboxForm, inbox: Inbox | None,
                     **extra: Any) -> HttpResponse:
    return _page(request, "web/settings/inbox_form.html", "inboxes", form=form, inbox=inbox,
                 receiver=_receiver(), **extra)


@supervisor_required
def inbox_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = EmailInboxForm(request.POST)
        if form.is_valid() and (inbox := _save_inbox(request, form, None)) is not None:
            messages.success(request, _("The inbox %(name)s was created.") % {"name": inbox})
            return redirect("web:settings")
    else:
        form = EmailInboxForm()
    return _inbox_form_page(request, form, None)


def _email_inbox(pk: int) -> Inbox:
    inbox = Inbox.objects.filter(pk=pk).first()
    if inbox is None or inbox.channel_kind != EMAIL:
        raise Http404(_("Inbox %(id)s not found.") % {"id": pk})
    return inbox


@supervisor_required
def inbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    inbox = _email_inbox(pk)
    if request.method == "POST":
        form = EmailInboxForm(request.POST, inbox=inbox)
        if form.is_valid() and _save_inbox(request, form, inbox) is not None:
            messages.success(request, _("The inbox %(name)s was saved.")
                             % {"name": form.cleaned_data["name"]})
            return redirect("web:settings")
    else:
        form = EmailInboxForm(inbox=inbox)
    return _inbox_form_page(request, form, inbox)


def _connection_results(form: EmailInboxForm) -> list[dict[str, Any]]:
    """Try the SMTP relay and the IMAP server the form describes (each when it is filled in
    and valid), with the saved passwords when none were typed."""
    form.is_valid()
    data = form.cleaned_data
    results = []
    if "smtp_url" in form.errors:
        results.append({"what": _("Outbound SMTP"), "ok": False,
                        "message": " ".join(form.errors["smtp_url"])})
    elif data.get("smtp_url"):
        ok, message = connection_test.test_smtp(form.relay_url())
        results.append({"what": _("Outbound SMTP"), "ok": ok, "message": message})
    elif settings.MOSTRADOR["SMTP_URL"]:
        ok, message = connection_test.test_smtp(settings.MOSTRADOR["SMTP_URL"])
        results.append({"what": _("Outbound SMTP (the desk's default relay)"), "ok": ok,
                        "message": message})
    else:
        results.append({"what": _("Outbound SMTP"), "ok": None, "message": _(
            "No relay is set: replies are written to the outbox folder and nothing leaves "
            "this machine.")})
    imap_errors = [m for f in ("imap_host", "imap_port", "imap_security", "imap_username",
                               "imap_password", "imap_folder") for m in form.errors.get(f, [])]
    if imap_errors:
        results.append({"what": _("IMAP"), "ok": False, "message": " ".join(imap_errors)})
    elif (imap := form.imap_settings()) is not None:
        ok, message = connection_test.test_imap(imap)
        results.append({"what": _("IMAP"), "ok": ok, "message": message})
    else:
        results.append({"what": _("IMAP"), "ok": None, "message": _(
            "No IMAP server: mail reaches this inbox when it is forwarded to the SMTP "
            "receiver at %(receiver)s.") % {"receiver": _receiver()}})
    return results


@supervisor_required
@require_POST
def inbox_test(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Try the entered servers without saving: htmx gets the results alone, a plain request
    the form again with the results above the button."""
    inbox = _email_inbox(pk) if pk is not None else None
    form = EmailInboxForm(request.POST, inbox=inbox)
    results = _connection_results(form)
    if _is_htmx(request):
        return render(request, "web/settings/_connection_results.html", {"results": results})
    return _inbox_form_page(request, form, inbox, results=results)


# --- staff ----------------------------------------------------------------------------------


def _staff():
    User = get_user_model()
    return (User.objects.filter(agent__isnull=False).select_related("agent")
            .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name"))))


@supervisor_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = list(_staff().order_by("-is_active", "agent__display_name", "pk"))
    return _page(request, "web/settings/users.html", "users", users=users)


def _invite_by_mail(request: HttpRequest, user) -> str | None:
    """E-mail ``user`` a link to choose a password; the error when it could not be sent."""
    link = request.build_absolute_uri(reverse("web:password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user)}))
    context = {"user": user, "link": link, "inviter": request.user.agent.display_name,
               "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}
    # In the language the new colleague will use, not the one of whoever invites them.
    with translation.override(user.agent.language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("web/settings/invite_subject.txt",
                                            context).split())
        body = render_to_string("web/settings/invite_email.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception as exc:  # the transport's own error, whichever mailer is configured
        return str(exc) or exc.__class__.__name__
    return None


@supervisor_required
def user_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NewStaffForm(request.POST, acting_user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            password = generate_password()
            try:
                check_may_manage_staff(request.user, role=data["role"])
                with transaction.atomic():
                    user = do_create_staff_user(
                        email=data["email"], password=password,
                        display_name=data["display_name"], role=data["role"],
                        language=data["language"], check_password=False)
                    do_update_agent(user.agent, tier=data["tier"], time_zone=data["time_zone"])
            except MostradorError as exc:
                _field_error(form, exc)
            else:
                return _after_user_created(request, user, password,
                                           by_mail=data["password_delivery"] == "email")
    else:
        form = NewStaffForm(acting_user=request.user)
    return _page(request, "web/settings/user_form.html", "users", form=form, staff=None)


def _after_user_created(request: HttpRequest, user, password: str, *,
                        by_mail: bool) -> HttpResponse:
    if by_mail:
        error = _invite_by_mail(request, user)
        if error is None:
            messages.success(request, _("%(name)s was added; an e-mail with a link to choose a "
                                        "password went to %(email)s.")
                             % {"name": user.agent.display_name, "email": user.email})
            return redirect("web:settings_user", user.pk)
        messages.error(request, _("%(name)s was added, but the e-mail could not be sent "
                                  "(%(error)s); give them this password instead.")
                       % {"name": user.agent.display_name, "error": error})
    else:
        messages.success(request, _("%(name)s was added.") % {"name": user.agent.display_name})
    # Shown once, on the next page only: it is in the session until that page pops it.
    request.session[NEW_PASSWORD_KEY] = {"user": user.pk, "password": password}
    return redirect("web:settings_user", user.pk)


def _staff_user(pk: int):
    user = _staff().filter(pk=pk).first()
    if user is None:
        raise Http404(_("User %(id)s not found.") % {"id": pk})
    return user


@supervisor_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff_user(pk)
    if request.method == "POST":
        form = StaffForm(request.POST, acting_user=request.user)
        if form.is_valid():
            try:
                do_update_staff_user(staff, acting_user=request.user, **form.cleaned_data)
            except MostradorError as exc:
                _field_error(form, exc)
            else:
                messages.success(request, _("%(name)s was saved.")
                                 % {"name": form.cleaned_data["display_name"]})
                return redirect("web:settings_users")
    else:
        agent = staff.agent
        form = StaffForm(acting_user=request.user, initial={
            "display_name": agent.display_name, "role": agent.role, "tier": agent.tier,
            "language": agent.language, "time_zone": agent.time_zone})
        if agent.role not in dict(form.fields["role"].choices):
            # A supervisor looks at an administrator: shown, not changeable by them.
            form.fields["role"].choices = [(agent.role, agent.get_role_display())]
    new_password = None
    shown = request.session.pop(NEW_PASSWORD_KEY, None)
    if shown and shown.get("user") == staff.pk:
        new_password = shown["password"]
    return _page(request, "web/settings/user_form.html", "users", form=form, staff=staff,
                 new_password=new_password, is_self=staff.pk == request.user.pk)


@supervisor_required
@require_POST
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff_user(pk)
    try:
        do_deactivate_user(staff, acting_user=request.user)
    except MostradorError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s can no longer sign in.")
                         % {"name": staff.agent.display_name})
    return redirect("web:settings_user", staff.pk)


@supervisor_required
@require_POST
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    staff = _staff_user(pk)
    try:
        do_reactivate_user(staff, acting_user=request.user)
    except MostradorError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s can sign in again.")
                         % {"name": staff.agent.display_name})
    return redirect("web:settings_user", staff.pk)


# --- teams ----------------------------------------------------------------------------------


def _teams():
    User = get_user_model()
    members = User.objects.select_related("agent").order_by("agent__display_name", "pk")
    return (Team.objects.select_related("lead__agent")
            .prefetch_related(Prefetch("members", queryset=members)))


@supervisor_required
def team_list(request: HttpRequest) -> HttpResponse:
    return _page(request, "web/settings/teams.html", "teams",
                 teams=list(_teams().order_by("tier", "name")))


@supervisor_required
def team_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NewTeamForm(request.POST)
        if form.is_valid():
            try:
                check_may_manage_staff(request.user)
                with transaction.atomic():
                    team = do_create_team(form.cleaned_data["name"],
                                          tier=form.cleaned_data["tier"])
                    do_use_calendar(team, form.cleaned_data["calendar"],
                                    acting_user=request.user)
            except MostradorError as exc:
                _field_error(form, exc)
            else:
                messages.success(request, _("The team %(name)s was created; now add its "
                                            "members.") % {"name": team.name})
                return redirect("web:settings_team", team.pk)
    else:
        form = NewTeamForm()
    return _page(request, "web/settings/team_form.html", "teams", form=form, team=None)


@supervisor_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(_teams(), pk=pk)
    if request.method == "POST":
        form = TeamForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    do_set_team_members(team, data["members"], acting_user=request.user)
                    do_update_team(team, name=data["name"], tier=data["tier"],
                                   lead=data["lead"], acting_user=request.user)
                    do_use_calendar(team, data["calendar"], acting_user=request.user)
            except MostradorError as exc:
                _field_error(form, exc)
            else:
                messages.success(request, _("The team %(name)s was saved.")
                                 % {"name": data["name"]})
                return redirect("web:settings_teams")
    else:
        form = TeamForm(initial={"name": team.name, "tier": team.tier, "lead": team.lead_id,
                                 "members": [m.pk for m in team.members.all()],
                                 "calendar": team.calendar_id})
    return _page(request, "web/settings/team_form.html", "teams", form=form, team=team)
