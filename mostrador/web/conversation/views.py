"""The conversation page: the whole thread, the reply and note box, the properties panel, and
the small endpoints its forms post to. Delivery only: reads through the query helpers, writes
through the ``do_*`` actions.

Every POST answers an htmx request with the regions it changed (out-of-band swaps) and a plain
browser with a redirect back to the page (or the page again, with the errors, status 400).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mostrador.api.reads import access_attachment, access_message
from mostrador.channels.base import InboundAttachment
from mostrador.conversations import actions
from mostrador.conversations.actions_inbox import do_mark_read
from mostrador.conversations.models import Conversation, Message
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import MostradorError, NotFound
from mostrador.web.conversation import forms, neighbours
from mostrador.web.conversation.timeline import (
    IMAGE_TYPES,
    PDF_TYPE,
    Directory,
    directory,
    follow_up_numbers,
    load_thread,
    reply_channels,
    sla_targets,
)

Status = Conversation.Status
# Control characters would break the header; separators would suggest a path.
_UNSAFE_FILENAME_RE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def agent_required(view):
    """Signed in, with an agent profile (staff without one cannot work conversations)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if getattr(request.user, "agent", None) is None:
            raise PermissionDenied(_("Only agents can work on conversations."))
        return view(request, *args, **kwargs)

    return wrapper


def _conversation(request: HttpRequest, pk: int) -> Conversation:
    try:
        return access_conversation(request.user, pk)
    except NotFound:
        raise Http404(_("Conversation %(number)s not found.") % {"number": pk}) from None


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _from_query(request: HttpRequest) -> str:
    """The inbox list the agent came from (its query string), kept for ``j``/``k``."""
    return (request.POST.get("from") or request.GET.get("from") or "")[:2000]


def page_url(conversation_id: int, from_query: str = "", **params: Any) -> str:
    url = reverse("web:conversation", args=[conversation_id])
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if from_query:
        query["from"] = from_query
    return f"{url}?{urlencode(query)}" if query else url


# --- the page --------------------------------------------------------------------------------


def _panel_forms(conversation: Conversation, names: Directory, tags: list[str]) -> dict:
    return {
        "status_form": forms.StatusForm(initial={"status": conversation.status}),
        "priority_form": forms.PriorityForm(initial={"priority": conversation.priority}),
        "assignee_form": forms.AssigneeForm(initial={"assignee": conversation.assignee_id},
                                            agents=names.assignable),
        "team_form": forms.TeamForm(initial={"team": conversation.team_id}, teams=names.teams),
        "subject_form": forms.SubjectForm(initial={"subject": conversation.subject}),
        "tags_form": forms.TagsForm(),
        "fields_form": forms.FieldsForm(),
        "merge_form": forms.MergeForm(),
    }


def page_context(request: HttpRequest, conversation: Conversation, *,
                 bound: dict[str, Form] | None = None, before: Message | None = None,
                 message_errors: dict[int, str] | None = None, notice: str = "",
                 undo_status: str = "", tab: str = "reply") -> dict[str, Any]:
    """Everything the page shows. ``focus="undo"`` in the POST (the keyboard's solve) moves
    focus to the notice's Undo button."""
    names = directory()
    thread = load_thread(conversation, names, before=before)
    for entry in thread.entries:
        if entry.kind == "message" and message_errors and entry.message.pk in message_errors:
            entry.error = message_errors[entry.message.pk]
    channel = (thread.last_customer_channel if before is None
               else actions.last_customer_channel(conversation))
    channels = reply_channels(conversation, channel)
    tags = list(conversation.tags.order_by("name").values_list("name", flat=True))
    context: dict[str, Any] = {
        "conversation": conversation,
        "thread": thread,
        "names": names,
        "tags": tags,
        "custom_fields": sorted((conversation.custom_fields or {}).items()),
        "follow_ups": follow_up_numbers(conversation),
        "sla_targets": sla_targets(conversation),
        "mention_choices": names.mention_choices(),
        "from_query": _from_query(request),
        "before": before,
        "notice": notice,
        "undo_status": undo_status,
        "focus": request.POST.get("focus", "") if request.method == "POST" else "",
        "tab": tab,
        "writable": conversation.merged_into_id is None,
        "reply_form": forms.ReplyForm(initial={"channel": channel}, channels=channels),
        "note_form": forms.NoteForm(),
        "nav": "inbox",
        **_panel_forms(conversation, names, tags),
    }
    context.update(bound or {})
    return context


