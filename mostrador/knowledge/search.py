"""Keyword search over published articles, behind one interface for both databases.

* SQLite: an FTS5 table ``search_articles`` (title and body columns, ``unicode61``), ranked
  with ``bm25`` (the title weighs three times the body). FTS5 has no Spanish stemmer, so words
  are reduced here (folded: lower case, no accents; then a light stemmer for the article's
  language) before they are indexed, and queries are reduced the same way and matched as
  prefixes: "devoluciones" finds "devolución", "refunds" finds "refunded". A term that matches
  nothing is tried again as the closest indexed word within one typo ("factrua" → "factura"),
  found in FTS5's vocabulary (``search_articles_vocab``).
* PostgreSQL: a table ``search_articles`` with a weighted ``tsvector`` (title A, body B) under a
  GIN index, built with the article's own text search configuration: ``mostrador_es`` or
  ``mostrador_en``, copies of ``spanish`` and ``english`` that remove accents (``unaccent``)
  before the Snowball stemmer (migration 0004 makes them). A query is parsed with the
  configuration of the requested language (with none, with both, ORed), every term matched as
  a prefix (``:*``), and ranked with ``ts_rank_cd``. Snowball removes "-ción" only when it keeps
  its accent, so "devolución" is indexed as ``devolucion`` but "devoluciones" as ``devolu``: a
  Spanish term ending in "ion" is also looked up as its plural, whose stem finds both. Typo
  tolerance: when a query finds nothing, each term of four letters or more that matches no
  article is replaced by the most similar indexed word by trigram similarity (``pg_trgm``, at
  least :data:`TYPO_SIMILARITY`) from ``search_article_words`` (the folded words of the indexed
  articles, per language, with the number of articles holding each) under a GIN trigram index;
  ``search_article_word_lists`` keeps each article's words, so that the counts follow changes.
  Words the stemmer drops (stop words: "para", "the") match nothing on their own.

Snippets are cut from the article's own text, with the matching words marked, so they show
what the reader will find, not the stems.

The index is kept by the listener on the knowledge base's events (an article published,
changed, unpublished or deleted); ``mostrador kb reindex`` rebuilds it.
"""

from __future__ import annotations

import collections
import dataclasses
import html
import re
from collections.abc import Iterable

from django.db import connection, transaction

# The same folding as the conversation index: one rule for what "ignores accents" means.
from mostrador.conversations.search import fold

MAX_INDEXED_CHARS = 100_000
_WORD = re.compile(r"\w+", re.UNICODE)
# Longest first: the first suffix that leaves a stem of three letters or more is removed.
_SUFFIXES = {
    "es": ("aciones", "iciones", "amientos", "imientos", "amiento", "imiento", "idades",
           "adoras", "adores", "mente", "ación", "ición", "acion", "icion", "idad", "ador",
           "ando", "iendo", "ados", "idas", "idos", "adas", "ces", "es", "as", "os", "ar",
           "er", "ir", "ado", "ido", "ada", "ida", "a", "o", "e", "s"),
    "en": ("ational", "ations", "ation", "ments", "ment", "ness", "ing", "ies", "ied",
           "ers", "ed", "es", "er", "ly", "s"),
}
# SQLite: how many of the best matches a search with a language or visibility filters first.
RANK_DEPTH = 200
# PostgreSQL: the text search configuration of each article language (migration 0004).
CONFIGS = {"es": "mostrador_es", "en": "mostrador_en"}
# The least trigram similarity at which a word replaces a query term that matches nothing;
# pg_trgm's own default for ``%``. "factrua" and "factura" score 0.33, "envoi" and "envio"
# 0.33, "devolucion" and "devoluciones" 0.71; unrelated words of one shared prefix stay below.
TYPO_SIMILARITY = 0.3
# Terms are letters and digits only: an underscore would make to_tsquery read a phrase.
_PG_TERM = re.compile(r"[^\W_]+", re.UNICODE)
# The advisory lock that serialises the writers of ``search_article_words``' counts (any fixed
# number; it only has to differ from other advisory locks of the database).
_WORDS_LOCK = 4_170_935_112


def stem(word: str, language: str) -> str:
    """A light suffix stripper: enough to join singular and plural, verb forms and derived
    nouns ("devolución", "devoluciones"; "refund", "refunds", "refunded")."""
    suffixes = _SUFFIXES.get(language) or (*_SUFFIXES["es"], *_SUFFIXES["en"])
    for suffix in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str, language: str) -> list[str]:
    return [stem(word, language) for word in _WORD.findall(fold(text))]


def _document(text: str, language: str) -> str:
    return " ".join(terms(text[:MAX_INDEXED_CHARS], language))


