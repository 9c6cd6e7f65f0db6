"""The customer pages: the list, the customer 360, editing and merging, and the customer panel
the conversation page loads beside a thread.

Delivery only: reads go through ``mostrador.customers.queries`` (and ``access_conversation``),
writes through the customer actions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mostrador.conversations.models import Conversation, Message
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import MostradorError, NotFound, ValidationFailed
from mostrador.customers.actions import (
    do_add_identity,
    do_merge_customers,
    do_update_customer,
    live_customer,
)
from mostrador.customers.models import Customer, Identity
from mostrador.customers.queries import (
    access_customer,
    conversation_stats,
    customer_conversations,
    customer_timeline,
    identity_owner,
    list_customers,
    open_conversation_counts,
)
from mostrador.web.customers.forms import (
    AttributesForm,
    CustomerForm,
    IdentityForm,
    MergeSearchForm,
    display_value,
    sorted_attributes,
)

LIST_PAGE = 50
CONVERSATIONS_PAGE = 20
TIMELINE_PAGE = 25
PANEL_CONVERSATIONS = 5


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, with an agent profile (a staff account without one gets the 403 page)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "agent", None) is None:
            return render(request, "web/settings/forbidden.html", {
                "reason": _("Your account has no agent profile; ask an administrator to "
                            "give you one.")}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _customer(request: HttpRequest, pk: int, *, detailed: bool = True) -> Customer:
    try:
        return access_customer(request.user, pk, detailed=detailed)
    except NotFound:
        raise Http404(_("Customer %(id)s not found.") % {"id": pk}) from None


def _survivor_redirect(customer: Customer, view: str = "web:customer") -> HttpResponse | None:
    """A merged duplicate's pages send people to the customer it became."""
    if not customer.merged_into_id:
        return None
    return redirect(view, live_customer(customer).pk)


# --- labels ---------------------------------------------------------------------------------

CHANNEL_LABELS = {**dict(Identity.Kind.choices), "note": Message.Direction.NOTE.label}


def channel_label(kind: str) -> str:
    return str(CHANNEL_LABELS.get(kind, kind))


def language_label(code: str) -> str:
    if not code:
        return ""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


# --- the list -------------------------------------------------------------------------------


@agent_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Every customer, newest first; ``q`` searches names and identities (e-mail, phone…)."""
    q = request.GET.get("q", "").strip()[:200]
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor = list_customers(request.user, q=q, cursor=cursor, limit=LIST_PAGE)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        query = f"?{urlencode({'q': q})}" if q else ""
        return redirect(reverse("web:customers") + query)
    counts = open_conversation_counts(c.pk for c in rows)
    context = {
        "nav": "customers", "q": q, "cursor": cursor, "next_cursor": next_cursor,
        "rows": [{"customer": c, "open": counts.get(c.pk, 0),
                  "identities": [(channel_label(i.kind), i) for i in c.identities.all()]}
                 for c in rows],
    }
    if _is_htmx(request) and request.headers.get("HX-Target") == "customer-results":
        return render(request, "web/customers/_results.html", context)
    return render(request, "web/customers/list.html", context)


# --- the customer 360 -----------------------------------------------------------------------


def _profile_context(customer: Customer, *, identity_form: IdentityForm | None = None,
                     attributes_form: AttributesForm | None = None) -> dict[str, Any]:
    return {
        "customer": customer,
        "identities": [(channel_label(i.kind), i) for i in customer.identities.all()],
        "attributes": [(key, display_value(value))
                       for key, value in sorted_attributes(customer.attributes)],
        "language": language_label(customer.language),
        "identity_form": identity_form or IdentityForm(),
        "attributes_form": attributes_form or AttributesForm(customer.attributes or {}),
    }


def url_maker(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many pks at the cost of one reverse: rows of a page
    each link somewhere, and reversing is the dearest part of rendering a row."""
    marker = 987654321
    pattern = reverse(name, args=[marker])
    return lambda pk: pattern.replace(str(marker), str(pk))


def _conversation_rows(history: list) -> list[dict[str, Any]]:
    url = url_maker("web:conversation")
    return [{"item": item, "url": url(item.id), "channel": channel_label(item.channel_kind)}
            for item in history]


def _timeline_rows(entries: list, customer: Customer) -> list[dict[str, Any]]:
    url = url_maker("web:conversation")
    labels = {Message.Direction.INBOUND: _("From the customer"),
              Message.Direction.OUTBOUND: _("Our reply"),
              Message.Direction.NOTE: _("Internal note")}
    customer_name = customer.name or _("Customer")
    rows = []
    for entry in entries:
        if entry.author_name:
            author = entry.author_name
        elif entry.author_kind == Message.AuthorKind.CUSTOMER:
            author = customer_name
        else:
            author = entry.author_kind_label
        rows.append({"entry": entry, "url": url(entry.conversation_id), "author": author,
                     "label": labels.get(entry.direction, entry.direction),
                     "channel": ("" if entry.direction == Message.Direction.NOTE
                                 else channel_label(entry.channel_kind))})
    return rows


