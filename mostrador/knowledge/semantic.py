"""The semantic index: published articles' passages, embedded when they are published, and the
in-memory matrix that ranks them.

Writing: ``embed_articles(ids)`` (the ``embed_articles_task`` after each committed change)
embeds the title and the body passages of the published ones of these articles and replaces
their :class:`ArticlePassage` rows; for the others it removes them. The text is read first and
the encoder runs outside any transaction; the rows are then written under the article's row
lock, and only if the article did not change in the meantime (its own later event embeds it
again). Each write bumps the index's generation in the same transaction.

Reading: every process keeps the stacked vectors of all passages in memory (512 float32s each:
2 KB a passage, about 10 MB for a thousand articles) with the generation it read them at. A
query reads the generation (one row by primary key) and reloads the matrix when another
process, or this one, changed the passages since.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

import numpy as np
from django.db import transaction
from django.db.models import F

from mostrador.knowledge import embeddings
from mostrador.knowledge.models import Article, ArticlePassage, SemanticIndexState


def article_passages(title: str, body_text: str) -> list[str]:
    """What is embedded for an article: its title, then its body in passages."""
    return [title.strip(), *embeddings.passages(body_text)]


# --- writing -------------------------------------------------------------------------------


def embed_articles(article_ids: Iterable[int]) -> dict[str, int]:
    """Bring the passages of these articles in line with what is published now.

    Returns ``{"embedded", "removed", "skipped"}`` (skipped: changed while being embedded).
    """
    ids = set(article_ids)
    published = {a.pk: a for a in Article.objects.filter(
        pk__in=ids, status=Article.Status.PUBLISHED).only(
            "pk", "title", "body_text", "language", "visibility", "updated_at")}
    counts = {"embedded": 0, "removed": 0, "skipped": 0}
    gone = ids - set(published)
    if gone:
        with transaction.atomic():
            deleted, _ = ArticlePassage.objects.filter(article_id__in=gone).delete()
            if deleted:
                _bump()
                counts["removed"] = len(gone)
    for article in published.values():
        texts = article_passages(article.title, article.body_text)
        vectors = embeddings.embed(texts)
        with transaction.atomic():
            current = (Article.objects.select_for_update().filter(pk=article.pk)
                       .values("status", "updated_at").first())
            if current is None or current["status"] != Article.Status.PUBLISHED or \
                    current["updated_at"] != article.updated_at:
                counts["skipped"] += 1
                continue
            ArticlePassage.objects.filter(article_id=article.pk).delete()
            ArticlePassage.objects.bulk_create([
                ArticlePassage(article_id=article.pk, position=position, text=text,
                               vector=embeddings.to_bytes(vector), language=article.language,
                               visibility=article.visibility,
                               source_updated_at=article.updated_at)
                for position, (text, vector) in enumerate(zip(texts, vectors, strict=True))])
            _bump()
            counts["embedded"] += 1
    return counts


def embed_all(*, batch: int = 200) -> int:
    """Embed every published article again (``mostrador kb reindex``); returns how many."""
    ids = list(Article.objects.filter(status=Article.Status.PUBLISHED)
               .order_by("pk").values_list("pk", flat=True))
    stale = set(ArticlePassage.objects.exclude(article_id__in=ids)
                .values_list("article_id", flat=True).distinct())
    embed_articles(stale)
    for start in range(0, len(ids), batch):
        embed_articles(ids[start:start + batch])
    return len(ids)


def _bump() -> None:
    updated = SemanticIndexState.objects.filter(pk=1).update(generation=F("generation") + 1)
    if not updated:
        SemanticIndexState.objects.get_or_create(pk=1, defaults={"generation": 1})


def generation() -> int:
    return (SemanticIndexState.objects.filter(pk=1).values_list("generation", flat=True)
            .first() or 0)


# --- reading -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Matrix:
    generation: int
    vectors: np.ndarray  # (passages, DIMENSIONS) float32
    article_ids: np.ndarray  # (passages,) int64
    languages: np.ndarray  # (passages,) str
    public: np.ndarray  # (passages,) bool
    titles: np.ndarray  # (passages,) bool: position 0
    texts: tuple[str, ...]


_matrix: _Matrix | None = None
_matrix_lock = threading.Lock()


def _load(current: int) -> _Matrix:
    rows = list(ArticlePassage.objects.order_by("article_id", "position").values_list(
        "article_id", "language", "visibility", "text", "vector", "position"))
    vectors = np.empty((len(rows), embeddings.DIMENSIONS), dtype=np.float32)
    for index, row in enumerate(rows):
        vectors[index] = embeddings.from_bytes(row[4])
    return _Matrix(
        generation=current, vectors=vectors,
        article_ids=np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)),
        languages=np.array([row[1] for row in rows], dtype=object),
        public=np.fromiter((row[2] == Article.Visibility.PUBLIC for row in rows), dtype=bool,
                           count=len(rows)),
        titles=np.fromiter((row[5] == 0 for row in rows), dtype=bool, count=len(rows)),
        texts=tuple(row[3] for row in rows))


def matrix() -> _Matrix:
    """The passages as of now (reloaded when the generation moved)."""
    global _matrix
    current = generation()
    loaded = _matrix
    if loaded is not None and loaded.generation == current:
        return loaded
    with _matrix_lock:
        if _matrix is None or _matrix.generation != current:
            _matrix = _load(current)
        return _matrix


def forget() -> None:
    """Drop this process's matrix (tests that rewrite the tables underneath)."""
    global _matrix
    _matrix = None


