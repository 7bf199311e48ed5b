from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.choices import ReminderKind

from .clients import Client


class SentReminder(models.Model):
    """One reminder e-mail, claimed before it is sent.

    `key` names the reminder itself (what, for whom, for which date), so the unique
    constraint refuses a second claim: running the scheduler twice, or two workers at
    once, never sends the same reminder twice.
    """

    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    key = models.CharField(max_length=200, unique=True)
    recipient = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="reminders")
    subject = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-claimed_at"]
        indexes = [models.Index(fields=["kind", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"
