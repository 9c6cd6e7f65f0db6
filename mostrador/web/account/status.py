"""The signed-in agent's own status (online, away, offline) from the workspace header: routing
gives work to agents who are online (and, where a rule says so, away)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mostrador.accounts.actions import do_update_agent
from mostrador.accounts.models import Agent
from mostrador.core.errors import MostradorError


@require_POST
@login_required
def set_status(request: HttpRequest) -> HttpResponse:
    agent = getattr(request.user, "agent", None)
    if agent is None:
        raise PermissionDenied(_("Only agents have a status."))
    target = request.POST.get("next") or reverse("web:inbox")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("web:inbox")
    status = request.POST.get("status", "")
    try:
        do_update_agent(agent, status=status)
    except MostradorError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your status is now %(status)s.")
                         % {"status": Agent.Status(status).label})
    return HttpResponseRedirect(target)
