"""PostgreSQL's article search with its own language configurations and trigram typo
tolerance (see ``mostrador/knowledge/search.py``); nothing changes on SQLite.

Forwards: the ``unaccent`` and ``pg_trgm`` extensions (trusted since PostgreSQL 13: a role
with CREATE on the database may create them); the text search configurations ``mostrador_es``
and ``mostrador_en``, copies of ``spanish`` and ``english`` that remove accents before
stemming; ``search_articles`` made again (a document per article in its language's
configuration) and filled from the published articles; ``search_article_word_lists`` (the
folded words of each indexed article) and ``search_article_words`` (each folded word of the
index, per language, with the number of articles holding it) under a GIN trigram index.

Backwards: the tables as 0002 made them, filled with folded words (not the stems the search of
that time wrote: it matched stems as prefixes, so it finds these; its ``mostrador kb reindex``
writes the stems). The extensions stay: other objects may use them, and unused they cost
nothing.
"""

from django.db import migrations

_CONFIG_OF_LANGUAGE = ("CASE language WHEN 'es' THEN 'mostrador_es' WHEN 'en' THEN "
                       "'mostrador_en' ELSE 'simple' END::regconfig")

FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Only these token types can hold letters with accents; the others keep the copied rules.
    "CREATE TEXT SEARCH CONFIGURATION mostrador_es (COPY = pg_catalog.spanish)",
    "ALTER TEXT SEARCH CONFIGURATION mostrador_es ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, spanish_stem",
    "CREATE TEXT SEARCH CONFIGURATION mostrador_en (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION mostrador_en ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, english_stem",
    "DROP TABLE search_articles",
    # Only what a search reads, so that a row stays small and in line (no TOAST): ranking a
    # common word reads every matching row.
    "CREATE TABLE search_articles (article_id bigint PRIMARY KEY, "
    "language varchar(5) NOT NULL, visibility varchar(10) NOT NULL, "
    "document tsvector NOT NULL)",
    "CREATE INDEX search_articles_doc ON search_articles USING gin (document)",
    # The folded words of each indexed article: what to count down when it changes or goes.
    "CREATE TABLE search_article_word_lists (article_id bigint PRIMARY KEY, "
    "language varchar(5) NOT NULL, words text[] NOT NULL)",
    "CREATE TABLE search_article_words (language varchar(5) NOT NULL, word text NOT NULL, "
    "articles integer NOT NULL, PRIMARY KEY (language, word))",
    "CREATE INDEX search_article_words_trgm ON search_article_words "
    "USING gin (word gin_trgm_ops)",
    # What ``search.index_articles`` writes, in SQL (words folded by unaccent and lower rather
    # than by Python; ``mostrador kb reindex`` makes them exactly alike).
    "INSERT INTO search_articles (article_id, language, visibility, document) "
    "SELECT id, language, visibility, setweight(to_tsvector(config, title), 'A') || "
    "setweight(to_tsvector(config, left(body_text, 100000)), 'B') "
    f"FROM (SELECT *, {_CONFIG_OF_LANGUAGE} AS config FROM knowledge_article "
    "WHERE status = 'published') AS published",
    "INSERT INTO search_article_word_lists (article_id, language, words) "
    "SELECT id, language, ARRAY(SELECT DISTINCT word FROM regexp_split_to_table("
    "lower(unaccent(title || ' ' || left(body_text, 100000))), '[^[:alnum:]]+') AS word "
    "WHERE length(word) BETWEEN 3 AND 30 AND word !~ '^[0-9]+$' ORDER BY word) "
    "FROM knowledge_article WHERE status = 'published'",
    "INSERT INTO search_article_words (language, word, articles) "
    "SELECT language, word, count(*) FROM search_article_word_lists, unnest(words) AS word "
    "GROUP BY language, word",
]

BACKWARDS = [
    "DROP TABLE search_article_words",
    "DROP TABLE search_article_word_lists",
    "DROP TABLE search_articles",
    "DROP TEXT SEARCH CONFIGURATION mostrador_es",
    "DROP TEXT SEARCH CONFIGURATION mostrador_en",
    "CREATE TABLE search_articles (article_id bigint PRIMARY KEY, "
    "language varchar(5) NOT NULL, visibility varchar(10) NOT NULL, words text NOT NULL, "
    "document tsvector NOT NULL)",
    "CREATE INDEX search_articles_doc ON search_articles USING gin (document)",
    "INSERT INTO search_articles (article_id, language, visibility, words, document) "
    "SELECT id, language, visibility, regexp_replace(lower(unaccent(title || ' ' || "
    "left(body_text, 100000))), '[^[:alnum:]]+', ' ', 'g'), "
    "setweight(to_tsvector('simple', unaccent(title)), 'A') || "
    "setweight(to_tsvector('simple', unaccent(left(body_text, 100000))), 'B') "
    "FROM knowledge_article WHERE status = 'published'",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARDS:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARDS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_article_passages")]
    operations = [migrations.RunPython(forwards, backwards)]
