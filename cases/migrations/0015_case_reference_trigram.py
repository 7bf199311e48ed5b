"""A trigram index on case references for the client search on PostgreSQL.

A search word that is part of a reference (SMP-2026-12, 2026-0042, 0042) finds the
clients of the cases whose reference contains it: `icontains`, which PostgreSQL runs as
`UPPER(reference) LIKE UPPER('%word%')` and a B-tree index cannot serve. A GIN index of
trigrams (pg_trgm, created by migration 0009) on the upper-cased reference does. SQLite
has none and scans, which is fine at the size of clinic SQLite is for.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS case_reference_trgm ON cases_case "
        "USING gin ((UPPER(reference::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS case_reference_trgm")


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_home_lead_status_index")]

    operations = [migrations.RunPython(create, drop)]
