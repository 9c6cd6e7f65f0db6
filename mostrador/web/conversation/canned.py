"""The reply box's canned replies: the list the picker searches, and one reply rendered for
the conversation (placeholders filled in), which the page's script inserts at the cursor for
the agent to edit before sending. JSON in and out; the POST is CSRF-protected like any form."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mostrador.automation.canned import (
    access_canned_replies,
    access_canned_reply,
    render_canned_reply,
)
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import MostradorError, NotFound
from mostrador.web.conversation.views import agent_required

LANGUAGE_NAMES = {"es": "Español", "en": "English"}


def _error(error: MostradorError) -> JsonResponse:
    return JsonResponse({"detail": error.message, "field": error.field}, status=error.status)


def _conversation(request: HttpRequest, pk: int):
    try:
        return access_conversation(request.user, pk)
    except NotFound:
        raise NotFound(_("Conversation %(number)s not found.") % {"number": pk}) from None


@require_GET
@agent_required
def canned_list(request: HttpRequest, pk: int) -> JsonResponse:
    """``{"items": [{"id", "title", "shortcut", "shared", "languages"}]}``: what the agent
    sees (shared and own), ``?q=`` as in the API."""
    try:
        _conversation(request, pk)
        replies = access_canned_replies(request.user, q=request.GET.get("q", "")[:200])
    except MostradorError as error:
        return _error(error)
    return JsonResponse({"items": [
        {"id": reply.pk, "title": reply.title, "shortcut": reply.shortcut,
         "shared": reply.owner_id is None,
         "languages": [code for code in ("es", "en") if (reply.bodies or {}).get(code)]}
        for reply in replies]})


@require_POST
@agent_required
def canned_render(request: HttpRequest, pk: int, reply_id: int) -> JsonResponse:
    """``{"text", "language", "language_name"}`` for the conversation; ``language`` in the
    form picks the body (es, en)."""
    try:
        conversation = _conversation(request, pk)
    except NotFound as error:
        return _error(error)
    try:
        reply = access_canned_reply(request.user, reply_id)
        text, language = render_canned_reply(reply, conversation, acting_user=request.user,
                                             language=request.POST.get("language") or None)
    except NotFound:
        return _error(NotFound(_("That canned reply no longer exists; reload the page to see "
                                 "the current ones.")))
    except MostradorError as error:
        return _error(error)
    return JsonResponse({"text": text, "language": language,
                         "language_name": LANGUAGE_NAMES.get(language, language)})
