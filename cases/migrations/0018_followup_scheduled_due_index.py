"""A partial index of the live scheduled follow-ups in due order, with their case.

The review queue counts its overdue and due-soon lists (up to 101 rows each) from this
index alone; counted from the wider indexes, a filter that leaves no row made PostgreSQL
join every follow-up to every case. SQLite makes it without the included column.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0017_client_email_upper_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True), ("status", "scheduled")),
                fields=["due_on", "id"],
                include=("case",),
                name="followup_scheduled_due",
            ),
        ),
    ]
