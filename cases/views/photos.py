"""Before/after photos: upload, gallery, comparison, archiving, and permission-checked files.

The three file views (photo_file, photo_screen, photo_thumb) serve any logged-in user who
may see the photo (`Photo.objects.visible_to`: clinic users any active photo, a client
only shared photos of their own cases); everyone else gets 404. Files are never under
MEDIA_URL: on disk they are streamed from here; on S3 the view redirects to a pre-signed
URL that expires within a minute.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from cases import audit
from cases.access import get_case_for_user, get_photo_for_user
from cases.choices import PhotoAngle
from cases.forms.photos import LINK_FIELDS, PhotoArchiveForm, PhotoCompareForm, PhotoUploadForm
from cases.models import Case, CorrectionSession, LaserSession, Photo
from cases.models.photos import PhotoPair
from cases.services import photos as photo_services
from smpclinic import roles
from smpclinic.forms import add_service_errors
from smpclinic.roles import staff_required

# Browser-only caching: long enough for a gallery visit, short enough that archiving or
# unsharing a photo takes effect soon even in a browser that saw it.
FILE_MAX_AGE = 600


# ---------------------------------------------------------------------------- pages


@dataclass
class AngleGroup:
    angle: str
    label: str
    photos: list[Photo]
    # Photos and the sessions between this angle's first and last photo, by date.
    timeline: list[tuple[datetime.date, str, object]] = field(default_factory=list)


def _sessions_between(case: Case, first: datetime.date, last: datetime.date) -> list[tuple[datetime.date, str, object]]:
    """(day, "laser" or "correction", session) for the case's sessions from `first` to `last`."""
    entries = [
        (session.day, kind, session)
        for kind, model in (("laser", LaserSession), ("correction", CorrectionSession))
        for session in model.objects.active().on_days(first, last).filter(case=case).not_cancelled()
    ]
    return sorted(entries, key=lambda entry: entry[2].scheduled_at)


def _group_by_angle(photos: list[Photo], sessions: list) -> list[AngleGroup]:
    """Photos per angle in the standard scalp-set order, each angle a dated timeline."""
    groups = []
    for angle, label in PhotoAngle.choices:
        of_angle = [photo for photo in photos if photo.angle == angle]
        if not of_angle:
            continue
        first, last = of_angle[0].taken_on, of_angle[-1].taken_on
        entries = [(photo.taken_on, "photo", photo) for photo in of_angle]
        entries += [entry for entry in sessions if first <= entry[0] <= last]
        # Sessions sort before photos of the same day: photos are usually taken after.
        timeline = sorted(entries, key=lambda entry: (entry[0], entry[1] == "photo"))
        groups.append(AngleGroup(angle=angle, label=label, photos=of_angle, timeline=timeline))
    return groups