def _history_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    conversations_cursor = request.GET.get("conversations_before") or None
    timeline_cursor = request.GET.get("before") or None
    try:
        history, next_conversations = customer_conversations(
            customer, cursor=conversations_cursor, limit=CONVERSATIONS_PAGE)
    except ValidationFailed:
        history, next_conversations = customer_conversations(customer,
                                                             limit=CONVERSATIONS_PAGE)
        conversations_cursor = None
    try:
        timeline, next_timeline = customer_timeline(customer, cursor=timeline_cursor,
                                                    limit=TIMELINE_PAGE)
    except ValidationFailed:
        timeline, next_timeline = customer_timeline(customer, limit=TIMELINE_PAGE)
        timeline_cursor = None
    return {
        "stats": conversation_stats(customer),
        "conversations": _conversation_rows(history),
        "conversations_cursor": conversations_cursor,
        "next_conversations": next_conversations,
        "timeline": _timeline_rows(timeline, customer),
        "timeline_cursor": timeline_cursor,
        "next_timeline": next_timeline,
    }


def _render_customer(request: HttpRequest, customer: Customer, **forms: Any) -> HttpResponse:
    context = {"nav": "customers", **_profile_context(customer, **forms),
               **_history_context(request, customer)}
    return render(request, "web/customers/detail.html", context)


@agent_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if response := _survivor_redirect(customer):
        return response
    return _render_customer(request, customer)


@agent_required
def customer_conversations_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of past conversations (htmx appends it; a plain request gets the page)."""
    customer = _customer(request, pk, detailed=False)
    if response := _survivor_redirect(customer):
        return response
    if not _is_htmx(request):
        query = request.GET.urlencode()
        return redirect(f"{reverse('web:customer', args=[pk])}?{query}#conversations")
    try:
        history, next_cursor = customer_conversations(
            customer, cursor=request.GET.get("conversations_before") or None,
            limit=CONVERSATIONS_PAGE)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400)
    return render(request, "web/customers/_conversation_rows.html", {
        "customer": customer, "conversations": _conversation_rows(history),
        "next_conversations": next_cursor})


@agent_required
def customer_timeline_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Older timeline entries (htmx appends them; a plain request gets the page)."""
    customer = _customer(request, pk, detailed=False)
    if response := _survivor_redirect(customer):
        return response
    if not _is_htmx(request):
        query = request.GET.urlencode()
        return redirect(f"{reverse('web:customer', args=[pk])}?{query}#timeline")
    try:
        entries, next_cursor = customer_timeline(customer, cursor=request.GET.get("before"),
                                                 limit=TIMELINE_PAGE)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400)
    return render(request, "web/customers/_timeline_entries.html", {
        "customer": customer, "timeline": _timeline_rows(entries, customer),
        "next_timeline": next_cursor})


def _after_profile_change(request: HttpRequest, customer: Customer, notice: str,
                          **forms: Any) -> HttpResponse:
    """htmx: the profile card again, with the notice or the form's errors; otherwise the page
    (after a redirect when the change was saved)."""
    failed = any(form is not None and form.errors for form in forms.values())
    if _is_htmx(request):
        customer = _customer(request, customer.pk)
        return render(request, "web/customers/_profile.html",
                      {**_profile_context(customer, **(forms if failed else {})),
                       "notice": "" if failed else notice})
    if failed:
        return _render_customer(request, _customer(request, customer.pk), **forms)
    messages.success(request, notice)
    return redirect("web:customer", customer.pk)


@agent_required
@require_POST
def customer_add_identity(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, detailed=False)
    if response := _survivor_redirect(customer):
        return response
    form = IdentityForm(request.POST)
    if form.is_valid():
        kind, external_id = form.cleaned_data["kind"], form.cleaned_data["external_id"]
        owner = identity_owner(kind, external_id)
        if owner is not None and owner.pk != customer.pk:
            form.add_error("external_id", _(
                "%(address)s already belongs to %(name)s; merge the two customers instead.")
                % {"address": external_id, "name": owner})
            form.owner = owner
        else:
            try:
                do_add_identity(customer, kind, external_id, acting_user=request.user)
            except MostradorError as exc:
                form.add_error("external_id" if exc.field not in form.fields else exc.field,
                               exc.message)
    return _after_profile_change(request, customer, _("The identity was added."),
                                 identity_form=form)


@agent_required
@require_POST
def customer_attributes(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk, detailed=False)
    if response := _survivor_redirect(customer):
        return response
    form = AttributesForm(customer.attributes or {}, request.POST)
    if form.is_valid():
        try:
            do_update_customer(customer, attributes=form.cleaned_data["attributes"],
                               acting_user=request.user)
        except MostradorError as exc:
            form.add_error(None, exc.message)
    return _after_profile_change(request, customer, _("The attributes were saved."),
                                 attributes_form=form)


