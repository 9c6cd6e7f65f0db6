"""What the public help center records about its readers: whether an article helped
(:class:`ArticleVote`), and each visit to the request form, to count the requests that
articles suggested while typing made unnecessary (:class:`RequestVisit`).

Readers are anonymous: a vote belongs to a random visitor key kept in a cookie, a form visit to
a random token kept in the form. Neither holds an address or a name.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

COMMENT_MAX_CHARS = 1000


class ArticleVote(models.Model):
    """One visitor's answer to "Was this helpful?" for one article; voting again replaces it."""

    article = models.ForeignKey("knowledge.Article", on_delete=models.CASCADE,
                                related_name="votes")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS)
    # The language of the page the vote was given on (the article's).
    language = models.CharField(max_length=5)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "visitor"],
                                               name="portal_one_vote_per_visitor")]
        indexes = [models.Index(fields=["article", "-updated_at"],
                                name="portal_vote_recent")]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class RequestVisit(models.Model):
    """One showing of the request form, followed until a request is sent (or never is).

    A visit is *deflected* when the reader opened an article the form suggested and sent no
    request (see ``queries.deflection_figures``)."""

    token = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=5)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    # How many times the form showed a non-empty list of suggested articles.
    suggestions_shown = models.PositiveIntegerField(default=0)
    # The first suggested article the reader opened, and when.
    suggestion_opened_at = models.DateTimeField(null=True, blank=True)
    opened_article = models.ForeignKey("knowledge.Article", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    request_submitted_at = models.DateTimeField(null=True, blank=True)
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"visit {self.pk} ({self.language})"
