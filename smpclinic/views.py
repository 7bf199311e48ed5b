"""Site-wide answers that belong to no area."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from smpclinic import roles, services
from smpclinic.forms import ClinicSettingsForm, add_service_errors
from smpclinic.models import ClinicSettings

FAVICON = "favicon.ico"


@login_not_required
@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request):
    """/favicon.ico, which browsers ask for on every site whatever the page links: the
    clinic's icon from static/, to anyone (a 404 here filled the logs on every page)."""
    path = finders.find(FAVICON)
    if path is None:
        raise Http404("No favicon.")
    return FileResponse(open(path, "rb"), content_type="image/x-icon")


SETTINGS_HISTORY = 10


@roles.required(roles.CHANGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def clinic_settings(request):
    """The clinic's Settings page: details, rule values, sign-in rules, and who changed
    what lately (the record's history)."""
    stored = ClinicSettings.load()
    form = ClinicSettingsForm(request.POST or None, instance=stored)
    if request.method == "POST" and form.is_valid():
        try:
            services.clinic_settings_update(settings=form.instance, by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The clinic settings are saved.")
            return redirect("clinic_settings")
    changes = ClinicSettings.recent_changes(SETTINGS_HISTORY, fields=ClinicSettingsForm.Meta.fields)
    return render(request, "smpclinic/settings.html", {"form": form, "changes": changes})


def server_error(request):
    """The 500 page, with the request's id so staff can quote it when they report the
    problem; it matches the error's lines in the log. Rendered without the request's
    context processors: they read the database, which may be what failed."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": getattr(request, "request_id", "")}))