def vocabulary(text: str) -> set[str]:
    """The folded words of ``text`` that typo correction may offer on PostgreSQL: three to
    thirty letters, not numbers."""
    return {word for word in _PG_TERM.findall(fold(text))
            if 3 <= len(word) <= 30 and not word.isdigit()}


def _config(language: str) -> str:
    return CONFIGS.get(language, "simple")


# --- keeping it in step (the tables are made by the migrations) ----------------------------


def index_articles(rows: Iterable[tuple[int, str, str, str, str]]) -> None:
    """Index (article id, language, visibility, title, body text) rows, replacing what was."""
    rows = list(rows)
    if not rows:
        return
    if connection.vendor != "sqlite":
        _index_postgres(rows)
        return
    params = [(pk, language, visibility, _document(title, language),
               _document(body, language)) for pk, language, visibility, title, body in rows]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT OR REPLACE INTO search_articles "
            "(rowid, language, visibility, title, body) VALUES (%s, %s, %s, %s, %s)",
            params)


def _index_postgres(rows: list[tuple[int, str, str, str, str]]) -> None:
    documents, word_lists = [], []
    for pk, language, visibility, title, body in rows:
        title, body = title[:MAX_INDEXED_CHARS], body[:MAX_INDEXED_CHARS]
        config = _config(language)
        documents.append((pk, language, visibility, config, title, config, body))
        word_lists.append((pk, language, sorted(vocabulary(f"{title} {body}"))))
    added = collections.Counter((language, word) for _, language, words in word_lists
                                for word in words)
    with transaction.atomic(), connection.cursor() as cursor:
        gone = _lock_words(cursor, [row[0] for row in documents])
        cursor.executemany(
            "INSERT INTO search_articles (article_id, language, visibility, document) "
            "VALUES (%s, %s, %s, setweight(to_tsvector(%s::regconfig, %s), 'A') || "
            "setweight(to_tsvector(%s::regconfig, %s), 'B')) "
            "ON CONFLICT (article_id) DO UPDATE SET language = EXCLUDED.language, "
            "visibility = EXCLUDED.visibility, document = EXCLUDED.document", documents)
        cursor.executemany(
            "INSERT INTO search_article_word_lists (article_id, language, words) "
            "VALUES (%s, %s, %s) ON CONFLICT (article_id) DO UPDATE SET "
            "language = EXCLUDED.language, words = EXCLUDED.words", word_lists)
        _count_words(cursor, added, gone)


