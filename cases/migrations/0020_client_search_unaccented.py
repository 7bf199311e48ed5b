"""Accent-insensitive client search on PostgreSQL: "Lopez" finds López.

The `unaccent` extension (shipped with PostgreSQL, trusted since version 13, so the
database owner may create it) gives `unaccent()`, which PostgreSQL declares STABLE: an
index cannot be built on it. `smp_unaccent(text)` wraps it with its dictionary named, as
IMMUTABLE, as PostgreSQL's documentation suggests for this use. Trigram indexes of the
first and last names without their accents, the expression the search compares
(`smpclinic.unaccent`), join those of migration 0009 on the names as written, which the
admin's search (the start of a name, accents included) still reads. SQLite has the
function from the app, registered on each connection, and no index.
"""

from django.db import migrations

NAMES = ("first_name", "last_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        schema = cursor.fetchone()[0]
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION smp_unaccent(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        f"AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
    )
    for column in NAMES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS client_search_{column}_unaccented_trgm ON cases_client "
            f"USING gin ((UPPER(smp_unaccent({column})::text)) gin_trgm_ops) WHERE archived_at IS NULL"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS client_search_{column}_unaccented_trgm")
    schema_editor.execute("DROP FUNCTION IF EXISTS smp_unaccent(text)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0019_followup_unexpected_side_effects")]

    operations = [migrations.RunPython(create, drop)]
