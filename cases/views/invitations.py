"""Portal invitations: staff send one from the client page; the client opens the link.

The link page answers a link that cannot be used with a page saying what happened and
what to do, and a 4xx status so nothing (browsers, link checkers, tests) mistakes it
for a working page:
- 404 for a token the clinic never issued (mistyped, cut off by a mail program, tampered
  with): there is no such link;
- 410 Gone for a link that existed but is spent: used, replaced by a newer invitation,
  or expired. It will never work again, so the page asks for a new one.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from cases.access import get_client_for_user
from cases.services import invitations as services
from cases.services.invitations import LinkState
from smpclinic.http import site_url
from smpclinic.models import ClinicSettings
from smpclinic.roles import staff_required

REFUSED_STATUS = {
    LinkState.UNKNOWN: 404,
    LinkState.USED: 410,
    LinkState.REVOKED: 410,
    LinkState.EXPIRED: 410,
}


@staff_required
@require_POST
def client_invite(request, client_id):
    client = get_client_for_user(request.user, client_id)
    resend = client.invitations.exists()
    try:
        invitation = services.invitation_send(client=client, by=request.user, base_url=site_url(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        what = "A new invitation" if resend else "An invitation"
        messages.success(
            request,
            f"{what} to the portal was sent to {invitation.sent_to}. "
            f"The link works once, until {timezone.localtime(invitation.expires_at):%-d %b %Y %H:%M}"
            + ("; the earlier link no longer works." if resend else "."),
        )
    return redirect("cases:client_detail", client_id=client.public_id)


def _refused(request, state: LinkState):
    context = {"state": state.value, "clinic": ClinicSettings.load()}
    return render(request, "portal/invitation_refused.html", context, status=REFUSED_STATUS[state])


@login_not_required
@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request, token):
    check = services.invitation_check(token)
    if check.state != LinkState.VALID:
        return _refused(request, check.state)
    user = check.invitation.client.user
    if user is None:  # the login was unlinked from the client after the invitation was sent
        return _refused(request, LinkState.REVOKED)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_use(token=token, password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            return _refused(request, LinkState(error.code))
        login(request, user, backend="smpclinic.auth_backends.ModelBackend")
        messages.success(request, "Your password is set and you are logged in. Welcome to your portal.")
        return redirect(reverse("cases:portal_plan"))
    context = {
        "form": form,
        "username": user.get_username(),
        "client": check.invitation.client,
        "clinic": ClinicSettings.load(),
    }
    return render(request, "portal/invitation_accept.html", context)
