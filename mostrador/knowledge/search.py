"""Keyword search over published articles, behind one interface for both databases.

* SQLite: an FTS5 table ``search_articles`` (title and body columns, ``unicode61``), ranked
  with ``bm25`` (the title weighs three times the body).
* PostgreSQL: a table ``search_articles`` with a weighted ``tsvector`` (title A, body B) and a
  GIN index, ranked with ``ts_rank_cd``.

FTS5 has no Spanish stemmer, and a desk's articles come in Spanish and English, so both
backends index words reduced here (folded: lower case, no accents; then a light stemmer for the
article's language) under the language-neutral ``simple`` rules, and queries are reduced the
same way and matched as prefixes: "devoluciones" finds "devolución", "refunds" finds
"refunded". A term that matches nothing is tried again as the closest indexed word within one
typo ("factrua" → "factura").

Snippets are cut from the article's own text, with the matching words marked, so they show
what the reader will find, not the stems.

The index is kept by the listener on the knowledge base's events (an article published,
changed, unpublished or deleted); ``mostrador kb reindex`` rebuilds it.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable

from django.db import connection

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


# --- the schema (called from the migration) ------------------------------------------------


def create_schema(schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS search_articles USING fts5("
            "title, body, language UNINDEXED, visibility UNINDEXED, "
            "tokenize = 'unicode61 remove_diacritics 2')")
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS search_articles_vocab USING "
            "fts5vocab(search_articles, 'row')")
    else:
        schema_editor.execute(
            "CREATE TABLE IF NOT EXISTS search_articles ("
            "article_id bigint PRIMARY KEY, language varchar(5) NOT NULL, "
            "visibility varchar(10) NOT NULL, words text NOT NULL, "
            "document tsvector NOT NULL)")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS search_articles_doc ON search_articles "
            "USING gin(document)")


def drop_schema(schema_editor) -> None:
    schema_editor.execute("DROP TABLE IF EXISTS search_articles_vocab")
    schema_editor.execute("DROP TABLE IF EXISTS search_articles")


# --- keeping it in step --------------------------------------------------------------------


def index_articles(rows: Iterable[tuple[int, str, str, str, str]]) -> None:
    """Index (article id, language, visibility, title, body text) rows, replacing what was."""
    params = [(pk, language, visibility, _document(title, language),
               _document(body, language)) for pk, language, visibility, title, body in rows]
    if not params:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(
                "INSERT OR REPLACE INTO search_articles "
                "(rowid, language, visibility, title, body) VALUES (%s, %s, %s, %s, %s)",
                params)
        else:
            cursor.executemany(
                "INSERT INTO search_articles (article_id, language, visibility, words, "
                "document) VALUES (%s, %s, %s, %s || ' ' || %s, "
                "setweight(to_tsvector('simple', %s), 'A') || "
                "setweight(to_tsvector('simple', %s), 'B')) "
                "ON CONFLICT (article_id) DO UPDATE SET language = EXCLUDED.language, "
                "visibility = EXCLUDED.visibility, words = EXCLUDED.words, "
                "document = EXCLUDED.document",
                [(pk, lang, vis, title, body, title, body)
                 for pk, lang, vis, title, body in params])


def remove_articles(article_ids: Iterable[int]) -> None:
    ids = list(article_ids)
    if not ids:
        return
    key = "rowid" if connection.vendor == "sqlite" else "article_id"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM search_articles WHERE {key} IN "
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
    """Published articles matching every term of ``query`` (as prefixes of stems, with one
    typo forgiven per term that matches nothing), best first."""
    words = terms(query, language)[:12]
    if not words:
        return []
    words = [_closest_indexed(word) for word in words]
    if connection.vendor == "sqlite":
        return _search_sqlite(words, language, public_only, limit)
    return _search_postgres(words, language, public_only, limit)


def _search_sqlite(words: list[str], language: str, public_only: bool,
                   limit: int) -> list[Hit]:
    match = " ".join(f'"{word}"*' for word in words)
    sql = ("SELECT rowid, bm25(search_articles, 3.0, 1.0) FROM search_articles "
           "WHERE search_articles MATCH %s")
    params: list = [match]
    if language:
        sql += " AND language = %s"
        params.append(language)
    if public_only:
        sql += " AND visibility = 'public'"
    sql += " ORDER BY bm25(search_articles, 3.0, 1.0) LIMIT %s"
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # bm25 is lower for better matches: the score people read is its opposite.
        return [Hit(pk, round(-rank, 4)) for pk, rank in cursor.fetchall()]


def _search_postgres(words: list[str], language: str, public_only: bool,
                     limit: int) -> list[Hit]:
    tsquery = " & ".join(f"{word}:*" for word in words)
    sql = ("SELECT article_id, ts_rank_cd(document, query) FROM search_articles, "
           "to_tsquery('simple', %s) query WHERE document @@ query")
    params: list = [tsquery]
    if language:
        sql += " AND language = %s"
        params.append(language)
    if public_only:
        sql += " AND visibility = 'public'"
    sql += " ORDER BY 2 DESC, article_id LIMIT %s"
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Hit(pk, round(float(rank), 4)) for pk, rank in cursor.fetchall()]


def _closest_indexed(word: str) -> str:
    """The word itself when some indexed word starts with it, else the indexed word one edit
    away (the most frequent), else the word."""
    if len(word) < 4:
        return word
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM search_articles_vocab WHERE term >= %s AND term < %s "
                           "LIMIT 1", [word, word + "\uffff"])
            if cursor.fetchone():
                return word
            cursor.execute("SELECT term, doc FROM search_articles_vocab "
                           "WHERE length(term) BETWEEN %s AND %s AND substr(term, 1, 1) = %s",
                           [len(word) - 1, len(word) + 1, word[0]])
        else:
            cursor.execute("SELECT 1 FROM search_articles WHERE document @@ "
                           "to_tsquery('simple', %s) LIMIT 1", [f"{word}:*"])
            if cursor.fetchone():
                return word
            cursor.execute("SELECT word, count(*) FROM search_articles, "
                           "regexp_split_to_table(words, ' ') word "
                           "WHERE length(word) BETWEEN %s AND %s AND left(word, 1) = %s "
                           "GROUP BY word", [len(word) - 1, len(word) + 1, word[0]])
        near = [(count, term) for term, count in cursor.fetchall() if _one_edit(word, term)]
    return max(near)[1] if near else word


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
