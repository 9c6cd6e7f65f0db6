"""The inbox: the conversation list with its views, filters, keyset pages, bulk actions, saved
views and read marks.

The query string is the state: ``?view=mine`` (or ``?sv=<saved view>``) applies a preset;
once the filters form is sent (``f=1``) exactly the filters in the address apply, and ``view``
only says which tab it started from. htmx requests get the list region alone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from mostrador.conversations.actions import (
    do_add_tags,
    do_assign,
    do_change_status,
)
from mostrador.conversations.actions_inbox import (
    do_delete_view,
    do_mark_many_read,
    do_mark_read,
    do_mark_unread,
    do_save_view,
)
from mostrador.conversations.models import Conversation, SavedView
from mostrador.conversations.queries import Page, access_conversation
from mostrador.core.errors import MostradorError
from mostrador.web.inbox import reads
from mostrador.web.inbox.forms import (
    DEFAULT_ORDER,
    DEFAULT_VIEW,
    FILTER_KEYS,
    PAGE_SIZE,
    PRESETS,
    BulkForm,
    FilterForm,
    SaveViewForm,
    as_query_dict,
    filter_query,
    to_conversation_filters,
)
from mostrador.web.inbox.icons import channel_icon


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and staff with an agent profile (a bare Django user has no desk)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "agent", None) is None:
            raise PermissionDenied(_("Only agents can use the inbox."))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _is_htmx(request: HttpRequest) -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true"
            and request.headers.get("HX-Boosted") != "true")


# --- which filters apply --------------------------------------------------------------------


@dataclasses.dataclass
class State:
    """What the address asks for, resolved: the tab, the filters form, and the values."""

    view: str  # a preset name, or ""
    saved: SavedView | None
    form: FilterForm
    values: dict[str, Any]
    cursor: str | None
    modified: bool  # the filters differ from the tab's own

    def query(self, **extra: Any) -> str:
        """The address of these filters (``f=1``: exactly these), with ``extra``."""
        return filter_query(self.values, view=self.view or None,
                            sv=self.saved.pk if self.saved else None, f=1, **extra)


def _resolve(request: HttpRequest, params: QueryDict, options: reads.Options,
             saved_views: list[SavedView]) -> State:
    view = params.get("view", "")
    view = view if view in PRESETS else ""
    saved = None
    if params.get("sv", "").isdigit():
        saved = next((s for s in saved_views if s.pk == int(params["sv"])), None)
        if saved is None:
            messages.warning(request, _("That saved view no longer exists."))
    explicit = params.get("f") == "1" or any(key in params for key in FILTER_KEYS)
    if saved is not None:
        base = dict(saved.filters)
        view = ""
    else:
        if not view and not explicit:
            view = DEFAULT_VIEW
        base = dict(PRESETS[view][1]) if view else {}
    data = params if explicit else as_query_dict(base)
    form = FilterForm(data, inboxes=options.inboxes, agents=options.agents,
                      teams=options.teams)
    form.is_valid()
    values = form.filter_values()
    modified = explicit and _normalised(values) != _normalised(base)
    return State(view, saved, form, values, params.get("cursor") or None, modified)


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    return {k: sorted(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in values.items() if v not in (None, "", []) and
            not (k == "order" and v == DEFAULT_ORDER)}


# --- the page -------------------------------------------------------------------------------


def _decorate(rows: list[reads.Row]) -> None:
    """What each row shows in the agent's language, and its link: worked out once per value
    for the page rather than once per row in the template."""
    icons: dict[str, Any] = {}
    priorities = {value: str(label) for value, label in Conversation.Priority.choices}
    statuses = {value: str(label) for value, label in Conversation.Status.choices}
    # One reverse() for the page: the row links differ only in the number.
    link = reverse("web:conversation", args=[2**62]).replace(str(2**62), "{}")
    for row in rows:
        conversation = row.conversation
        kind = conversation.channel_kind
        if kind not in icons:
            icons[kind] = channel_icon(kind)
        row.icon = icons[kind]
        row.url = link.format(conversation.pk)
        row.priority_label = priorities.get(conversation.priority, str(conversation.priority))
        row.status_label = statuses.get(conversation.status, conversation.status)


@dataclasses.dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [ngettext("%(count)d conversation changed.",
                          "%(count)d conversations changed.", self.changed)
                 % {"count": self.changed}]
        if self.unchanged:
            lines.append(ngettext("%(count)d was already like that.",
                                  "%(count)d were already like that.", self.unchanged)
                         % {"count": self.unchanged})
        for pk, reason in self.failed:
            lines.append(_("#%(number)s not changed: %(reason)s")
                         % {"number": pk, "reason": reason})
        return lines


def _page_context(request: HttpRequest, state: State, options: reads.Options,
                  saved_views: list[SavedView], *, bulk_form: BulkForm | None = None,
                  bulk_result: BulkResult | None = None) -> dict[str, Any]:
    user = request.user
    filters, team = to_conversation_filters(state.values, user)
    team_ids = options.my_team_ids if team == "mine" else None
    list_error = ""
    try:
        page = reads.list_page(user, filters, team_ids=team_ids, cursor=state.cursor,
                               limit=PAGE_SIZE)
    except MostradorError:
        page = Page([], None)
        list_error = _("This page's link is no longer valid; start again from the newest.")
    rows = reads.rows_for(user, page.items)
    _decorate(rows)
    customer = None
    if "customer" in state.values:
        name = reads.customer_name(state.values["customer"])
        customer = {"name": name or f"#{state.values['customer']}",
                    "remove_url": "?" + filter_query(
                        {k: v for k, v in state.values.items() if k != "customer"},
                        view=state.view or None, sv=state.saved.pk if state.saved else None,
                        f=1)}
    if state.saved is not None:
        heading = state.saved.name
    elif state.view:
        heading = str(PRESETS[state.view][0])
    else:
        heading = _("Filtered conversations")
    base = reverse("web:inbox")
    tabs = [{"label": label, "url": f"{base}?view={key}",
             "current": state.saved is None and key == state.view}
            for key, (label, _filters) in PRESETS.items()]
    saved_tabs = [{"label": view.name, "url": f"{base}?sv={view.pk}",
                   "current": state.saved is not None and view.pk == state.saved.pk}
                  for view in saved_views]
    if bulk_form is None:
        bulk_form = BulkForm(agents=options.agents)
    shown = len(rows)
    status_text = (ngettext("%(count)d conversation shown.", "%(count)d conversations shown.",
                            shown) % {"count": shown})
    if page.next_cursor:
        status_text += " " + _("Older ones follow on the next page.")
    return {
        "nav": "inbox",
        "state": state,
        "form": state.form,
        "options": options,
        "rows": rows,
        "heading": heading,
        "tabs": tabs,
        "saved_tabs": saved_tabs,
        "customer": customer,
        "list_error": list_error,
        "filter_count": len([k for k in state.values if k != "order"]),
        "query": state.query(),
        "here": f"{base}?{state.query(cursor=state.cursor)}",
        "first_url": f"{base}?{state.query()}" if state.cursor else "",
        "next_url": f"{base}?{state.query(cursor=page.next_cursor)}" if page.next_cursor
        else "",
        "save_form": SaveViewForm(initial={"query": state.query()}),
        "bulk_form": bulk_form,
        "bulk_result": bulk_result,
        "status_text": status_text,
        "team_missing": team == "mine" and not options.my_team_ids,
    }


@require_safe
@agent_required
def inbox(request: HttpRequest) -> HttpResponse:
    options = reads.options(request.user)
    saved_views = reads.saved_views(request.user)
    state = _resolve(request, request.GET, options, saved_views)
    context = _page_context(request, state, options, saved_views)
    template = "web/inbox/_list.html" if _is_htmx(request) else "web/inbox/inbox.html"
    context["oob"] = _is_htmx(request)
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _safe_next(request: HttpRequest, target: str | None) -> str:
    inbox_url = reverse("web:inbox")
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
            target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return inbox_url


def _params_of(url: str) -> QueryDict:
    return QueryDict(urlsplit(url).query)


# --- bulk actions ---------------------------------------------------------------------------


def _apply(user, data: dict[str, Any]) -> BulkResult:
    """Each conversation in its own action call: one refused change stops no other."""
    result = BulkResult()
    action, ids = data["action"], data["ids"]
    if action in ("read", "unread"):
        visible = set(reads.visible_ids(user, ids))
        (do_mark_many_read if action == "read" else do_mark_unread)(sorted(visible), user)
        result.changed = len(visible)
        result.failed = [(pk, _("not found")) for pk in ids if pk not in visible]
        return result
    assignee = None
    if action == "assign":
        choice = data["assign_to"]
        if choice == "me":
            assignee = user
        elif choice != "none":
            assignee = reads.agent_user(int(choice))
            if assignee is None:
                result.failed = [(pk, _("that agent can no longer be assigned"))
                                 for pk in ids]
                return result
    for pk in ids:
        try:
            conversation = access_conversation(user, pk)
            if action == "assign":
                before = conversation.assignee_id
                after = do_assign(conversation, assignee, acting_user=user).assignee_id
                changed = before != after
            elif action == "status":
                before = conversation.status
                changed = do_change_status(conversation, data["set_status"],
                                           acting_user=user).status != before
            else:
                changed = bool(do_add_tags(conversation, [data["add_tag"]], acting_user=user))
        except MostradorError as exc:
            result.failed.append((pk, exc.message))
            continue
        if changed:
            result.changed += 1
        else:
            result.unchanged += 1
    return result


@require_POST
@agent_required
def bulk(request: HttpRequest) -> HttpResponse:
    options = reads.options(request.user)
    form = BulkForm(request.POST, agents=options.agents)
    target = _safe_next(request, request.POST.get("next"))
    result = _apply(request.user, form.cleaned_data) if form.is_valid() else None
    if _is_htmx(request):
        saved_views = reads.saved_views(request.user)
        state = _resolve(request, _params_of(target), options, saved_views)
        context = _page_context(request, state, options, saved_views,
                                bulk_form=form if result is None else None,
                                bulk_result=result)
        context["oob"] = True
        response = render(request, "web/inbox/_list.html", context)
        # The address stays the list's, not the action's.
        response["HX-Replace-Url"] = target
        return response
    if result is None:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        lines = result.lines()
        messages.success(request, lines[0])
        for line in lines[1:]:
            (messages.error if line.startswith("#") else messages.info)(request, line)
    return HttpResponseRedirect(target)


# --- saved views and read marks -------------------------------------------------------------


@require_POST
@agent_required
def save_view(request: HttpRequest) -> HttpResponse:
    form = SaveViewForm(request.POST)
    back = f"{reverse('web:inbox')}?{QueryDict(request.POST.get('query', '')).urlencode()}"
    if not form.is_valid():
        messages.error(request, _("Give the view a name of at most 80 characters."))
        return HttpResponseRedirect(back)
    options = reads.options(request.user)
    filters_form = FilterForm(QueryDict(form.cleaned_data["query"]), inboxes=options.inboxes,
                              agents=options.agents, teams=options.teams)
    filters_form.is_valid()
    try:
        view = do_save_view(request.user, form.cleaned_data["name"],
                            filters_form.filter_values())
    except MostradorError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(request, _("View %(name)s saved.") % {"name": view.name})
    return HttpResponseRedirect(f"{reverse('web:inbox')}?sv={view.pk}")


@require_POST
@agent_required
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        do_delete_view(request.user, pk)
    except MostradorError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("View deleted."))
    return HttpResponseRedirect(reverse("web:inbox"))


@require_POST
@agent_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one conversation read (``state=read``, the default) or unread for the agent."""
    try:
        conversation: Conversation = access_conversation(request.user, pk)
    except MostradorError as exc:
        raise Http404(exc.message) from None
    if request.POST.get("state") == "unread":
        do_mark_unread([conversation], request.user)
    else:
        do_mark_read(conversation, request.user)
    if _is_htmx(request):
        return HttpResponse(status=204)
    return HttpResponseRedirect(_safe_next(request, request.POST.get("next")))