@require_GET
@agent_required
def conversation_page(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    before = None
    if (before_id := request.GET.get("before", "")).isdigit():
        before = conversation.messages.filter(pk=int(before_id)).first()
    # Opening the conversation reads it: its row in the inbox stops being bold.
    do_mark_read(conversation, request.user)
    return render(request, "web/conversation/page.html",
                  page_context(request, conversation, before=before))


@require_GET
@agent_required
def timeline_chunk(request: HttpRequest, pk: int) -> HttpResponse:
    """Earlier messages (``?before=<message id>``) for the "Show earlier" button."""
    conversation = _conversation(request, pk)
    before_id = request.GET.get("before", "")
    before = (conversation.messages.filter(pk=int(before_id)).first()
              if before_id.isdigit() else None)
    if before is None:
        raise Http404(_("That message is not in this conversation."))
    thread = load_thread(conversation, directory(), before=before)
    return render(request, "web/conversation/_chunk.html", {
        "conversation": conversation, "thread": thread, "from_query": _from_query(request),
        "writable": conversation.merged_into_id is None})


# --- answering ------------------------------------------------------------------------------


def _respond(request: HttpRequest, conversation: Conversation, *, ok: bool,
             regions: tuple[str, ...], success: str = "", **context_args) -> HttpResponse:
    """htmx: the changed regions, swapped out of band. Otherwise: back to the page on
    success (the notice as a flash message), the page with its errors on failure."""
    from_query = _from_query(request)
    if ok:
        # The agent's own change moved last activity on; it is not news to them.
        do_mark_read(conversation, request.user)
    if _is_htmx(request):
        fresh = _conversation(request, conversation.pk)
        context = page_context(request, fresh, notice=success, **context_args)
        context["regions"] = regions
        return render(request, "web/conversation/_update.html", context)
    if ok:
        if success:
            messages.success(request, success)
        return HttpResponseRedirect(page_url(conversation.pk, from_query))
    context = page_context(request, _conversation(request, conversation.pk), **context_args)
    return render(request, "web/conversation/page.html", context, status=400)


def _uploads(request: HttpRequest) -> list[InboundAttachment]:
    limit = settings.MOSTRADOR["MAX_ATTACHMENT_BYTES"]
    files = []
    for upload in request.FILES.getlist("files"):
        if upload.size > limit:
            raise MostradorError(_("%(name)s is larger than the %(size)s MB a file may have.")
                                 % {"name": upload.name, "size": limit // (1024 * 1024)},
                                 field="files")
        files.append(InboundAttachment(upload.name, upload.content_type or
                                       "application/octet-stream", upload.read()))
    return files


@require_POST
@agent_required
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    channels = reply_channels(conversation, actions.last_customer_channel(conversation))
    form = forms.ReplyForm(request.POST, channels=channels)
    if form.is_valid():
        try:
            actions.do_send_reply(conversation, form.cleaned_data["text"],
                                  channel_kind=form.cleaned_data["channel"],
                                  status=form.status(), files=_uploads(request),
                                  acting_user=request.user)
        except MostradorError as error:
            form.add_error("channel" if error.field == "channel" else "text", error.message)
    if form.errors:
        return _respond(request, conversation, ok=False,
                        regions=("composer",), bound={"reply_form": form})
    done = {None: _("Reply queued."), Status.PENDING: _("Reply queued; waiting for the "
                                                        "customer."),
            Status.SOLVED: _("Reply queued; conversation solved.")}[form.status()]
    return _respond(request, conversation, ok=True, success=done,
                    regions=("head", "timeline", "properties", "composer"))


@require_POST
@agent_required
def note(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            actions.do_add_note(conversation, form.cleaned_data["text"],
                                acting_user=request.user)
        except MostradorError as error:
            form.add_error("text", error.message)
    if form.errors:
        return _respond(request, conversation, ok=False, regions=("composer",),
                        bound={"note_form": form}, tab="note")
    return _respond(request, conversation, ok=True, success=_("Note added."),
                    regions=("timeline", "composer"), tab="note")


# --- properties -----------------------------------------------------------------------------


PANEL_REGIONS = ("head", "timeline", "properties")


@require_POST
@agent_required
def set_property(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Status, priority, assignee, team or subject, each through its action."""
    conversation = _conversation(request, pk)
    names = directory()
    if field == "assignee":
        form: Form = forms.AssigneeForm(request.POST, agents=names.assignable)
    elif field == "team":
        form = forms.TeamForm(request.POST, teams=names.teams)
    elif field in forms.FORMS:
        form = forms.FORMS[field](request.POST)
    else:
        raise Http404(_("There is no property %(field)s.") % {"field": field})
    notice, undo = "", ""
    if form.is_valid():
        value = form.cleaned_data[field]
        try:
            notice, undo = _apply(request, conversation, names, field, value)
        except MostradorError as error:
            form.add_error(field, error.message)
    if form.errors:
        return _respond(request, conversation, ok=False, regions=("properties",),
                        bound={f"{field}_form": form})
    return _respond(request, conversation, ok=True, success=notice, undo_status=undo,
                    regions=PANEL_REGIONS)


def _apply(request: HttpRequest, conversation: Conversation, names: Directory, field: str,
           value: Any) -> tuple[str, str]:
    """Change one property; the notice to show and, for a status, the one to go back to."""
    user = request.user
    if field == "status":
        before = conversation.status
        actions.do_change_status(conversation, value, acting_user=user)
        label = Status(value).label
        if request.POST.get("undo"):
            return _("Status set back to %(status)s.") % {"status": label}, ""
        return _("Status changed to %(status)s.") % {"status": label}, before
    if field == "priority":
        actions.do_change_priority(conversation, value, acting_user=user)
        return _("Priority changed to %(priority)s.") % {
            "priority": Conversation.Priority(value).label}, ""
    if field == "assignee":
        assignee = None
        if value is not None:
            assignee = next((a.user for a in names.assignable if a.user_id == value), None)
            if assignee is None:
                raise MostradorError(_("Choose an active agent."), field="assignee")
        actions.do_assign(conversation, assignee, acting_user=user)
        if assignee is None:
            return _("Conversation unassigned."), ""
        return _("Assigned to %(name)s.") % {"name": names.agent_name(value)}, ""
    if field == "team":
        team = next((t for t in names.teams if t.pk == value), None)
        actions.do_set_team(conversation, team, acting_user=user)
        if team is None:
            return _("Team removed."), ""
        return _("Moved to team %(team)s.") % {"team": team.name}, ""
    actions.do_change_subject(conversation, value, acting_user=user)
    return _("Subject changed."), ""


@require_POST
@agent_required
def tags(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = forms.TagsForm(request.POST)
    notice = ""
    if form.is_valid():
        try:
            if form.cleaned_data["remove"]:
                gone = actions.do_remove_tags(conversation, [form.cleaned_data["remove"]],
                                              acting_user=request.user)
                notice = _("Tag removed: %(tags)s.") % {"tags": ", ".join(gone)} if gone else ""
            else:
                names = form.names_to_add()
                if not names:
                    raise MostradorError(_("Type a tag to add."), field="add")
                added = actions.do_add_tags(conversation, names, acting_user=request.user)
                notice = (_("Tags added: %(tags)s.") % {"tags": ", ".join(added)} if added
                          else _("The conversation already has those tags."))
        except MostradorError as error:
            form.add_error("add", error.message)
    if form.errors:
        return _respond(request, conversation, ok=False, regions=("properties",),
                        bound={"tags_form": form})
    return _respond(request, conversation, ok=True, success=notice, regions=PANEL_REGIONS)


@require_POST
@agent_required
def custom_fields(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    form = forms.FieldsForm(request.POST)
    notice = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["remove"]:
                actions.do_set_custom_fields(conversation, {data["remove"]: None},
                                             acting_user=request.user)
                notice = _("Field %(key)s removed.") % {"key": data["remove"]}
            else:
                key = data["key"].strip()
                if not key:
                    raise MostradorError(_("Give the field a name."), field="key")
                actions.do_set_custom_fields(conversation, {key: data["value"]},
                                             acting_user=request.user)
                notice = _("Field %(key)s saved.") % {"key": key}
        except MostradorError as error:
            form.add_error("value" if error.field == "value" else "key", error.message)
    if form.errors:
        return _respond(request, conversation, ok=False, regions=("properties",),
                        bound={"fields_form": form})
    return _respond(request, conversation, ok=True, success=notice, regions=PANEL_REGIONS)


@require_POST
@agent_required
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this conversation into another one (by number); the page moves to the target."""
    conversation = _conversation(request, pk)
    form = forms.MergeForm(request.POST)
    target = None
    if form.is_valid():
        number = form.cleaned_data["target"]
        try:
            try:
                target = access_conversation(request.user, number)
            except NotFound:
                raise MostradorError(_("There is no conversation #%(number)s.")
                                     % {"number": number}, field="target") from None
            target = actions.do_merge_conversations(conversation, target,
                                                    acting_user=request.user)
        except MostradorError as error:
            form.add_error("target", error.message)
    if form.errors or target is None:
        return _respond(request, conversation, ok=False, regions=("properties",),
                        bound={"merge_form": form})
    notice = _("Conversation #%(source)s merged into this one.") % {"source": conversation.pk}
    messages.success(request, notice)
    url = page_url(target.pk, _from_query(request))
    if _is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


# --- messages -------------------------------------------------------------------------------


def _message(conversation: Conversation, message_id: int) -> Message:
    try:
        return access_message(conversation, message_id)
    except NotFound:
        raise Http404(_("That message is not in this conversation.")) from None


@require_POST
@agent_required
def split(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    message = _message(conversation, message_id)
    try:
        new = actions.do_split_message(message, acting_user=request.user)
    except MostradorError as error:
        return _respond(request, conversation, ok=False, regions=("timeline",),
                        message_errors={message.pk: error.message})
    notice = _("The message is now conversation #%(number)s.") % {"number": new.pk}
    return _respond(request, conversation, ok=True, success=notice,
                    regions=("head", "timeline", "properties"))


@require_POST
@agent_required
def retry(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = _conversation(request, pk)
    message = _message(conversation, message_id)
    try:
        actions.do_retry_delivery(message, acting_user=request.user)
    except MostradorError as error:
        return _respond(request, conversation, ok=False, regions=("timeline",),
                        message_errors={message.pk: error.message})
    return _respond(request, conversation, ok=True, success=_("The reply is queued again."),
                    regions=("timeline",))


# --- moving through the list ------------------------------------------------------------------


@require_GET
@agent_required
def neighbour(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    """The next or previous conversation of the list the agent came from (``?from=`` holds
    that list's query string). JSON ``{"url": …}`` for scripts, a redirect for links."""
    conversation = _conversation(request, pk)
    from_query = _from_query(request)
    found = neighbours.find(request.user, conversation, from_query,
                            forward=direction == "next")
    url = page_url(found, from_query) if found else None
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"url": url})
    if url is None:
        messages.info(request, _("This is the last conversation of the list.")
                      if direction == "next" else
                      _("This is the first conversation of the list."))
        url = page_url(conversation.pk, from_query)
    return HttpResponseRedirect(url)


# --- attachments ----------------------------------------------------------------------------


@require_GET
@agent_required
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """The file behind the thread's links and thumbnails (session-authenticated twin of the
    API's download): images and PDFs inline, anything else as a download, never run as a
    page of ours."""
    try:
        found = access_attachment(request.user, attachment_id)
    except NotFound:
        raise Http404(_("Attachment %(id)s not found.") % {"id": attachment_id}) from None
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file of attachment %(id)s is missing from storage.")
                      % {"id": attachment_id}) from None
    inline = found.content_type in IMAGE_TYPES or found.content_type == PDF_TYPE
    filename = _UNSAFE_FILENAME_RE.sub("_", found.filename).strip(" .") or f"attachment-{found.pk}"
    response = FileResponse(handle, content_type=found.content_type or
                            "application/octet-stream", as_attachment=not inline,
                            filename=filename)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
