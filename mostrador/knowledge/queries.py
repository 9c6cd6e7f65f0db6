"""Reading the knowledge base. Agents see every article; anyone else (``None``, an anonymous
visitor, a user without an agent profile) sees only published public ones. A missing article
and one the user may not see get the same NotFound."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from mostrador.core.errors import NotFound
from mostrador.knowledge.actions import is_agent
from mostrador.knowledge.models import Article, ArticleVersion, Category

Status = Article.Status
Visibility = Article.Visibility


def visible_articles(user) -> QuerySet[Article]:
    articles = Article.objects.all()
    if not is_agent(user):
        articles = articles.filter(status=Status.PUBLISHED, visibility=Visibility.PUBLIC)
    return articles


def access_article(user, pk: int, *, field: str = "id") -> Article:
    article = (visible_articles(user).select_related("category", "section")
               .filter(pk=pk).first())
    if article is None:
        raise NotFound(_("Article %(id)s not found.") % {"id": pk}, field=field)
    return article


def list_articles(user, *, language: str = "", status: str = "", visibility: str = "",
                  category: int | str | None = None, section: int | None = None
                  ) -> QuerySet[Article]:
    """Visible articles, filtered; ``category`` is an id or a slug. Unknown filter values
    match nothing (the API validates them before)."""
    articles = visible_articles(user)
    if language:
        articles = articles.filter(language=language)
    if status:
        articles = articles.filter(status=status)
    if visibility:
        articles = articles.filter(visibility=visibility)
    if category not in (None, ""):
        if isinstance(category, int) or str(category).isdigit():
            articles = articles.filter(category_id=int(category))
        else:
            articles = articles.filter(category__slug=category)
    if section is not None:
        articles = articles.filter(section_id=section)
    return articles


def translations_of(user, article: Article) -> list[Article]:
    """The other languages of ``article`` that ``user`` may see."""
    return list(visible_articles(user).filter(translation_group_id=article.translation_group_id)
                .exclude(pk=article.pk).order_by("language"))


def article_versions(article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("author").order_by("-number")


def list_categories() -> QuerySet[Category]:
    return Category.objects.prefetch_related("sections")


def access_category(pk: int, *, field: str = "category") -> Category:
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise NotFound(_("Category %(id)s not found.") % {"id": pk}, field=field)
    return category


def public_url(article: Article, request: HttpRequest | None = None) -> str:
    """The article's page in the help center (``/help/<lang>/a/<id>-<slug>/``), absolute with
    the request's host, or with ``MOSTRADOR["BASE_URL"]`` without a request. Only a published
    public article answers there; callers check :attr:`Article.is_public`."""
    path = reverse("portal:article", args=[article.language, article.pk, article.slug])
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.MOSTRADOR["BASE_URL"].rstrip("/") + path
