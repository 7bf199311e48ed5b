"""The client list's order: last and first names lower-cased, then the id, so that "de Vries"
sorts among the D's rather than after every capitalised name (byte order on PostgreSQL's
C collation and on SQLite). The list walks this index a page at a time; the index on the
names as written stays for the models' default ordering (the admin's changelist)."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0020_client_search_unaccented"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="client",
            index=models.Index(
                django.db.models.functions.text.Lower("last_name"),
                django.db.models.functions.text.Lower("first_name"),
                models.F("id"),
                name="client_list_order",
            ),
        ),
    ]
