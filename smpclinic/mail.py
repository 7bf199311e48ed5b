"""What every e-mail the clinic sends has in common: the clinic's name as the sender."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.contrib.auth import views as auth_views

from smpclinic.audit import login_event
from smpclinic.models import ClinicSettings, LoginEvent


def clinic_sender(clinic: ClinicSettings) -> str:
    """“<clinic name> <DEFAULT_FROM_EMAIL>”: the address from settings, the clinic's name."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((clinic.name, address or settings.DEFAULT_FROM_EMAIL))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, with the e-mail sent in the clinic's name."""

    def form_valid(self, form):
        clinic = ClinicSettings.load()
        self.from_email = clinic_sender(clinic)
        self.extra_email_context = {"clinic": clinic}
        login_event(LoginEvent.Kind.PASSWORD_RESET_REQUESTED, request=self.request, username=form.cleaned_data["email"])
        return super().form_valid(form)
