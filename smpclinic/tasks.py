"""Background tasks of the site itself (the clinic's own are in cases/tasks.py)."""

from __future__ import annotations

from django.contrib.auth.forms import PasswordResetForm
from django_tasks import task

from smpclinic.mail import clinic_sender
from smpclinic.models import ClinicSettings


@task()
def send_password_reset(email: str, domain: str, use_https: bool) -> int:
    """Send the reset link to the active accounts with this address (none, if there is no
    such account). Run outside the request, so the request takes as long whether or not
    the address has an account. Returns how many e-mails were sent."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(email))
    if users:
        clinic = ClinicSettings.load()
        form.save(
            domain_override=domain,
            use_https=use_https,
            from_email=clinic_sender(clinic),
            extra_email_context={"clinic": clinic},
            email_template_name="registration/password_reset_email.html",
            subject_template_name="registration/password_reset_subject.txt",
        )
    return len(users)
