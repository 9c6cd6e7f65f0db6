"""What the knowledge base endpoints read and write. Bodies forbid unknown fields, as in
:mod:`mostrador.api.schemas`."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from mostrador.api.schemas import StrictIn

BODY_HELP = ("HTML (sanitised: no scripts, styles, forms or frames) or plain text with blank "
             "lines between paragraphs")


class CategoryRef(Schema):
    id: int
    name: str
    slug: str


class SectionOut(Schema):
    id: int
    name: str
    slug: str
    position: int


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    position: int
    name_translations: dict[str, str]
    sections: list[SectionOut]


class CategoryList(Schema):
    items: list[CategoryOut]


class CategoryIn(StrictIn):
    name: str = Field(max_length=150)
    slug: str = Field(default="", max_length=160, description="made from the name when empty")
    position: int | None = Field(default=None, ge=0, description="last when left out")
    name_translations: dict[str, str] = Field(default={}, description='{"es": "Facturación"}')


class SectionIn(StrictIn):
    name: str = Field(max_length=150)
    slug: str = Field(default="", max_length=160)
    position: int | None = Field(default=None, ge=0)


class TranslationOut(Schema):
    id: int
    language: str
    title: str
    status: str


class ArticleSummary(Schema):
    id: int
    title: str
    slug: str
    language: str
    status: str = Field(description="draft, review or published")
    visibility: str = Field(description="public or internal (agents only)")
    category: CategoryRef | None
    section: SectionOut | None
    external_id: str
    published_at: dt.datetime | None
    updated_at: dt.datetime


class ArticleOut(ArticleSummary):
    body_html: str
    body_text: str
    published_version: int | None = Field(description="the version readers see")
    translation_group: int
    translations: list[TranslationOut]
    created_by: int | None
    updated_by: int | None
    created_at: dt.datetime


class ArticlePage(Schema):
    items: list[ArticleSummary]
    next_cursor: str | None


class ArticleCreateIn(StrictIn):
    title: str = Field(max_length=200)
    body: str = Field(default="", description=BODY_HELP)
    language: str = Field(description="es or en")
    category: int | None = None
    section: int | None = Field(default=None, description="its category becomes the article's")
    visibility: str = Field(default="public", description="public or internal")
    external_id: str = Field(default="", max_length=200)
    translation_of: int | None = Field(default=None, description="id of the article this one "
                                                                 "translates")
    note: str = Field(default="", max_length=300, description="kept with version 1")


class ArticlePatchIn(StrictIn):
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, description=BODY_HELP)
    language: str | None = None
    category: int | None = Field(default=None, description="null takes it out of its category")
    section: int | None = Field(default=None, description="null takes it out of its section")
    visibility: str | None = None
    external_id: str | None = Field(default=None, max_length=200)
    translation_of: int | None = Field(default=None, description="link it to this article's "
                                                                 "translations")
    note: str = Field(default="", max_length=300, description="kept with the new version")


class VersionOut(Schema):
    number: int
    title: str
    body_html: str
    author: int | None
    note: str
    created_at: dt.datetime
    published: bool = Field(description="the version readers see now")


class VersionList(Schema):
    items: list[VersionOut]


class SearchHitOut(Schema):
    id: int
    title: str
    language: str
    visibility: str
    snippet: str = Field(description="The passage around the first match, HTML-escaped, with "
                                     "matches in <mark>")
    score: float
    similarity: float = 0.0


class SearchOut(Schema):
    query: str
    items: list[SearchHitOut]
