from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from smpclinic.models import Timestamped

from .clients import Client


class PortalInvitation(Timestamped):
    """A one-time link that lets a client set the password of their portal account.

    Only the SHA-256 of the token is stored: the link in the e-mail is the one copy of
    the token. An invitation is good until it expires, is used, or is revoked by a
    newer one.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_to = models.EmailField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="invitation_expires_after_creation",
                violation_error_message="An invitation must expire after it is created.",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.client} ({self.sent_to})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
