"""The public help center: no sign-in, one page tree per language.

Delivery only: reads through ``portal.queries``, writes through ``portal.actions``. The
reading pages (home, categories, articles) are the same for every reader and may be cached
for five minutes; the forms, the search and anything that depends on the reader are not.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signing
from django.forms import ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mostrador.core.errors import MostradorError, NotFound
from mostrador.knowledge.models import Article, Language
from mostrador.portal import actions, limits, queries
from mostrador.portal.forms import FeedbackForm, RequestForm

LANGUAGES = tuple(Language.values)  # ("es", "en")
DEFAULT_LANGUAGE = Language.SPANISH
VISITOR_COOKIE = "mostrador_help_visitor"
VISITOR_COOKIE_AGE = 365 * 24 * 3600
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PUBLIC_MAX_AGE = 300
HOME_ARTICLES_PER_CATEGORY = 8
SEARCH_MAX_CHARS = 200
SUGGEST_MIN_CHARS = 3
SUGGESTIONS = 3
THANKS_SALT = "mostrador.portal.request"


# --- helpers --------------------------------------------------------------------------------


def in_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render the view in the language of its URL."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, lang: str, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            response = view(request, lang, *args, **kwargs)
        response["Content-Language"] = lang
        return response

    return wrapper


def absolute(path: str) -> str:
    """``path`` on the desk's public address (``MOSTRADOR_BASE_URL``), for canonical links,
    alternates and the sitemap: never the Host header a request happened to send."""
    return settings.MOSTRADOR["BASE_URL"].rstrip("/") + path


def article_path(article: Article) -> str:
    return reverse("portal:article", args=[article.language, article.pk, article.slug])


def language_name(code: str) -> str:
    return get_language_info(code)["name_local"].capitalize()


def _languages(lang: str, paths: dict[str, str]) -> list[dict[str, Any]]:
    """The language switcher: each language's version of this page (its home when the page
    has none)."""
    return [{"code": code, "name": language_name(code), "current": code == lang,
             "url": paths.get(code) or reverse("portal:home", args=[code])}
            for code in LANGUAGES]


def _alternates(paths: dict[str, str], default: str | None = None) -> list[dict[str, str]]:
    found = [{"code": code, "url": absolute(path)} for code, path in sorted(paths.items())]
    if default:
        found.append({"code": "x-default", "url": absolute(default)})
    return found


def _page(request: HttpRequest, template: str, lang: str, context: dict[str, Any], *,
          paths: dict[str, str] | None = None, x_default: str | None = None,
          status: int = 200, public: bool = False) -> HttpResponse:
    """Render a help-center page; ``paths`` holds this page in each language it exists in,
    ``x_default`` the address for readers of any other language."""
    paths = paths or {}
    context = {"lang": lang, "languages": _languages(lang, paths),
               "alternates": _alternates(paths, x_default) if len(paths) > 1 else [],
               "canonical": absolute(paths[lang]) if lang in paths else "",
               "request_url": reverse("portal:request", args=[lang]), **context}
    response = render(request, template, context, status=status)
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


def _not_found(request: HttpRequest, lang: str) -> HttpResponse:
    response = _page(request, "portal/not_found.html", lang, {"noindex": True}, status=404)
    patch_cache_control(response, public=True, max_age=60)
    return response


def _visitor(request: HttpRequest) -> str:
    key = request.COOKIES.get(VISITOR_COOKIE, "")
    return key if _KEY.match(key) else ""


def _description(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(160)


# --- choosing a language --------------------------------------------------------------------


def preferred_language(header: str) -> str:
    """The first of our languages in an Accept-Language header, by weight; Spanish when none."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        code, _sep, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = code.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            weighted.append((-weight, position, primary))
    return min(weighted)[2] if weighted else DEFAULT_LANGUAGE


@require_GET
def choose_language(request: HttpRequest) -> HttpResponse:
    lang = preferred_language(request.headers.get("Accept-Language", ""))
    response = HttpResponseRedirect(reverse("portal:home", args=[lang]))
    patch_vary_headers(response, ["Accept-Language"])
    return response


# --- reading --------------------------------------------------------------------------------


@require_GET
@in_language
def home(request: HttpRequest, lang: str) -> HttpResponse:
    blocks = []
    for block in queries.catalogue(lang):
        # The first few articles of each category; the category's page has them all.
        room, sections = HOME_ARTICLES_PER_CATEGORY, []
        for section in block.sections:
            if room > 0:
                sections.append({"section": section.section,
                                 "articles": section.articles[:room]})
                room -= len(sections[-1]["articles"])
        shown = HOME_ARTICLES_PER_CATEGORY - room
        blocks.append({"category": block.category, "name": block.name, "total": block.count,
                       "more": block.count > shown, "sections": sections})
    paths = {code: reverse("portal:home", args=[code]) for code in LANGUAGES}
    response = _page(request, "portal/home.html", lang, {
        "blocks": blocks,
        "description": _("Answers to common questions. Search the help center, or send us "
                          "a request."),
    }, paths=paths, x_default=reverse("portal:root"), public=True)
    return response


