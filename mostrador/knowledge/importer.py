"""``mostrador kb import``: articles from JSON lines.

Each line is an object with ``title``, ``body`` (HTML, or plain text with blank lines between
paragraphs) and ``language``, and optionally ``external_id``, ``category`` (a name; created when
missing), ``visibility`` (public/internal) and ``translation_of`` (another article's
``external_id``, in this file or already imported, possibly on a later line). A line whose
``external_id`` is known updates that article (a new version when title or body changed);
others create drafts. Each line is written in a savepoint of its own: a bad line is reported
with its number and skipped, and nothing else is lost. Translations are linked once every line
is read; ``publish=True`` then publishes every article the file named.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from mostrador.core.errors import MostradorError
from mostrador.knowledge import actions
from mostrador.knowledge.models import Article, Category


@dataclasses.dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    linked: int = 0
    errors: int = 0
    seconds: float = 0.0
    # (line number, what was wrong)
    problems: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, "created": self.created, "updated": self.updated,
                "linked": self.linked, "errors": self.errors,
                "seconds": round(self.seconds, 3)}

    def fail(self, line: int, message: str) -> None:
        self.errors += 1
        self.problems.append((line, message))


class LineError(Exception):
    pass


def import_articles(lines: Iterable[str], *, publish: bool = False,
                    acting_user=None) -> ImportSummary:
    """Import JSON lines (``lines`` as read from a file, numbered from 1)."""
    started = time.monotonic()
    summary = ImportSummary()
    categories: dict[str, Category] = {}
    imported: list[tuple[int, int, str]] = []  # (line, article id, translation_of)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        summary.read += 1
        try:
            with transaction.atomic():
                article, created, translation_of = _import_line(
                    line, categories=categories, acting_user=acting_user)
        except (LineError, MostradorError) as problem:
            summary.fail(number, getattr(problem, "message", None) or str(problem))
            categories.clear()  # a rolled-back savepoint may have taken a new category along
            continue
        if created:
            summary.created += 1
        else:
            summary.updated += 1
        imported.append((number, article.pk, translation_of))
    for number, article_id, translation_of in imported:
        if not translation_of:
            continue
        try:
            with transaction.atomic():
                original = Article.objects.filter(external_id=translation_of).first()
                if original is None:
                    raise LineError(f"translation_of: no article has the external_id "
                                    f"{translation_of!r}")
                article = Article.objects.get(pk=article_id)
                if original.translation_group_id != article.translation_group_id:
                    actions.do_link_translation(original, article, acting_user=acting_user)
                    summary.linked += 1
        except (LineError, MostradorError) as problem:
            summary.fail(number, getattr(problem, "message", None) or str(problem))
    if publish:
        for number, article_id, _translation_of in imported:
            try:
                with transaction.atomic():
                    article = Article.objects.get(pk=article_id)
                    if article.status != Article.Status.PUBLISHED:
                        actions.do_publish_article(article, acting_user=acting_user)
            except MostradorError as problem:
                summary.fail(number, problem.message)
    summary.problems.sort()
    summary.seconds = time.monotonic() - started
    return summary


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise LineError(f"{key} is missing")
        return ""
    if not isinstance(value, str):
        raise LineError(f"{key} must be a string")
    if required and not value.strip():
        raise LineError(f"{key} is empty")
    return value


def _import_line(line: str, *, categories: dict[str, Category],
                 acting_user) -> tuple[Article, bool, str]:
    try:
        data = json.loads(line)
    except ValueError as problem:
        raise LineError(f"not JSON: {problem}") from None
    if not isinstance(data, dict):
        raise LineError("each line must be a JSON object")
    title = _text(data, "title", required=True)
    body = _text(data, "body", required=True)
    language = _text(data, "language", required=True)
    external_id = _text(data, "external_id").strip()
    category_name = _text(data, "category").strip()
    visibility = _text(data, "visibility").strip() or None
    translation_of = _text(data, "translation_of").strip()
    if translation_of and translation_of == external_id:
        raise LineError("translation_of names the line's own external_id")
    category = _category(category_name, categories, acting_user) if category_name else None
    existing = (Article.objects.filter(external_id=external_id).first() if external_id
                else None)
    if existing is not None:
        extra: dict[str, Any] = {"category": category} if category_name else {}
        article = actions.do_update_article(
            existing, acting_user=acting_user, title=title, body=body, language=language,
            visibility=visibility, note="import", **extra)
        return article, False, translation_of
    article = actions.do_create_article(
        title=title, body=body, language=language, category=category,
        visibility=visibility or Article.Visibility.PUBLIC, external_id=external_id,
        acting_user=acting_user, note="import")
    return article, True, translation_of


def _category(name: str, cache: dict[str, Category], acting_user) -> Category:
    key = name.casefold()
    if key not in cache:
        found = (Category.objects.filter(name__iexact=name).first()
                 or Category.objects.filter(slug=slugify(name)).first())
        cache[key] = found or actions.do_create_category(name, acting_user=acting_user)
    return cache[key]
