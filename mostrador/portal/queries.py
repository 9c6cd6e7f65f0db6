"""What the public help center reads. Readers see only articles that are published, public and
in the language of the page; anything else is "not found", as if it did not exist.

Finding articles (search, suggestions while typing a request, related articles) goes through
``mostrador.knowledge.retrieval.find``; what it returns is read back here in one query, so a
page costs the same few queries however many articles it lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.core.errors import NotFound
from mostrador.knowledge import retrieval, search
from mostrador.knowledge.models import Article, Category, Section
from mostrador.portal.models import ArticleVote, RequestVisit

Status = Article.Status
Visibility = Article.Visibility
# A result whose words did not match must be at least this close in meaning to be shown to a
# reader: semantic search always answers something, however far. (On the demo articles,
# questions score 0.3 to 0.75 with the article that answers them; unrelated text, below 0.27.)
MIN_SIMILARITY = 0.28
# A visit this recent may still end with a request: it is not counted as deflected yet.
VISIT_OPEN_FOR = dt.timedelta(minutes=30)
# How long the ids of an article's related articles are kept (they are read back, published
# and public ones only, on every page).
RELATED_CACHE_SECONDS = 600


def public_articles(language: str) -> QuerySet[Article]:
    return Article.objects.filter(status=Status.PUBLISHED, visibility=Visibility.PUBLIC,
                                  language=language)


def access_public_article(pk: int, language: str) -> Article:
    """The article, when readers of ``language`` may see it."""
    article = public_articles(language).select_related("category", "section").filter(
        pk=pk).first()
    if article is None:
        raise NotFound(_("Article %(id)s not found.") % {"id": pk}, field="article")
    return article


def translations_of(article: Article) -> list[Article]:
    """The article's published public translations, by language."""
    return list(Article.objects.filter(
        translation_group_id=article.translation_group_id, status=Status.PUBLISHED,
        visibility=Visibility.PUBLIC).exclude(pk=article.pk).only(
            "pk", "slug", "title", "language").order_by("language"))


# --- the catalogue --------------------------------------------------------------------------


@dataclasses.dataclass
class SectionBlock:
    section: Section | None
    articles: list[Article]


@dataclasses.dataclass
class CategoryBlock:
    category: Category | None
    name: str
    # Sections with articles in the page's language, then the articles of no section.
    sections: list[SectionBlock]

    @property
    def count(self) -> int:
        return sum(len(block.articles) for block in self.sections)


def catalogue(language: str, *, category: Category | None = None) -> list[CategoryBlock]:
    """The categories that have articles in ``language`` (or just ``category``), each with its
    sections and their articles by title; articles of no category come last. One query."""
    articles = public_articles(language).select_related("category", "section").only(
        "pk", "slug", "title", "language", "category__id", "category__name",
        "category__slug", "category__position", "category__name_translations",
        "section__id", "section__name", "section__slug", "section__position",
        "section__category_id")
    if category is not None:
        articles = articles.filter(category=category)
    grouped: dict[int | None, dict[int | None, list[Article]]] = defaultdict(
        lambda: defaultdict(list))
    categories: dict[int | None, Category | None] = {}
    sections: dict[int | None, Section | None] = {None: None}
    for article in articles:
        grouped[article.category_id][article.section_id].append(article)
        categories[article.category_id] = article.category
        sections[article.section_id] = article.section

    def category_order(pk: int | None) -> tuple:
        found = categories[pk]
        return (1, 0, "", 0) if found is None else (0, found.position, found.name.lower(), pk)

    def section_order(pk: int | None) -> tuple:
        found = sections[pk]
        return (1, 0, "", 0) if found is None else (0, found.position, found.name.lower(), pk)

    blocks = []
    for category_pk in sorted(grouped, key=category_order):
        found = categories[category_pk]
        name = found.name_in(language) if found is not None else _("More articles")
        blocks.append(CategoryBlock(found, name, [
            SectionBlock(sections[section_pk],
                         sorted(grouped[category_pk][section_pk],
                                key=lambda a: (a.title.lower(), a.pk)))
            for section_pk in sorted(grouped[category_pk], key=section_order)]))
    return blocks


