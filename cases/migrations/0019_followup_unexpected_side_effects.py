"""Whether a follow-up records a side effect other than the expected transient reactions,
as a column of the follow-up (kept by every change to its side effects from now on),
filled in here from the side effects already recorded.

The review queue tells adverse findings from the rest with it; worked out by a subquery,
each of its walks read every follow-up's side effects. Its index of the rows awaiting
review now holds what the queue's counts filter on (the case, the healing and this
flag), so they are counted from the index alone. SQLite makes it without them.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef

# The transient reactions expected after laser (AdverseEventChoice.expected() when this
# migration was written): any other side effect is unexpected.
EXPECTED = ("erythema", "oedema", "crusting")


def fill(apps, schema_editor):
    FollowUp = apps.get_model("cases", "FollowUp")
    links = FollowUp.side_effects.through.objects.filter(followup_id=OuterRef("pk"))
    unexpected = links.exclude(adverseeventkind__code__in=EXPECTED)
    FollowUp.objects.filter(Exists(unexpected)).update(unexpected_side_effects=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0018_followup_scheduled_due_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="followup",
            name="unexpected_side_effects",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="historicalfollowup",
            name="unexpected_side_effects",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(model_name="followup", name="followup_awaiting_review"),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(
                    ("archived_at__isnull", True), ("reviewed_at__isnull", True), ("status__in", ["completed", "missed"])
                ),
                fields=["due_on", "id"],
                include=("case", "healing", "unexpected_side_effects"),
                name="followup_awaiting_review",
            ),
        ),
    ]
