from django.db import migrations

# The statements are written out here rather than imported from the search module: a migration
# makes the schema of its time, whatever the module later becomes (0004 rebuilds the
# PostgreSQL tables).


def create(apps, schema_editor):
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


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS search_articles_vocab")
    schema_editor.execute("DROP TABLE IF EXISTS search_articles")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
