"""The knowledge base beside a conversation: the reply box's search panel (web/knowledge.js)
and "Save as article" on the agent's own replies.

The panel asks for results (JSON) and, for the one the agent picks, the text to insert: the
article's public link or its text. Agents find internal articles too, but only a published
public article has a link a customer can open, so only those give one. Saving a reply makes a
draft through the knowledge base's own action; publishing stays with the review.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mostrador.conversations.models import Conversation, Message
from mostrador.core.errors import Conflict, MostradorError, NotFound, ValidationFailed
from mostrador.knowledge import retrieval
from mostrador.knowledge.actions import do_create_article
from mostrador.knowledge.models import Article, Language
from mostrador.knowledge.queries import (
    access_article,
    access_category,
    public_url,
    visible_articles,
)
from mostrador.knowledge.search import snippet
from mostrador.web.conversation.canned import _conversation, _error
from mostrador.web.conversation.forms import ArticleFromReplyForm
from mostrador.web.conversation.views import _is_htmx, _message, agent_required, page_url

RESULTS = 8
MAX_QUERY_CHARS = 300
# How much of the customer's last message goes into the suggestion's query.
SUGGESTION_MESSAGE_CHARS = 300


# --- helpers ----------------------------------------------------------------------------------


def conversation_language(conversation: Conversation) -> str:
    """The knowledge base language of the conversation ("es-MX" → "es"), "" when it has none
    the knowledge base is written in."""
    code = (conversation.language or "").replace("_", "-").split("-")[0].lower()
    return code if code in Language.values else ""


def suggestion_query(conversation: Conversation) -> str:
    """What the panel searches before the agent types: the subject and the beginning of the
    customer's last message."""
    last = (conversation.messages
            .filter(direction=Message.Direction.INBOUND, automatic=False)
            .order_by("-created_at", "-id").values_list("reply_text", "text").first())
    text = (last[0] or last[1])[:SUGGESTION_MESSAGE_CHARS] if last else ""
    return " ".join(f"{conversation.subject} {text}".split())


def _clean_query(value: str) -> str:
    return " ".join(value.split())[:MAX_QUERY_CHARS]


# --- the reply box's panel ----------------------------------------------------------------------


@require_GET
@agent_required
def knowledge_search(request: HttpRequest, pk: int) -> JsonResponse:
    """``{"query", "suggested", "items": [{"id", "title", "language", "language_name",
    "visibility", "internal", "visibility_label", "snippet", "passage", "linkable",
    "open_url"}]}``; ``snippet`` is HTML (escaped, matches in ``<mark>``). Without ``?q=`` the
    query is :func:`suggestion_query` and ``suggested`` is true."""
    try:
        conversation = _conversation(request, pk)
    except NotFound as error:
        return _error(error)
    query = _clean_query(request.GET.get("q", ""))
    suggested = not query
    language = conversation_language(conversation)
    if suggested:
        query = suggestion_query(conversation)
    found = _find(query, language)
    if suggested and not found and conversation.subject.strip():
        # Keyword search wants every word of the query: the subject alone may still match.
        query = _clean_query(conversation.subject)
        found = _find(query, language)
    articles = visible_articles(request.user).in_bulk([hit.article_id for hit in found])
    items = []
    for hit in found:
        article = articles.get(hit.article_id)
        if article is None:
            continue
        internal = article.visibility == Article.Visibility.INTERNAL
        items.append({
            "id": article.pk, "title": article.title, "language": article.language,
            "language_name": article.get_language_display(),
            "visibility": article.visibility, "internal": internal,
            "visibility_label": _("Internal") if internal else _("Public"),
            "snippet": snippet(article.body_text, query, article.language),
            "passage": hit.passage, "linkable": article.is_public,
            "open_url": reverse("web:knowledge_article", args=[article.pk]),
        })
    return JsonResponse({"query": query, "suggested": suggested, "items": items})


def _find(query: str, language: str) -> list[retrieval.Found]:
    if not query:
        return []
    return retrieval.find(query, language=language, public_only=False, limit=RESULTS)


@require_GET
@agent_required
def knowledge_insert(request: HttpRequest, pk: int, article_id: int) -> JsonResponse:
    """``{"text", "title", "what"}``: with ``?what=link`` the article's public address (only
    for a published public article: 409 otherwise), with ``?what=text`` its text."""
    what = request.GET.get("what", "text")
    try:
        _conversation(request, pk)
        try:
            article = access_article(request.user, article_id)
        except NotFound:
            raise NotFound(_("That article no longer exists; search again.")) from None
        if what == "link":
            if not article.is_public:
                raise Conflict(_("“%(title)s” is not a published public article, so customers "
                                 "cannot open its link; insert its text instead.")
                               % {"title": article.title}, field="what")
            text = public_url(article, request)
        elif what == "text":
            text = article.body_text
        else:
            raise ValidationFailed(_("Ask for the link or the text of the article."),
                                   field="what")
    except MostradorError as error:
        return _error(error)
    return JsonResponse({"text": text, "title": article.title, "what": what})


# --- a reply becomes an article -----------------------------------------------------------------


def _agent_reply(request: HttpRequest, pk: int, message_id: int) -> tuple[Conversation, Message]:
    try:
        conversation = _conversation(request, pk)
    except NotFound as error:
        raise Http404(error.message) from None
    message = _message(conversation, message_id)
    if (message.direction != Message.Direction.OUTBOUND
            or message.author_kind != Message.AuthorKind.AGENT):
        raise Http404(_("Only an agent's reply can be saved as an article."))
    return conversation, message


@require_http_methods(["GET", "POST"])
@agent_required
def reply_to_article(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    """GET: the form (a fragment for htmx, else a page), prefilled from the conversation and
    the reply. POST: a draft article; htmx gets the confirmation in place of the form, a plain
    browser goes back to the conversation with it as a flash message."""
    conversation, message = _agent_reply(request, pk, message_id)
    htmx = _is_htmx(request)
    if request.method == "POST":
        form = ArticleFromReplyForm(request.POST, message=message)
        article = _create(request, form, conversation) if form.is_valid() else None
        if article is not None:
            done = _("Draft article “%(title)s” (#%(id)s) created. It is not published: "
                     "open it in the knowledge base to review it.") % {
                "title": article.title, "id": article.pk}
            if htmx:
                return render(request, "web/conversation/_article_done.html", {
                    "article": article, "done": done, "message": message})
            messages.success(request, done)
            return HttpResponseRedirect(page_url(conversation.pk) + f"#m{message.pk}")
        status = 200 if htmx else 400
    else:
        form = ArticleFromReplyForm(message=message, initial={
            "title": conversation.subject[:200], "body": message.text.strip(),
            "language": conversation_language(conversation)})
        status = 200
    context: dict[str, Any] = {"form": form, "conversation": conversation,
                               "message": message, "nav": "inbox"}
    template = ("web/conversation/_article_form.html" if htmx
                else "web/conversation/article.html")
    return render(request, template, context, status=status)


def _create(request: HttpRequest, form: ArticleFromReplyForm,
            conversation: Conversation) -> Article | None:
    data = form.cleaned_data
    try:
        category = (access_category(int(data["category"])) if data["category"] else None)
        return do_create_article(title=data["title"], body=data["body"],
                                 language=data["language"], category=category,
                                 note=_("From a reply in conversation #%(number)s.")
                                 % {"number": conversation.pk},
                                 acting_user=request.user)
    except MostradorError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return None
