"""The knowledge base screens: the list of articles (filters, and a search that reads like the
help center's), writing an article, and moving it through its review.

Every agent writes drafts and submits them for review; supervisors and administrators publish,
unpublish and change published articles. The buttons follow those rights, and the actions
enforce them: whatever they refuse is shown as they said it.

Delivery only: reads through ``mostrador.knowledge.queries`` and ``retrieval``, writes through
``mostrador.knowledge.actions``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mostrador.core.errors import MostradorError, NotFound
from mostrador.knowledge import actions, retrieval
from mostrador.knowledge.models import Article, Language
from mostrador.knowledge.queries import (
    access_article,
    article_versions,
    list_articles,
    list_categories,
    public_url,
    translations_of,
)
from mostrador.knowledge.search import snippet
from mostrador.web.customers.views import agent_required
from mostrador.web.knowledge.forms import ArticleForm, FilterForm

Status = Article.Status
PAGE = 50
SEARCH_LIMIT = 50
TRANSITIONS = {
    "submit": (actions.do_submit_for_review,
               gettext_lazy("“%(title)s” is waiting for review.")),
    "publish": (actions.do_publish_article, gettext_lazy("“%(title)s” is published.")),
    "unpublish": (actions.do_unpublish_article,
                  gettext_lazy("“%(title)s” is a draft again; readers no longer see it.")),
}


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"nav": "knowledge",
                                      "may_publish": actions.may_publish(request.user),
                                      **context})


def _article(request: HttpRequest, pk: int) -> Article:
    try:
        return access_article(request.user, pk)
    except NotFound:
        raise Http404(_("Article %(id)s not found.") % {"id": pk}) from None


def _ui_language() -> str:
    code = (get_language() or "")[:2]
    return code if code in Language.values else Language.SPANISH


# --- the list -------------------------------------------------------------------------------


@agent_required
def article_list(request: HttpRequest) -> HttpResponse:
    """Newest change first, 50 a page; with ``q``, the best matches instead: published
    articles as the search finds them, then drafts and articles in review whose title or text
    holds the words (the search index only reads what is published)."""
    form = FilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    q = " ".join((data.get("q") or "").split())
    language = data.get("language") or ""
    articles = list_articles(request.user, language=language,
                             status=data.get("status") or "",
                             visibility=data.get("visibility") or "",
                             ).select_related("category", "section")
    page = None
    if q:
        found = retrieval.find(q, language=language, public_only=False, limit=SEARCH_LIMIT)
        order = [hit.article_id for hit in found]
        matched = articles.in_bulk(order)
        rows = [matched[pk] for pk in order if pk in matched]
        rows += list(articles.exclude(status=Status.PUBLISHED)
                     .filter(Q(title__icontains=q) | Q(body_text__icontains=q))
                     .order_by("-updated_at", "-id")[:SEARCH_LIMIT])
        snippets = {article.pk: snippet(article.body_text, q, article.language)
                    for article in rows}
    else:
        page = Paginator(articles.order_by("-updated_at", "-id"), PAGE).get_page(
            request.GET.get("page"))
        rows, snippets = list(page.object_list), {}
    query = request.GET.copy()
    query.pop("page", None)
    return _page(request, "web/knowledge/list.html", form=form, q=q, page=page,
                 rows=[{"article": a, "snippet": snippets.get(a.pk, "")} for a in rows],
                 filter_query=query.urlencode())


# --- writing ----------------------------------------------------------------------------------


def _form(request: HttpRequest, article: Article | None) -> ArticleForm:
    categories = list(list_categories())
    language = article.language if article is not None else _ui_language()
    initial = (ArticleForm.initial_for(article) if article is not None
               else {"language": language, "visibility": Article.Visibility.PUBLIC})
    if request.method == "POST":
        return ArticleForm(request.POST, categories=categories, language=language,
                           initial=initial)
    return ArticleForm(categories=categories, language=language, initial=initial)


@require_http_methods(["GET", "POST"])
@agent_required
def article_new(request: HttpRequest) -> HttpResponse:
    form = _form(request, None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        category, section = form.category_and_section()
        try:
            article = actions.do_create_article(
                title=data["title"], body=data["body"], language=data["language"],
                category=category, section=section, visibility=data["visibility"],
                note=data["note"], acting_user=request.user)
        except MostradorError as error:
            form.add_action_error(error)
        else:
            messages.success(request, _("Draft “%(title)s” created.") % {"title": article.title})
            return redirect("web:knowledge_article", article.pk)
    response = _page(request, "web/knowledge/article.html", form=form, article=None)
    if form.errors:
        response.status_code = 400
    return response


@require_http_methods(["GET", "POST"])
@agent_required
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    form = _form(request, article)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        category, section = form.category_and_section()
        try:
            actions.do_update_article(
                article, title=data["title"], body=data["body"], language=data["language"],
                category=category, section=section, visibility=data["visibility"],
                note=data["note"], acting_user=request.user)
        except MostradorError as error:
            form.add_action_error(error)
        else:
            messages.success(request, _("“%(title)s” saved.") % {"title": data["title"]})
            return redirect("web:knowledge_article", article.pk)
    versions = list(article_versions(article).select_related("author__agent")[:50])
    response = _page(
        request, "web/knowledge/article.html", form=form, article=article, versions=versions,
        translations=translations_of(request.user, article),
        public_url=public_url(article, request) if article.is_public else "")
    if form.errors:
        response.status_code = 400
    return response


@require_POST
@agent_required
def article_transition(request: HttpRequest, pk: int, transition: str) -> HttpResponse:
    """``submit`` (for review), ``publish`` or ``unpublish``; a refusal comes back as the
    action's message."""
    article = _article(request, pk)
    if transition not in TRANSITIONS:
        raise Http404(_("There is no step %(step)s.") % {"step": transition})
    action, done = TRANSITIONS[transition]
    try:
        action(article, acting_user=request.user)
    except MostradorError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(done) % {"title": article.title})
    return redirect("web:knowledge_article", article.pk)
