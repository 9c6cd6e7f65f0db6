"""Writing the knowledge base: categories, sections, articles, their translations and their
life cycle ``draft → review → published → (unpublished) draft``.

Who may do what: any agent creates categories, sections and articles and changes articles that
are not published, and submits them for review; supervisors and administrators publish,
unpublish, change published articles (the change is live at once) and delete. ``acting_user``
None is the system itself (the ``mostrador kb import`` command), which may do everything.

Every change of an article's title or body writes an :class:`ArticleVersion`; every change of an
article publishes ``knowledge.*`` events after commit (see :mod:`.events`), on which search
indexing and embeddings hang.
"""

from __future__ import annotations

import html
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mostrador.core.errors import Conflict, PermissionDenied, ValidationFailed
from mostrador.core.publish import publish_on_commit
from mostrador.knowledge import events
from mostrador.knowledge.html import html_to_text, sanitize_html
from mostrador.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    Language,
    Section,
    TranslationGroup,
)

Status = Article.Status
Visibility = Article.Visibility
# "Leave as it is" for arguments where None means "none".
UNCHANGED: Any = object()
# A body with any of these tags is HTML; otherwise it is plain text, whose "<" and ">" are text.
_HTML_TAG_RE = re.compile(
    r"</?(?:p|div|br|hr|h[1-6]|ul|ol|li|dl|dt|dd|a|b|i|u|em|strong|span|table|tr|td|th|pre|"
    r"code|blockquote|img)\b[^<>]*>|<!--", re.I)


# --- rights ---------------------------------------------------------------------------------


def is_agent(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and (
        user.is_superuser or getattr(user, "agent", None) is not None)


def may_publish(user) -> bool:
    """Supervisors, administrators and the system (``None``)."""
    if user is None:
        return True
    agent = getattr(user, "agent", None)
    return bool(user.is_superuser or (agent is not None and agent.is_supervisor))


def check_may_write(user) -> None:
    if user is not None and not is_agent(user):
        raise PermissionDenied(_("Only agents may change the knowledge base."))


def check_may_publish(user) -> None:
    check_may_write(user)
    if not may_publish(user):
        raise PermissionDenied(_("Only supervisors and administrators may publish, unpublish, "
                                 "change published articles or delete articles; submit the "
                                 "article for review instead."))


def check_may_change_article(user, article: Article) -> None:
    if article.status == Status.PUBLISHED:
        check_may_publish(user)
    else:
        check_may_write(user)


# --- cleaning input -------------------------------------------------------------------------


def clean_language(language: str, *, field: str = "language") -> str:
    value = (language or "").strip().lower()
    if value not in Language.values:
        raise ValidationFailed(_("Unknown language %(language)r; use one of %(choices)s.")
                               % {"language": language, "choices": ", ".join(Language.values)},
                               field=field)
    return value


def clean_title(title: str) -> str:
    value = " ".join((title or "").split())
    if not value:
        raise ValidationFailed(_("An article needs a title."), field="title")
    if len(value) > 200:
        raise ValidationFailed(_("A title has at most 200 characters."), field="title")
    return value


def clean_body(body: str) -> tuple[str, str]:
    """(sanitised HTML, plain text) of ``body``: HTML (when it has common HTML tags), or plain
    text whose blank-line separated paragraphs become ``<p>`` elements."""
    body = body or ""
    if not _HTML_TAG_RE.search(body):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    body_html = sanitize_html(body)
    return body_html, html_to_text(body_html).strip() if body_html else ""


def clean_visibility(visibility: str) -> str:
    if visibility not in Visibility.values:
        raise ValidationFailed(_("Unknown visibility %(value)r; use one of %(choices)s.")
                               % {"value": visibility, "choices": ", ".join(Visibility.values)},
                               field="visibility")
    return visibility


def clean_external_id(external_id: str, *, exclude: int | None = None) -> str:
    value = (external_id or "").strip()
    if len(value) > 200:
        raise ValidationFailed(_("An external id has at most 200 characters."),
                               field="external_id")
    if value and Article.objects.filter(external_id=value).exclude(pk=exclude).exists():
        raise Conflict(_("Another article already has the external id %(id)s.")
                       % {"id": value}, field="external_id")
    return value


def _unique_slug(model, base: str, **scope) -> str:
    base = (slugify(base) or "item")[:150]
    slug, n = base, 1
    while model.objects.filter(slug=slug, **scope).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _place(category: Category | None, section: Section | None) -> tuple[Category | None,
                                                                         Section | None]:
    if section is not None:
        if category is not None and category.pk != section.category_id:
            raise ValidationFailed(_("Section %(section)s is not in category %(category)s.")
                                   % {"section": section.name, "category": category.name},
                                   field="section")
        category = section.category
    return category, section


# --- categories and sections ----------------------------------------------------------------


@transaction.atomic
def do_create_category(name: str, *, slug: str = "", position: int | None = None,
                       name_translations: dict[str, str] | None = None,
                       acting_user) -> Category:
    check_may_write(acting_user)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("A category needs a name."), field="name")
    translations = {}
    for language, text in (name_translations or {}).items():
        translations[clean_language(language, field="name_translations")] = str(text).strip()
    if slug:
        slug = slugify(slug)
        if not slug or Category.objects.filter(slug=slug).exists():
            raise Conflict(_("Another category already has the slug %(slug)s.")
                           % {"slug": slug}, field="slug")
    if position is None:
        position = Category.objects.count()
    return Category.objects.create(name=name, slug=slug or _unique_slug(Category, name),
                                   position=position, name_translations=translations)