@require_GET
@in_language
def category(request: HttpRequest, lang: str, slug: str) -> HttpResponse:
    try:
        found = queries.access_category(slug)
    except NotFound:
        return _not_found(request, lang)
    blocks = queries.catalogue(lang, category=found)
    name = found.name_in(lang)
    paths = {code: reverse("portal:category", args=[code, found.slug]) for code in LANGUAGES}
    return _page(request, "portal/category.html", lang, {
        "category": found, "name": name, "listing": blocks[0] if blocks else None,
        "description": _("Help center articles about %(category)s.") % {"category": name},
    }, paths=paths, public=True)


@require_GET
@in_language
def article(request: HttpRequest, lang: str, pk: int, slug: str = "") -> HttpResponse:
    try:
        found = queries.access_public_article(pk, lang)
    except NotFound:
        return _not_found(request, lang)
    if slug != found.slug:
        return HttpResponsePermanentRedirect(article_path(found))
    return _article_page(request, lang, found)


def _article_page(request: HttpRequest, lang: str, found: Article, *,
                  form: FeedbackForm | None = None, status: int = 200) -> HttpResponse:
    translations = queries.translations_of(found)
    paths = {t.language: article_path(t) for t in [found, *translations]}
    # After a vote (or a vote that did not go through) the page shows the reader's own
    # answer: that page is theirs alone and is not cached.
    personal = form is not None or request.GET.get("feedback") == "sent"
    vote = queries.visitor_vote(found, _visitor(request)) if personal else None
    if form is None:
        initial = {"helpful": "yes" if vote.helpful else "no", "comment": vote.comment} \
            if vote is not None else {}
        form = FeedbackForm(initial=initial)
    response = _page(request, "portal/article.html", lang, {
        "article": found,
        "category_name": found.category.name_in(lang) if found.category else "",
        "translation_links": [{"code": t.language, "name": language_name(t.language),
                               "url": article_path(t)} for t in translations],
        "related": queries.related_articles(found),
        "description": _description(found.body_text),
        "feedback_form": form, "vote": vote, "voted": vote is not None,
    }, paths=paths, status=status, public=not personal)
    if personal:
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response


@require_GET
@in_language
def search(request: HttpRequest, lang: str) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX_CHARS]
    results = queries.find_articles(query, lang) if query else []
    paths = {code: reverse("portal:search", args=[code]) + (
        "?" + urlencode({"q": query}) if query else "") for code in LANGUAGES}
    return _page(request, "portal/search.html", lang, {
        "q": query, "results": results, "noindex": True,
        "ask_url": reverse("portal:request", args=[lang]) + (
            "?" + urlencode({"subject": query}) if query else ""),
    }, paths=paths)


@require_GET
def sitemap(request: HttpRequest) -> HttpResponse:
    homes = {code: absolute(reverse("portal:home", args=[code])) for code in LANGUAGES}
    entries = [{"url": homes[code], "lastmod": None,
                "alternates": [{"code": c, "url": u} for c, u in homes.items()]}
               for code in LANGUAGES]
    for found, group in queries.sitemap_articles():
        entries.append({
            "url": absolute(article_path(found)), "lastmod": found.updated_at,
            "alternates": [{"code": a.language, "url": absolute(article_path(a))}
                           for a in group] if len(group) > 1 else []})
    response = render(request, "portal/sitemap.xml", {"entries": entries},
                      content_type="application/xml; charset=utf-8")
    patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


# --- "Was this helpful?" --------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@require_POST
@in_language
def feedback(request: HttpRequest, lang: str, pk: int) -> HttpResponse:
    try:
        found = queries.access_public_article(pk, lang)
    except NotFound:
        return _not_found(request, lang)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"errors": {k: [str(m) for m in v]
                                            for k, v in form.errors.items()}}, status=400)
        return _article_page(request, lang, found, form=form, status=400)
    visitor = _visitor(request) or actions.new_key()
    vote, _created = actions.do_record_vote(
        found, visitor=visitor, helpful=form.cleaned_data["helpful"] == "yes",
        comment=form.cleaned_data["comment"], language=lang)
    if _wants_json(request):
        response: HttpResponse = JsonResponse({
            "helpful": vote.helpful, "comment": vote.comment,
            "message": _("Thanks for your feedback.")})
    else:
        response = HttpResponseRedirect(article_path(found) + "?feedback=sent#feedback",
                                        status=303)
    response.set_cookie(VISITOR_COOKIE, visitor, max_age=VISITOR_COOKIE_AGE, httponly=True,
                        samesite="Lax", secure=request.is_secure())
    return response