def access_category(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound(_("Category %(slug)s not found.") % {"slug": slug}, field="category")
    return category


# --- finding articles -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Result:
    article: Article
    # HTML: the text escaped, the query's words in <mark>.
    snippet: str


# Reciprocal rank fusion gives one ranking at most 1/(k + 1): a higher score means both the
# words and the meaning ranked the article.
_WORDS_AND_MEANING = 1 / (retrieval.RRF_K + 1)


def _relevant(found: retrieval.Found) -> bool:
    """Whether a result is worth showing: its words matched (alone: no similarity; or with the
    meaning: a fused score above one ranking's best), or its meaning is close enough."""
    return (found.similarity == 0.0 or found.score > _WORDS_AND_MEANING
            or found.similarity >= MIN_SIMILARITY)


def _read_back(ids: Iterable[int], language: str) -> list[Article]:
    """The articles with these ids that readers of ``language`` may see, in the given order."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = {a.pk: a for a in public_articles(language).filter(pk__in=ids).only(
        "pk", "slug", "title", "language", "body_text")}
    return [found[pk] for pk in ids if pk in found]


def find_articles(query: str, language: str, *, limit: int = 20,
                  snippet_chars: int = 220) -> list[Result]:
    """Articles in ``language`` for a reader's query, best first, with marked snippets of
    about ``snippet_chars`` characters."""
    query = (query or "").strip()
    if not query:
        return []
    found = [f for f in retrieval.find(query, language=language, limit=limit,
                                       only_language=True) if _relevant(f)]
    passages = {f.article_id: f.passage for f in found}
    marked = _words_to_mark(query)
    results = []
    for article in _read_back(passages, language):
        snippet = search.snippet(" ".join(article.body_text.split()), marked, language,
                                 width=snippet_chars)
        if "<mark>" not in snippet and passages[article.pk]:
            # Found for its meaning, not its words: show the passage that matched.
            snippet = search.snippet(" ".join(passages[article.pk].split()), marked, language,
                                     width=snippet_chars)
        results.append(Result(article, snippet))
    return results


# Words a question is full of that say nothing about it: not marked in snippets (words of up
# to three letters are not marked either).
_FILLER = frozenset({
    "cuando", "cuándo", "como", "cómo", "donde", "dónde", "para", "pero", "porque", "este",
    "esta", "esto", "estoy", "tengo", "tiene", "quiero", "puedo", "hola", "buenas", "buenos",
    "gracias", "hace", "hice", "sobre", "desde", "hasta", "todo", "nada", "algo",
    "when", "what", "where", "which", "with", "your", "have", "that", "this", "there", "from",
    "about", "please", "hello", "thanks", "would", "could", "should", "does", "dont", "cant",
})


def _words_to_mark(query: str) -> str:
    words = [w for w in re.findall(r"\w+", query)
             if len(w) > 3 and w.lower() not in _FILLER]
    return " ".join(words)


def related_articles(article: Article, *, limit: int = 5) -> list[Article]:
    """Articles like this one in its language: what retrieval finds for its title, then the
    rest of its section and its category. The ids are cached for a while per version."""
    key = (f"portal:related:{article.pk}:{article.language}:"
           f"{article.updated_at.timestamp() if article.updated_at else 0}")
    ids = cache.get(key)
    if ids is None:
        ids = [f.article_id for f in retrieval.find(article.title, language=article.language,
                                                      limit=limit + 1, only_language=True)
               if _relevant(f) and f.article_id != article.pk]
        if len(ids) < limit and (article.section_id or article.category_id):
            place = Q()
            if article.section_id:
                place |= Q(section_id=article.section_id)
            if article.category_id:
                place |= Q(category_id=article.category_id)
            rows = list(public_articles(article.language).filter(place)
                        .exclude(pk__in=[article.pk, *ids]).order_by("title", "pk")
                        .values_list("pk", "section_id")[:limit * 3])
            same_section = [pk for pk, section in rows
                            if article.section_id and section == article.section_id]
            ids += [*same_section, *(pk for pk, _section in rows if pk not in same_section)]
        cache.set(key, ids[:limit], RELATED_CACHE_SECONDS)
    return _read_back(ids[:limit], article.language)


# --- the sitemap ----------------------------------------------------------------------------


def sitemap_articles() -> list[tuple[Article, list[Article]]]:
    """Every published public article with its published public translations. One query."""
    articles = list(Article.objects.filter(status=Status.PUBLISHED, visibility=Visibility.PUBLIC)
                    .only("pk", "slug", "language", "translation_group_id", "updated_at")
                    .order_by("language", "pk"))
    groups: dict[int, list[Article]] = defaultdict(list)
    for article in articles:
        groups[article.translation_group_id].append(article)
    return [(article, groups[article.translation_group_id]) for article in articles]


# --- votes ----------------------------------------------------------------------------------


def visitor_vote(article: Article, visitor: str) -> ArticleVote | None:
    if not visitor:
        return None
    return ArticleVote.objects.filter(article=article, visitor=visitor).first()


def article_votes(article: Article, *, comments: int = 20) -> dict[str, Any]:
    """``{"helpful", "not_helpful", "comments"}``: the counts and the newest comments (at most
    ``comments``), each ``{"helpful", "comment", "language", "at"}``."""
    counts = ArticleVote.objects.filter(article=article).aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    recent = (ArticleVote.objects.filter(article=article).exclude(comment="")
              .order_by("-updated_at", "-pk")
              .values("helpful", "comment", "language", "updated_at")[:comments])
    return {"helpful": counts["yes"], "not_helpful": counts["no"],
            "comments": [{"helpful": row["helpful"], "comment": row["comment"],
                          "language": row["language"], "at": row["updated_at"]}
                         for row in recent]}


# --- deflection -----------------------------------------------------------------------------


def deflection_figures(since: dt.datetime | None = None, *,
                       now: dt.datetime | None = None) -> dict[str, Any]:
    """How request-form visits (started at ``since`` or later) ended.

    ``visits``; ``with_suggestions``: suggested articles were shown; ``opened``: the reader
    opened one; ``submitted``: a request was sent; ``deflected``: a suggestion was opened, no
    request was sent, and the visit started more than 30 minutes ago (one still in progress
    may yet end with a request); ``deflection_rate``: deflected / visits (0.0 without visits).
    One query.
    """
    now = now or timezone.now()
    visits = RequestVisit.objects.all()
    if since is not None:
        visits = visits.filter(started_at__gte=since)
    opened = Q(suggestion_opened_at__isnull=False)
    submitted = Q(request_submitted_at__isnull=False)
    figures = visits.aggregate(
        visits=Count("pk"), with_suggestions=Count("pk", filter=Q(suggestions_shown__gt=0)),
        opened=Count("pk", filter=opened), submitted=Count("pk", filter=submitted),
        deflected=Count("pk", filter=opened & ~submitted
                        & Q(started_at__lt=now - VISIT_OPEN_FOR)))
    figures["deflection_rate"] = (round(figures["deflected"] / figures["visits"], 4)
                                  if figures["visits"] else 0.0)
    return figures