@staff_required
@require_safe
def photo_gallery(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "photo gallery", case)
    photos = list(Photo.objects.of_case(case).for_gallery().for_comparison())
    sessions = _sessions_between(case, photos[0].taken_on, max(p.taken_on for p in photos)) if photos else []
    return render(
        request,
        "cases/photos/gallery.html",
        {"case": case, "groups": _group_by_angle(photos, sessions), "photo_count": len(photos)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def photo_upload(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "photo upload", case)
    if request.method == "POST":
        form = PhotoUploadForm(request.POST, request.FILES, case=case)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = photo_services.photo_upload(
                    case=case,
                    files=data["images"],
                    kind=data["kind"],
                    angle=data["angle"],
                    zone=data["zone"],
                    taken_on=data["taken_on"],
                    use_camera_date=data["use_camera_date"],
                    caption=data["caption"],
                    shared_with_client=data["shared_with_client"],
                    uploaded_by=request.user,
                    **{name: data[name] for name in LINK_FIELDS},
                )
            except ValidationError as exc:
                add_service_errors(form, exc, elsewhere="images")
            else:
                count = len(result.photos)
                messages.success(request, f"{count} photo{'s' if count != 1 else ''} added to {case.reference}.")
                for name, _photo, original in result.duplicates:
                    messages.warning(
                        request,
                        f"“{name}” is the same file as the {original} photo already in this case"
                        f"{' (archived)' if original.is_archived else ''}. It was stored anyway; "
                        "ask a manager to archive one if it was uploaded twice by mistake.",
                    )
                return redirect(f"{reverse('cases:photo_gallery', args=[case.public_id])}#angle-{data['angle']}")
        if form.errors:
            messages.error(request, "Nothing was uploaded. Correct the problems below and choose the files again.")
    else:
        form = PhotoUploadForm(initial=PhotoUploadForm.initial_from_query(request.GET), case=case)
    return render(request, "cases/photos/upload.html", {"case": case, "form": form})


@staff_required
@require_safe
def photo_compare(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "photo comparison", case)
    photos = list(Photo.objects.of_case(case).for_gallery().for_comparison())
    form = PhotoCompareForm(request.GET or None, photos=photos)
    if form.is_bound and not form.is_valid():
        # A photo id that is not one of this case's active photos.
        raise Http404("No such photo in this case.")
    pair = PhotoPair.choose(photos, **form.chosen())
    sessions = []
    if pair.a and pair.b:
        first, last = sorted([pair.a.taken_on, pair.b.taken_on])
        sessions = _sessions_between(case, first, last)
    angles = [(value, label) for value, label in PhotoAngle.choices if any(p.angle == value for p in photos)]
    return render(
        request,
        "cases/photos/compare.html",
        {
            "case": case,
            "pair": pair,
            "sessions": sessions,
            "days": pair.days,
            "form": PhotoCompareForm.showing(pair, photos=photos),
            "angles": angles,
        },
    )


@roles.required(roles.ARCHIVE)
@require_http_methods(["GET", "POST"])
def photo_archive(request, photo_id):
    photo = get_photo_for_user(request.user, photo_id)
    audit.saw(request, "photo archive", photo, client_id=photo.case.client_id)
    form = PhotoArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            photo_services.photo_archive(photo=photo, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error("reason", exc)
        else:
            messages.success(request, f"The {photo} photo was archived; its file is kept.")
            return redirect("cases:photo_gallery", case_id=photo.case.public_id)
    return render(request, "cases/photos/archive.html", {"photo": photo, "case": photo.case, "form": form})


# ---------------------------------------------------------------------------- files


IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"


def _private_headers(response: HttpResponse, *, max_age: int) -> HttpResponse:
    response["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # Other sites may not embed a clinic photo, even with the user's cookies.
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # A photo opened on its own is shown by the browser's image viewer, which styles its
    # page inline: allow that and nothing else (no scripts, no requests, no forms).
    response["Content-Security-Policy"] = IMAGE_CSP
    return response


def _serve(request, photo_id, variant: str) -> HttpResponse:
    photo = get_photo_for_user(request.user, photo_id)
    audit.downloaded(
        request, f"photo {variant}" if variant != "image" else "photo", photo, client_id=photo.case.client_id
    )
    # Until the background task has made the screen copy and thumbnail (and for rows made
    # before there were copies), their URLs serve the larger file rather than 404. Pages
    # show such a photo as "processing" instead of loading the original as a thumbnail.
    candidates = {
        "image": [photo.image],
        "screen": [photo.screen, photo.image],
        "thumb": [photo.thumbnail, photo.screen, photo.image],
    }[variant]
    file: FieldFile = next(f for f in candidates if f)
    storage = file.storage
    filename = f"{photo.public_id}-{variant}.jpg"

    if getattr(storage, "querystring_auth", False):
        # Object storage that signs its URLs (django-storages S3Storage): hand the browser
        # a URL that works for a minute instead of streaming through this process.
        url = storage.url(
            file.name,
            parameters={
                "ResponseContentType": "image/jpeg",
                "ResponseContentDisposition": f'inline; filename="{filename}"',
                "ResponseCacheControl": f"private, max-age={FILE_MAX_AGE}",
            },
        )
        return _private_headers(HttpResponseRedirect(url), max_age=0)

    etag = f'"{photo.public_id.hex}-{variant}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return _private_headers(response, max_age=FILE_MAX_AGE)
    try:
        handle = storage.open(file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404("The photo's file is missing.") from exc
    response = FileResponse(handle, content_type="image/jpeg", as_attachment=False, filename=filename)
    response["ETag"] = etag
    return _private_headers(response, max_age=FILE_MAX_AGE)


@login_required
@require_safe
def photo_file(request, photo_id):
    return _serve(request, photo_id, "image")


@login_required
@require_safe
def photo_screen(request, photo_id):
    return _serve(request, photo_id, "screen")


@login_required
@require_safe
def photo_thumb(request, photo_id):
    return _serve(request, photo_id, "thumb")
