"""Data subject rights on a client (managers): export the whole record, or anonymise it.

Both reach archived clients too: a former client may ask for their data, or to be
forgotten, long after their record left the daily work.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases import audit
from cases.forms.privacy import AnonymiseForm
from cases.models import AccessEvent, Client, Photo
from cases.services import privacy as services
from smpclinic import roles
from smpclinic.forms import add_service_errors


def _client(public_id) -> Client:
    """Any client, archived or not: only managers reach these views (the decorator), and a
    request about a former client must be answerable."""
    return get_object_or_404(Client.objects.select_related("user"), public_id=public_id)


@roles.required(roles.EXPORT_CLIENT)
@require_http_methods(["POST"])
def client_export(request, client_id):
    """The subject access zip, streamed from its temporary file; every export is audited."""
    client = _client(client_id)
    archive = services.subject_access_export(client=client)
    audit.saw(request, "subject access export", client, client_id=client.pk, action=AccessEvent.Action.EXPORTED)
    filename = f"subject-access-{services.client_reference(client)}-{timezone.localdate():%Y-%m-%d}.zip"
    response = FileResponse(archive, as_attachment=True, filename=filename, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response


@roles.required(roles.ANONYMISE_CLIENT)
@require_http_methods(["GET", "POST"])
def client_anonymise(request, client_id):
    """The confirmation page, and the anonymisation itself on POST. Each request is in the
    access log (the page shows who the client is; the POST that anonymised answers 302),
    beside the archive reason, manager and time the service records on the client."""
    client = _client(client_id)
    audit.saw(request, "client anonymisation", client, client_id=client.pk)
    form = AnonymiseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            anonymised = services.client_anonymise(
                client=client,
                by=request.user,
                reason=form.cleaned_data["reason"],
                confirmation=form.cleaned_data["confirmation"],
                remove_photos=form.cleaned_data["remove_photos"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            photos = " and their photo files were deleted" if form.cleaned_data["remove_photos"] else ""
            messages.success(request, f"The client is now {anonymised.full_name}{photos}. This cannot be undone.")
            return redirect("cases:client_list")
    context = {
        "client": client,
        "form": form,
        "reference": services.client_reference(client),
        "already_anonymised": services.is_anonymised(client),
        "photo_count": Photo.objects.filter(case__client=client, archived_at__isnull=True).count(),
    }
    return render(request, "cases/privacy/anonymise.html", context)
