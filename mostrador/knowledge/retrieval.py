"""Finding articles: the one entry point the help center, the reply box and the bot use.

``find`` ranks published articles for a query by fusing two rankings:

* **keyword** (:mod:`mostrador.knowledge.search`): stems, prefixes, one typo; only articles in
  the query's language take part, since a word match across languages is mostly noise (names
  and numbers);
* **semantic** (:mod:`mostrador.knowledge.embeddings` over the stored passages): every
  article, whatever its language, scored by its best passage.

The two are fused with reciprocal rank fusion (``1/(k + rank)`` summed), which needs no
calibration between bm25 and cosine. An article only the encoder found (the query is Spanish,
the article English) keeps its semantic share, so a question in one language finds an article
written in the other. Articles of one translation group are one result: the reader gets the
translation in their language when there is one.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from mostrador.conversations.language import detect_language
from mostrador.knowledge import embeddings, fusion, search, semantic
from mostrador.knowledge.fusion import RRF_K, fuse  # noqa: F401 - part of this interface
from mostrador.knowledge.models import Article

# How deep each ranking is read before fusing.
DEPTH = 50


@dataclasses.dataclass(frozen=True)
class Found:
    article_id: int
    score: float
    # The passage that matched best (semantic), or "" when only the words matched.
    passage: str = ""
    # Cosine of the best passage with the query, 0.0 when the encoder did not rank it.
    similarity: float = 0.0
    # Its rank among the keyword matches in the query's language (1 is the best), 0 for none.
    keyword_rank: int = 0


def find(query: str, *, language: str = "", public_only: bool = True, limit: int = 10,
         only_language: bool = False, semantic_search: bool = True,
         semantic_floor: float | None = None) -> list[Found]:
    """Published articles for ``query``, best first (at most ``limit``).

    ``language`` is the reader's: keyword matches count in it, and a result is shown in it
    when the article has a translation in it (``only_language`` drops the ones without).
    Without it, the query's own language is detected for the keyword half. The similarity of
    a result is its translation group's best. An article the words did not find is a result
    only when its similarity reaches ``semantic_floor`` (by default ``fusion.semantic_floor``
    of the best similarity; the bot, which weighs the similarities itself, passes 0).
    """
    query = (query or "").strip()[:QUERY_MAX_CHARS]
    if not query:
        return []
    query_language = language or detect_language(query)
    hits = search.search(query, language=language, public_only=public_only, limit=DEPTH)
    semantic_hits: list[semantic.SemanticHit] = []
    if semantic_search:
        semantic_hits = semantic.rank(query_vector(query), public_only=public_only, limit=DEPTH)
    keyword_ids = [hit.article_id for hit in hits]
    floor = semantic_floor
    if floor is None:
        floor = fusion.semantic_floor(semantic_hits[0].similarity) if semantic_hits else 0.0
    semantic_ids = [hit.article_id for hit in semantic_hits if hit.similarity >= floor]
    articles = _articles(set(keyword_ids) | set(semantic_ids), public_only)
    same_language = ({pk for pk, row in articles.items() if row[0] == query_language}
                     if query_language else None)
    fused = fuse([pk for pk in keyword_ids if pk in articles],
                 [pk for pk in semantic_ids if pk in articles], same_language=same_language)
    similarity = {hit.article_id: hit.similarity for hit in semantic_hits}
    passage = {hit.article_id: hit.passage for hit in semantic_hits}
    counted = [pk for pk in keyword_ids if pk in articles
               and (same_language is None or pk in same_language)]
    keyword_rank = {pk: rank for rank, pk in enumerate(counted, start=1)}
    # One result per translation group, in the reader's language when there is one.
    groups: dict[int, tuple[int, float, float, str, int]] = {}
    for pk, score in fused:
        group = articles[pk][1]
        rank = keyword_rank.get(pk, 0)
        if group in groups:
            best_pk, best_score, best_similarity, best_passage, best_rank = groups[group]
            groups[group] = (best_pk, best_score, max(best_similarity, similarity.get(pk, 0.0)),
                             best_passage, min(r for r in (best_rank, rank) if r) if
                             (best_rank or rank) else 0)
            continue
        groups[group] = (pk, score, similarity.get(pk, 0.0), passage.get(pk, ""), rank)
    shown = _translations(groups, language, public_only) if language else {}
    results: list[Found] = []
    for group, (pk, score, sim, text, rank) in groups.items():
        chosen = shown.get(group, pk)
        if only_language and language and chosen == pk and articles[pk][0] != language:
            continue
        if chosen != pk and semantic_search:
            text = semantic.best_passage(chosen, query_vector(query)) or text
        results.append(Found(chosen, round(score, 6), text, round(sim, 4), rank))
        if len(results) == limit:
            break
    return results


QUERY_MAX_CHARS = 1000


@functools.lru_cache(maxsize=512)
def _cached_vector(query: str) -> np.ndarray:
    vector = embeddings.embed([query])[0]
    vector.setflags(write=False)
    return vector


def query_vector(query: str) -> np.ndarray:
    """The query's embedding (the last few hundred queries are remembered)."""
    return _cached_vector(query.strip()[:QUERY_MAX_CHARS])


def _articles(ids: set[int], public_only: bool) -> dict[int, tuple[str, int]]:
    """(language, translation group) of those of ``ids`` that are still published."""
    if not ids:
        return {}
    rows = Article.objects.filter(pk__in=ids, status=Article.Status.PUBLISHED)
    if public_only:
        rows = rows.filter(visibility=Article.Visibility.PUBLIC)
    return {pk: (lang, group) for pk, lang, group in
            rows.values_list("pk", "language", "translation_group_id")}


def _translations(groups: dict[int, tuple], language: str, public_only: bool) -> dict[int, int]:
    """For each group, its published article in ``language``, when it has one."""
    rows = Article.objects.filter(translation_group_id__in=list(groups), language=language,
                                  status=Article.Status.PUBLISHED)
    if public_only:
        rows = rows.filter(visibility=Article.Visibility.PUBLIC)
    return dict(rows.values_list("translation_group_id", "pk"))
