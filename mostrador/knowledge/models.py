"""The knowledge base: categories hold sections, sections hold articles; an article is written
in one language and linked to its translations through a :class:`TranslationGroup` (at most one
article per language in a group). Every change of an article's title or body is kept as an
:class:`ArticleVersion`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    SPANISH = "es", _("Spanish")
    ENGLISH = "en", _("English")


class Category(models.Model):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160, unique=True)
    position = models.PositiveIntegerField(default=0)
    # {"es": "Facturación", "en": "Billing"}: the name shown in each language; ``name`` is the
    # fallback.
    name_translations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name", "pk"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return (self.name_translations or {}).get(language) or self.name


class Section(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["category", "slug"],
                                               name="knowledge_section_slug_per_category")]

    def __str__(self) -> str:
        return f"{self.category} / {self.name}"


class TranslationGroup(models.Model):
    """The same article in several languages: one row per piece of content."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"translation group {self.pk}"


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        INTERNAL = "internal", _("Internal (agents only)")

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="articles")
    # When set, its category is the article's category.
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="articles")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, allow_unicode=False)
    # Sanitised HTML (nh3); ``body_text`` is its plain text, for search and snippets.
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    language = models.CharField(max_length=5, choices=Language.choices)
    translation_group = models.ForeignKey(TranslationGroup, on_delete=models.PROTECT,
                                          related_name="articles")
    # The id an import gave it, for updating it by a later import ("" when none).
    external_id = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    visibility = models.CharField(max_length=10, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    published_at = models.DateTimeField(null=True, blank=True)
    # The version readers see while the article is published.
    published_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["translation_group", "language"],
                                    name="knowledge_one_translation_per_language"),
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                    name="knowledge_article_external_id_unique"),
        ]
        indexes = [models.Index(fields=["status", "visibility", "language"],
                                name="knowledge_article_listing")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return (self.status == self.Status.PUBLISHED
                and self.visibility == self.Visibility.PUBLIC)


class ArticleVersion(models.Model):
    """An article's title and body as one save left them; append-only."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body_html = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"],
                                               name="knowledge_version_number_per_article")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticlePassage(models.Model):
    """A piece of a published article with its sentence embedding: what the semantic half of
    the search ranks. Position 0 is the title; the body follows in passages of a few hundred
    characters (``embeddings.passages``). Written by ``embedding.embed_articles`` after an
    article is published or changed, removed when it is unpublished."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField()
    text = models.TextField()
    # ``embeddings.to_bytes``: 512 little-endian float32s.
    vector = models.BinaryField()
    # Copied from the article so the semantic index loads without a join.
    language = models.CharField(max_length=5)
    visibility = models.CharField(max_length=10)
    # The article's ``updated_at`` the text was taken from.
    source_updated_at = models.DateTimeField()

    class Meta:
        ordering = ["article", "position"]
        constraints = [models.UniqueConstraint(fields=["article", "position"],
                                               name="knowledge_passage_position")]

    def __str__(self) -> str:
        return f"{self.article_id}#{self.position}"


class SemanticIndexState(models.Model):
    """One row: the generation of the passages, bumped by every write to them, so each process
    knows when its in-memory matrix is stale (``semantic.matrix``)."""

    generation = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"generation {self.generation}"
