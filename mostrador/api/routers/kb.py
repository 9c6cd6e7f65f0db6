"""The knowledge base: categories and their sections, articles in Spanish and English linked to
their translations, their life cycle (draft, review, published) and version history. Any agent
reads everything, writes drafts and submits them for review; supervisors and administrators
publish, unpublish, change published articles and delete (docs/knowledge.md)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from mostrador.api import parse, reads
from mostrador.api.schemas_kb import (
    ArticleCreateIn,
    ArticleOut,
    ArticlePage,
    ArticlePatchIn,
    CategoryIn,
    CategoryList,
    CategoryOut,
    SearchOut,
    SectionIn,
    SectionOut,
    VersionList,
)
from mostrador.core.errors import ValidationFailed
from mostrador.knowledge import actions
from mostrador.knowledge.models import Article, Category, Language, Section
from mostrador.knowledge.queries import (
    access_article,
    access_category,
    article_versions,
    list_articles,
    list_categories,
    translations_of,
)

router = Router(tags=["knowledge base"])


class SearchQuery(Schema):
    q: str
    lang: str = ""
    only_lang: bool = False
    limit: int = 10


@router.get("/kb/search", response=SearchOut)
def search_articles(request: HttpRequest, query: Query[SearchQuery]):
    """Published articles (public and internal: the caller is staff) for ``q``, best first:
    keyword matches in the reader's language (accent- and case-insensitive, Spanish and
    English word forms, one typo forgiven per word) fused with the multilingual encoder's
    ranking, so a question in one language also finds articles written in the other. With
    ``lang``, an article is given in that language when it has a translation in it, and
    ``only_lang=true`` leaves out those that have none. ``score`` is the fused score (higher
    is better); ``similarity`` the cosine of the best passage (0 when only words matched)."""
    from mostrador.knowledge import retrieval, search

    language = _choice(query.lang, list(Language.values), "lang") if query.lang else ""
    limit = max(1, min(query.limit, 50))
    found = retrieval.find(query.q, language=language, public_only=False, limit=limit,
                           only_language=query.only_lang)
    articles = {a.pk: a for a in Article.objects.filter(pk__in=[f.article_id for f in found])}
    items = [{"id": a.pk, "title": a.title, "language": a.language,
              "visibility": a.visibility, "score": hit.score, "similarity": hit.similarity,
              "snippet": search.snippet(a.body_text, query.q, a.language)}
             for hit in found if (a := articles.get(hit.article_id)) is not None]
    return {"query": query.q, "items": items}


class ArticleQuery(Schema):
    language: str = ""
    status: str = ""
    visibility: str = ""
    category: str = ""
    section: int | None = None
    cursor: str | None = None
    limit: int = 50


def _category_ref(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {"id": category.pk, "name": category.name, "slug": category.slug}


def _section(section: Section | None) -> dict[str, Any] | None:
    if section is None:
        return None
    return {"id": section.pk, "name": section.name, "slug": section.slug,
            "position": section.position}


def _summary(article: Article) -> dict[str, Any]:
    return {"id": article.pk, "title": article.title, "slug": article.slug,
            "language": article.language, "status": article.status,
            "visibility": article.visibility, "category": _category_ref(article.category),
            "section": _section(article.section), "external_id": article.external_id,
            "published_at": article.published_at, "updated_at": article.updated_at}


def _article(request: HttpRequest, article: Article) -> dict[str, Any]:
    return {**_summary(article), "body_html": article.body_html, "body_text": article.body_text,
            "published_version": article.published_version,
            "translation_group": article.translation_group_id,
            "translations": [{"id": t.pk, "language": t.language, "title": t.title,
                              "status": t.status}
                             for t in translations_of(request.user, article)],
            "created_by": article.created_by_id, "updated_by": article.updated_by_id,
            "created_at": article.created_at}


def _category(category: Category) -> dict[str, Any]:
    return {"id": category.pk, "name": category.name, "slug": category.slug,
            "position": category.position,
            "name_translations": dict(category.name_translations or {}),
            "sections": [_section(s) for s in category.sections.all()]}


def _choice(value: str, choices: list[str], field: str) -> str:
    if value and value not in choices:
        raise ValidationFailed(_("Unknown %(field)s %(value)r; use one of %(choices)s.")
                               % {"field": field, "value": value, "choices": ", ".join(choices)},
                               field=field)
    return value


def _section_or_none(section_id: int | None) -> Section | None:
    if section_id is None:
        return None
    section = Section.objects.select_related("category").filter(pk=section_id).first()
    if section is None:
        raise ValidationFailed(_("There is no section with id %(id)s.") % {"id": section_id},
                               field="section")
    return section


def _category_or_none(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise ValidationFailed(_("There is no category with id %(id)s.") % {"id": category_id},
                               field="category")
    return category


# --- articles -------------------------------------------------------------------------------


@router.get("/kb/articles", response=ArticlePage)
def get_articles(request: HttpRequest, query: Query[ArticleQuery]):
    """Articles, newest first (keyset pages). ``category`` is an id or a slug."""
    articles = list_articles(
        request.user, language=_choice(query.language, Language.values, "language"),
        status=_choice(query.status, Article.Status.values, "status"),
        visibility=_choice(query.visibility, Article.Visibility.values, "visibility"),
        category=query.category, section=query.section,
    ).select_related("category", "section")
    rows, cursor = reads.page_by_id(articles, "kb_article", query.cursor,
                                    parse.page_limit(query.limit))
    return {"items": [_summary(a) for a in rows], "next_cursor": cursor}


@router.post("/kb/articles", response={201: ArticleOut})
def create_article(request: HttpRequest, payload: ArticleCreateIn):
    """A new draft (version 1); ``translation_of`` links it to that article's translations."""
    original = (access_article(request.user, payload.translation_of, field="translation_of")
                if payload.translation_of is not None else None)
    article = actions.do_create_article(
        title=payload.title, body=payload.body, language=payload.language,
        category=_category_or_none(payload.category),
        section=_section_or_none(payload.section), visibility=payload.visibility,
        external_id=payload.external_id, translation_of=original, note=payload.note,
        acting_user=request.user)
    return Status(201, _article(request, access_article(request.user, article.pk)))