# --- the request form -----------------------------------------------------------------------


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@never_cache
@require_http_methods(["GET", "POST"])
@in_language
def request_form(request: HttpRequest, lang: str) -> HttpResponse:
    status = 200
    if request.method == "GET":
        visit = actions.do_start_visit(lang)
        form = RequestForm(initial={
            "visit": visit.token,
            "subject": " ".join(request.GET.get("subject", "").split())[:200]})
    else:
        form = RequestForm(request.POST)
        if form.is_valid() and form.is_bot:
            return HttpResponseRedirect(reverse("portal:thanks", args=[lang]), status=303)
        if form.is_valid():
            response = _submit(request, lang, form)
            if response is not None:
                return response
        status = 429 if form.has_error("__all__", "limit") else 400
    paths = {code: reverse("portal:request", args=[code]) for code in LANGUAGES}
    return _page(request, "portal/request.html", lang, {
        "form": form, "noindex": True,
        "suggest_url": reverse("portal:suggest", args=[lang]),
    }, paths=paths, status=status)


def _submit(request: HttpRequest, lang: str, form: RequestForm) -> HttpResponse | None:
    """Send the request; the redirect to the thank-you page, or None with the form's errors
    filled in."""
    address, now = _client_address(request), time.time()
    if not limits.take_request_place(address, now=now):
        form.add_error(None, ValidationError(
            _("You have sent several requests in the last few minutes. Please wait ten "
              "minutes and try again; your message is still here."), code="limit"))
        return None
    data = form.cleaned_data
    try:
        conversation = actions.do_submit_request(
            token=data["visit"], language=lang, name=data["name"], email=data["email"],
            subject=data["subject"], message=data["message"])
    except MostradorError as error:
        limits.give_back_request_place(address, now=now)
        if error.field in form.fields:
            form.add_error(error.field, error.message)
        else:
            form.add_error(None, _("We could not take your request just now. Please try "
                                   "again later, or write to us by e-mail."))
        return None
    ref = signing.dumps({"n": conversation.number}, salt=THANKS_SALT)
    return HttpResponseRedirect(
        reverse("portal:thanks", args=[lang]) + "?" + urlencode({"ref": ref}), status=303)


@never_cache
@require_GET
@in_language
def request_thanks(request: HttpRequest, lang: str) -> HttpResponse:
    number = None
    with contextlib.suppress(signing.BadSignature, KeyError, TypeError):
        number = signing.loads(request.GET.get("ref", ""), salt=THANKS_SALT,
                               max_age=24 * 3600)["n"]
    paths = {code: reverse("portal:thanks", args=[code]) for code in LANGUAGES}
    return _page(request, "portal/thanks.html", lang, {"number": number, "noindex": True},
                 paths=paths)


@never_cache
@require_GET
@in_language
def suggest(request: HttpRequest, lang: str) -> HttpResponse:
    """Articles for what a customer is typing in the request form, as JSON
    ``[{"id", "title", "url", "snippet"}]``. With ``visit`` (the form's token) the visit is
    noted as shown suggestions, and the links go through ``open_suggestion``."""
    query = " ".join(request.GET.get("q", "").split())[:300]
    visit = request.GET.get("visit", "")
    visit = visit if _KEY.match(visit) else ""
    results = queries.find_articles(query, lang, limit=SUGGESTIONS, snippet_chars=140) \
        if len(query) >= SUGGEST_MIN_CHARS else []
    if results and visit:
        actions.do_record_suggestions_shown(visit)
    items = [{"id": r.article.pk, "title": r.article.title, "snippet": r.snippet,
              "url": reverse("portal:open_suggestion", args=[lang, visit, r.article.pk])
              if visit else article_path(r.article)} for r in results]
    return JsonResponse(items, safe=False)


@never_cache
@require_GET
@in_language
def open_suggestion(request: HttpRequest, lang: str, visit: str, pk: int) -> HttpResponse:
    """A suggested article opened from the request form: noted on the visit, then the
    article."""
    try:
        found = queries.access_public_article(pk, lang)
    except NotFound:
        return _not_found(request, lang)
    if _KEY.match(visit):
        actions.do_record_suggestion_opened(visit, found)
    return HttpResponseRedirect(article_path(found))
