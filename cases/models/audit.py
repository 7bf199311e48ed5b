"""Who saw what: an append-only record of every read of a client's data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from smpclinic.models import AppendOnly


class AccessEvent(AppendOnly):
    """One read of clinical data (a page, a file, a PDF or CSV, an export) or one refused
    attempt at someone else's. Written once, never changed or deleted."""

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed"
        DOWNLOADED = "downloaded", "Downloaded"
        EXPORTED = "exported", "Exported (subject access)"
        DENIED = "denied", "Refused"

    at = models.DateTimeField(default=timezone.now, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    what = models.CharField(max_length=40, help_text='What was read: "client", "case", "plan", "photo file"...')
    object_id = models.CharField(max_length=64, blank=True, help_text="The record's public id.")
    client = models.ForeignKey(
        "cases.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    path = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The HTTP status answered.")
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at"], name="accessevent_at"),
            models.Index(fields=["client", "-at"], name="accessevent_client_at"),
            models.Index(fields=["user", "-at"], name="accessevent_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.what} {self.object_id} at {self.at:%Y-%m-%d %H:%M}"