def _lock_words(cursor, article_ids: list[int]) -> collections.Counter:
    """Take the words table's lock (until the transaction ends) and count the words the
    given articles hold in the index now, by (language, word)."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WORDS_LOCK])
    cursor.execute("SELECT language, words FROM search_article_word_lists "
                   "WHERE article_id = ANY(%s::bigint[])", [article_ids])
    return collections.Counter((language, word) for language, words in cursor.fetchall()
                               for word in words)


def _count_words(cursor, added: collections.Counter, gone: collections.Counter) -> None:
    """Move the words' article counts by ``added - gone``; words no article holds any more
    leave the table."""
    delta = collections.Counter(added)
    delta.subtract(gone)
    changed = sorted((key, n) for key, n in delta.items() if n)
    if not changed:
        return
    cursor.execute(
        "INSERT INTO search_article_words AS known (language, word, articles) "
        "SELECT * FROM unnest(%s::varchar[], %s::text[], %s::integer[]) "
        "ON CONFLICT (language, word) DO UPDATE SET articles = known.articles + "
        "EXCLUDED.articles",
        [[language for (language, _), _ in changed], [word for (_, word), _ in changed],
         [n for _, n in changed]])
    fewer = [key for key, n in changed if n < 0]
    if fewer:
        cursor.execute(
            "DELETE FROM search_article_words AS known "
            "USING unnest(%s::varchar[], %s::text[]) AS fewer(language, word) "
            "WHERE known.language = fewer.language AND known.word = fewer.word "
            "AND known.articles <= 0",
            [[language for language, _ in fewer], [word for _, word in fewer]])


def remove_articles(article_ids: Iterable[int]) -> None:
    ids = list(article_ids)
    if not ids:
        return
    if connection.vendor != "sqlite":
        with transaction.atomic(), connection.cursor() as cursor:
            gone = _lock_words(cursor, ids)
            for table in ("search_articles", "search_article_word_lists"):
                cursor.execute(f"DELETE FROM {table} WHERE article_id = ANY(%s::bigint[])",
                               [ids])
            _count_words(cursor, collections.Counter(), gone)
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM search_articles WHERE rowid IN "
                       f"({', '.join(['%s'] * len(ids))})", ids)


def sync_articles(article_ids: Iterable[int]) -> None:
    """Index the published ones of these articles and drop the others."""
    from mostrador.knowledge.models import Article

    ids = set(article_ids)
    published = list(Article.objects.filter(pk__in=ids, status=Article.Status.PUBLISHED)
                     .values_list("pk", "language", "visibility", "title", "body_text"))
    index_articles(published)
    remove_articles(ids - {row[0] for row in published})


def reindex_all() -> int:
    """Index every published article again from scratch; returns how many.

    On PostgreSQL in one transaction: searches meanwhile see the index as it was.
    """
    if connection.vendor == "sqlite":
        return _reindex()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WORDS_LOCK])
            cursor.execute("DELETE FROM search_article_words")
            cursor.execute("DELETE FROM search_article_word_lists")
        return _reindex()


def _reindex() -> int:
    from mostrador.knowledge.models import Article

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_articles")
    rows = Article.objects.filter(status=Article.Status.PUBLISHED).values_list(
        "pk", "language", "visibility", "title", "body_text")
    batch: list = []
    count = 0
    for row in rows.iterator(chunk_size=500):
        batch.append(row)
        if len(batch) == 500:
            index_articles(batch)
            count, batch = count + len(batch), []
    index_articles(batch)
    return count + len(batch)


# --- searching -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hit:
    article_id: int
    score: float


def search(query: str, *, language: str = "", public_only: bool = True,
           limit: int = 20) -> list[Hit]:
    """Published articles matching every term of ``query`` (as prefixes of stems, with a
    typo forgiven in each term that matches nothing), best first."""
    if connection.vendor != "sqlite":
        return _search_postgres(query, language, public_only, limit)
    words = terms(query, language)[:12]
    if not words:
        return []
    words = [_closest_indexed(word) for word in words]
    return _search_sqlite(words, language, public_only, limit)


def _search_sqlite(words: list[str], language: str, public_only: bool,
                   limit: int) -> list[Hit]:
    match = " ".join(f'"{word}"*' for word in words)
    rank = "bm25(search_articles, 3.0, 1.0)"
    conditions, params = [], []
    if language:
        conditions.append("language = %s")
        params.append(language)
    if public_only:
        conditions.append("visibility = 'public'")
    with connection.cursor() as cursor:
        rows: list = []
        if conditions:
            # bm25 reads only the index, but the language and visibility are stored rows of
            # their own, one lookup per match: for a common word most of the time. So they are
            # read for the best few hundred matches only (the order among those that pass is
            # the order they have among all), and for every match when too few of them pass.
            cursor.execute(
                f"SELECT ranked.id, ranked.score FROM (SELECT rowid AS id, {rank} AS score "
                f"FROM search_articles WHERE search_articles MATCH %s ORDER BY score "
                f"LIMIT %s) AS ranked JOIN search_articles ON search_articles.rowid = ranked.id "
                f"WHERE {' AND '.join(conditions)} ORDER BY ranked.score LIMIT %s",
                [match, max(RANK_DEPTH, limit), *params, limit])
            rows = cursor.fetchall()
        if len(rows) < limit:
            where = "".join(f" AND {condition}" for condition in conditions)
            cursor.execute(f"SELECT rowid, {rank} FROM search_articles "
                           f"WHERE search_articles MATCH %s{where} ORDER BY {rank} LIMIT %s",
                           [match, *params, limit])
            rows = cursor.fetchall()
    # bm25 is lower for better matches: the score people read is its opposite.
    return [Hit(pk, round(-rank, 4)) for pk, rank in rows]


def _closest_indexed(word: str) -> str:
    """SQLite: the word itself when some indexed word starts with it, else the indexed word
    one edit away (the most frequent), else the word."""
    if len(word) < 4:
        return word
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM search_articles_vocab WHERE term >= %s AND term < %s "
                       "LIMIT 1", [word, word + "\uffff"])
        if cursor.fetchone():
            return word
        # The vocabulary counts a word's articles by reading its whole list: only the terms
        # are read here (those of the same first letter), and counted once found near.
        cursor.execute("SELECT term FROM search_articles_vocab WHERE term >= %s AND term < %s "
                       "AND length(term) BETWEEN %s AND %s",
                       [word[0], word[0] + "\uffff", len(word) - 1, len(word) + 1])
        near = [term for (term,) in cursor.fetchall() if _one_edit(word, term)]
        if not near:
            return word
        cursor.execute(f"SELECT term, doc FROM search_articles_vocab WHERE term IN "
                       f"({', '.join(['%s'] * len(near))})", near)
        return max((count, term) for term, count in cursor.fetchall())[1]


def _one_edit(a: str, b: str) -> bool:
    """Whether b is a within one insertion, deletion, substitution or transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                                   and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _search_postgres(query: str, language: str, public_only: bool, limit: int) -> list[Hit]:
    words = _PG_TERM.findall(fold(query))[:12]
    if not words:
        return []
    hits = _ranked_postgres(words, language, public_only, limit)
    if hits:
        return hits
    corrected = [_closest_word(word, language) for word in words]
    if corrected == words:
        return hits
    return _ranked_postgres(corrected, language, public_only, limit)


