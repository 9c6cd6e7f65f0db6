"""Events the knowledge base publishes after commit (``core.publish``); search indexing and
embeddings hang on them.

Every payload holds ``article_id``, ``language``, ``status``, ``visibility``,
``translation_group_id`` and ``acting_user_id`` (None for imports without a user).
"""

# A draft or an article in review became public (or internal) reading: {"version"}.
ARTICLE_PUBLISHED = "knowledge.article_published"
# A published article went back to draft, or was deleted while published.
ARTICLE_UNPUBLISHED = "knowledge.article_unpublished"
# Created, or its title, body, place, visibility, status or translations changed:
# {"created": bool, "version": int | None}.
ARTICLE_CHANGED = "knowledge.article_changed"
# Deleted for good (after ARTICLE_UNPUBLISHED when it was published).
ARTICLE_DELETED = "knowledge.article_deleted"
