"""The chat's HTTP side: the widget script, the hosted chat page, and the endpoints the widget
calls from other sites (config, uploads, transcript, magic link). Cross-origin calls are
answered only for the inbox's allowed origins; the visitor proves who they are with the token
in ``X-Visitor-Token``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from mostrador.channels.base import InboundAttachment
from mostrador.channels.webchat import actions, adapter, availability, limits, serialize
from mostrador.channels.webchat.models import Visitor
from mostrador.core.errors import NotFound, ValidationFailed

WIDGET_PATH = Path(__file__).parent / "static" / "webchat" / "widget.js"


def continue_url(inbox, token: str) -> str:
    base = settings.MOSTRADOR["BASE_URL"].rstrip("/")
    key = adapter.config_of(inbox).public_key
    return f"{base}{reverse('webchat:hosted', args=[key])}#mostrador-continue={token}"


def _error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        response["Access-Control-Allow-Headers"] = "Content-Type, X-Visitor-Token"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Max-Age"] = "600"
    return response


def chat_endpoint(view):
    """Find the inbox, answer the CORS preflight, refuse origins the inbox does not allow,
    speak the visitor's language, and turn domain errors into JSON errors."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, key: str, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        try:
            inbox = actions.chat_inbox(key)
        except NotFound as exc:
            return _cors(_error(404, "not_found", str(exc.message)), origin)
        config = adapter.config_of(inbox)
        if origin and not config.allows_origin(origin):
            return _error(403, "origin", "this site may not use this chat")
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        language = request.GET.get("lang") or translation.get_language_from_request(request)
        language = actions._language(language) or "es"
        with translation.override(language):
            try:
                response = view(request, inbox, config, language, *args, **kwargs)
            except ValidationFailed as exc:
                response = _error(400, "invalid", str(exc.message), field=exc.field)
            except NotFound as exc:
                response = _error(404, "not_found", str(exc.message))
        return _cors(response, origin)

    return wrapper


def _visitor(request: HttpRequest, inbox) -> Visitor | None:
    visitor = actions.visitor_for_token(inbox, request.headers.get("X-Visitor-Token"))
    if visitor is not None:
        visitor.inbox = inbox
    return visitor


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed(_("The request is not valid JSON."), field="body") from None
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request is not valid JSON."), field="body")
    return data


@chat_endpoint
def config_view(request: HttpRequest, inbox, config: adapter.WebchatConfig,
                language: str) -> HttpResponse:
    if request.method != "GET":
        return _error(405, "method", "GET only")
    from mostrador.bot.actions import settings_for

    return JsonResponse({
        "inbox": {"name": inbox.name},
        "languages": ["es", "en"],
        "language": language,
        "prechat_fields": [field.model_dump() for field in config.prechat_fields],
        "topics": config.topics,
        "greeting": config.greeting.get(language) or config.greeting.get("es") or "",
        "color": config.color,
        "limits": {"max_message_chars": config.max_message_chars,
                   "max_attachment_bytes": config.max_attachment_bytes},
        "availability": availability.availability(inbox, language=language),
        "bot": settings_for(inbox.pk) is not None,
    })


@chat_endpoint
def messages_view(request: HttpRequest, inbox, config: adapter.WebchatConfig,
                  language: str) -> HttpResponse:
    """A message with an attachment (or any message, when the websocket is unavailable)."""
    if request.method != "POST":
        return _error(405, "method", "POST only")
    visitor = _visitor(request, inbox)
    if visitor is None:
        return _error(403, "unknown_visitor", _("Reload the page to start the chat again."))
    client_id = request.POST.get("client_id", "")
    text = actions.check_text(request.POST.get("text", ""), config)
    upload = request.FILES.get("file")
    files = []
    if upload is not None:
        if upload.size > config.max_attachment_bytes:
            return _error(413, "too_large", _("Files can be at most %(size)d MB.")
                          % {"size": max(1, config.max_attachment_bytes // (1024 * 1024))})
        files.append(InboundAttachment(filename=upload.name or "file",
                                       content_type=upload.content_type or
                                       "application/octet-stream", data=upload.read()))
    if not text.strip() and not files:
        return _error(400, "empty", _("Write a message or choose a file."))
    address = request.META.get("REMOTE_ADDR", "")
    wait = limits.messages.take(visitor.sender_id, address, config)
    if wait:
        response = _error(429, "rate_limited", limits.rate_limited_text(), retry_after=wait)
        response["Retry-After"] = str(wait)
        return response
    fields = {name: request.POST[name] for name in ("name", "email", "topic")
              if request.POST.get(name)}
    outcome = actions.receive_visitor_messages([actions.Submission(
        visitor, client_id, text, fields, files)])[0]
    if outcome.error:
        return _error(400, outcome.error_code, outcome.error)
    return JsonResponse({"message": serialize.message_frame(outcome.message),
                         "duplicate": outcome.duplicate,
                         "conversation": {"id": outcome.conversation.pk,
                                          "status": outcome.conversation.status}},
                        status=200 if outcome.duplicate else 201)


def _mail_to_visitor(action):
    """An endpoint that mails the visitor (``action(visitor, email=…)`` returns the address)."""

    @chat_endpoint
    def view(request: HttpRequest, inbox, config: adapter.WebchatConfig,
             language: str) -> HttpResponse:
        if request.method != "POST":
            return _error(405, "method", "POST only")
        visitor = _visitor(request, inbox)
        if visitor is None:
            return _error(403, "unknown_visitor",
                          _("Reload the page to start the chat again."))
        email = str(_json_body(request).get("email") or "")
        return JsonResponse({"sent_to": action(visitor, email=email)}, status=202)

    return view


transcript_view = _mail_to_visitor(actions.do_send_transcript)
magic_link_view = _mail_to_visitor(actions.do_send_magic_link)


@chat_endpoint
def continue_view(request: HttpRequest, inbox, config: adapter.WebchatConfig,
                  language: str) -> HttpResponse:
    if request.method != "POST":
        return _error(405, "method", "POST only")
    visitor, token = actions.do_continue_with_link(
        inbox, str(_json_body(request).get("link") or ""), language=language,
        address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.headers.get("User-Agent", ""))
    return JsonResponse({"visitor_token": token, "visitor": {"id": visitor.public_id}})


@require_GET
def attachment_view(request: HttpRequest, signed: str, name: str) -> HttpResponse:
    """A chat file, by its signed address (only the conversation's widget is given it)."""
    attachment = serialize.attachment_from(signed)
    if attachment is None:
        return _error(404, "not_found", "no such file")
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type,
                            as_attachment=not attachment.content_type.startswith("image/"),
                            filename=attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@functools.cache
def _widget_source() -> bytes:
    return WIDGET_PATH.read_bytes()


@require_GET
def widget_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_widget_source() if not settings.DEBUG else WIDGET_PATH.read_bytes(),
                            content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def hosted_view(request: HttpRequest, key: str) -> HttpResponse:
    """The chat on a page of its own: where magic links lead, and a link to share."""
    try:
        inbox = actions.chat_inbox(key)
    except NotFound:
        return render(request, "webchat/hosted.html", {"inbox": None}, status=404)
    return render(request, "webchat/hosted.html", {"inbox": inbox, "key": key})