@dataclasses.dataclass(frozen=True)
class SemanticHit:
    article_id: int
    language: str
    similarity: float
    passage: str


def rank(query_vector: np.ndarray, *, public_only: bool = True,
         limit: int = 50) -> list[SemanticHit]:
    """Articles by the cosine of their best passage with the query, best first."""
    index = matrix()
    if not len(index.article_ids):
        return []
    scores = index.vectors @ np.asarray(query_vector, dtype=np.float32)
    if public_only:
        scores = np.where(index.public, scores, -np.inf)
    # Best passage per article: visit passages best first and keep each article's first.
    # Only the best few rows are sorted; all of them when those hold too few articles.
    wanted = min(len(scores), max(limit * 8, 64))
    order = (np.argpartition(-scores, wanted - 1)[:wanted] if wanted < len(scores)
             else np.arange(len(scores)))
    order = order[np.lexsort((order, -scores[order]))]
    hits = _best_per_article(index, scores, order, limit)
    if len(hits) < limit and wanted < len(scores):
        order = np.lexsort((np.arange(len(scores)), -scores))
        hits = _best_per_article(index, scores, order, limit)
    # The title may be what matched best; the passage to quote is from the body.
    return [dataclasses.replace(hit, passage=_best_body_row(index, hit.article_id, scores))
            for hit in hits]


def _best_body_row(index: _Matrix, article_id: int, scores: np.ndarray) -> str:
    # Rows are ordered by article: its rows are one run, found by bisection.
    start = int(np.searchsorted(index.article_ids, article_id, side="left"))
    end = int(np.searchsorted(index.article_ids, article_id, side="right"))
    rows = np.arange(start, end)
    body = rows[~index.titles[start:end]]
    if not len(body):
        return ""
    return index.texts[int(body[int(np.argmax(scores[body]))])]


def _best_per_article(index: _Matrix, scores: np.ndarray, order: np.ndarray,
                      limit: int) -> list[SemanticHit]:
    hits: list[SemanticHit] = []
    seen: set[int] = set()
    for row in order:
        score = scores[row]
        if score == -np.inf or len(hits) == limit:
            break
        pk = int(index.article_ids[row])
        if pk not in seen:
            seen.add(pk)
            hits.append(SemanticHit(pk, index.languages[row], float(score), index.texts[row]))
    return hits


def best_passage(article_id: int, query_vector: np.ndarray) -> str:
    """The passage of ``article_id`` closest to the query ("" when it has none)."""
    index = matrix()
    scores = index.vectors @ np.asarray(query_vector, dtype=np.float32)
    return _best_body_row(index, article_id, scores)
