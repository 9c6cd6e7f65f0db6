"""The help center's chat with the answer bot: ``/help/<lang>/ask/``.

The visitor asks; the bot answers with a quoted article and asks whether that solved it, or
hands over. A person is always one button away ("Talk to a person"): the visitor leaves a name
and an e-mail address, and a conversation opens in the help center's inbox with the whole
exchange (``bot.actions.do_hand_over_chat``), routed like any other. Outside the inbox's
opening hours the page says when a person will answer.

The exchange lives in the visitor's session (at most ``MAX_TURNS`` turns), so it survives a
reload. The page works without JavaScript (forms that post and redirect back); with it,
``ask.js`` posts in the background and swaps the chat panel in place.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from mostrador.bot import actions as bot_actions
from mostrador.bot import answer
from mostrador.core.errors import MostradorError
from mostrador.customers.actions import resolve_identity
from mostrador.portal import actions, limits
from mostrador.portal.views import LANGUAGES, _page, in_language

SESSION_KEY = "mostrador_help_chat"
MAX_TURNS = 40
MAX_TEXT_CHARS = 1000
# Messages to the bot per address in ten minutes.
MESSAGES_PER_WINDOW = 30
WINDOW_SECONDS = 600


def _chat(request: HttpRequest, lang: str) -> dict[str, Any]:
    chat = request.session.get(SESSION_KEY) or {}
    if chat.get("lang") != lang:
        chat = {"lang": lang, "turns": [], "state": "asking", "reason": ""}
    return chat


def _save(request: HttpRequest, chat: dict[str, Any]) -> None:
    chat["turns"] = chat["turns"][-MAX_TURNS:]
    request.session[SESSION_KEY] = chat
    request.session.modified = True


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _take_message_place(address: str) -> bool:
    key = f"mostrador:help-chat:{address}:{int(time.time() // WINDOW_SECONDS)}"
    cache.add(key, 0, WINDOW_SECONDS * 2)
    try:
        return cache.incr(key) <= MESSAGES_PER_WINDOW
    except ValueError:
        return True


def _respond(request: HttpRequest, lang: str, chat: dict[str, Any], *, status: int = 200,
             errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
             done: dict[str, Any] | None = None) -> HttpResponse:
    context = {"chat": chat, "errors": errors or {}, "values": values or {}, "done": done,
               "ask_url": reverse("portal:ask", args=[lang])}
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "portal/_ask_panel.html", {**context, "lang": lang},
                      status=status)
    if status == 200 and request.method == "POST" and not errors:
        return HttpResponseRedirect(reverse("portal:ask", args=[lang]) + "#chat", status=303)
    paths = {code: reverse("portal:ask", args=[code]) for code in LANGUAGES}
    return _page(request, "portal/ask.html", lang, {**context, "noindex": True}, paths=paths,
                 status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@in_language
def ask(request: HttpRequest, lang: str) -> HttpResponse:
    """The chat page (GET), or one message to the bot (POST ``text``)."""
    chat = _chat(request, lang)
    if request.method == "GET":
        return _respond(request, lang, chat)
    text = " ".join(request.POST.get("text", "").split())
    if not text:
        return _respond(request, lang, chat, status=400,
                        errors={"text": _("Write your question first.")})
    if len(text) > MAX_TEXT_CHARS:
        # Refused whole rather than cut: what the visitor wrote comes back to be shortened.
        return _respond(request, lang, chat, status=400, values={"text": text}, errors={
            "text": _("A message has at most %(max)d characters.") % {"max": MAX_TEXT_CHARS}})
    if not _take_message_place(_address(request)):
        return _respond(request, lang, chat, status=429, values={"text": text}, errors={
            "text": _("You have sent many messages in the last few minutes. Please wait a "
                      "little, or talk to a person.")})
    chat["turns"].append({"from": "customer", "text": text})
    try:
        decision = bot_actions.respond_in_chat(actions.help_center_inbox(), text,
                                               language=lang)
    except MostradorError:
        decision = answer.decide(text, language=lang)
    chat["turns"].append({"from": "bot", "text": decision.answer, "url": decision.article_url,
                          "article": decision.article_id, "title": decision.article_title,
                          "question": text})
    chat["state"] = "handover" if decision.handover else "answered"
    chat["reason"] = decision.reason
    _save(request, chat)
    return _respond(request, lang, chat)


@require_POST
@in_language
def ask_feedback(request: HttpRequest, lang: str) -> HttpResponse:
    """"Did this solve your question?": ``helpful`` yes or no on the last answer."""
    chat = _chat(request, lang)
    last = next((turn for turn in reversed(chat["turns"]) if turn.get("article")), None)
    if chat["state"] != "answered" or last is None:
        return _respond(request, lang, chat)
    helpful = request.POST.get("helpful") == "yes"
    inbox_id = None
    try:
        inbox_id = actions.help_center_inbox().pk
    except MostradorError:
        inbox_id = None
    bot_actions.do_record_feedback(question=last.get("question", ""), article_id=last["article"],
                                   helpful=helpful, language=lang, source="help_center",
                                   inbox_id=inbox_id)
    if helpful:
        chat["turns"].append({"from": "bot", "text": _("Glad it helped. You can ask another "
                                                       "question whenever you like.")})
        chat["state"] = "asking"
    else:
        chat["turns"].append({"from": "bot", "text": answer.handover_text(lang, "not_helpful")})
        chat["state"], chat["reason"] = "handover", "not_helpful"
    _save(request, chat)
    return _respond(request, lang, chat)


@require_POST
@in_language
def ask_person(request: HttpRequest, lang: str) -> HttpResponse:
    """"Talk to a person", at any moment: the contact form comes up."""
    chat = _chat(request, lang)
    if chat["state"] != "handover":
        chat["turns"].append({"from": "bot", "text": answer.handover_text(lang,
                                                                         "asked_for_human")})
        chat["state"], chat["reason"] = "handover", "asked_for_human"
        _save(request, chat)
    return _respond(request, lang, chat)


@require_POST
@in_language
def ask_handover(request: HttpRequest, lang: str) -> HttpResponse:
    """Name and e-mail address: the conversation opens for a person with the whole exchange."""
    chat = _chat(request, lang)
    values = {"name": request.POST.get("name", ""), "email": request.POST.get("email", "")}
    errors: dict[str, str] = {}
    name = email = ""
    try:
        name = actions.clean_name(values["name"])
    except MostradorError as error:
        errors["name"] = error.message
    try:
        email = actions.clean_email(values["email"])
    except MostradorError as error:
        errors["email"] = error.message
    if not any(turn["from"] == "customer" for turn in chat["turns"]):
        errors["text"] = _("Write your question first.")
    if errors:
        return _respond(request, lang, chat, status=400, errors=errors, values=values)
    address, now = _address(request), time.time()
    if not limits.take_request_place(address, now=now):
        return _respond(request, lang, chat, status=429, values=values, errors={
            "name": _("You have sent several requests in the last few minutes. Please wait "
                      "ten minutes and try again; your message is still here.")})
    try:
        inbox = actions.help_center_inbox()
        customer, _created = resolve_identity("email", email, name=name)
        conversation = bot_actions.do_hand_over_chat(
            inbox=inbox, customer=customer, language=lang, reason=chat.get("reason") or
            "asked_for_human",
            transcript=[{"from": turn["from"], "text": turn["text"]} for turn in chat["turns"]])
    except MostradorError as error:
        limits.give_back_request_place(address, now=now)
        return _respond(request, lang, chat, status=400, values=values,
                        errors={"name": error.message})
    done = {"number": conversation.number, "email": email,
            "opens": _next_opening(conversation.inbox, lang, conversation.number)}
    chat = {"lang": lang, "turns": [], "state": "asking", "reason": "", "done": done}
    _save(request, chat)
    return _respond(request, lang, chat, done=done)


@require_POST
@in_language
def ask_restart(request: HttpRequest, lang: str) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return _respond(request, lang, _chat(request, lang))


def _next_opening(inbox, lang: str, number: int) -> str:
    """The after-hours notice when the inbox's calendar is closed now, else ""."""
    from mostrador.sla import calendars
    from mostrador.sla.after_hours import notice_text
    from mostrador.sla.models import Calendar

    calendar = inbox.calendar or Calendar.objects.filter(is_default=True).first()
    now = timezone.now()
    if calendar is None:
        return ""
    hours = calendars.for_row(calendar)
    if hours.is_open(now):
        return ""
    opens: dt.datetime = hours.next_open(now)
    return notice_text(opens, calendar.time_zone, lang, number)