def tsquery_text(words: list[str], config: str) -> str:
    """``to_tsquery`` input for ``words`` (letters and digits only): each a prefix, all
    required."""
    parts = []
    for word in words:
        if config == CONFIGS["es"] and word.endswith("ion"):
            # Text is unaccented before Snowball, which strips "-ción" only with its accent:
            # "devolución" is indexed as 'devolucion', "devoluciones" as 'devolu'. The plural's
            # stem, as a prefix, finds both.
            parts.append(f"({word}:* | {word}es:*)")
        else:
            parts.append(f"{word}:*")
    return " & ".join(parts)


def _tsquery_sql(words: list[str], language: str) -> tuple[str, list[str]]:
    """A tsquery expression for ``words``: parsed with the language's configuration, or with
    every configuration, ORed, when no language is asked for."""
    configs = [_config(language)] if language else list(CONFIGS.values())
    sql = " || ".join(["to_tsquery(%s::regconfig, %s)"] * len(configs))
    return f"({sql})", [p for config in configs for p in (config, tsquery_text(words, config))]


def _ranked_postgres(words: list[str], language: str, public_only: bool,
                     limit: int) -> list[Hit]:
    tsquery, params = _tsquery_sql(words, language)
    sql = (f"SELECT article_id, ts_rank_cd(document, query) FROM search_articles, "
           f"(SELECT {tsquery} AS query) AS parsed WHERE document @@ query")
    if language:
        sql += " AND language = %s"
        params.append(language)
    if public_only:
        sql += " AND visibility = 'public'"
    sql += " ORDER BY 2 DESC, article_id LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [Hit(pk, round(float(rank), 4)) for pk, rank in cursor.fetchall()]


def _closest_word(word: str, language: str) -> str:
    """PostgreSQL: the word itself when it matches some article (of ``language``, when given)
    or is shorter than four letters; else the indexed word most similar to it by trigrams (at
    least TYPO_SIMILARITY; the one more articles hold among equals); else the word."""
    if len(word) < 4:
        return word
    tsquery, params = _tsquery_sql([word], language)
    in_language = " AND language = %s" if language else ""
    with connection.cursor() as cursor:
        # Planned apart (MATERIALIZED), the match is a GIN lookup; an EXISTS over the table
        # itself is planned to stop at the first of the rows expected and, when none
        # matches, reads them all. ``%%`` is pg_trgm's similarity operator (``%`` once the
        # parameters are bound), the one the trigram index serves; similarity() then orders
        # the few words it finds.
        cursor.execute(
            f"WITH matching AS MATERIALIZED (SELECT 1 FROM search_articles "
            f"WHERE document @@ {tsquery}{in_language}) "
            f"SELECT EXISTS (SELECT 1 FROM matching), (SELECT word FROM search_article_words "
            f"WHERE word %% %s{in_language} AND similarity(word, %s) >= %s "
            f"ORDER BY similarity(word, %s) DESC, articles DESC, word LIMIT 1)",
            [*params, *([language] if language else []), word,
             *([language] if language else []), word, TYPO_SIMILARITY, word])
        matches, closest = cursor.fetchone()
    return word if matches or closest is None else closest


def snippet(text: str, query: str, language: str, *, width: int = 220) -> str:
    """A piece of ``text`` around the first matching word, HTML-escaped, with the matching
    words wrapped in ``<mark>``."""
    wanted = {w for w in terms(query, language) if w}
    words = list(re.finditer(r"\w+", text))
    hits = [m for m in words if any(stem(fold(m.group()), language).startswith(w)
                                    for w in wanted)]
    start = max(0, hits[0].start() - width // 3) if hits else 0
    end = min(len(text), start + width)
    piece = text[start:end]
    out, last = [], 0
    for m in re.finditer(r"\w+", piece):
        if any(stem(fold(m.group()), language).startswith(w) for w in wanted):
            out += [html.escape(piece[last:m.start()]), f"<mark>{html.escape(m.group())}</mark>"]
            last = m.end()
    out.append(html.escape(piece[last:]))
    return ("…" if start else "") + "".join(out).strip() + ("…" if end < len(text) else "")
