"""Full-text search over message text, behind one interface for both databases.

* SQLite: an FTS5 table ``search_messages`` (``unicode61 remove_diacritics 2``), rowid = message.
* PostgreSQL: a table ``search_messages`` with a ``tsvector`` column and a GIN index.

FTS5 has no Spanish stemmer and Spanish and English share one desk, so both backends index with
the language-neutral ``simple`` rules on text folded here (lower case, accents removed) and every
query term matches as a prefix: ``factura`` finds "facturas" and "facturación", ``envio`` finds
"envío". The actions keep the index in step; nothing else writes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.db import connection

MAX_INDEXED_CHARS = 20_000
_TERM_RE = re.compile(r"\w+", re.UNICODE)
_COMBINING = frozenset(range(0x300, 0x370))


def fold(text: str) -> str:
    """Lower-case and strip accents (ñ becomes n: customers type both)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ord(ch) not in _COMBINING)


def query_terms(query: str) -> list[str]:
    return _TERM_RE.findall(fold(query))[:12]


def create_schema(schema_editor) -> None:
    """Called from the migration; builds the backend's own search table."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS search_messages USING fts5("
            "body, conversation_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        schema_editor.execute(
            "CREATE TABLE IF NOT EXISTS search_messages ("
            "message_id bigint PRIMARY KEY, conversation_id bigint NOT NULL, "
            "document tsvector NOT NULL)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS search_messages_doc ON search_messages USING gin(document)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS search_messages_conv ON search_messages (conversation_id)"
        )


def drop_schema(schema_editor) -> None:
    schema_editor.execute("DROP TABLE IF EXISTS search_messages")


def index_messages(rows: Iterable[tuple[int, int, str]]) -> None:
    """Index (message id, conversation id, text) rows; re-indexing a message replaces it."""
    params = [(mid, cid, fold(text[:MAX_INDEXED_CHARS])) for mid, cid, text in rows if text]
    if not params:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(
                "INSERT OR REPLACE INTO search_messages (rowid, conversation_id, body) "
                "VALUES (%s, %s, %s)", params)
        else:
            cursor.executemany(
                "INSERT INTO search_messages (message_id, conversation_id, document) "
                "VALUES (%s, %s, to_tsvector('simple', %s)) ON CONFLICT (message_id) DO UPDATE "
                "SET conversation_id = EXCLUDED.conversation_id, document = EXCLUDED.document",
                params)


def move_conversation(source_id: int, target_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE search_messages SET conversation_id = %s "
                       "WHERE conversation_id = %s", [target_id, source_id])


def move_message(message_id: int, conversation_id: int) -> None:
    """A message changed conversation (split off): its document follows it."""
    key = "rowid" if connection.vendor == "sqlite" else "message_id"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE search_messages SET conversation_id = %s WHERE {key} = %s",
                       [conversation_id, message_id])


def conversation_ids_sql(query: str) -> tuple[str, list[str]] | None:
    """SQL selecting the ids of conversations matching every term, for ``id IN (…)``.

    None when the query has no searchable term.
    """
    terms = query_terms(query)
    if not terms:
        return None
    if connection.vendor == "sqlite":
        match = " ".join(f'"{term}"*' for term in terms)
        return ("SELECT conversation_id FROM search_messages WHERE search_messages MATCH %s",
                [match])
    tsquery = " & ".join(f"{term}:*" for term in terms)
    return ("SELECT conversation_id FROM search_messages "
            "WHERE document @@ to_tsquery('simple', %s)", [tsquery])