@agent_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if response := _survivor_redirect(customer, "web:customer_edit"):
        return response
    form_args = {"current_language": customer.language, "current_zone": customer.time_zone}
    if request.method == "POST":
        form = CustomerForm(request.POST, **form_args)
        if form.is_valid():
            try:
                do_update_customer(customer, acting_user=request.user, **form.cleaned_data)
            except MostradorError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("The customer was saved."))
                return redirect("web:customer", customer.pk)
    else:
        form = CustomerForm(initial={
            "name": customer.name, "language": customer.language,
            "time_zone": customer.time_zone, "organisation": customer.organisation_id,
            "segments": ", ".join(customer.segments or []),
        }, **form_args)
    return render(request, "web/customers/edit.html", {"nav": "customers",
                                                       "customer": customer, "form": form})


# --- merging --------------------------------------------------------------------------------


@agent_required
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the duplicate (or the original) to merge this customer with."""
    customer = _customer(request, pk)
    if response := _survivor_redirect(customer, "web:customer_merge"):
        return response
    form = MergeSearchForm(request.GET or None)
    candidates: list[dict[str, Any]] = []
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if q:
        rows, _next = list_customers(request.user, q=q, limit=11)
        candidates = [{"customer": c,
                       "identities": [(channel_label(i.kind), i) for i in c.identities.all()]}
                      for c in rows if c.pk != customer.pk][:10]
    return render(request, "web/customers/merge.html", {
        "nav": "customers", "customer": customer, "form": form, "q": q,
        "candidates": candidates})


def _merge_preview(duplicate: Customer, survivor: Customer) -> dict[str, Any]:
    """What moves from ``duplicate`` into ``survivor`` (as ``do_merge_customers`` does it)."""
    kept = survivor.attributes or {}
    return {
        "identities": [(channel_label(i.kind), i) for i in duplicate.identities.all()],
        "conversations": conversation_stats(duplicate),
        "attributes": [(k, display_value(v)) for k, v in sorted_attributes(duplicate.attributes)
                       if k not in kept],
        "segments": sorted(set(duplicate.segments or []) - set(survivor.segments or [])),
        "name": duplicate.name if not survivor.name else "",
        "organisation": duplicate.organisation if not survivor.organisation_id else None,
    }


@agent_required
def customer_merge_confirm(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Show what moves, then merge. ``keep=other`` keeps the other customer instead."""
    customer = _customer(request, pk)
    if response := _survivor_redirect(customer, "web:customer_merge"):
        return response
    other_customer = _customer(request, other)
    if other_customer.pk == customer.pk:
        return redirect("web:customer_merge", customer.pk)
    if other_customer.merged_into_id:
        messages.error(request, _("%(name)s was already merged into another customer.")
                       % {"name": other_customer})
        return redirect("web:customer_merge", customer.pk)
    keep = (request.POST if request.method == "POST" else request.GET).get("keep", "this")
    survivor, duplicate = ((other_customer, customer) if keep == "other"
                           else (customer, other_customer))
    if request.method == "POST":
        try:
            merged = do_merge_customers(duplicate, survivor, acting_user=request.user)
        except MostradorError as exc:
            messages.error(request, exc.message)
            return redirect("web:customer_merge", customer.pk)
        messages.success(request, _("%(duplicate)s was merged into %(survivor)s.")
                         % {"duplicate": duplicate, "survivor": merged})
        return redirect("web:customer", merged.pk)
    return render(request, "web/customers/merge_confirm.html", {
        "nav": "customers", "customer": customer, "other": other_customer, "keep": keep,
        "survivor": survivor, "duplicate": duplicate,
        "moves": _merge_preview(duplicate, survivor)})


# --- the panel beside a conversation --------------------------------------------------------


@agent_required
def customer_panel(request: HttpRequest, conversation_pk: int) -> HttpResponse:
    """Who the customer of a conversation is and what they asked before (htmx partial)."""
    try:
        conversation: Conversation = access_conversation(request.user, conversation_pk)
        customer = access_customer(request.user, conversation.customer_id)
    except NotFound:
        raise Http404(_("Conversation %(id)s not found.") % {"id": conversation_pk}) from None
    recent, more = customer_conversations(customer, limit=PANEL_CONVERSATIONS,
                                          exclude=conversation.pk)
    return render(request, "web/customers/panel.html", {
        "conversation": conversation, "customer": customer,
        "identities": [(channel_label(i.kind), i) for i in customer.identities.all()],
        "attributes": [(key, display_value(value))
                       for key, value in sorted_attributes(customer.attributes)],
        "language": language_label(customer.language),
        "recent": _conversation_rows(recent), "more": more is not None})
