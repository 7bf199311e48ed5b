"""Trigram indexes for the client search on PostgreSQL.

`Client.objects.search` matches parts of names, e-mail and phone (`icontains`, which
PostgreSQL runs as `UPPER(column) LIKE UPPER('%word%')`). A B-tree index cannot serve a
pattern with a leading wildcard, so at 100,000 clients every search read the whole
table. A GIN index of trigrams (pg_trgm, shipped with PostgreSQL and a trusted extension
since version 13, so the database owner may create it) on each upper-cased column of
the live clients serves them. SQLite has no such index: there the search scans, which is
fine at the size of clinic SQLite is for.
"""

from django.db import migrations

COLUMNS = ("first_name", "last_name", "email", "phone")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS client_search_{column}_trgm ON cases_client "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops) WHERE archived_at IS NULL"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS client_search_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_case_recently_changed_index")]

    operations = [migrations.RunPython(create, drop)]
