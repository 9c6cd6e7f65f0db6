"""After-commit listener: the search index follows what is published at once; the passages'
embeddings follow in a task (the encoder takes a few milliseconds a passage)."""

from __future__ import annotations

from typing import Any

from mostrador.core.publish import subscribe_batch

KINDS = ("knowledge.article_published", "knowledge.article_unpublished",
         "knowledge.article_changed", "knowledge.article_deleted")


def on_commit_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    ids = {payload["article_id"] for kind, payload in batch
           if kind in KINDS and payload.get("article_id")}
    if ids:
        from mostrador.knowledge.search import sync_articles

        sync_articles(ids)
        from mostrador.core.tasks import enqueue_on_commit
        from mostrador.knowledge.tasks import embed_articles_task

        enqueue_on_commit(embed_articles_task, sorted(ids))


def connect() -> None:
    subscribe_batch(on_commit_batch)