@transaction.atomic
def do_create_section(category: Category, name: str, *, slug: str = "",
                      position: int | None = None, acting_user) -> Section:
    check_may_write(acting_user)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("A section needs a name."), field="name")
    if slug:
        slug = slugify(slug)
        if not slug or Section.objects.filter(category=category, slug=slug).exists():
            raise Conflict(_("Another section of this category already has the slug %(slug)s.")
                           % {"slug": slug}, field="slug")
    if position is None:
        position = category.sections.count()
    return Section.objects.create(
        category=category, name=name, position=position,
        slug=slug or _unique_slug(Section, name, category=category))


# --- articles -------------------------------------------------------------------------------


def _payload(article: Article, acting_user, **extra) -> dict[str, Any]:
    return {"article_id": article.pk, "language": article.language, "status": article.status,
            "visibility": article.visibility,
            "translation_group_id": article.translation_group_id,
            "acting_user_id": getattr(acting_user, "pk", None), **extra}


def _add_version(article: Article, *, acting_user, note: str = "") -> ArticleVersion:
    last = (ArticleVersion.objects.filter(article=article).order_by("-number")
            .values_list("number", flat=True).first()) or 0
    return ArticleVersion.objects.create(
        article=article, number=last + 1, title=article.title, body_html=article.body_html,
        author=acting_user, note=(note or "")[:300])


@transaction.atomic
def do_create_article(*, title: str, body: str, language: str, acting_user,
                      category: Category | None = None, section: Section | None = None,
                      visibility: str = Visibility.PUBLIC, external_id: str = "",
                      translation_of: Article | None = None, note: str = "") -> Article:
    """A new draft (version 1), a translation of ``translation_of`` when given, else in a
    translation group of its own."""
    check_may_write(acting_user)
    title = clean_title(title)
    body_html, body_text = clean_body(body)
    category, section = _place(category, section)
    article = Article.objects.create(
        title=title, slug=slugify(title)[:200] or "article", body_html=body_html,
        body_text=body_text, language=clean_language(language),
        translation_group=TranslationGroup.objects.create(), category=category,
        section=section, visibility=clean_visibility(visibility),
        external_id=clean_external_id(external_id), created_by=acting_user,
        updated_by=acting_user)
    version = _add_version(article, acting_user=acting_user, note=note)
    publish_on_commit(events.ARTICLE_CHANGED, _payload(article, acting_user, created=True,
                                                       version=version.number))
    if translation_of is not None:
        do_link_translation(translation_of, article, acting_user=acting_user)
        article.refresh_from_db()
    return article


