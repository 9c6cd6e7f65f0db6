"""Background work of the knowledge base: embedding what was published."""

from __future__ import annotations

from mostrador.core.tasks import task
from mostrador.knowledge import semantic


@task(retries=3, retry_delay=30)
def embed_articles_task(article_ids: list[int]) -> dict[str, int]:
    return semantic.embed_articles(article_ids)
