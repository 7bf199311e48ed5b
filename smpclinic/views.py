"""Site-wide answers that belong to no area."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from smpclinic import roles, services
from smpclinic.forms import ClinicSettingsForm, ClosureForm, OpeningHoursForm, RoomForm, add_service_errors
from smpclinic.models import ClinicSettings, Closure, OpeningHours, Room

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
    # The logo is changed on its own page (cases:clinic_logo_edit) and listed here too.
    changes = ClinicSettings.recent_changes(SETTINGS_HISTORY, fields=(*ClinicSettingsForm.Meta.fields, "logo"))
    return render(request, "smpclinic/settings.html", {"form": form, "changes": changes})


@roles.required(roles.CHANGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def diary_settings(request):
    """The diary's opening hours, rooms and closure days (docs/diary.md). The lengths of
    bookings are on the Settings page with the other rule values."""
    action = request.POST.get("action") if request.method == "POST" else None
    stored = {row.weekday: row for row in OpeningHours.objects.all()}
    hour_forms = [
        OpeningHoursForm(
            request.POST if action == "hours" else None,
            prefix=f"day{weekday}",
            initial={
                "is_open": weekday in stored,
                "opens": stored[weekday].opens if weekday in stored else None,
                "closes": stored[weekday].closes if weekday in stored else None,
            },
        )
        for weekday in range(7)
    ]
    room_form = RoomForm(request.POST if action == "room" else None)
    closure_form = ClosureForm(request.POST if action == "closure" else None)
    done = None
    try:
        if action == "hours" and all(form.is_valid() for form in hour_forms):
            services.opening_hours_set(
                hours={weekday: form.hours() for weekday, form in enumerate(hour_forms)}, by=request.user
            )
            done = "The opening hours are saved."
        elif action == "room" and room_form.is_valid():
            services.room_add(by=request.user, **room_form.cleaned_data)
            done = "Room added."
        elif action == "archive_room":
            room = get_object_or_404(Room.objects.active(), public_id=request.POST.get("room"))
            services.room_archive(room=room, by=request.user)
            done = f"{room} is archived: new bookings cannot use it."
        elif action == "closure" and closure_form.is_valid():
            services.closure_add(by=request.user, **closure_form.cleaned_data)
            done = "Closure day added."
        elif action == "remove_closure":
            closure = get_object_or_404(Closure, pk=request.POST.get("closure") or 0)
            services.closure_remove(closure=closure, by=request.user)
            done = "Closure day removed."
    except ValidationError as error:
        add_service_errors(room_form if action == "room" else closure_form, error)
    except ValueError:
        raise Http404("No such record.") from None
    if done:
        messages.success(request, done)
        return redirect("diary_settings")
    context = {
        "hour_forms": list(zip(OpeningHours.Weekday.labels, hour_forms, strict=True)),
        "room_form": room_form,
        "closure_form": closure_form,
        "rooms": Room.objects.active(),
        "closures": Closure.objects.filter(day__gte=timezone.localdate()),
    }
    return render(request, "smpclinic/diary_settings.html", context)


def server_error(request):
    """The 500 page, with the request's id so staff can quote it when they report the
    problem; it matches the error's lines in the log. Rendered without the request's
    context processors: they read the database, which may be what failed."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": getattr(request, "request_id", "")}))
