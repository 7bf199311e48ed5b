"""What every e-mail the clinic sends has in common: the clinic's name as the sender and,
when the clinic has uploaded one, its logo at the top of the HTML part."""

from __future__ import annotations

from email.mime.image import MIMEImage
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from smpclinic.audit import login_event
from smpclinic.models import ClinicSettings, LoginEvent


def clinic_sender(clinic: ClinicSettings) -> str:
    """“<clinic name> <DEFAULT_FROM_EMAIL>”: the address from settings, the clinic's name."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((clinic.name, address or settings.DEFAULT_FROM_EMAIL))


# The HTML part shows the logo as <img src="cid:clinic-logo">: the image travels inside the
# message (a "related" part), so no mail program has to fetch anything from the clinic's site.
LOGO_CONTENT_ID = "clinic-logo"
LOGO_SRC = f"cid:{LOGO_CONTENT_ID}"


def attach_logo(message, logo: bytes | None) -> None:
    """Put the logo inside `message` (an EmailMultiAlternatives whose HTML refers to LOGO_SRC)."""
    if logo is None:
        return
    image = MIMEImage(logo, "png")
    image.add_header("Content-ID", f"<{LOGO_CONTENT_ID}>")
    image.add_header("Content-Disposition", "inline", filename="logo.png")
    message.mixed_subtype = "related"
    message.attach(image)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page; the e-mail (in the clinic's name) goes through the task queue,
    whether or not the address has an account, so both answers take the same time and
    say the same thing."""

    def form_valid(self, form):
        from smpclinic.tasks import send_password_reset  # the task module imports this one

        email = form.cleaned_data["email"]
        login_event(LoginEvent.Kind.PASSWORD_RESET_REQUESTED, request=self.request, username=email)
        domain, secure = self.request.get_host(), self.request.is_secure()
        send_password_reset.enqueue(email, domain, secure)  # reads no row this request writes
        return HttpResponseRedirect(self.get_success_url())
