"""Signing in and out, password reset by e-mail, and the agent's own preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mostrador.accounts.actions import do_update_agent
from mostrador.web.account.forms import ProfileForm


class LoginView(auth_views.LoginView):
    template_name = "web/account/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # The language the agent chose last time follows them to any browser.
        agent = getattr(self.request.user, "agent", None)
        if agent is not None and agent.language:
            _remember_language(response, agent.language)
        return response


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("web:login")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "web/account/password_reset.html"
    email_template_name = "web/account/password_reset_email.txt"
    subject_template_name = "web/account/password_reset_subject.txt"
    success_url = reverse_lazy("web:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/account/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/account/password_reset_confirm.html"
    success_url = reverse_lazy("web:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/account/password_reset_complete.html"


def _remember_language(response: HttpResponse, language: str) -> None:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                        samesite="Lax")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; kept on the agent's profile and in a cookie."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or reverse("web:inbox")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("web:inbox")
    response = HttpResponseRedirect(target)
    if language not in dict(settings.LANGUAGES):
        return response
    agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
    if agent is not None:
        do_update_agent(agent, language=language)
    _remember_language(response, language)
    translation.activate(language)
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    agent = request.user.agent
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            do_update_agent(agent, **form.cleaned_data)
            response = HttpResponseRedirect(reverse("web:profile"))
            if form.cleaned_data["language"]:
                _remember_language(response, form.cleaned_data["language"])
                translation.activate(form.cleaned_data["language"])
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            messages.success(request, _("Your preferences were saved."))
            return response
    else:
        form = ProfileForm(initial={"display_name": agent.display_name,
                                    "language": agent.language, "time_zone": agent.time_zone})
    return render(request, "web/account/profile.html", {"form": form, "nav": "profile"})
