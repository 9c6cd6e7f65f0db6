"""What the help-center endpoints answer: readers' votes on an article and the request form's
deflection figures."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field


class FeedbackCommentOut(Schema):
    helpful: bool
    comment: str
    language: str
    at: dt.datetime = Field(description="when the vote was given or last changed")


class FeedbackOut(Schema):
    article: int
    helpful: int = Field(description="readers who answered yes")
    not_helpful: int = Field(description="readers who answered no")
    comments: list[FeedbackCommentOut] = Field(description="the newest comments first")


class DeflectionOut(Schema):
    since: dt.datetime | None
    visits: int = Field(description="times the request form was shown")
    with_suggestions: int = Field(description="visits shown suggested articles")
    opened: int = Field(description="visits that opened a suggested article")
    submitted: int = Field(description="visits that sent a request")
    deflected: int = Field(description="opened a suggestion, sent no request, started more than "
                                       "30 minutes ago")
    deflection_rate: float = Field(description="deflected / visits")
