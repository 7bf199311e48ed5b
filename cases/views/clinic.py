"""The clinic's logo: the page where a manager uploads or removes it, and the image itself."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from cases.forms.clinic import ClinicLogoForm
from smpclinic import roles, services
from smpclinic.models import ClinicSettings


@roles.required(roles.CHANGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def clinic_logo_edit(request):
    """Upload (checked and re-encoded as PNG by cases.imaging.process_logo) or remove the logo."""
    clinic = ClinicSettings.load()
    posted = request.method == "POST"
    form = ClinicLogoForm(
        request.POST if posted else None, request.FILES if posted else None, has_logo=bool(clinic.logo)
    )
    if posted and form.is_valid():
        try:
            services.clinic_logo_set(png=None if form.cleaned_data.get("remove") else form.png, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            removed = form.cleaned_data.get("remove")
            messages.success(request, "The logo is removed." if removed else "The new logo is saved.")
            return redirect("cases:clinic_logo_edit")
    return render(request, "smpclinic/clinic_logo.html", {"form": form, "clinic": clinic})


@login_not_required
@require_safe
@cache_control(public=True, max_age=24 * 3600)
def clinic_logo(request):
    """The logo as stored: always a PNG this app encoded, answered as image/png whatever was
    uploaded, never sniffed, shown inline. Anyone may fetch it (the sign-in page shows it);
    pages link it with ?v=<its hash>, so a new logo is a new URL."""
    data = ClinicSettings.cached().logo_png()
    if data is None:
        raise Http404("No logo.")
    response = HttpResponse(data, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'inline; filename="logo.png"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
