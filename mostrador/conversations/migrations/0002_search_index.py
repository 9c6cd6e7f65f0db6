from django.db import migrations


def create(apps, schema_editor):
    from mostrador.conversations.search import create_schema

    create_schema(schema_editor)


def drop(apps, schema_editor):
    from mostrador.conversations.search import drop_schema

    drop_schema(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
