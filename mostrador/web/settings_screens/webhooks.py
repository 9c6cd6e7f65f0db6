"""Settings → Webhooks (administrators): subscriptions with their state and last result, the
form, the signing secret (shown in full once, when it is made), a test delivery, and each
webhook's delivery log with the payload and every attempt.

Delivery only: the form turns what was typed into the actions' arguments; the actions check,
write and queue the HTTP work for the background.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mostrador.automation import webhooks
from mostrador.automation.models import WebhookDelivery, WebhookSubscription
from mostrador.core.errors import MostradorError
from mostrador.web.settings_screens.forms_webhooks import WebhookForm
from mostrador.web.settings_screens.views import _field_error, _is_htmx, _page

TAB = "webhooks"
NEW_SECRET_KEY = "settings_webhook_secret"
LOG_PAGE = 50


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as an administrator; anyone else gets the 403 page."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not webhooks.may_manage_webhooks(request.user):
            return render(request, "web/settings/forbidden.html", {
                "reason": _("Only administrators may manage webhooks.")}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _webhook(pk: int) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.filter(pk=pk).first()
    if subscription is None:
        raise Http404(_("Webhook %(id)s not found.") % {"id": pk})
    return subscription


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Where a confirmed button leads: htmx follows ``HX-Redirect``, a plain form the 302."""
    if _is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _show_secret_once(request: HttpRequest, subscription: WebhookSubscription) -> None:
    # Shown on the next page only: it stays in the session until that page pops it.
    request.session[NEW_SECRET_KEY] = {"webhook": subscription.pk,
                                       "secret": subscription.secret}


# --- the list -------------------------------------------------------------------------------


@admin_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    """Every webhook with its state and the result of its newest delivery (two queries)."""
    subscriptions = list(WebhookSubscription.objects.order_by("name", "id"))
    last = webhooks.last_deliveries(s.pk for s in subscriptions)
    rows = [{"webhook": s, "last": last.get(s.pk)} for s in subscriptions]
    return _page(request, "web/settings/webhooks.html", TAB, rows=rows)


# --- one webhook ----------------------------------------------------------------------------


@admin_required
def webhook_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                subscription = webhooks.do_create_webhook(**form.webhook_fields(),
                                                          acting_user=request.user)
            except MostradorError as exc:
                _field_error(form, exc)
            else:
                messages.success(request, _("The webhook %(name)s was created; copy its "
                                            "signing secret now.") % {"name": subscription.name})
                _show_secret_once(request, subscription)
                return redirect("web:settings_webhook", subscription.pk)
    else:
        form = WebhookForm()
    return _page(request, "web/settings/webhook_form.html", TAB, form=form, webhook=None)


@admin_required
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _webhook(pk)
    if request.method == "POST":
        form = WebhookForm(request.POST, initial=WebhookForm.initial_for(subscription))
        if form.is_valid():
            try:
                webhooks.do_update_webhook(subscription, **form.webhook_fields(),
                                           acting_user=request.user)
            except MostradorError as exc:
                _field_error(form, exc)
            else:
                messages.success(request, _("The webhook %(name)s was saved.")
                                 % {"name": form.cleaned_data["name"]})
                return redirect("web:settings_webhooks")
    else:
        form = WebhookForm(initial=WebhookForm.initial_for(subscription))
    new_secret = None
    shown = request.session.pop(NEW_SECRET_KEY, None)
    if shown and shown.get("webhook") == subscription.pk:
        new_secret = shown["secret"]
    return _page(request, "web/settings/webhook_form.html", TAB, form=form, webhook=subscription,
                 new_secret=new_secret, secret_prefix=webhooks.secret_prefix(subscription.secret))


@admin_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _webhook(pk)
    name = subscription.name
    webhooks.do_delete_webhook(subscription, acting_user=request.user)
    messages.success(request, _("The webhook %(name)s was deleted, with its delivery log.")
                     % {"name": name})
    return _go(request, reverse("web:settings_webhooks"))


@admin_required
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _webhook(pk)
    webhooks.do_rotate_webhook_secret(subscription, acting_user=request.user)
    messages.success(request, _("A new signing secret is in force; the old one signs nothing "
                                "more. Copy it to the receiver now."))
    _show_secret_once(request, subscription)
    return _go(request, reverse("web:settings_webhook", args=[subscription.pk]))


@admin_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _webhook(pk)
    webhooks.do_send_test_webhook(subscription, acting_user=request.user)
    messages.success(request, _("A test delivery is on its way; its result shows in the log "
                                "in a moment."))
    return redirect("web:settings_webhook_deliveries", subscription.pk)


# --- the delivery log -----------------------------------------------------------------------


@admin_required
@require_GET
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """Newest first, a page at a time; each row opens to its payload and every attempt."""
    subscription = _webhook(pk)
    status = request.GET.get("status") or ""
    if status not in WebhookDelivery.Status.values:
        status = ""
    try:
        rows, next_cursor = webhooks.list_deliveries(
            subscription, cursor=request.GET.get("cursor") or None, status=status or None,
            limit=LOG_PAGE, with_attempts=True)
    except MostradorError:
        # A cursor from an old link: start again at the newest.
        return redirect("web:settings_webhook_deliveries", subscription.pk)
    deliveries = [{"delivery": d, "attempts": list(d.attempt_log.all()),
                   "payload": json.dumps(d.payload, indent=2, ensure_ascii=False,
                                         sort_keys=True),
                   "may_redeliver": d.status != WebhookDelivery.Status.SENDING}
                  for d in rows]
    return _page(request, "web/settings/webhook_deliveries.html", TAB, webhook=subscription,
                 deliveries=deliveries, next_cursor=next_cursor, status=status,
                 statuses=WebhookDelivery.Status.choices)


@admin_required
@require_POST
def webhook_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = WebhookDelivery.objects.filter(pk=pk).first()
    if delivery is None:
        raise Http404(_("Delivery %(id)s not found.") % {"id": pk})
    try:
        webhooks.do_redeliver_webhook(delivery, acting_user=request.user)
    except MostradorError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The delivery is being sent again."))
    return redirect(f"{reverse('web:settings_webhook_deliveries', args=[delivery.subscription_id])}"
                    f"#delivery-{delivery.pk}")