@router.get("/kb/articles/{int:article_id}", response=ArticleOut)
def get_article(request: HttpRequest, article_id: int):
    return _article(request, access_article(request.user, article_id))


@router.patch("/kb/articles/{int:article_id}", response=ArticleOut)
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatchIn):
    """Change what is given; a new title or body is a new version. A published article is
    changed live, by supervisors and administrators only."""
    sent = payload.model_fields_set
    for field in ("title", "body", "language", "visibility", "external_id", "translation_of"):
        if field in sent and getattr(payload, field) is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    article = access_article(request.user, article_id)
    original = (access_article(request.user, payload.translation_of, field="translation_of")
                if payload.translation_of is not None else None)
    place: dict[str, Any] = {}
    if "category" in sent:
        place["category"] = _category_or_none(payload.category)
    if "section" in sent:
        place["section"] = _section_or_none(payload.section)
    article = actions.do_update_article(
        article, acting_user=request.user, title=payload.title, body=payload.body,
        language=payload.language, visibility=payload.visibility,
        external_id=payload.external_id, translation_of=original, note=payload.note, **place)
    return _article(request, access_article(request.user, article.pk))


@router.delete("/kb/articles/{int:article_id}", response={204: None})
def delete_article(request: HttpRequest, article_id: int):
    actions.do_delete_article(access_article(request.user, article_id),
                              acting_user=request.user)
    return Status(204, None)


@router.post("/kb/articles/{int:article_id}/submit", response=ArticleOut)
def submit_article(request: HttpRequest, article_id: int):
    """A draft goes to review, for a supervisor to publish."""
    article = actions.do_submit_for_review(access_article(request.user, article_id),
                                           acting_user=request.user)
    return _article(request, article)


@router.post("/kb/articles/{int:article_id}/publish", response=ArticleOut)
def publish_article(request: HttpRequest, article_id: int):
    article = actions.do_publish_article(access_article(request.user, article_id),
                                         acting_user=request.user)
    return _article(request, article)


@router.post("/kb/articles/{int:article_id}/unpublish", response=ArticleOut)
def unpublish_article(request: HttpRequest, article_id: int):
    article = actions.do_unpublish_article(access_article(request.user, article_id),
                                           acting_user=request.user)
    return _article(request, article)


@router.get("/kb/articles/{int:article_id}/versions", response=VersionList)
def get_versions(request: HttpRequest, article_id: int):
    """Every saved title and body, newest first."""
    article = access_article(request.user, article_id)
    return {"items": [{"number": v.number, "title": v.title, "body_html": v.body_html,
                       "author": v.author_id, "note": v.note, "created_at": v.created_at,
                       "published": (article.status == Article.Status.PUBLISHED
                                     and v.number == article.published_version)}
                      for v in article_versions(article)]}


# --- categories -----------------------------------------------------------------------------


@router.get("/kb/categories", response=CategoryList)
def get_categories(request: HttpRequest):
    """Every category with its sections, in their order."""
    return {"items": [_category(c) for c in list_categories()]}


@router.post("/kb/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn):
    category = actions.do_create_category(
        payload.name, slug=payload.slug, position=payload.position,
        name_translations=payload.name_translations, acting_user=request.user)
    return Status(201, _category(category))


@router.post("/kb/categories/{int:category_id}/sections", response={201: SectionOut})
def create_section(request: HttpRequest, category_id: int, payload: SectionIn):
    section = actions.do_create_section(
        access_category(category_id, field="category_id"), payload.name, slug=payload.slug,
        position=payload.position, acting_user=request.user)
    return Status(201, _section(section))
