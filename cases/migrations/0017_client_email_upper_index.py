"""An index on the upper-cased e-mail address, for the client search by a whole address.

The search compares `UPPER(email)` with the upper-cased address, which the plain B-tree
index on `email` cannot serve; this one can, on PostgreSQL and SQLite alike.
"""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_laser_session_skin_type"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="client",
            index=models.Index(django.db.models.functions.text.Upper("email"), name="client_email_upper"),
        ),
    ]
