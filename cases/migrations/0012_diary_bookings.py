"""The diary: bookings and calendar feeds.

No double booking is the database's rule on PostgreSQL: one exclusion constraint per
resource (person, room, laser device) refuses two bookings that hold their slot
(booked or completed) and overlap in time, `[starts_at, ends_at)` as a tstzrange, with
btree_gist for the equality part. SQLite has no exclusion constraint: there
`cases.services.diary` checks under a lock in the same transaction, which it also does
on PostgreSQL to say which booking is in the way. The constraints are not declared in
the model's Meta (Django would try to create them on SQLite), so this migration adds
them on PostgreSQL only and the model state never sees them.
"""

import uuid

import cases.models.diary
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import migrations, models

# As in cases/models/diary.py when this migration was written.
HOLDS_SLOT = models.Q(status__in=("booked", "completed"))
OVERLAP_CONSTRAINTS = {
    "person": "booking_person_no_overlap",
    "room": "booking_room_no_overlap",
    "device": "booking_device_no_overlap",
}


def overlap_constraints():
    from django.contrib.postgres.fields.ranges import DateTimeRangeField
    from django.db.models import F, Func, Value

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return [
        ExclusionConstraint(
            name=name,
            expressions=[
                (F(field), RangeOperators.EQUAL),
                (TsTzRange("starts_at", "ends_at", Value("[)")), RangeOperators.OVERLAPS),
            ],
            condition=HOLDS_SLOT,
            violation_error_message="This booking overlaps another of the same person, room or device.",
        )
        for field, name in OVERLAP_CONSTRAINTS.items()
    ]


def add_overlap_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # btree_gist lets a GiST index compare the person, room and device ids for equality;
    # a trusted extension since PostgreSQL 13, so the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    booking = apps.get_model("cases", "Booking")
    for constraint in overlap_constraints():
        schema_editor.add_constraint(booking, constraint)


def remove_overlap_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    booking = apps.get_model("cases", "Booking")
    for constraint in overlap_constraints():
        schema_editor.remove_constraint(booking, constraint)


class Migration(migrations.Migration):
    dependencies = [
        ("artists", "0002_date_bounds"),
        ("cases", "0011_photo_file_sha256"),
        ("smpclinic", "0007_diary_rooms_hours_durations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalBooking",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("public_id", models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, editable=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("laser", "Laser session"),
                            ("correction", "Correction session"),
                            ("follow_up", "Follow-up"),
                        ],
                        max_length=12,
                    ),
                ),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("booked", "Booked"),
                            ("completed", "Completed"),
                            ("not_attended", "Not attended"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="booked",
                        max_length=12,
                    ),
                ),
                (
                    "change_reason",
                    models.CharField(
                        blank=True,
                        help_text="Why it was last moved or cancelled (its history keeps every one).",
                        max_length=500,
                    ),
                ),
                (
                    "hours_override_reason",
                    models.CharField(
                        blank=True,
                        help_text="Why a manager booked it outside opening hours or on a closure day.",
                        max_length=500,
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "correction_session",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.correctionsession",
                    ),
                ),
                (
                    "device",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.laserdevice",
                    ),
                ),
                (
                    "follow_up",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.followup",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "hours_overridden_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "laser_session",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.lasersession",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="artists.artist",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="smpclinic.room",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical booking",
                "verbose_name_plural": "historical bookings",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Booking",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("laser", "Laser session"),
                            ("correction", "Correction session"),
                            ("follow_up", "Follow-up"),
                        ],
                        max_length=12,
                    ),
                ),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("booked", "Booked"),
                            ("completed", "Completed"),
                            ("not_attended", "Not attended"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="booked",
                        max_length=12,
                    ),
                ),
                (
                    "change_reason",
                    models.CharField(
                        blank=True,
                        help_text="Why it was last moved or cancelled (its history keeps every one).",
                        max_length=500,
                    ),
                ),
                (
                    "hours_override_reason",
                    models.CharField(
                        blank=True,
                        help_text="Why a manager booked it outside opening hours or on a closure day.",
                        max_length=500,
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="bookings", to="cases.case"
                    ),
                ),
                (
                    "correction_session",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="booking",
                        to="cases.correctionsession",
                    ),
                ),
                (
                    "device",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bookings",
                        to="cases.laserdevice",
                    ),
                ),
                (
                    "follow_up",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="booking",
                        to="cases.followup",
                    ),
                ),
                (
                    "hours_overridden_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "laser_session",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="booking",
                        to="cases.lasersession",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="bookings", to="artists.artist"
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bookings",
                        to="smpclinic.room",
                    ),
                ),
            ],
            options={
                "ordering": ["starts_at", "pk"],
                "indexes": [
                    models.Index(fields=["starts_at"], name="booking_starts_at"),
                    models.Index(fields=["person", "starts_at"], name="booking_person_starts_at"),
                    models.Index(fields=["room", "starts_at"], name="booking_room_starts_at"),
                    models.Index(fields=["case", "starts_at"], name="booking_case_starts_at"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                        name="booking_ends_after_start",
                        violation_error_message="A booking ends after it starts.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("correction_session__isnull", True),
                                ("kind", "laser"),
                                ("laser_session__isnull", False),
                            ),
                            models.Q(
                                ("correction_session__isnull", False),
                                ("kind", "correction"),
                                ("laser_session__isnull", True),
                            ),
                            models.Q(
                                ("correction_session__isnull", True),
                                ("follow_up__isnull", False),
                                ("kind", "follow_up"),
                                ("laser_session__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="booking_names_its_appointment",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "token",
                    models.CharField(
                        default=cases.models.diary.new_feed_token, editable=False, max_length=64, unique=True
                    ),
                ),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "client",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="calendar_feeds",
                        to="cases.client",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="calendar_feeds",
                        to="artists.artist",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("client__isnull", False), ("person__isnull", True)),
                            models.Q(("client__isnull", True), ("person__isnull", False)),
                            _connector="OR",
                        ),
                        name="calendarfeed_one_owner",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("client",),
                        name="calendarfeed_one_live_per_client",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("person",),
                        name="calendarfeed_one_live_per_person",
                    ),
                ],
            },
        ),
        migrations.RunPython(add_overlap_constraints, remove_overlap_constraints),
    ]