@transaction.atomic
def do_update_article(article: Article, *, acting_user, title: str | None = None,
                      body: str | None = None, language: str | None = None,
                      category: Category | None = UNCHANGED, section: Section | None = UNCHANGED,
                      visibility: str | None = None, external_id: str | None = None,
                      translation_of: Article | None = None, note: str = "") -> Article:
    """Change what is given; ``translation_of`` links the article to that one's translations.
    A changed title or body writes a new version; a published article's change is live at once
    (so only supervisors make it). Locks the article row (``select_for_update``) so that two
    saves never take the same version number."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    check_may_change_article(acting_user, article)
    changed: list[str] = []
    if title is not None and (title := clean_title(title)) != article.title:
        article.title, article.slug = title, slugify(title)[:200] or "article"
        changed += ["title", "slug"]
    if body is not None:
        body_html, body_text = clean_body(body)
        if body_html != article.body_html:
            article.body_html, article.body_text = body_html, body_text
            changed += ["body_html", "body_text"]
    if language is not None and (language := clean_language(language)) != article.language:
        if Article.objects.filter(translation_group_id=article.translation_group_id,
                                  language=language).exclude(pk=article.pk).exists():
            raise Conflict(_("This article already has a translation in %(language)s.")
                           % {"language": language}, field="language")
        article.language = language
        changed.append("language")
    if category is not UNCHANGED or section is not UNCHANGED:
        new_section = article.section if section is UNCHANGED else section
        new_category = article.category if category is UNCHANGED else category
        if section is UNCHANGED and category is not UNCHANGED and new_section is not None \
                and new_section.category_id != getattr(category, "pk", None):
            new_section = None  # moving to another category leaves the old section
        new_category, new_section = _place(new_category, new_section)
        if (new_category, new_section) != (article.category, article.section):
            article.category, article.section = new_category, new_section
            changed += ["category", "section"]
    if visibility is not None and (visibility := clean_visibility(visibility)) \
            != article.visibility:
        article.visibility = visibility
        changed.append("visibility")
    if external_id is not None and external_id.strip() != article.external_id:
        article.external_id = clean_external_id(external_id, exclude=article.pk)
        changed.append("external_id")
    if changed:
        _save_changes(article, changed, acting_user=acting_user, note=note)
    if translation_of is not None:
        do_link_translation(translation_of, article, acting_user=acting_user)
        article.refresh_from_db()
    return article


def _save_changes(article: Article, changed: list[str], *, acting_user, note: str) -> None:
    version = None
    if {"title", "body_html"} & set(changed):
        version = _add_version(article, acting_user=acting_user, note=note).number
        if article.status == Status.PUBLISHED:
            article.published_version = version
            changed.append("published_version")
    article.updated_by = acting_user
    article.save(update_fields=[*changed, "updated_by", "updated_at"])
    publish_on_commit(events.ARTICLE_CHANGED, _payload(article, acting_user, created=False,
                                                       version=version, fields=changed))


def _set_status(article: Article, status: str, *, acting_user, **fields) -> Article:
    before = article.status
    article.status = status
    for name, value in fields.items():
        setattr(article, name, value)
    article.updated_by = acting_user
    article.save(update_fields=["status", *fields, "updated_by", "updated_at"])
    publish_on_commit(events.ARTICLE_CHANGED, _payload(article, acting_user, created=False,
                                                       version=None, fields=["status"],
                                                       before=before))
    return article


@transaction.atomic
def do_submit_for_review(article: Article, *, acting_user) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    check_may_write(acting_user)
    if article.status != Status.DRAFT:
        raise Conflict(_("Only a draft can be submitted for review; this article is %(status)s.")
                       % {"status": article.get_status_display()}, field="status")
    return _set_status(article, Status.REVIEW, acting_user=acting_user)


@transaction.atomic
def do_publish_article(article: Article, *, acting_user) -> Article:
    """Publish a draft or an article in review: its latest version is what readers see."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    check_may_publish(acting_user)
    if article.status == Status.PUBLISHED:
        raise Conflict(_("This article is already published."), field="status")
    version = article.versions.order_by("-number").values_list("number", flat=True).first()
    _set_status(article, Status.PUBLISHED, acting_user=acting_user,
                published_at=timezone.now(), published_version=version)
    publish_on_commit(events.ARTICLE_PUBLISHED, _payload(article, acting_user, version=version))
    return article


@transaction.atomic
def do_unpublish_article(article: Article, *, acting_user) -> Article:
    """Take a published article back to draft; its versions stay."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    check_may_publish(acting_user)
    if article.status != Status.PUBLISHED:
        raise Conflict(_("This article is not published."), field="status")
    _set_status(article, Status.DRAFT, acting_user=acting_user, published_at=None,
                published_version=None)
    publish_on_commit(events.ARTICLE_UNPUBLISHED, _payload(article, acting_user))
    return article


@transaction.atomic
def do_delete_article(article: Article, *, acting_user) -> None:
    article = Article.objects.select_for_update().get(pk=article.pk)
    check_may_publish(acting_user)
    if article.status == Status.PUBLISHED:
        publish_on_commit(events.ARTICLE_UNPUBLISHED, _payload(article, acting_user))
    payload = _payload(article, acting_user)
    group_id = article.translation_group_id
    article.delete()
    if not Article.objects.filter(translation_group_id=group_id).exists():
        TranslationGroup.objects.filter(pk=group_id).delete()
    publish_on_commit(events.ARTICLE_DELETED, payload)


@transaction.atomic
def do_link_translation(article: Article, translation: Article, *, acting_user) -> Article:
    """Make ``translation`` (with the translations it already has) translations of
    ``article``. Refused when that would give the group two articles in one language. Locks
    both groups' articles (``select_for_update``) so that two links never race."""
    check_may_write(acting_user)
    if article.pk == translation.pk:
        raise ValidationFailed(_("An article cannot be its own translation."),
                               field="translation_of")
    members = list(Article.objects.select_for_update().filter(
        translation_group_id__in=[article.translation_group_id,
                                  translation.translation_group_id]).order_by("pk"))
    article = next(m for m in members if m.pk == article.pk)
    translation = next(m for m in members if m.pk == translation.pk)
    if article.translation_group_id == translation.translation_group_id:
        return article
    ours = {m.language for m in members if m.translation_group_id == article.translation_group_id}
    moving = [m for m in members if m.translation_group_id == translation.translation_group_id]
    clash = ours & {m.language for m in moving}
    if clash:
        raise Conflict(_("The article already has a translation in %(language)s; unlink that "
                         "one first.") % {"language": ", ".join(sorted(clash))},
                       field="translation_of")
    old_group = translation.translation_group_id
    Article.objects.filter(pk__in=[m.pk for m in moving]).update(
        translation_group_id=article.translation_group_id, updated_at=timezone.now())
    TranslationGroup.objects.filter(pk=old_group).delete()
    for member in members:
        member.translation_group_id = article.translation_group_id
        publish_on_commit(events.ARTICLE_CHANGED, _payload(
            member, acting_user, created=False, version=None, fields=["translation_group"]))
    return article
